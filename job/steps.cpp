#include "job/steps.hpp"

#include "messages/duration.hpp"
#include "messages/error.hpp"

#include <nlohmann/json.hpp>

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

// -- the rows' readers and renderers ------------------------------------------

bool read_soft_fail(const std::string& text, step_config& out) {
  auto& s = out.settings;
  if (text == "false")
    return true;
  if (text == "true") {
    s.soft_fail_any = true;
    return true;
  }
  std::istringstream items{text};
  for (std::string item; std::getline(items, item, ',');) {
    auto first = item.find_first_not_of(' ');
    auto last = item.find_last_not_of(' ');
    if (first == std::string::npos)
      return false;
    item = item.substr(first, last - first + 1);
    if (item.size() > 3
        || item.find_first_not_of("0123456789") != std::string::npos)
      return false;
    auto status = std::stoi(item);
    if (status < 1 || status > 255)
      return false;
    s.soft_fail.push_back(status);
  }
  return !s.soft_fail.empty() && text.back() != ',';
}

bool render_soft_fail(const nlohmann::json& value, std::string& text) {
  if (value.is_boolean()) {
    if (value.get<bool>())
      text = "true";
    return true;
  }
  if (!value.is_array() || value.empty())
    return false;
  for (auto& status : value) {
    if (!status.is_number_integer() || status.get<int64_t>() < 1
        || status.get<int64_t>() > 255)
      return false;
    text += (text.empty() ? "" : ",") + std::to_string(status.get<int>());
  }
  return true;
}

// Reads "true" or "false" into the step setting `Flag`.
template <bool step_settings::*Flag>
bool read_flag(const std::string& text, step_config& out) {
  out.settings.*Flag = text == "true";
  return text == "true" || text == "false";
}

bool render_flag(const nlohmann::json& value, std::string& text) {
  if (!value.is_boolean())
    return false;
  if (value.get<bool>())
    text = "true";
  return true;
}

bool read_timeout(const std::string& text, step_config& out) {
  auto d = parse_duration(text);
  if (!d || d->count() < 0)
    return false;
  out.timeout = *d;
  return true;
}

// The spec refuses a zero timeout that the variable accepts (no limit).
bool render_timeout(const nlohmann::json& value, std::string& text) {
  if (!value.is_string())
    return false;
  auto& str = value.get_ref<const std::string&>();
  if (auto d = parse_duration(str); !d || d->count() <= 0)
    return false;
  text = str;
  return true;
}

bool read_ready(const std::string& text, step_config& out) {
  return parse_ready_check(text, out.ready);
}

bool render_ready(const nlohmann::json& value, std::string& text) {
  if (!value.is_string() || value.get_ref<const std::string&>().empty())
    return false;
  ready_check check;
  if (!parse_ready_check(value.get<std::string>(), check))
    return false;
  text = value.get<std::string>();
  return true;
}

bool read_ready_timeout(const std::string& text, step_config& out) {
  auto d = parse_duration(text);
  if (!d || d->count() <= 0)
    return false;
  out.ready_timeout = *d;
  return true;
}

bool read_service_log(const std::string& text, step_config& out) {
  out.settings.log_to_job = text == "job";
  return text == "job" || text == "container";
}

bool render_service_log(const nlohmann::json& value, std::string& text) {
  if (!value.is_string())
    return false;
  auto& str = value.get_ref<const std::string&>();
  if (str == "job")
    text = str;
  return str == "job" || str == "container";
}

// A group's name: 1 to 63 letters, digits, '.', '_' or '-'.
bool valid_group(const std::string& text) {
  return !text.empty() && text.size() <= 63
         && text.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                   "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
              == std::string::npos;
}

bool read_group(const std::string& text, step_config& out) {
  out.settings.group = text;
  return valid_group(text);
}

bool render_group(const nlohmann::json& value, std::string& text) {
  if (!value.is_string() || !valid_group(value.get<std::string>()))
    return false;
  text = value.get<std::string>();
  return true;
}

// The port of "tcp:[HOST:]PORT", 1 to 65535; 0 if invalid.
uint16_t parse_port(const std::string& text) {
  if (text.empty() || text.size() > 5
      || text.find_first_not_of("0123456789") != std::string::npos)
    return 0;
  auto port = std::stoi(text);
  return port >= 1 && port <= 65535 ? static_cast<uint16_t>(port) : 0;
}

} // namespace

