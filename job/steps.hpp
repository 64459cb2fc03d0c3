#pragma once

// The job-steps rules beyond the reference: a step's settings, read by its
// bootstrap from its environment after the merge, and the variables a step
// passes on to later steps through $BATON_ENV.

#include "job/environment.hpp"
#include "messages/defaults.hpp"
#include "messages/job.hpp"

#include <caf/expected.hpp>
#include <caf/timespan.hpp>
#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace baton {

/// How a service shows it is ready (BATON_READY): a TCP connect that
/// succeeds, or a command that exits 0; neither: once its command started.
struct ready_check {
  /// `tcp:PORT` or `tcp:HOST:PORT`: HOST (127.0.0.1 by default) and PORT.
  std::string host;
  uint16_t port = 0;
  /// Any other value: run with $BUILDKITE_SHELL until it exits 0.
  std::string command;

  bool none() const {
    return port == 0 && command.empty();
  }
};

/// Parses a BATON_READY value; false if it starts with "tcp:" but names
/// no valid port (and host).
bool parse_ready_check(const std::string& text, ready_check& out);

/// A step's settings, from the variables of `step_setting_table`.
struct step_config {
  step_settings settings;
  /// How long the command may run before it is cancelled; zero: no limit.
  caf::timespan timeout{0};
  /// A service's readiness check, and how long it may take to pass.
  ready_check ready;
  caf::timespan ready_timeout = defaults::ready_timeout;
};

/// The variable that makes a container a service, and those that only a
/// service may set.
inline constexpr const char* service_variable = "BATON_SERVICE";

/// The variable that puts a step into a parallel group.
inline constexpr const char* group_variable = "BATON_GROUP";

/// One step setting, by every name it has and with how it reads and
/// renders: the bootstrap reads it from its environment (`read_step_config`),
/// the pod spec gives it as a container's key (`parse_pod_spec`, whose
/// renderer makes it the variable of `pod_spec::container::step_env` that
/// the manifest and `baton pod` pass on), and the settings frame carries it
/// to the agent if the runner needs it. A new setting is a row in
/// `step_setting_table` plus its behaviour in the bootstrap or the runner.
struct step_setting {
  /// The variable the bootstrap reads, e.g. "BATON_SOFT_FAIL".
  const char* env;
  /// The key of a pod spec container, e.g. "softFail".
  const char* spec_key;
  /// The field of the settings frame, one of `step_settings`' `*_field`
  /// names; nullptr for a setting only the bootstrap uses. The frame's
  /// field list stays in messages/wire.hpp: the codec may not include job/.
  const char* wire_field;
  /// What a value means, as `baton bootstrap --help` says it. The help and
  /// the README are prose wrapped by hand: a test checks them against the
  /// rows.
  const char* help;
  /// What a value of the variable must be, for "invalid NAME='value':
  /// expected ...".
  const char* env_expected;
  /// What a value of the spec key must be, for "KEY: expected ..., got v".
  const char* spec_expected;
  /// Reads a non-empty value of the variable into `out`; false if invalid.
  bool (*read)(const std::string& text, step_config& out);
  /// Renders the spec key's value as the variable's text, empty for the
  /// default (the variable stays unset); false if the value is invalid.
  bool (*render)(const nlohmann::json& value, std::string& text);
};

/// Every step setting, in the order they are read and errors reported.
const std::vector<step_setting>& step_setting_table();

/// Reads a step's settings. Unset or empty variables keep the reference's
/// behaviour. An error names the variable, the value and what is expected,
/// a service setting set without BATON_SERVICE=true, a group on a service,
/// or BATON_GROUP_FAIL_FAST without BATON_GROUP.
caf::expected<step_config> read_step_config(const env_map& env);

/// Most bytes a step may pass on through $BATON_ENV.
constexpr size_t max_outputs_size = 1024 * 1024;

/// Parses what a command wrote to $BATON_ENV: `KEY=VALUE` lines, and
/// `KEY<<DELIM` ... `DELIM` for values of several lines (the GitHub Actions
/// syntax); empty lines are skipped. Returns the variables as `KEY=VALUE`,
/// in order. An error names the line and what is wrong, never a value:
/// values may be secrets.
caf::expected<std::vector<std::string>> parse_outputs(const std::string& text);

/// Reads and parses the $BATON_ENV file at `path` (see `parse_outputs`);
/// more than `max_outputs_size` bytes is an error.
caf::expected<std::vector<std::string>> read_outputs(const std::string& path);

} // namespace baton
