#include "actors/agent/runner.hpp"

#include "messages/duration.hpp"
#include "messages/error.hpp"

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
  return {};
}

run_state runner_state::run_state_of(size_t id) const {
  // Termination outranks interruption, which outranks the turn order.
  if (terminated)
    return run_state::shutdown;
  if (interrupted)
    return run_state::interrupt;
  if (id == 0 || containers[id - 1].state == container_state::exited)
    return run_state::start;
  return run_state::wait;
}

int32_t runner_state::wait_status() const {
  // Reference: scan in id order, first match wins.
  for (auto& c : containers) {
    switch (c.state) {
      case container_state::exited:
        if (c.exit_status != 0)
          return c.exit_status;
        break;
      case container_state::lost:
        return defaults::lost_status;
      case container_state::not_yet_connected:
        return defaults::not_connected_status;
      case container_state::connected:
        return defaults::unreported_status;
    }
  }
  return 0;
}

job_result runner_state::snapshot() const {
  job_result result;
  result.status = wait_status();
  result.started = started;
  result.interrupted = interrupted;
  result.terminated = terminated;
  result.done = done;
  result.reason = done ? reason : "running";
  result.containers.reserve(containers.size());
  for (size_t id = 0; id < containers.size(); ++id) {
    auto& c = containers[id];
    result.containers.push_back(container_status{
      static_cast<uint32_t>(id), c.state, c.protocol, c.exit_status, 0});
  }
  return result;
}

namespace {

using runner_ptr = runner_actor::stateful_pointer<runner_state>;

// Sends container `id` its run state if it changed since the last push.
void push(runner_ptr self, size_t id) {
  auto& c = self->state.containers[id];
  if (c.state != container_state::connected || !c.session)
    return;
  auto now = self->state.run_state_of(id);
  if (now == c.pushed)
    return;
  c.pushed = now;
  self->send(c.session, atom::state::value, now);
}

void push_all(runner_ptr self) {
  for (size_t id = 0; id < self->state.containers.size(); ++id)
    push(self, id);
}

// Marks the job done once every container exited or was lost, or it was
// terminated, and answers everyone waiting for that.
void check_done(runner_ptr self) {
  auto& st = self->state;
  if (st.done)
    return;
  auto all_finished = st.finished == st.containers.size();
  // Once interrupted, nothing is left to wait for when no container is
  // connected: one that connects later would only be told to interrupt.
  auto none_running = st.interrupted
                      && std::none_of(st.containers.begin(),
                                      st.containers.end(), [](auto& c) {
                                        return c.state
                                               == container_state::connected;
                                      });
  if (!st.terminated && !all_finished && !none_running)
    return;
  st.done = true;
  if (st.reason.empty())
    st.reason = "every container exited";
  auto result = st.snapshot();
  spdlog::info("runner: job done with status {}: {}", result.status,
               st.reason);
  for (auto& rp : st.waiting)
    rp.deliver(result);
  st.waiting.clear();
}

void terminate(runner_ptr self, std::string reason) {
  auto& st = self->state;
  if (st.terminated)
    return;
  st.terminated = true;
  if (st.reason.empty())
    st.reason = std::move(reason);
  spdlog::info("runner: job terminated: {}", st.reason);
  push_all(self);
  check_done(self);
}

} // namespace

