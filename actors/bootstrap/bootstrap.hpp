#pragma once

#include "actors/actors.hpp"
#include "actors/command_runner.hpp"
#include "actors/environment.hpp"
#include "messages/defaults.hpp"

#include <caf/io/connection_handle.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace baton {

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
  /// Called once, with the process exit status, when the bootstrap is done.
  std::function<void(int)> on_done;
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

/// How the command is cancelled, read from the merged environment.
struct cancel_config {
  /// BUILDKITE_CANCEL_SIGNAL (default SIGTERM; SIGKILL becomes SIGTERM).
  int signal = 15;
  /// BUILDKITE_CANCEL_SIGNAL_TIMEOUT: after the signal, SIGKILL.
  caf::timespan signal_timeout = defaults::cancel_signal_timeout;
  /// BUILDKITE_CANCEL_CLEANUP_TIMEOUT: after SIGKILL, give up and exit.
  caf::timespan cleanup_timeout = defaults::cancel_cleanup_timeout;
};

/// Reads the cancel settings from `env`; a value that does not parse is
/// reported in `warnings` and replaced by its default.
cancel_config read_cancel_config(const env_map& env,
                                 std::vector<std::string>& warnings);

/// The command line to run: `command` if given, else the shell words of
/// `BUILDKITE_SHELL` (default `/bin/sh -e -c`) and `BUILDKITE_COMMAND`.
caf::expected<std::vector<std::string>>
command_line(const std::vector<std::string>& command, const env_map& env);

struct bootstrap_state {
  static constexpr const char* name = "bootstrap";

  bootstrap_config config;
  caf::io::connection_handle hdl;
  peer_actor peer;
  command_runner_ptr runner;
  bootstrap_phase phase = bootstrap_phase::handshake;
  bool connected = true;
  caf::timespan heartbeat_interval{0};
  /// The merged environment, once registered.
  env_map env;
  std::vector<std::string> argv;
  cancel_config cancel;
  bool cancelling = false;
  /// Log credit received before the command started.
  uint64_t credit = 0;
  bool output_done = false;
  std::optional<int32_t> exit_status;
};

/// Spawns with `spawn(bootstrap, hdl, peer, runner, config)`; sends its
/// hello at once.
bootstrap_actor::behavior_type
bootstrap(bootstrap_actor::stateful_pointer<bootstrap_state> self,
          caf::io::connection_handle hdl, peer_actor peer,
          command_runner_ptr runner, bootstrap_config config);

} // namespace baton
