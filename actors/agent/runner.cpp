#include "actors/agent/runner.hpp"

#include "job/names.hpp"
#include "job/outcome.hpp"
#include "messages/duration.hpp"
#include "messages/error.hpp"
#include "os/process.hpp"

#include <caf/event_based_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>

namespace baton {

caf::error runner_config::validate() const {
  if (containers == 0)
    return make_error(ec::invalid_argument,
                      "the job needs at least one container, got 0");
  if (start_timeout.count() < 0)
    return make_error(ec::invalid_argument,
                      "start timeout must not be negative, got "
                        + format_duration(start_timeout));
  if (!names.empty() && names.size() != containers)
    return make_error(ec::invalid_argument, "expected "
                                              + std::to_string(containers)
                                              + " container names, got "
                                              + std::to_string(names.size()));
  for (auto& name : names)
    if (!is_container_name(name))
      return make_error(ec::invalid_argument,
                        "invalid container name '" + name + "'");
  std::vector<bool> seen(containers);
  for (auto id : services) {
    if (id >= containers)
      return make_error(ec::invalid_argument,
                        "service id " + std::to_string(id)
                          + " is out of range: this job has containers 0 to "
                          + std::to_string(containers - 1));
    if (seen[id])
      return make_error(ec::invalid_argument,
                        "service id " + std::to_string(id) + " appears twice");
    seen[id] = true;
  }
  if (services.size() == containers)
    return make_error(ec::invalid_argument,
                      "every container is a service: the job needs a step");
  return {};
}

const char* to_string(job_phase x) {
  switch (x) {
    case job_phase::running: return "running";
    case job_phase::failing: return "failing";
    case job_phase::interrupted: return "interrupted";
    case job_phase::terminated: return "terminated";
  }
  return "invalid";
}

namespace {

// True if container `c` is registered and has not reported or gone.
bool attached(const container_record& c) {
  return c.state == container_state::connected
         || c.state == container_state::ready;
}

} // namespace

bool runner_state::finished(const container_record& c) const {
  switch (c.state) {
    case container_state::exited:
    case container_state::lost:
    case container_state::skipped:
    case container_state::stopped: return true;
    case container_state::not_yet_connected:
      // Awaited, as it may be an always-step, unless the job gave up on it:
      // past the start timeout, once terminated (the grace period bounds an
      // interrupt), or when an interrupt came before any container
      // registered (nothing ran, nothing is left to clean up).
      // A service is not awaited once the steps are done.
      return start_timed_out || phase == job_phase::terminated
             || (phase == job_phase::interrupted && !any_registered)
             || (c.service && services_stopping);
    case container_state::connected:
    case container_state::ready: return false;
  }
  return true;
}

bool runner_state::services_ready() const {
  return std::all_of(containers.begin(), containers.end(), [&](auto& c) {
    return !c.service || c.state == container_state::ready || finished(c);
  });
}

bool runner_state::steps_finished() const {
  return std::all_of(containers.begin(), containers.end(),
                     [&](auto& c) { return c.service || finished(c); });
}

bool runner_state::member(size_t id) const {
  auto& c = containers[id];
  return c.configured && !c.service && !c.settings.group.empty();
}

bool runner_state::fails_fast(const std::string& group) const {
  return std::any_of(containers.begin(), containers.end(), [&](auto& c) {
    return c.configured && c.settings.group == group && c.settings.fail_fast;
  });
}

run_state runner_state::run_state_of(size_t id) const {
  auto& c = containers[id];
  if (c.state == container_state::skipped)
    return run_state::skip;
  if (phase == job_phase::terminated)
    return run_state::shutdown;
  // A service runs from its start until the steps are done, whatever the
  // phase: always-steps may need it.
  if (c.service)
    return services_stopping ? run_state::shutdown
           : c.started       ? run_state::start
                             : run_state::wait;
  if (c.started) {
    // The step running when the job was interrupted is interrupted, as in
    // the reference; always-steps started since run on.
    if (phase == job_phase::interrupted
        && c.started_in != job_phase::interrupted)
      return run_state::interrupt;
    // Another container failed while this one ran (a waiting one lost, the
    // start timeout, a sibling in a group that fails fast): unless it is an
    // always-step, it stops. A group that does not fail fast runs on.
    if (phase == job_phase::failing && !c.settings.always
        && !(member(id) && c.settings.group == runs_on))
      return run_state::shutdown;
    return run_state::start;
  }
  if (phase == job_phase::interrupted && c.configured && !c.settings.always)
    return run_state::interrupt;
  return run_state::wait;
}

turn runner_state::turn_of(size_t id) const {
  turn result;
  result.state = run_state_of(id);
  if (result.state != run_state::start)
    return result;
  auto& c = containers[id];
  result.env.assign(
    outputs.begin()
      + static_cast<ptrdiff_t>(std::min(c.outputs_seen, outputs.size())),
    outputs.end());
  result.job_result = result_so_far();
  result.job_status = status_so_far();
  return result;
}

namespace {

// The status of a service that failed the job: its own if it exited
// non-zero, else 1 (not ready in time, exited 0 too early).
int32_t failed_service_status(const container_record& c) {
  auto never_ready = c.timed_out && c.ready_after_ns < 0;
  if (c.state == container_state::exited && c.exit_status != 0 && !never_ready)
    return c.exit_status;
  if (c.state == container_state::lost)
    return defaults::lost_status;
  return 1;
}

} // namespace

int32_t runner_state::wait_status() const {
  // A service that failed the job, before any step did, decides its status:
  // the steps' statuses after it are its consequences.
  if (failed_service != static_cast<size_t>(-1))
    return failed_service_status(containers[failed_service]);
  // Reference: scan in id order, first match wins. A soft failure and a
  // skipped container count as passed; services do not count.
  for (auto& c : containers) {
    if (c.service || c.cut_short)
      continue;
    switch (c.state) {
      case container_state::exited:
        if (c.exit_status != 0 && !c.soft_failed)
          return c.exit_status;
        break;
      case container_state::skipped:
      case container_state::stopped: break;
      case container_state::lost: return defaults::lost_status;
      case container_state::not_yet_connected:
        return defaults::not_connected_status;
      case container_state::connected:
      case container_state::ready: return defaults::unreported_status;
    }
  }
  return groups_split ? defaults::invalid_settings_status : 0;
}

int32_t runner_state::status_so_far() const {
  if (failed_service != static_cast<size_t>(-1))
    return failed_service_status(containers[failed_service]);
  for (auto& c : containers) {
    if (c.service || c.cut_short)
      continue;
    if (c.state == container_state::exited && c.exit_status != 0
        && !c.soft_failed)
      return c.exit_status;
    if (c.state == container_state::lost)
      return defaults::lost_status;
  }
  return groups_split ? defaults::invalid_settings_status : 0;
}

const char* runner_state::result_so_far() const {
  if (was_interrupted)
    return "cancelled";
  return a_step_failed ? "failed" : "passed";
}

container_status runner_state::status_of(size_t id) const {
  auto& c = containers[id];
  container_status x;
  x.id = static_cast<uint32_t>(id);
  x.name = c.name;
  x.state = c.state;
  x.protocol = c.protocol;
  x.exit_status = c.exit_status;
  x.soft_failed = c.soft_failed;
  x.timed_out = c.timed_out;
  x.always = c.configured && c.settings.always;
  x.service = c.service;
  x.ready_after_ns = c.ready_after_ns;
  if (member(id))
    x.group = c.settings.group;
  x.outputs = c.outputs;
  x.reason = c.reason;
  x.signal = c.signal;
  x.memory_limit = c.memory_limit;
  x.timeout_ms = c.timeout_ms;
  x.lost_why = c.lost_why;
  x.started_ns = c.started_ns;
  x.finished_ns = c.finished_ns;
  x.duration_ns = c.duration_ns;
  return x;
}

job_result runner_state::snapshot(caf::actor_clock::time_point now) const {
  job_result result;
  result.status = wait_status();
  result.started = any_registered;
  result.interrupted = was_interrupted;
  result.terminated = steps_stopped;
  result.done = done;
  result.reason = done ? reason : "running";
  if (done)
    result.result = was_interrupted      ? "cancelled"
                    : result.status != 0 ? "failed"
                                         : "passed";
  result.duration_ns = ((done ? ended : now) - began).count();
  result.containers.reserve(containers.size());
  for (size_t id = 0; id < containers.size(); ++id)
    result.containers.push_back(status_of(id));
  return result;
}

namespace {

using runner_ptr = runner_actor::stateful_pointer<runner_state>;

constexpr size_t none = static_cast<size_t>(-1);

// Writes a line of the agent's own into the job log, in its place: before
// any later step's output, and before the job can be done.
void note(runner_ptr self, std::string line) {
  auto& st = self->state;
  if (!st.aggregator)
    return;
  self->request(st.aggregator, caf::infinite, atom::log::value, std::move(line))
    .then([](atom::ok) {},
          [=](caf::error& err) {
            self->send(self, atom::terminate::value, render(err));
          });
}

// How the job log names container `id`: "container 1 (build)", or
// "service 1 (db)".
std::string label(const runner_state& st, size_t id) {
  auto& c = st.containers[id];
  return container_label(static_cast<uint32_t>(id), c.name, c.service);
}

// Tells the log aggregator how to write container `id`'s output from now
// on: before its start is pushed, so that its first bytes find it.
void set_log_mode(runner_ptr self, size_t id, log_mode mode) {
  auto& st = self->state;
  if (!st.aggregator)
    return;
  auto prefix = mode == log_mode::prefixed ? "[" + st.containers[id].name + "] "
                                           : std::string{};
  self->send(st.aggregator, atom::mode::value, static_cast<int32_t>(id), mode,
             std::move(prefix));
}

// True if a service streams into the job log with prefixed lines now: the
// steps beside it are written as whole lines.
bool prefixed_streams(const runner_state& st) {
  return std::any_of(st.containers.begin(), st.containers.end(), [](auto& c) {
    return c.service && c.started && c.settings.log_to_job && attached(c);
  });
}

// Container `id` starts now: notes when, and how its output is written.
void begin(runner_ptr self, size_t id) {
  auto& st = self->state;
  auto& c = st.containers[id];
  c.started = true;
  c.started_in = st.phase;
  c.started_ns = wall_clock_ns();
  c.started_at = self->clock().now();
  if (c.service) {
    set_log_mode(self, id,
                 c.settings.log_to_job ? log_mode::prefixed : log_mode::tail);
    if (!c.settings.log_to_job)
      return;
    // The steps running already merge whole lines from now on (a group's
    // members do from their start).
    for (size_t other = 0; other < st.containers.size(); ++other) {
      auto& o = st.containers[other];
      if (!o.service && o.started && attached(o) && !st.member(other))
        set_log_mode(self, other, log_mode::lines);
    }
  } else if (st.member(id)) {
    // The members of a group stream at once: prefixed whole lines.
    set_log_mode(self, id, log_mode::prefixed);
  } else if (prefixed_streams(st)) {
    set_log_mode(self, id, log_mode::lines);
  }
}

// Container `id`'s step ended for `reason` (its other facts recorded):
// notes the time and says so in the job log, with `line` if given, else
// its step line.
void ended(runner_ptr self, size_t id, step_reason reason,
           std::string line = {}) {
  auto& st = self->state;
  auto& c = st.containers[id];
  c.reason = reason;
  if (c.started_ns != 0) {
    c.finished_ns = wall_clock_ns();
    c.duration_ns = (self->clock().now() - c.started_at).count();
  }
  note(self, line.empty() ? step_line(st.status_of(id)) : std::move(line));
}

// Sends container `id` its turn if its run state changed since the last
// push: to a connected container, and to a skipped one, which learns it
// is skipped this way.
void push(runner_ptr self, size_t id) {
  auto& c = self->state.containers[id];
  if (!c.session || (!attached(c) && c.state != container_state::skipped))
    return;
  auto now = self->state.turn_of(id);
  if (now.state == c.pushed)
    return;
  c.pushed = now.state;
  self->send(c.session, atom::state::value, std::move(now));
}

// Marks the job done once it was terminated or every container finished,
// and answers everyone waiting for that.
void check_done(runner_ptr self) {
  auto& st = self->state;
  if (st.done)
    return;
  if (st.phase != job_phase::terminated
      && !std::all_of(st.containers.begin(), st.containers.end(),
                      [&](auto& c) { return st.finished(c); }))
    return;
  // Terminated from inside, the job still waits for its services to stop:
  // each bootstrap bounds that with its cancel signal timeout.
  if (st.phase == job_phase::terminated && st.await_services
      && std::any_of(st.containers.begin(), st.containers.end(), [](auto& c) {
           return c.service && c.started && attached(c);
         }))
    return;
  st.done = true;
  if (st.reason.empty())
    st.reason = "every container exited";
  // Whoever has not ended now never will: those that never connected, and
  // those the job stopped waiting for.
  for (size_t id = 0; id < st.containers.size(); ++id) {
    auto& c = st.containers[id];
    if (c.reason != step_reason::none)
      continue;
    if (c.state == container_state::not_yet_connected)
      ended(self, id, step_reason::never_connected);
    else if (attached(c))
      ended(self, id,
            c.service ? step_reason::stopped : step_reason::cancelled);
  }
  st.ended = self->clock().now();
  auto result = st.snapshot(st.ended);
  if (st.config.summary)
    note(self, job_summary(result));
  spdlog::info("runner: job done with status {}: {}", result.status, st.reason);
  for (auto& rp : st.waiting)
    rp.deliver(result);
  st.waiting.clear();
}

// Pushes to every container whose run state changed, and notes the phase
// they were all told about.
void push_all(runner_ptr self, size_t quiet) {
  auto& st = self->state;
  st.told_phase = st.phase;
  for (size_t id = 0; id < st.containers.size(); ++id)
    if (id != quiet)
      push(self, id);
}

// Stops the job. From inside (`await_services`), it is done once its
// services stopped; from outside, at once.
void terminate(runner_ptr self, std::string reason, bool await_services) {
  auto& st = self->state;
  if (st.phase == job_phase::terminated)
    return;
  st.phase = job_phase::terminated;
  st.steps_stopped = true;
  st.services_stopping = true;
  st.await_services = await_services;
  if (st.reason.empty())
    st.reason = std::move(reason);
  spdlog::info("runner: job terminated: {}", st.reason);
  push_all(self, none);
  check_done(self);
}

// Skips container `id`: the step does not run. The lines that say so go
// into the job log here, in their place.
void skip(runner_ptr self, size_t id) {
  auto& st = self->state;
  st.containers[id].state = container_state::skipped;
  spdlog::info("runner: skipping container {}", id);
  note(self, "~~~ Skipping " + label(st, id)
               + ": an earlier step failed (BATON_ALWAYS=true would run it "
                 "anyway)\n");
  ended(self, id, step_reason::skipped);
}

// True if a step not finished yet is, or may turn out to be, one that runs
// in the failing phase and has still to run or is running: an always-step,
// a member of the group that runs on, or a running member.
bool step_left_to_run(const runner_state& st) {
  for (size_t id = st.first_open; id < st.containers.size(); ++id) {
    auto& c = st.containers[id];
    if (c.service || st.finished(c))
      continue;
    // A member told to stop is awaited too: it ends cancelled, and the
    // job's status is its failing sibling's.
    if (!c.configured || c.settings.always
        || (st.member(id) && (c.started || c.settings.group == st.runs_on)))
      return true;
  }
  return false;
}

// Passes on the outputs of every group that ended: all its members finished
// and the container after it is known not to be one. They join the job's
// outputs in id order, so that for the same name the higher id wins.
void commit_group_outputs(runner_state& st) {
  auto n = st.containers.size();
  for (size_t id = 0; id < n;) {
    if (!st.member(id)) {
      ++id;
      continue;
    }
    auto& group = st.containers[id].settings.group;
    auto end = id;
    auto ended = true;
    for (; end < n && st.member(end)
           && st.containers[end].settings.group == group;
         ++end)
      ended = ended && st.finished(st.containers[end]);
    ended = ended
            && (end == n || st.containers[end].configured
                || st.finished(st.containers[end]));
    for (; ended && id < end; ++id) {
      auto& held = st.containers[id].held_outputs;
      st.outputs.insert(st.outputs.end(), std::make_move_iterator(held.begin()),
                        std::make_move_iterator(held.end()));
      held.clear();
    }
    id = end;
  }
}

// Describes two members of a group with a container between them that is
// not one, the later member first in `member`; empty if there are none.
std::string split_group(const runner_state& st, size_t& member) {
  auto n = st.containers.size();
  // A container known to be in no group, or in another one.
  auto outside = [&](size_t k, const std::string& group) {
    auto& c = st.containers[k];
    return c.configured && (!st.member(k) || c.settings.group != group);
  };
  for (size_t i = 0; i < n; ++i) {
    if (!st.member(i))
      continue;
    auto& group = st.containers[i].settings.group;
    for (size_t j = i; j-- > 0;) {
      if (st.member(j) && st.containers[j].settings.group == group)
        break;
      if (!outside(j, group))
        continue;
      for (size_t k = j; k-- > 0;)
        if (st.member(k) && st.containers[k].settings.group == group) {
          member = i;
          return label(st, i) + " is in group \"" + group + "\" with "
                 + label(st, k) + ", but " + label(st, j)
                 + " between them is not: a group's members must be "
                   "consecutive";
        }
      break;
    }
  }
  return {};
}

// Moves the job on after any event: gives the turn to the next container
// that may run, skips those that may not, and tells every container whose
// run state is not the one it was told last. That can be any container
// once the phase changed; else only one this call starts or skips (a
// container's run state depends on the phase and its own record). `quiet`:
// a container not to push to (it is being answered instead).
void settle(runner_ptr self, size_t quiet = none) {
  auto& st = self->state;
  auto n = st.containers.size();
  if (st.phase == job_phase::failing && !step_left_to_run(st)) {
    // Nothing can run anymore: the reference's terminate, with the
    // containers still waiting for their turn skipped.
    for (size_t id = 0; id < n; ++id) {
      auto& c = st.containers[id];
      if (c.state == container_state::connected && !c.started && !c.service)
        skip(self, id);
    }
    return terminate(self, st.reason, true);
  }
  std::vector<size_t> touched;
  if (st.phase != job_phase::terminated) {
    while (st.first_open < n && st.finished(st.containers[st.first_open]))
      ++st.first_open;
    commit_group_outputs(st);
    // Services start as soon as they are configured, outside the turn order,
    // until the steps are done.
    for (size_t id = 0; id < n && !st.services_stopping; ++id) {
      auto& c = st.containers[id];
      if (c.service && c.configured && !c.started
          && c.state == container_state::connected) {
        begin(self, id);
        touched.push_back(id);
      }
    }
    // The turn: the first step not finished, and with it the rest of its
    // parallel group, whose members start as they come. Any other step waits
    // for the turn to end; and for a container to connect and say what it
    // is.
    auto taken = false;
    std::string group;
    for (auto id = st.first_open; id < n; ++id) {
      auto& c = st.containers[id];
      if (c.service || st.finished(c))
        continue;
      if (taken
          && (group.empty() || !st.member(id) || c.settings.group != group))
        break;
      if (c.started) {
        taken = true;
        group = st.member(id) ? c.settings.group : std::string{};
        continue;
      }
      if (c.state == container_state::not_yet_connected || !c.configured)
        break;
      auto may_start = st.phase == job_phase::running || c.settings.always
                       || (st.phase == job_phase::failing && st.member(id)
                           && c.settings.group == st.runs_on);
      if (may_start) {
        // The first step, and every later one, waits for the services.
        if (!st.services_ready())
          break;
        begin(self, id);
        touched.push_back(id);
        taken = true;
        group = st.member(id) ? c.settings.group : std::string{};
        continue;
      }
      if (st.phase == job_phase::failing) {
        skip(self, id);
        touched.push_back(id);
      }
      // Interrupted: it is told to interrupt and reports on its own.
    }
    // Once every step is done, the services are told to stop.
    if (!st.services_stopping && st.steps_finished()) {
      st.services_stopping = true;
      for (size_t id = 0; id < n; ++id)
        if (st.containers[id].service)
          touched.push_back(id);
    }
  }
  if (st.phase != st.told_phase) {
    push_all(self, quiet);
  } else {
    for (auto id : touched)
      if (id != quiet)
        push(self, id);
  }
  check_done(self);
}

// A step failed hard (container `who`, if one did): unless the job was
// interrupted first, only the always-steps still run, and the rest of a
// group that does not fail fast, if `who` is its member.
void fail(runner_ptr self, std::string reason, size_t who = none,
          size_t quiet = none) {
  auto& st = self->state;
  st.a_step_failed = true;
  if (st.reason.empty())
    st.reason = std::move(reason);
  if (st.phase == job_phase::running) {
    if (who != none && st.member(who)) {
      auto& group = st.containers[who].settings.group;
      (st.fails_fast(group) ? st.cut_group : st.runs_on) = group;
    }
    st.phase = job_phase::failing;
    st.steps_stopped = true;
    spdlog::info("runner: job failed: {}", st.reason);
  }
  settle(self, quiet);
}

// What the job's reason adds to a failing status: how the command died.
std::string cause_of(const container_record& c) {
  if (c.reason == step_reason::oom_killed)
    return " (killed by the OOM killer)";
  if (c.timed_out)
    return " (timed out)";
  if (!c.signal.empty())
    return " (killed by " + c.signal + ")";
  return {};
}

// A service failed for `reason`: it exited before it was told to stop, was
// never ready in time, or went away (`why` says which). The job fails with
// it (unless a step failed first), and the job log shows why and the
// service's last lines.
void service_failed(runner_ptr self, size_t id, step_reason reason,
                    const std::string& why) {
  auto& st = self->state;
  if (!st.a_step_failed && st.failed_service == none)
    st.failed_service = id;
  auto text = label(st, id) + " " + why;
  ended(self, id, reason, section_line(text));
  if (st.aggregator) {
    auto heading = "~~~ The last lines of " + label(st, id) + ":\n";
    self
      ->request(st.aggregator, caf::infinite, atom::tail::value,
                static_cast<int32_t>(id), std::move(heading))
      .then([](atom::ok) {},
            [=](caf::error& err) {
              self->send(self, atom::terminate::value, render(err));
            });
  }
  fail(self, std::move(text));
}

// Why a service that reported its exit failed.
std::string service_exit_why(const container_record& c) {
  if (c.ready_after_ns < 0 && c.timed_out)
    return "was not ready after "
           + format_duration(std::chrono::milliseconds{c.timeout_ms});
  return "exited with status " + std::to_string(c.exit_status) + cause_of(c)
         + " before the steps finished";
}

// True if container `index`, told `told`, was stopped because a sibling
// failed in a group that fails fast (an interrupt may have come since).
bool cut_short(const runner_state& st, size_t index, run_state told) {
  return (told == run_state::shutdown || told == run_state::interrupt)
         && st.member(index) && !st.cut_group.empty()
         && st.containers[index].settings.group == st.cut_group;
}

// Moves the job on once container `index` said what it is. Two members of a
// group apart fail the job, said once; returns why if `index` is the later
// of them, which is refused.
std::string settle_configured(runner_ptr self, size_t index) {
  auto& st = self->state;
  size_t member = none;
  auto split = st.groups_split ? std::string{} : split_group(st, member);
  if (split.empty()) {
    // A member saying BATON_GROUP_FAIL_FAST=true after its sibling failed:
    // the group no longer runs on, its running members are told to stop.
    auto& c = st.containers[index];
    if (st.member(index) && c.settings.fail_fast
        && c.settings.group == st.runs_on) {
      st.cut_group = st.runs_on;
      st.runs_on.clear();
      settle(self, index);
      push_all(self, index);
      return {};
    }
    settle(self, index);
    return {};
  }
  st.groups_split = true;
  spdlog::warn("runner: {}", split);
  fail(self, split, none, index);
  return member == index ? split : std::string{};
}

caf::error check_id(const runner_state& st, int32_t id) {
  if (id < 0 || static_cast<size_t>(id) >= st.containers.size())
    return make_error(ec::unrecognized_container,
                      "unrecognized client id " + std::to_string(id));
  return {};
}

} // namespace

runner_actor::behavior_type runner(runner_ptr self, runner_config config,
                                   log_aggregator_actor aggregator) {
  self->state.aggregator = std::move(aggregator);
  self->state.containers.resize(config.containers);
  self->state.began = self->clock().now();
  for (size_t id = 0; id < config.containers; ++id)
    self->state.containers[id].name = id < config.names.size()
                                        ? config.names[id]
                                        : default_container_name(id);
  for (auto id : config.services)
    self->state.containers[id].service = true;
  // A session that ends while its container is connected, for whatever
  // reason, leaves that container lost: the job never waits on a ghost.
  self->set_down_handler([=](const caf::down_msg& msg) {
    auto& st = self->state;
    for (size_t id = 0; id < st.containers.size(); ++id) {
      auto& c = st.containers[id];
      if (attached(c) && c.session && c.session.address() == msg.source)
        self->send(self, atom::lost::value, static_cast<int32_t>(id),
                   std::string{"its session ended"});
    }
  });
  if (config.start_timeout.count() > 0)
    self->delayed_send(self, config.start_timeout, atom::tick::value);
  self->state.config = std::move(config);
  return {
    [=](atom::register_, const registration& reg, container_actor session)
      -> caf::result<std::vector<std::string>, std::string, turn> {
      auto& st = self->state;
      auto id = reg.id;
      if (id < 0 || static_cast<size_t>(id) >= st.containers.size())
        return make_error(ec::unrecognized_container,
                          "unrecognized client id " + std::to_string(id)
                            + " (this job has containers 0 to "
                            + std::to_string(st.containers.size() - 1) + ")");
      auto index = static_cast<size_t>(id);
      auto& c = st.containers[index];
      if (c.state != container_state::not_yet_connected)
        return make_error(ec::duplicate_container, "client id "
                                                     + std::to_string(id)
                                                     + " already registered");
      if (c.service && (reg.configured || reg.protocol != dialect::baton))
        return make_error(ec::unexpected_message,
                          label(st, index) + " is a service (--services), but "
                            + (reg.protocol != dialect::baton
                                 ? "speaks the reference's protocol"
                                 : "speaks baton's protocol version 1")
                            + ", which has no services");
      if (st.config.services_known && reg.configured && reg.settings.service)
        return make_error(ec::invalid_argument,
                          label(st, index)
                            + " says it is a service, but the agent's "
                              "--services does not list it");
      c.state = container_state::connected;
      c.protocol = reg.protocol;
      c.configured = reg.configured;
      c.settings = reg.settings;
      if (reg.configured)
        c.service = reg.settings.service;
      c.outputs_seen = st.outputs.size();
      self->monitor(session);
      ++st.registered;
      st.any_registered = true;
      spdlog::info("runner: container {} registered ({} of {}, {} protocol)",
                   id, st.registered, st.containers.size(),
                   to_string(reg.protocol));
      // A container that says what it is as it registers is never a member,
      // but may stand between two.
      settle_configured(self, index);
      // Answered here rather than pushed.
      c.session = std::move(session);
      auto now = st.turn_of(index);
      c.pushed = now.state;
      auto env = st.config.env;
      env.insert(env.end(), st.outputs.begin(), st.outputs.end());
      return {std::move(env), c.name, std::move(now)};
    },
    [=](atom::configure, int32_t id,
        const step_settings& settings) -> caf::result<turn> {
      auto& st = self->state;
      if (auto err = check_id(st, id))
        return err;
      auto index = static_cast<size_t>(id);
      auto& c = st.containers[index];
      if (c.state != container_state::connected || c.configured)
        return make_error(ec::unexpected_message,
                          "container " + std::to_string(id)
                            + " sent its settings while " + to_string(c.state)
                            + (c.configured ? " and configured" : ""));
      if (st.config.services_known && settings.service != c.service)
        return make_error(ec::invalid_argument,
                          label(st, index)
                            + (settings.service
                                 ? " says BATON_SERVICE=true, but the agent's "
                                   "--services does not list it"
                                 : " is a service by the agent's --services, "
                                   "but does not say BATON_SERVICE=true"));
      c.configured = true;
      c.settings = settings;
      c.service = settings.service;
      // In the interrupted phase its settings decide its state at once.
      if (auto split = settle_configured(self, index); !split.empty())
        return make_error(ec::invalid_argument, split);
      auto now = st.turn_of(index);
      c.pushed = now.state;
      return now;
    },
    [=](atom::state, int32_t id) -> caf::result<run_state> {
      auto& st = self->state;
      if (auto err = check_id(st, id))
        return err;
      if (st.done)
        return run_state::shutdown;
      auto index = static_cast<size_t>(id);
      auto state = st.run_state_of(index);
      // As the reference answers: a container whose turn it is may start,
      // even before it connected.
      if (state == run_state::wait && st.phase == job_phase::running
          && index == st.first_open && !st.containers[index].service
          && st.services_ready())
        state = run_state::start;
      return state;
    },
    [=](atom::exit, int32_t id, step_exit& x) -> caf::result<atom::ok> {
      auto& st = self->state;
      if (auto err = check_id(st, id))
        return err;
      auto index = static_cast<size_t>(id);
      auto& c = st.containers[index];
      if (!attached(c))
        return make_error(ec::unexpected_message,
                          "container " + std::to_string(id)
                            + " reported an exit status while "
                            + to_string(c.state));
      exit_facts facts;
      facts.status = x.status;
      facts.soft_failed = c.settings.soft_fails(x.status);
      facts.timed_out = x.timed_out;
      facts.oom_killed = x.oom_killed;
      facts.signal = x.signal;
      auto told = st.run_state_of(index);
      facts.told_to_stop = told == run_state::interrupt
                           || told == run_state::shutdown;
      // A service told to stop did its part, whatever its status.
      auto stopped = c.service && told == run_state::shutdown;
      c.state = stopped ? container_state::stopped : container_state::exited;
      c.cut_short = cut_short(st, index, told);
      c.exit_status = x.status;
      c.timed_out = x.timed_out;
      c.soft_failed = facts.soft_failed;
      c.signal = x.signal;
      c.memory_limit = x.memory_limit;
      c.timeout_ms = x.timeout_ms;
      c.session = nullptr;
      // A member's outputs wait for its group to end.
      auto& passed = st.member(index) ? c.held_outputs : st.outputs;
      for (auto& entry : x.outputs) {
        c.outputs.push_back(entry.substr(0, entry.find('=')));
        passed.push_back(std::move(entry));
      }
      spdlog::info("runner: container {} exited with status {}{}{}", id,
                   x.status, x.timed_out ? " (timed out)" : "",
                   c.soft_failed ? " (soft failure)" : "");
      // After the job was done (a container it stopped waiting for) the
      // step has ended already, as cancelled.
      if (c.service) {
        if (!stopped) {
          service_failed(self, index, reason_for_exit(facts),
                         service_exit_why(c));
          return atom::ok::value;
        }
        if (c.reason == step_reason::none)
          ended(self, index, step_reason::stopped);
        settle(self);
        return atom::ok::value;
      }
      if (c.reason == step_reason::none)
        ended(self, index, reason_for_exit(facts));
      // A failure stops the steps that are not always-steps. Once the job
      // is interrupted none of them will start anyway, and stopping the
      // job would cut short the cleanup of a command still handling its
      // cancel signal (the grace period bounds that instead). (The
      // reference terminates at every failure.)
      if (x.status != 0 && !c.soft_failed && !c.cut_short)
        fail(self,
             label(st, index) + " exited with status "
               + std::to_string(x.status) + cause_of(c),
             index);
      else
        settle(self);
      return atom::ok::value;
    },
    [=](atom::lost, int32_t id, const std::string& why) {
      auto& st = self->state;
      if (check_id(st, id))
        return;
      auto index = static_cast<size_t>(id);
      auto& c = st.containers[index];
      if (!attached(c))
        return;
      // Told to stop, it went away: a stock client interrupted before its
      // turn leaves this way.
      auto told = st.run_state_of(index);
      auto cancelled = told == run_state::interrupt
                       || told == run_state::shutdown;
      if (c.service) {
        c.session = nullptr;
        c.lost_why = why;
        if (told == run_state::shutdown) {
          c.state = container_state::stopped;
          if (c.reason == step_reason::none)
            ended(self, index, step_reason::stopped);
          return settle(self);
        }
        c.state = container_state::lost;
        spdlog::warn("runner: service {} lost: {}", id, why);
        return service_failed(self, index, step_reason::lost,
                              "was lost: " + why);
      }
      c.state = container_state::lost;
      c.session = nullptr;
      c.lost_why = why;
      c.cut_short = cut_short(st, index, told);
      spdlog::warn("runner: container {} lost: {}", id, why);
      if (c.reason == step_reason::none)
        ended(self, index,
              cancelled ? step_reason::cancelled : step_reason::lost);
      // A member a sibling's failure stopped did not fail on its own.
      if (c.cut_short)
        return settle(self);
      // As for a failure: once interrupted, the others' cleanup is not cut
      // short. A stock client interrupted before its turn leaves this way,
      // without an exit status.
      fail(self, label(st, index) + " lost: " + why, index);
    },
    [=](atom::interrupt) {
      auto& st = self->state;
      if (st.phase == job_phase::interrupted
          || st.phase == job_phase::terminated)
        return;
      st.phase = job_phase::interrupted;
      st.was_interrupted = true;
      if (st.reason.empty())
        st.reason = "job interrupted";
      spdlog::info("runner: job interrupted");
      settle(self);
    },
    [=](atom::terminate, std::string& reason) {
      terminate(self, std::move(reason), false);
    },
    [=](atom::ready, int32_t id) {
      auto& st = self->state;
      if (check_id(st, id))
        return;
      auto index = static_cast<size_t>(id);
      auto& c = st.containers[index];
      if (!c.service || !c.started || c.state != container_state::connected) {
        spdlog::warn("runner: ignoring readiness of container {} while {}", id,
                     to_string(c.state));
        return;
      }
      c.state = container_state::ready;
      c.ready_after_ns = (self->clock().now() - c.started_at).count();
      spdlog::info("runner: service {} ready", id);
      note(self, section_line(label(st, index) + " ready after "
                              + format_seconds(c.ready_after_ns)));
      settle(self);
    },
    [=](atom::status) { return self->state.snapshot(self->clock().now()); },
    [=](atom::done) -> caf::result<job_result> {
      if (self->state.done)
        return self->state.snapshot(self->state.ended);
      auto rp = self->make_response_promise<job_result>();
      self->state.waiting.push_back(rp);
      return rp;
    },
    [=](atom::tick) {
      auto& st = self->state;
      if (st.done || st.registered == st.containers.size())
        return;
      st.start_timed_out = true;
      // The reference's text, then who is missing.
      std::string missing;
      for (size_t id = 0; id < st.containers.size(); ++id) {
        if (st.containers[id].state != container_state::not_yet_connected)
          continue;
        if (!missing.empty())
          missing += ", ";
        missing += std::to_string(id) + " (" + st.containers[id].name + ")";
      }
      fail(self, "timed out waiting " + format_duration(st.config.start_timeout)
                   + " for all containers to connect: " + missing
                   + " never connected");
    },
  };
}

} // namespace baton
