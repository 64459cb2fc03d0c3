#pragma once

#include "actors/actors.hpp"
#include "actors/bootstrap/command_runner.hpp"
#include "actors/bootstrap/ready_probe.hpp"
#include "job/command.hpp"
#include "job/environment.hpp"
#include "job/steps.hpp"
#include "messages/defaults.hpp"

#include <caf/io/connection_handle.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace baton {

/// Bytes a bootstrap's broker asks for per read. The agent sends small
/// frames (a large environment arrives in several reads), and CAF zeroes
/// a buffer of this size at start-up: a page fault for every 4 KiB.
constexpr size_t bootstrap_read_size = 4096;

struct bootstrap_config {
  int32_t container_id = 0;
  /// The command after `--`; empty: `$BUILDKITE_SHELL $BUILDKITE_COMMAND`.
  std::vector<std::string> command;
  /// The bootstrap's own environment.
  env_map own_env;
  /// The job context directory as this container mounts it.
  std::string job_context_dir = defaults::job_context_dir;
  /// The directory of the running executable (BUILDKITE_BIN_PATH).
  std::string bin_path;
  /// Where the bootstrap copies the command's output and its header besides
  /// the job log: its own stdout; negative for nowhere.
  int stdout_fd = 1;
  /// Where the command's private $BATON_ENV file goes; empty: $TMPDIR, else
  /// /tmp, else the job context directory.
  std::string scratch_dir;
  /// Called once, with the process exit status, when the bootstrap is done.
  std::function<void(int)> on_done;
  /// The protocol the bootstrap speaks: a service needs baton's.
  dialect protocol = dialect::baton;
  /// Tries a service's readiness check; null: the real one.
  ready_probe_ptr ready_probe;
};

/// Where a bootstrap is.
enum class bootstrap_phase : uint8_t {
  handshake,
  registering,
  waiting,
  running,
  reporting,
  done,
};

const char* to_string(bootstrap_phase x);

struct bootstrap_state {
  static constexpr const char* name = "bootstrap";

  bootstrap_config config;
  caf::io::connection_handle hdl;
  peer_actor peer;
  command_runner_ptr runner;
  bootstrap_phase phase = bootstrap_phase::handshake;
  bool connected = true;
  caf::timespan heartbeat_interval{0};
  /// How the job log names this container, "container 1 (build)", once
  /// registered (without the name from an agent that sends none).
  std::string label;
  /// The merged environment, once registered.
  env_map env;
  std::vector<std::string> argv;
  cancel_config cancel;
  /// The step's settings (see `step_setting_table`).
  step_config step;
  /// Why the step's settings are invalid: its turn reports a failure
  /// instead of running the command.
  std::string settings_error;
  /// The command's $BATON_ENV, read once it exited.
  std::string env_file;
  /// The command ran past its BATON_TIMEOUT.
  bool timed_out = false;
  bool cancelling = false;
  /// Log credit received before the command started.
  uint64_t credit = 0;
  bool output_done = false;
  std::optional<int32_t> exit_status;
  /// How the command ended beyond its status: the signal, the OOM verdict.
  step_exit ended;
  /// With `timed_out`: the limit it ran past, BATON_TIMEOUT or, for a
  /// service never ready, BATON_READY_TIMEOUT.
  caf::timespan time_limit{0};
  /// A service: its readiness check passed (or it has none).
  bool ready = false;
  /// A service: the wait before its next readiness try, and why the last
  /// one failed.
  caf::timespan ready_delay{0};
  std::string ready_error;
  /// A service told to stop (the steps are done): it did its part, and the
  /// bootstrap exits 0 whatever its command's status.
  bool stopping = false;
};

/// Spawns with `spawn(bootstrap, hdl, peer, runner, config)`; sends its
/// hello at once.
bootstrap_actor::behavior_type
bootstrap(bootstrap_actor::stateful_pointer<bootstrap_state> self,
          caf::io::connection_handle hdl, peer_actor peer,
          command_runner_ptr runner, bootstrap_config config);

} // namespace baton
