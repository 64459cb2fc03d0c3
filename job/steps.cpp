#include "job/steps.hpp"

#include "messages/duration.hpp"
#include "messages/error.hpp"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

namespace baton {

namespace {

caf::error invalid(const char* name, const std::string& value,
                   const std::string& expected) {
  return make_error(ec::invalid_argument, std::string{"invalid "} + name + "='"
                                            + value + "': expected "
                                            + expected);
}

// The value of `name`, or empty if unset.
std::string value_of(const env_map& env, const char* name) {
  auto i = env.find(name);
  return i == env.end() ? std::string{} : i->second;
}

caf::error read_soft_fail(const std::string& text, step_settings& out) {
  static constexpr const char* expected
    = "true, false or a comma list of exit statuses from 1 to 255 (such as "
      "1,3)";
  if (text.empty() || text == "false")
    return {};
  if (text == "true") {
    out.soft_fail_any = true;
    return {};
  }
  std::istringstream items{text};
  for (std::string item; std::getline(items, item, ',');) {
    auto first = item.find_first_not_of(' ');
    auto last = item.find_last_not_of(' ');
    if (first == std::string::npos)
      return invalid("BATON_SOFT_FAIL", text, expected);
    item = item.substr(first, last - first + 1);
    if (item.size() > 3
        || item.find_first_not_of("0123456789") != std::string::npos)
      return invalid("BATON_SOFT_FAIL", text, expected);
    auto status = std::stoi(item);
    if (status < 1 || status > 255)
      return invalid("BATON_SOFT_FAIL", text, expected);
    out.soft_fail.push_back(status);
  }
  if (out.soft_fail.empty() || text.back() == ',')
    return invalid("BATON_SOFT_FAIL", text, expected);
  return {};
}

} // namespace

caf::expected<step_config> read_step_config(const env_map& env) {
  step_config result;
  if (auto err = read_soft_fail(value_of(env, "BATON_SOFT_FAIL"),
                                result.settings))
    return err;
  auto always = value_of(env, "BATON_ALWAYS");
  if (always == "true")
    result.settings.always = true;
  else if (!always.empty() && always != "false")
    return invalid("BATON_ALWAYS", always, "true or false");
  auto timeout = value_of(env, "BATON_TIMEOUT");
  if (!timeout.empty()) {
    auto d = parse_duration(timeout);
    if (!d || d->count() < 0)
      return invalid("BATON_TIMEOUT", timeout,
                     "a duration such as 90s, 10m or 1h30m");
    result.timeout = *d;
  }
  return result;
}

caf::expected<std::vector<std::string>> parse_outputs(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in{text};
  std::string line;
  size_t number = 0;
  auto where = [&] {
    return "$BATON_ENV line " + std::to_string(number) + ": ";
  };
  auto bad = [&](const std::string& why) {
    return make_error(ec::invalid_argument, where() + why);
  };
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty())
      continue;
    auto heredoc = line.find("<<");
    auto eq = line.find('=');
    if (heredoc != std::string::npos
        && (eq == std::string::npos || heredoc < eq)) {
      auto name = line.substr(0, heredoc);
      auto delim = line.substr(heredoc + 2);
      if (!is_variable_name(name))
        return bad("invalid variable name '" + name + "'");
      if (delim.empty())
        return bad(name + "<< needs a delimiter, such as " + name + "<<EOF");
      auto start = number;
      std::string value;
      bool closed = false;
      for (bool first = true; std::getline(in, line); first = false) {
        ++number;
        if (!line.empty() && line.back() == '\r')
          line.pop_back();
        if (line == delim) {
          closed = true;
          break;
        }
        if (!first)
          value += '\n';
        value += line;
      }
      if (!closed)
        return make_error(ec::invalid_argument,
                          "$BATON_ENV line " + std::to_string(start)
                            + ": the value of " + name + "<<" + delim
                            + " never ends: no line '" + delim + "' follows");
      result.push_back(name + "=" + value);
      continue;
    }
    if (eq == std::string::npos)
      return bad("expected KEY=VALUE or KEY<<DELIMITER");
    auto name = line.substr(0, eq);
    if (!is_variable_name(name))
      return bad("invalid variable name '" + name + "'");
    result.push_back(line);
  }
  return result;
}

caf::expected<std::vector<std::string>> read_outputs(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    return make_error(ec::system_error, "cannot read $BATON_ENV ('" + path
                                          + "'): " + std::strerror(errno));
  // Read what is there, not the whole limit: zeroing 1 MiB for the usual
  // empty file costs a page fault per 4 KiB on the hand-off path.
  std::string text;
  char buf[4096];
  while (text.size() <= max_outputs_size
         && in.read(buf, sizeof(buf)).gcount() > 0)
    text.append(buf, static_cast<size_t>(in.gcount()));
  if (text.size() > max_outputs_size)
    return make_error(ec::invalid_argument,
                      "$BATON_ENV holds more than "
                        + std::to_string(max_outputs_size)
                        + " bytes: a step may pass on at most 1 MiB");
  return parse_outputs(text);
}

std::string format_timestamp(int64_t ns) {
  auto secs = static_cast<time_t>(ns / 1'000'000'000);
  auto millis = static_cast<int>((ns / 1'000'000) % 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, millis);
  return buf;
}

void line_stamper::process(const std::string& text, int64_t read_ns,
                           std::string& out) {
  if (text.empty())
    return;
  auto stamp = format_timestamp(read_ns) + " ";
  size_t pos = 0;
  while (pos < text.size()) {
    if (at_line_start_)
      out += stamp;
    auto nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      out.append(text, pos, std::string::npos);
      at_line_start_ = false;
      return;
    }
    out.append(text, pos, nl + 1 - pos);
    at_line_start_ = true;
    pos = nl + 1;
  }
}

} // namespace baton
