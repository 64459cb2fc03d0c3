#pragma once

// A checkout or command container's node: its options and the wiring of
// its actors.

#include "messages/job.hpp"

#include <caf/timespan.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace baton {

/// What `baton bootstrap` runs with (filled by the command-line parser).
struct bootstrap_options {
  int32_t container_id = 0;
  std::string job_context_dir;
  /// The agent's protocol: baton's own, or the reference's RPC dialect.
  dialect protocol = dialect::baton;
  std::string socket;
  caf::timespan connect_timeout{0};
  /// The command after `--`, if any.
  std::vector<std::string> command;
};

/// Runs the bootstrap until its command is done and reported. Returns the
/// command's status.
int run_bootstrap(const bootstrap_options& options);

} // namespace baton
