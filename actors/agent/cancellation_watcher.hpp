#pragma once

#include "actors/actors.hpp"
#include "messages/defaults.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>

namespace baton {

struct cancellation_watcher_state {
  static constexpr const char* name = "cancellation-watcher";

  runner_actor runner;
  caf::timespan grace_period{0};
  /// Interrupting signals received so far.
  int signals = 0;
};

/// Spawns with `spawn(cancellation_watcher, runner, grace_period)`. The first
/// SIGTERM or SIGINT interrupts the job; a second one, or the end of the
/// grace period, terminates it.
cancellation_watcher_actor::behavior_type cancellation_watcher(
  cancellation_watcher_actor::stateful_pointer<cancellation_watcher_state> self,
  runner_actor runner, caf::timespan grace_period);

} // namespace baton
