#include "messages/job.hpp"

#include <nlohmann/json.hpp>

namespace baton {

const char* to_string(run_state x) {
  switch (x) {
    case run_state::wait: return "wait";
    case run_state::start: return "start";
    case run_state::interrupt: return "interrupt";
    case run_state::shutdown: return "shutdown";
    case run_state::skip: return "skip";
  }
  return "invalid";
}

const char* to_string(container_state x) {
  switch (x) {
    case container_state::not_yet_connected: return "not_yet_connected";
    case container_state::connected: return "connected";
    case container_state::exited: return "exited";
    case container_state::lost: return "lost";
    case container_state::skipped: return "skipped";
  }
  return "invalid";
}

const char* to_string(dialect x) {
  switch (x) {
    case dialect::baton: return "baton";
    case dialect::buildkite: return "buildkite";
  }
  return "invalid";
}

const char* to_string(deadline x) {
  switch (x) {
    case deadline::cancel_signal: return "cancel_signal";
    case deadline::cleanup: return "cleanup";
    case deadline::output_drain: return "output_drain";
    case deadline::step_timeout: return "step_timeout";
  }
  return "invalid";
}

bool from_string(const std::string& str, run_state& x) {
  for (auto s : {run_state::wait, run_state::start, run_state::interrupt,
                 run_state::shutdown, run_state::skip}) {
    if (str == to_string(s)) {
      x = s;
      return true;
    }
  }
  return false;
}

bool from_string(const std::string& str, dialect& x) {
  for (auto s : {dialect::baton, dialect::buildkite}) {
    if (str == to_string(s)) {
      x = s;
      return true;
    }
  }
  return false;
}

bool step_settings::soft_fails(int32_t status) const {
  if (status == 0)
    return false;
  if (soft_fail_any)
    return true;
  for (auto x : soft_fail)
    if (x == status)
      return true;
  return false;
}

nlohmann::json to_json(const job_result& x) {
  auto containers = nlohmann::json::array();
  for (auto& c : x.containers) {
    nlohmann::json exit_status;
    if (c.state == container_state::exited)
      exit_status = c.exit_status;
    nlohmann::json protocol;
    if (c.state != container_state::not_yet_connected)
      protocol = to_string(c.protocol);
    containers.push_back({{"id", c.id},
                          {"state", to_string(c.state)},
                          {"protocol", protocol},
                          {"exit_status", exit_status},
                          {"log_bytes", c.log_bytes},
                          {"soft_failed", c.soft_failed},
                          {"timed_out", c.timed_out},
                          {"always", c.always},
                          {"outputs", c.outputs}});
  }
  return {
    {"status", x.status},           {"result", x.result},
    {"started", x.started},         {"done", x.done},
    {"interrupted", x.interrupted}, {"terminated", x.terminated},
    {"reason", x.reason},           {"containers", std::move(containers)}};
}

bool is_variable_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9'))
    return false;
  for (auto c : name)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
          || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

int exit_status_for(int32_t wait_status) {
  if (wait_status < 0 || wait_status > 255)
    return 255;
  return wait_status;
}

} // namespace baton
