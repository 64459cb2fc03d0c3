#include "messages/job.hpp"

#include "messages/duration.hpp"

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
    case container_state::ready: return "ready";
    case container_state::stopped: return "stopped";
  }
  return "invalid";
}

const char* to_string(step_reason x) {
  switch (x) {
    case step_reason::none: return "none";
    case step_reason::passed: return "passed";
    case step_reason::failed: return "failed";
    case step_reason::soft_failed: return "soft_failed";
    case step_reason::signaled: return "signaled";
    case step_reason::oom_killed: return "oom_killed";
    case step_reason::timed_out: return "timed_out";
    case step_reason::lost: return "lost";
    case step_reason::never_connected: return "never_connected";
    case step_reason::skipped: return "skipped";
    case step_reason::cancelled: return "cancelled";
    case step_reason::stopped: return "stopped";
  }
  return "invalid";
}

const char* to_string(log_mode x) {
  switch (x) {
    case log_mode::direct: return "direct";
    case log_mode::prefixed: return "prefixed";
    case log_mode::lines: return "lines";
    case log_mode::tail: return "tail";
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
    case deadline::ready_retry: return "ready_retry";
    case deadline::ready_timeout: return "ready_timeout";
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
  // Null for what is not known (yet).
  auto nullable = [](bool known, auto value) {
    return known ? nlohmann::json(value) : nlohmann::json();
  };
  auto containers = nlohmann::json::array();
  for (auto& c : x.containers) {
    auto exited = c.state == container_state::exited
                  || c.state == container_state::stopped;
    auto registered = c.state != container_state::not_yet_connected;
    auto ended = c.reason != step_reason::none;
    containers.push_back(
      {{"id", c.id},
       {"name", c.name},
       {"role", c.service ? "service" : "step"},
       {"group", nullable(!c.group.empty(), c.group)},
       {"state", to_string(c.state)},
       {"protocol", nullable(registered, to_string(c.protocol))},
       {"exit_status", nullable(exited, c.exit_status)},
       {"reason", nullable(ended, to_string(c.reason))},
       {"signal", nullable(!c.signal.empty(), c.signal)},
       {"started_at",
        nullable(c.started_ns != 0, format_timestamp(c.started_ns))},
       {"finished_at",
        nullable(c.finished_ns != 0, format_timestamp(c.finished_ns))},
       {"duration_ms", nullable(c.duration_ns >= 0, c.duration_ns / 1'000'000)},
       {"ready_after_ms",
        nullable(c.ready_after_ns >= 0, c.ready_after_ns / 1'000'000)},
       {"log_bytes", c.log_bytes},
       {"soft_failed", c.soft_failed},
       {"timed_out", c.timed_out},
       {"always", c.always},
       {"outputs", c.outputs}});
  }
  return {{"status", x.status},
          {"result", x.result},
          {"started", x.started},
          {"done", x.done},
          {"interrupted", x.interrupted},
          {"terminated", x.terminated},
          {"reason", x.reason},
          {"duration_ms", x.duration_ns / 1'000'000},
          {"containers", std::move(containers)}};
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
