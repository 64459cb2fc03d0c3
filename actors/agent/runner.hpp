#pragma once

#include "actors/actors.hpp"

#include <caf/expected.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_response_promise.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace baton {

struct runner_config {
  /// Number of bootstrap containers; their ids are 0..containers-1.
  uint32_t containers = 0;
  /// The job environment handed to every container, as `KEY=VALUE`.
  std::vector<std::string> env;
  /// How long every container has to register; zero disables.
  caf::timespan start_timeout{0};

  /// Returns an error naming the first invalid value.
  caf::error validate() const;
};

/// The runner's view of one container.
struct container_record {
  container_state state = container_state::not_yet_connected;
  int32_t exit_status = 0;
  /// The protocol its bootstrap speaks, once registered.
  dialect protocol = dialect::baton;
  /// The session serving it, while connected.
  container_actor session;
  /// The run state last pushed to the session.
  run_state pushed = run_state::wait;
};

struct runner_state {
  static constexpr const char* name = "runner";

  runner_config config;
  std::vector<container_record> containers;
  uint32_t registered = 0;
  /// Containers that exited or were lost.
  uint32_t finished = 0;
  bool started = false;
  bool interrupted = false;
  bool terminated = false;
  bool done = false;
  std::string reason;
  std::vector<caf::typed_response_promise<job_result>> waiting;

  /// What container `id` should do now.
  run_state run_state_of(size_t id) const;

  /// The aggregate wait status (reference: Runner.WaitStatus).
  int32_t wait_status() const;

  job_result snapshot() const;
};

/// Spawns with `spawn(runner, config)`; the config must be valid.
runner_actor::behavior_type
runner(runner_actor::stateful_pointer<runner_state> self, runner_config config);

} // namespace baton