runner_actor::behavior_type runner(runner_ptr self, runner_config config) {
  self->state.containers.resize(config.containers);
  // A session that ends while its container is connected, for whatever
  // reason, leaves that container lost: the job never waits on a ghost.
  self->set_down_handler([=](const caf::down_msg& msg) {
    auto& st = self->state;
    for (size_t id = 0; id < st.containers.size(); ++id) {
      auto& c = st.containers[id];
      if (c.state == container_state::connected && c.session
          && c.session.address() == msg.source)
        self->send(self, atom::lost::value, static_cast<int32_t>(id),
                   std::string{"its session ended"});
    }
  });
  if (config.start_timeout.count() > 0)
    self->delayed_send(self, config.start_timeout, atom::tick::value);
  self->state.config = std::move(config);
  return {
    [=](atom::register_, const registration& reg, container_actor session)
      -> caf::result<std::vector<std::string>, run_state> {
      auto& st = self->state;
      auto id = reg.id;
      if (id < 0 || static_cast<size_t>(id) >= st.containers.size())
        return make_error(ec::unrecognized_container,
                          "unrecognized client id " + std::to_string(id)
                            + " (this job has containers 0 to "
                            + std::to_string(st.containers.size() - 1) + ")");
      auto& c = st.containers[static_cast<size_t>(id)];
      if (c.state != container_state::not_yet_connected)
        return make_error(ec::duplicate_container,
                          "client id " + std::to_string(id)
                            + " already registered");
      c.state = container_state::connected;
      c.protocol = reg.protocol;
      self->monitor(session);
      c.session = std::move(session);
      c.pushed = st.run_state_of(static_cast<size_t>(id));
      ++st.registered;
      st.started = true;
      spdlog::info("runner: container {} registered ({} of {}, {} protocol)",
                   id, st.registered, st.containers.size(),
                   to_string(reg.protocol));
      return {st.config.env, c.pushed};
    },
    [=](atom::state, int32_t id) -> caf::result<run_state> {
      auto& st = self->state;
      if (id < 0 || static_cast<size_t>(id) >= st.containers.size())
        return make_error(ec::unrecognized_container,
                          "unrecognized client id " + std::to_string(id));
      if (st.done)
        return run_state::shutdown;
      return st.run_state_of(static_cast<size_t>(id));
    },
    [=](atom::exit, int32_t id, int32_t status) -> caf::result<atom::ok> {
      auto& st = self->state;
      if (id < 0 || static_cast<size_t>(id) >= st.containers.size())
        return make_error(ec::unrecognized_container,
                          "unrecognized client id " + std::to_string(id));
      auto& c = st.containers[static_cast<size_t>(id)];
      if (c.state != container_state::connected)
        return make_error(ec::unexpected_message,
                          "container " + std::to_string(id)
                            + " reported an exit status while "
                            + to_string(c.state));
      c.state = container_state::exited;
      c.exit_status = status;
      c.session = nullptr;
      ++st.finished;
      spdlog::info("runner: container {} exited with status {}", id, status);
      // A failure stops the job so later containers never start. Once the
      // job is interrupted none will start anyway, and stopping now would
      // cut short the cleanup of a command still handling its cancel
      // signal (and lose its last output): the grace period bounds that
      // instead. (The reference terminates here too; its interrupted
      // containers usually end as lost after 30 s.)
      if (status != 0 && !st.interrupted)
        terminate(self, "container " + std::to_string(id)
                          + " exited with status " + std::to_string(status));
      else if (static_cast<size_t>(id) + 1 < st.containers.size())
        push(self, static_cast<size_t>(id) + 1);
      check_done(self);
      return atom::ok::value;
    },
    [=](atom::lost, int32_t id, const std::string& why) {
      auto& st = self->state;
      if (id < 0 || static_cast<size_t>(id) >= st.containers.size())
        return;
      auto& c = st.containers[static_cast<size_t>(id)];
      if (c.state != container_state::connected)
        return;
      c.state = container_state::lost;
      c.session = nullptr;
      ++st.finished;
      spdlog::warn("runner: container {} lost: {}", id, why);
      // As for a failure: once interrupted, the others' cleanup is not cut
      // short (the grace period bounds it). A stock client interrupted
      // before its turn leaves this way, without an exit status.
      if (!st.interrupted)
        terminate(self, "container " + std::to_string(id) + " lost: " + why);
      check_done(self);
    },
    [=](atom::interrupt) {
      auto& st = self->state;
      if (st.interrupted || st.terminated)
        return;
      st.interrupted = true;
      st.reason = "job interrupted";
      spdlog::info("runner: job interrupted");
      push_all(self);
      check_done(self);
    },
    [=](atom::terminate, std::string& reason) {
      terminate(self, std::move(reason));
    },
    [=](atom::status) { return self->state.snapshot(); },
    [=](atom::done) -> caf::result<job_result> {
      if (self->state.done)
        return self->state.snapshot();
      auto rp = self->make_response_promise<job_result>();
      self->state.waiting.push_back(rp);
      return rp;
    },
    [=](atom::tick) {
      auto& st = self->state;
      if (st.done || st.registered == st.containers.size())
        return;
      terminate(self, "timed out waiting "
                        + format_duration(st.config.start_timeout)
                        + " for all containers to connect");
    },
  };
}

} // namespace baton
