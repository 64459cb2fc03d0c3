#include "actors/agent/cancellation_watcher.hpp"

#include "messages/duration.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstring>

namespace baton {

cancellation_watcher_actor::behavior_type cancellation_watcher(
  cancellation_watcher_actor::stateful_pointer<cancellation_watcher_state> self,
  runner_actor runner, caf::timespan grace_period) {
  self->state.runner = std::move(runner);
  self->state.grace_period = grace_period;
  return {
    [=](atom::signal, int signo) {
      auto& st = self->state;
      auto name = strsignal(signo);
      if (++st.signals == 1) {
        spdlog::info("{}: received {}, interrupting the job", st.name, name);
        self->send(st.runner, atom::interrupt::value);
        self->delayed_send(self, st.grace_period, atom::grace::value);
        return;
      }
      spdlog::info("{}: received {} again, terminating the job", st.name, name);
      self->send(st.runner, atom::terminate::value,
                 std::string{"received a second signal ("} + name + ")");
    },
    [=](atom::grace) {
      auto& st = self->state;
      spdlog::info("{}: grace period of {} expired, terminating the job",
                   st.name, format_duration(st.grace_period));
      self->send(st.runner, atom::terminate::value,
                 "cancel grace period of " + format_duration(st.grace_period)
                   + " expired");
    },
  };
}

} // namespace baton
