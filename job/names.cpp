#include "job/names.hpp"

#include "messages/error.hpp"

namespace baton {

bool is_container_name(std::string_view name) {
  if (name.empty() || name.size() > 63 || name.front() == '-'
      || name.back() == '-')
    return false;
  for (auto c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return false;
  return true;
}

std::string default_container_name(size_t id) {
  return "container-" + std::to_string(id);
}

std::vector<std::string> default_container_names(size_t count) {
  std::vector<std::string> result;
  result.reserve(count);
  for (size_t id = 0; id < count; ++id)
    result.push_back(default_container_name(id));
  return result;
}

caf::expected<std::vector<std::string>>
parse_container_names(const std::string& text, size_t count) {
  std::vector<std::string> names;
  size_t start = 0;
  for (;;) {
    auto comma = text.find(',', start);
    names.push_back(text.substr(start, comma - start));
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  auto in = " in '" + text + "'";
  if (names.size() != count)
    return make_error(ec::invalid_argument,
                      "expected " + std::to_string(count)
                        + (count == 1 ? " container name" : " container names")
                        + " (one per container, in id order), got "
                        + std::to_string(names.size()) + in);
  for (size_t id = 0; id < names.size(); ++id) {
    auto& name = names[id];
    if (!is_container_name(name))
      return make_error(ec::invalid_argument,
                        "invalid container name '" + name + "' for container "
                          + std::to_string(id) + in + ": "
                          + std::string{container_name_rule});
    for (size_t other = 0; other < id; ++other)
      if (names[other] == name)
        return make_error(ec::invalid_argument, "container name '" + name
                                                  + "' is given twice, to "
                                                    "containers "
                                                  + std::to_string(other)
                                                  + " and " + std::to_string(id)
                                                  + in);
  }
  return names;
}

caf::expected<std::vector<uint32_t>> parse_service_ids(const std::string& text,
                                                       size_t count) {
  std::vector<uint32_t> ids;
  if (text == "none")
    return ids;
  auto in = " in '" + text + "'";
  size_t start = 0;
  for (;;) {
    auto comma = text.find(',', start);
    auto item = text.substr(start, comma - start);
    if (item.empty() || item.size() > 6
        || item.find_first_not_of("0123456789") != std::string::npos)
      return make_error(ec::invalid_argument,
                        "expected container ids such as 1,2 or 'none', got '"
                          + item + "'" + in);
    auto id = static_cast<uint32_t>(std::stoul(item));
    if (id >= count)
      return make_error(ec::invalid_argument,
                        "service id " + item
                          + " is out of range: the job has "
                            "containers 0 to "
                          + std::to_string(count - 1) + in);
    for (auto other : ids)
      if (other == id)
        return make_error(ec::invalid_argument,
                          "service id " + item + " is given twice" + in);
    ids.push_back(id);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  if (ids.size() == count)
    return make_error(ec::invalid_argument,
                      "every container is a service" + in
                        + ": the job needs at least one step");
  return ids;
}

} // namespace baton