bool parse_ready_check(const std::string& text, ready_check& out) {
  out = ready_check{};
  if (text.rfind("tcp:", 0) != 0) {
    out.command = text;
    return true;
  }
  auto rest = text.substr(4);
  auto colon = rest.rfind(':');
  out.host = colon == std::string::npos ? "127.0.0.1" : rest.substr(0, colon);
  out.port = parse_port(colon == std::string::npos ? rest
                                                   : rest.substr(colon + 1));
  return out.port != 0 && !out.host.empty();
}

const std::vector<step_setting>& step_setting_table() {
  // Env, spec key, wire field, help, what the variable and the spec key
  // must be, reader, renderer.
  static const std::vector<step_setting> table{
    {"BATON_SOFT_FAIL", "softFail", step_settings::soft_fail_field,
     "true or statuses such as 1,3",
     "true, false or a comma list of exit statuses from 1 to 255 (such as "
     "1,3)",
     "true, false or a list of exit statuses from 1 to 255", read_soft_fail,
     render_soft_fail},
    {"BATON_ALWAYS", "always", step_settings::always_field,
     "true: runs after a failure or an interrupt", "true or false",
     "true or false", read_flag<&step_settings::always>, render_flag},
    {"BATON_TIMEOUT", "timeout", nullptr, "a duration",
     "a duration such as 90s, 10m or 1h30m",
     "a duration such as \"90s\", \"10m\" or \"1h30m\"", read_timeout,
     render_timeout},
    {service_variable, "service", step_settings::service_field,
     "true: runs beside the steps until they are done", "true or false",
     "true or false", read_flag<&step_settings::service>, render_flag},
    {"BATON_READY", "ready", nullptr,
     "tcp:[HOST:]PORT, or a command that exits 0 once ready",
     "tcp:PORT, tcp:HOST:PORT or a command",
     "\"tcp:PORT\", \"tcp:HOST:PORT\" or a command", read_ready, render_ready},
    {"BATON_READY_TIMEOUT", "readyTimeout", nullptr, "a duration (default 60s)",
     "a duration such as 30s or 2m", "a duration such as \"30s\" or \"2m\"",
     read_ready_timeout, render_timeout},
    {"BATON_SERVICE_LOG", "log", step_settings::log_field,
     "job: a service's output goes into the job log too", "job or container",
     "\"job\" or \"container\"", read_service_log, render_service_log},
    {group_variable, "group", step_settings::group_field,
     "a name: consecutive steps of one group run at once",
     "a name of 1 to 63 letters, digits, '.', '_' or '-'",
     "a name of 1 to 63 letters, digits, '.', '_' or '-'", read_group,
     render_group},
    {"BATON_GROUP_FAIL_FAST", "failFast", step_settings::fail_fast_field,
     "true: a failure cancels the group's running steps", "true or false",
     "true or false", read_flag<&step_settings::fail_fast>, render_flag},
  };
  return table;
}

caf::expected<step_config> read_step_config(const env_map& env) {
  step_config result;
  for (auto& setting : step_setting_table()) {
    auto text = value_of(env, setting.env);
    if (!text.empty() && !setting.read(text, result))
      return invalid(setting.env, text, setting.env_expected);
  }
  if (!result.settings.service)
    for (auto name :
         {"BATON_READY", "BATON_READY_TIMEOUT", "BATON_SERVICE_LOG"})
      if (auto text = value_of(env, name); !text.empty())
        return make_error(ec::invalid_argument,
                          std::string{name} + "='" + text
                            + "' is for services only: set " + service_variable
                            + "=true, or unset it");
  if (result.settings.service && !result.settings.group.empty())
    return make_error(ec::invalid_argument,
                      std::string{group_variable} + "='" + result.settings.group
                        + "' is for steps only: a service runs beside every "
                          "step already");
  if (result.settings.group.empty())
    if (auto text = value_of(env, "BATON_GROUP_FAIL_FAST"); !text.empty())
      return make_error(ec::invalid_argument,
                        "BATON_GROUP_FAIL_FAST='" + text
                          + "' is for the members of a group: set "
                          + group_variable + "=NAME, or unset it");
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

} // namespace baton
