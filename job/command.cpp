#include "job/command.hpp"

#include "messages/duration.hpp"
#include "messages/error.hpp"

#include <csignal>
#include <cstring>
#include <sstream>

namespace baton {

namespace {

// Parses "SIGTERM", "TERM" or "15".
int parse_signal(const std::string& text) {
  if (text.empty())
    return -1;
  if (text.find_first_not_of("0123456789") == std::string::npos) {
    auto n = std::stoi(text.substr(0, 3));
    return n > 0 && n < NSIG ? n : -1;
  }
  auto name = text.compare(0, 3, "SIG") == 0 ? text.substr(3) : text;
  for (int signo = 1; signo < NSIG; ++signo) {
    auto abbrev = sigabbrev_np(signo);
    if (abbrev != nullptr && name == abbrev)
      return signo;
  }
  return -1;
}

// Parses a Go duration or a whole number of seconds.
caf::expected<caf::timespan> parse_timeout(const std::string& text) {
  if (!text.empty() && text.size() < 10
      && text.find_first_not_of("0123456789") == std::string::npos)
    return caf::timespan{std::chrono::seconds{std::stoll(text)}};
  return parse_duration(text);
}

} // namespace

cancel_config read_cancel_config(const env_map& env,
                                 std::vector<std::string>& warnings) {
  cancel_config result;
  if (auto i = env.find("BUILDKITE_CANCEL_SIGNAL"); i != env.end()) {
    auto signo = parse_signal(i->second);
    if (signo < 0)
      warnings.push_back("ignoring BUILDKITE_CANCEL_SIGNAL='" + i->second
                         + "': not a signal name or number; using SIGTERM");
    else if (signo == SIGKILL)
      // Reference: SIGKILL leaves no chance to clean up; it comes anyway
      // after the signal timeout.
      warnings.push_back("BUILDKITE_CANCEL_SIGNAL=SIGKILL is downgraded to "
                         "SIGTERM");
    else
      result.signal = signo;
  }
  auto timeout = [&](const char* name, caf::timespan& out) {
    auto i = env.find(name);
    if (i == env.end() || i->second.empty())
      return;
    auto value = parse_timeout(i->second);
    if (!value)
      warnings.push_back(std::string{"ignoring "} + name + "='" + i->second
                         + "': " + render(value.error()) + "; using "
                         + format_duration(out));
    else
      out = *value;
  };
  timeout("BUILDKITE_CANCEL_SIGNAL_TIMEOUT", result.signal_timeout);
  timeout("BUILDKITE_CANCEL_CLEANUP_TIMEOUT", result.cleanup_timeout);
  return result;
}

caf::expected<std::vector<std::string>>
command_line(const std::vector<std::string>& command, const env_map& env) {
  if (!command.empty())
    return command;
  auto i = env.find("BUILDKITE_COMMAND");
  if (i == env.end() || i->second.empty())
    return make_error(ec::invalid_argument,
                      "nothing to run: no command after -- and "
                      "BUILDKITE_COMMAND is empty");
  std::string shell = "/bin/sh -e -c";
  if (auto j = env.find("BUILDKITE_SHELL");
      j != env.end() && !j->second.empty())
    shell = j->second;
  std::vector<std::string> result;
  std::istringstream words{shell};
  for (std::string word; words >> word;)
    result.push_back(word);
  result.push_back(i->second);
  return result;
}

} // namespace baton
