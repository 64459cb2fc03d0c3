#pragma once

// How a bootstrap runs and cancels its command, from the merged job
// environment: rules both the bootstrap and the manifest renderer apply.

#include "job/environment.hpp"
#include "messages/defaults.hpp"

#include <caf/expected.hpp>
#include <caf/timespan.hpp>

#include <string>
#include <vector>

namespace baton {

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

} // namespace baton
