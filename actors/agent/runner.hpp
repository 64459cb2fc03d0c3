#pragma once

#include "actors/actors.hpp"

#include <caf/actor_clock.hpp>

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
  /// The containers' names, in id order; empty: "container-<id>".
  std::vector<std::string> names;
  /// End the job log with the job summary (`--no-summary` leaves it out;
  /// the step lines stay).
  bool summary = true;
  /// The ids of the services, known up front (`--services`): the steps
  /// wait for them before they have even connected, and a container's own
  /// BATON_SERVICE must agree. Empty and not `services_known`: each
  /// container says what it is when its settings come.
  std::vector<uint32_t> services;
  bool services_known = false;

  /// Returns an error naming the first invalid value.
  caf::error validate() const;
};

/// Which steps of the job still run. docs/design.md has the transition
/// table beside the reference's.
enum class job_phase : uint8_t {
  /// Steps run one after another in id order (the reference's only phase
  /// besides terminated), the members of a parallel group at once.
  running,
  /// A step failed hard (a non-zero status that is not a soft failure, a
  /// lost container, the start timeout): the always-steps still run in id
  /// order, the others are skipped. A parallel group that does not fail
  /// fast, whose member failed, runs on to its end first. Once nothing is
  /// left to run the job is terminated.
  failing,
  /// Cancelled: the running step is interrupted, the others are told to
  /// interrupt, then the always-steps that have not run yet run in id
  /// order, until the cancel grace period terminates the job.
  interrupted,
  /// Stopped: every container shuts down.
  terminated,
};

const char* to_string(job_phase x);

/// The runner's view of one container.
struct container_record {
  std::string name;
  /// A service (BATON_SERVICE): it runs beside the steps, outside the turn
  /// order, and is stopped once they are done. Known from `--services` or
  /// its settings.
  bool service = false;
  /// When a service's readiness check passed, after its start (by the actor
  /// clock); negative until then.
  int64_t ready_after_ns = -1;
  container_state state = container_state::not_yet_connected;
  /// The protocol its bootstrap speaks, once registered.
  dialect protocol = dialect::baton;
  /// Its settings are known (with baton's protocol from version 2 they
  /// follow the registration); until then its turn waits.
  bool configured = false;
  step_settings settings;
  /// Told to start, and the phase the job was in then.
  bool started = false;
  job_phase started_in = job_phase::running;
  int32_t exit_status = 0;
  bool soft_failed = false;
  /// A group member stopped because a sibling failed while the group fails
  /// fast: its status is a consequence, not a failure of its own.
  bool cut_short = false;
  bool timed_out = false;
  /// Why its step ended, and what its exit report said of it.
  step_reason reason = step_reason::none;
  std::string signal;
  uint64_t memory_limit = 0;
  int64_t timeout_ms = 0;
  std::string lost_why;
  /// When its step started and ended: by the wall clock (ns since the
  /// epoch, 0 if not) and, for its duration, by the actor clock.
  int64_t started_ns = 0;
  int64_t finished_ns = 0;
  caf::actor_clock::time_point started_at;
  int64_t duration_ns = -1;
  /// The names of the variables its step passed on.
  std::vector<std::string> outputs;
  /// A group member's outputs, as `KEY=VALUE`, held until its group ends:
  /// its siblings never see them.
  std::vector<std::string> held_outputs;
  /// Job outputs that existed when it registered: its environment had
  /// them, later ones come with its start.
  size_t outputs_seen = 0;
  /// The session serving it, while connected.
  container_actor session;
  /// The run state last pushed to the session.
  run_state pushed = run_state::wait;
};

struct runner_state {
  static constexpr const char* name = "runner";

  runner_config config;
  /// Where the runner writes the line that says a container is skipped,
  /// in its place in the job log; none in some tests.
  log_aggregator_actor aggregator;
  std::vector<container_record> containers;
  job_phase phase = job_phase::running;
  /// The phase as of the last push to every container: after a change,
  /// any container's run state may differ from what it was told.
  job_phase told_phase = job_phase::running;
  uint32_t registered = 0;
  /// A container registered (reported as `started`).
  bool any_registered = false;
  /// A step failed hard (whatever the phase then).
  bool a_step_failed = false;
  /// The job was interrupted, whatever came after (reported as
  /// `interrupted`; the phase may have moved on to terminated).
  bool was_interrupted = false;
  /// The steps that are not always-steps were stopped: by a hard failure
  /// before any interrupt, or by a terminate (reported as `terminated`;
  /// the phase may still be failing, while always-steps run).
  bool steps_stopped = false;
  /// The start timeout passed: containers not connected by then are given
  /// up on.
  bool start_timed_out = false;
  bool done = false;
  std::string reason;
  /// Job variables added by steps through $BATON_ENV, in the order they
  /// came, as `KEY=VALUE`.
  std::vector<std::string> outputs;
  /// Every container below this one has finished: where the search for the
  /// next turn begins.
  size_t first_open = 0;
  /// The group whose members run on after one of them failed hard (it does
  /// not fail fast): its turn goes on to its end. Empty if none.
  std::string runs_on;
  /// The group whose member failed hard while it fails fast: its siblings
  /// still running are cut short. Empty if none.
  std::string cut_group;
  /// Two members of a group are not consecutive: said once, the job fails
  /// (with `defaults::invalid_settings_status` unless a step failed).
  bool groups_split = false;
  /// Every step has finished (or the job was terminated): the services are
  /// told to stop.
  bool services_stopping = false;
  /// The service whose failure failed the job, if that came first: the
  /// job's status is its own. `none` if none.
  size_t failed_service = static_cast<size_t>(-1);
  /// The job was terminated from inside (no always-step left to run): it is
  /// done once its services stopped. A terminate from outside (the grace
  /// period, a job log that cannot be written) does not wait for them.
  bool await_services = false;
  std::vector<caf::typed_response_promise<job_result>> waiting;
  /// When the runner started, and when the job was done (by the actor
  /// clock): the job's duration.
  caf::actor_clock::time_point began;
  caf::actor_clock::time_point ended;

  /// True if container `c` will neither run nor report anymore.
  bool finished(const container_record& c) const;

  /// True if every service known is ready, or will never be: a step may
  /// start.
  bool services_ready() const;

  /// True if every container that is not a service has finished.
  bool steps_finished() const;

  /// True if container `id` is a step of a parallel group (BATON_GROUP).
  bool member(size_t id) const;

  /// True if a member of `group` says BATON_GROUP_FAIL_FAST=true.
  bool fails_fast(const std::string& group) const;

  /// What container `id` should do now.
  run_state run_state_of(size_t id) const;

  /// What container `id` is told now: its run state and, when it starts,
  /// the job so far.
  turn turn_of(size_t id) const;

  /// The aggregate wait status (reference: Runner.WaitStatus), where soft
  /// failures and skipped containers count as passed.
  int32_t wait_status() const;

  /// The status so far: the first hard failure in id order among the
  /// containers that finished, else 0.
  int32_t status_so_far() const;

  /// "passed", "failed" or "cancelled".
  const char* result_so_far() const;

  /// Container `id` as the status and the result file show it; `now` for
  /// the duration of a job that runs still.
  container_status status_of(size_t id) const;

  job_result snapshot(caf::actor_clock::time_point now) const;
};

/// Spawns with `spawn(runner, config, aggregator)`; the config must be
/// valid; `aggregator` may be null (then the job log gets none of the
/// runner's lines: skips, step lines, the summary).
runner_actor::behavior_type
runner(runner_actor::stateful_pointer<runner_state> self, runner_config config,
       log_aggregator_actor aggregator);

} // namespace baton
