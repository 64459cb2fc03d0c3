#include "job/outcome.hpp"

#include "messages/duration.hpp"

#include <chrono>
#include <cstdio>

namespace baton {

step_reason reason_for_exit(const exit_facts& x) {
  if (x.oom_killed)
    return step_reason::oom_killed;
  if (x.timed_out)
    return step_reason::timed_out;
  if (x.told_to_stop)
    return step_reason::cancelled;
  if (!x.signal.empty())
    return step_reason::signaled;
  if (x.status == 0)
    return step_reason::passed;
  return x.soft_failed ? step_reason::soft_failed : step_reason::failed;
}

std::string container_label(uint32_t id, const std::string& name,
                            bool service) {
  return (service ? "service " : "container ") + std::to_string(id) + " ("
         + name + ")";
}

std::string format_memory(uint64_t bytes) {
  static constexpr const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024)
    return std::to_string(bytes) + " bytes";
  auto value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  if (value == static_cast<double>(static_cast<uint64_t>(value)))
    std::snprintf(buf, sizeof(buf), "%llu %s",
                  static_cast<unsigned long long>(value), units[unit]);
  else
    std::snprintf(buf, sizeof(buf), "%.1f %s", value, units[unit]);
  return buf;
}

std::string outcome_text(const container_status& c) {
  auto status = std::to_string(c.exit_status);
  switch (c.reason) {
    case step_reason::none: return {};
    case step_reason::passed: return "passed";
    case step_reason::failed: return "failed with status " + status;
    case step_reason::soft_failed: return "soft-failed with status " + status;
    case step_reason::signaled: return "was killed by " + c.signal;
    case step_reason::oom_killed:
      if (c.memory_limit == 0)
        return "was killed by the OOM killer";
      return "was killed by the OOM killer (memory limit "
             + format_memory(c.memory_limit) + ")";
    case step_reason::timed_out:
      if (c.service && c.ready_after_ns < 0)
        return "was not ready after "
               + format_duration(std::chrono::milliseconds{c.timeout_ms});
      return "timed out after "
             + format_duration(std::chrono::milliseconds{c.timeout_ms});
    case step_reason::lost:
      return c.lost_why.empty() ? "was lost" : "was lost: " + c.lost_why;
    case step_reason::never_connected: return "never connected";
    case step_reason::skipped: return "was skipped";
    case step_reason::cancelled: return "was cancelled";
    case step_reason::stopped: return "was stopped";
  }
  return {};
}

namespace {

// Whether the step line and the summary give the step's duration: for the
// outcomes of a step that ran; a timeout says its limit instead, a loss its
// cause.
bool shows_duration(const container_status& c) {
  switch (c.reason) {
    case step_reason::passed:
    case step_reason::failed:
    case step_reason::soft_failed:
    case step_reason::signaled:
    case step_reason::oom_killed:
    case step_reason::cancelled:
    case step_reason::stopped: return c.duration_ns >= 0;
    default: return false;
  }
}

} // namespace

std::string section_line(std::string text) {
  if (!text.empty() && text[0] >= 'a' && text[0] <= 'z')
    text[0] = static_cast<char>(text[0] - 'a' + 'A');
  return "~~~ " + text + "\n";
}

std::string step_line(const container_status& c) {
  auto text = container_label(c.id, c.name, c.service) + " " + outcome_text(c);
  if (shows_duration(c))
    text += " after " + format_seconds(c.duration_ns);
  return section_line(std::move(text));
}

std::string job_summary(const job_result& x) {
  std::string out = "~~~ Job ";
  if (x.result == "passed")
    out += "passed";
  else if (x.result == "cancelled")
    out += "cancelled";
  else
    out += "failed with status " + std::to_string(x.status);
  out += " after " + format_seconds(x.duration_ns) + "\n";
  // Aligned columns: id, name, outcome, duration (for steps that ran).
  size_t id_width = 0;
  size_t name_width = 0;
  size_t outcome_width = 0;
  std::vector<std::string> outcomes;
  for (auto& c : x.containers) {
    outcomes.push_back(outcome_text(c));
    if (outcomes.back().empty())
      outcomes.back() = "did not finish";
    id_width = std::max(id_width, std::to_string(c.id).size());
    name_width = std::max(name_width, c.name.size());
    outcome_width = std::max(outcome_width, outcomes.back().size());
  }
  auto pad = [](std::string text, size_t width, bool right = false) {
    if (text.size() >= width)
      return text;
    auto fill = std::string(width - text.size(), ' ');
    return right ? fill + text : text + fill;
  };
  for (size_t i = 0; i < x.containers.size(); ++i) {
    auto& c = x.containers[i];
    auto line = "    " + pad(std::to_string(c.id), id_width, true) + "  "
                + pad(c.name, name_width) + "  ";
    if (c.duration_ns >= 0 && c.reason != step_reason::none)
      line += pad(outcomes[i], outcome_width) + "  "
              + format_seconds(c.duration_ns);
    else
      line += outcomes[i];
    out += line + "\n";
  }
  return out;
}

} // namespace baton
