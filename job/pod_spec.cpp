#include "job/pod_spec.hpp"

#include "job/names.hpp"
#include "job/steps.hpp"
#include "messages/duration.hpp"
#include "messages/error.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

namespace baton {

namespace {

using nlohmann::json;

caf::error bad(const std::string& where, const std::string& what) {
  return make_error(ec::invalid_argument, "pod spec: " + where + ": " + what);
}

caf::error read_env(const json& j, const std::string& where, env_map& out) {
  if (!j.is_object())
    return bad(where, std::string{"expected an object of strings, got "}
                        + j.type_name());
  for (auto& [key, value] : j.items()) {
    if (!value.is_string())
      return bad(where + "." + key,
                 std::string{"expected a string, got "} + value.type_name());
    if (key.empty() || key.find('=') != std::string::npos)
      return bad(where, "invalid variable name '" + key + "'");
    out[key] = value.get<std::string>();
  }
  return {};
}

// "field" at the top level, else "where.field".
std::string path_of(const std::string& where, const char* field) {
  return where.empty() ? field : where + "." + field;
}

caf::error read_bool(const json& j, const char* field, const std::string& where,
                     bool& out) {
  auto i = j.find(field);
  if (i == j.end())
    return {};
  if (!i->is_boolean())
    return bad(path_of(where, field),
               std::string{"expected true or false, got "} + i->dump());
  out = i->get<bool>();
  return {};
}

caf::error read_duration(const json& j, const char* field,
                         const std::string& where, std::string& out) {
  auto i = j.find(field);
  if (i == j.end())
    return {};
  if (i->is_string()) {
    auto& text = i->get_ref<const std::string&>();
    if (auto d = parse_duration(text); d && d->count() > 0) {
      out = text;
      return {};
    }
  }
  return bad(path_of(where, field),
             "expected a duration such as \"90s\", \"10m\" or \"1h30m\", "
             "got "
               + i->dump());
}

// The spec keys of the step settings: "softFail, always or timeout".
std::string spec_keys() {
  auto& table = step_setting_table();
  std::string out;
  for (size_t k = 0; k < table.size(); ++k) {
    if (k > 0)
      out += k + 1 == table.size() ? " or " : ", ";
    out += table[k].spec_key;
  }
  return out;
}

// A container's step settings, as the variables its bootstrap reads.
caf::error read_step(const json& c, const std::string& where,
                     pod_spec::container& out) {
  for (auto& setting : step_setting_table()) {
    auto i = c.find(setting.spec_key);
    if (i == c.end())
      continue;
    std::string text;
    if (!setting.render(*i, text))
      return bad(where + "." + setting.spec_key, std::string{"expected "}
                                                   + setting.spec_expected
                                                   + ", got " + i->dump());
    if (!text.empty())
      out.step_env[setting.env] = text;
  }
  // The service's keys need "service": true.
  if (!is_service(out))
    for (auto key : {"ready", "readyTimeout", "log"})
      if (c.count(key) > 0)
        return bad(where + "." + key,
                   "is for services only: add \"service\": true");
  auto group = group_of(out);
  if (is_service(out) && !group.empty())
    return bad(where + ".group",
               "is for steps only: a service runs beside every step already");
  if (group.empty() && c.count("failFast") > 0)
    return bad(where + ".failFast",
               "is for the members of a group: add \"group\": \"NAME\"");
  // One source for each setting.
  for (auto& [name, value] : out.step_env)
    if (out.env.count(name) > 0)
      return bad(where, "env." + name + " repeats a setting of the container ("
                          + spec_keys() + "): use one of them");
  return {};
}

// Refuses a group whose members are not consecutive.
caf::error check_groups(const pod_spec& spec) {
  auto& cs = spec.containers;
  for (size_t id = 1; id < cs.size(); ++id) {
    auto group = group_of(cs[id]);
    if (group.empty() || group == group_of(cs[id - 1]))
      continue;
    for (size_t before = 0; before + 1 < id; ++before)
      if (group_of(cs[before]) == group)
        return bad("containers[" + std::to_string(id) + "].group",
                   "\"" + group + "\" is also the group of containers["
                     + std::to_string(before)
                     + "], but not of every container between them: a "
                       "group's members must be consecutive");
  }
  return {};
}

caf::error read_string(const json& j, const char* field,
                       const std::string& where, std::string& out) {
  auto i = j.find(field);
  if (i == j.end())
    return {};
  if (!i->is_string())
    return bad(where + "." + field,
               std::string{"expected a string, got "} + i->type_name());
  out = i->get<std::string>();
  return {};
}

// Reads `key` of `j`, a Kubernetes ResourceRequirements, into `out` as JSON
// text: `requests` and `limits`, each of cpu, memory and ephemeral-storage
// as quantities ("500m", "1Gi", or a number).
caf::error read_resources(const json& j, const std::string& key,
                          const std::string& where, std::string& out) {
  auto i = j.find(key);
  if (i == j.end())
    return {};
  auto field = where.empty() ? key : where + "." + key;
  if (!i->is_object())
    return bad(field, std::string{"expected an object, got "} + i->type_name());
  for (auto& [kind, amounts] : i->items()) {
    if (kind != "requests" && kind != "limits")
      return bad(field,
                 "unknown key '" + kind + "' (expected requests or limits)");
    if (!amounts.is_object())
      return bad(field + "." + kind,
                 std::string{"expected an object, got "} + amounts.type_name());
    for (auto& [resource, quantity] : amounts.items()) {
      auto at = field + "." + kind + "." + resource;
      if (resource != "cpu" && resource != "memory"
          && resource != "ephemeral-storage")
        return bad(at, "unknown resource (expected cpu, memory or "
                       "ephemeral-storage)");
      static const std::regex number{
        R"([+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+|[numkMGTPE]|[KMGTPE]i)?)"};
      auto text = quantity.is_string()   ? quantity.get<std::string>()
                  : quantity.is_number() ? quantity.dump()
                                         : std::string{};
      if (text.empty() || !std::regex_match(text, number))
        return bad(at, "invalid quantity " + quantity.dump()
                         + " (expected such as 500m, 1.5, 64Mi or 2G)");
    }
  }
  out = i->dump();
  return {};
}

} // namespace

caf::expected<pod_spec> parse_pod_spec(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    return make_error(ec::invalid_argument,
                      std::string{"pod spec is not valid JSON: "} + e.what());
  }
  if (!j.is_object())
    return bad("top level",
               std::string{"expected an object, got "} + j.type_name());
  pod_spec result;
  if (auto i = j.find("env"); i != j.end())
    if (auto err = read_env(*i, "env", result.env))
      return err;
  if (auto err = read_bool(j, "timestampLines", "", result.timestamp_lines))
    return err;
  if (auto err = read_duration(j, "timeout", "", result.timeout))
    return err;
  if (auto err = read_resources(j, "agentResources", "",
                                result.agent_resources))
    return err;
  auto containers = j.find("containers");
  if (containers == j.end())
    return bad("containers", "missing");
  if (!containers->is_array() || containers->empty())
    return bad("containers", "expected a non-empty array");
  for (size_t index = 0; index < containers->size(); ++index) {
    auto& c = (*containers)[index];
    auto where = "containers[" + std::to_string(index) + "]";
    if (!c.is_object())
      return bad(where,
                 std::string{"expected an object, got "} + c.type_name());
    pod_spec::container out;
    if (auto err = read_string(c, "name", where, out.name))
      return err;
    if (out.name.empty())
      out.name = default_container_name(index);
    else if (!is_container_name(out.name))
      return bad(where + ".name", "invalid container name '" + out.name
                                    + "': " + std::string{container_name_rule});
    for (auto& before : result.containers)
      if (before.name == out.name)
        return bad(where + ".name", "'" + out.name
                                      + "' is the name of an earlier "
                                        "container too");
    auto command = c.find("command");
    if (command == c.end())
      return bad(where + ".command", "missing");
    if (!command->is_array() || command->empty())
      return bad(where + ".command", "expected a non-empty array of strings");
    for (auto& arg : *command) {
      if (!arg.is_string())
        return bad(where + ".command", "expected a non-empty array of strings");
      out.command.push_back(arg.get<std::string>());
    }
    if (auto i = c.find("env"); i != c.end())
      if (auto err = read_env(*i, where + ".env", out.env))
        return err;
    if (auto err = read_string(c, "workingDir", where, out.working_dir))
      return err;
    if (auto err = read_string(c, "image", where, out.image))
      return err;
    if (auto err = read_step(c, where, out))
      return err;
    if (auto err = read_resources(c, "resources", where, out.resources))
      return err;
    result.containers.push_back(std::move(out));
  }
  if (auto err = check_groups(result))
    return err;
  if (std::all_of(result.containers.begin(), result.containers.end(),
                  [](auto& c) { return is_service(c); }))
    return bad("containers", "every container is a service: the job needs "
                             "at least one step");
  return result;
}

env_map container_env(const pod_spec::container& c, size_t id) {
  auto env = c.env;
  env["BUILDKITE_CONTAINER_ID"] = std::to_string(id);
  for (auto& [name, value] : c.step_env)
    env[name] = value;
  return env;
}

bool is_service(const pod_spec::container& c) {
  auto i = c.step_env.find(service_variable);
  return i != c.step_env.end() && i->second == "true";
}

std::string group_of(const pod_spec::container& c) {
  auto i = c.step_env.find(group_variable);
  return i == c.step_env.end() ? std::string{} : i->second;
}

std::string service_ids(const pod_spec& spec) {
  std::string ids;
  for (size_t id = 0; id < spec.containers.size(); ++id)
    if (is_service(spec.containers[id]))
      ids += (ids.empty() ? "" : ",") + std::to_string(id);
  return ids.empty() ? "none" : ids;
}

std::string container_names(const pod_spec& spec) {
  std::string names;
  for (auto& c : spec.containers)
    names += (names.empty() ? "" : ",") + c.name;
  return names;
}

caf::expected<pod_spec> read_pod_spec(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    return make_error(ec::invalid_argument, "cannot read the pod spec '" + path
                                              + "': " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_pod_spec(text.str());
}

} // namespace baton
