#pragma once

// The agent container's node: its options and the wiring of its actors.

#include <caf/timespan.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace baton {

/// What `baton agent` runs with (filled by the command-line parser).
struct agent_options {
  uint32_t containers = 0;
  /// The containers' names in id order; empty: "container-<id>".
  std::vector<std::string> container_names;
  /// The ids of the services, if `services_known` (`--services`).
  std::vector<uint32_t> services;
  bool services_known = false;
  std::string job_context_dir;
  std::string socket;
  /// Where to serve the reference's RPC dialect; empty: nowhere.
  std::string rpc_socket;
  std::string env_file;
  std::string log_file;
  std::string result_file;
  caf::timespan start_timeout{0};
  caf::timespan lost_timeout{0};
  caf::timespan cancel_grace_period{0};
  caf::timespan handshake_timeout{0};
  /// Start every job-log line with the time it was read.
  bool timestamp_lines = false;
  /// Leave the job summary out of the job log.
  bool no_summary = false;
};

/// Runs the agent until the job is done. Returns the aggregate status
/// mapped to an exit status (see `exit_status_for`).
int run_agent(const agent_options& options);

} // namespace baton
