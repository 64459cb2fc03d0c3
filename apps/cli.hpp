#pragma once

// The command line of every `baton` subcommand: options, their environment
// variables and defaults, parsing and help texts. The apps stay thin.

#include "actors/environment.hpp"

#include <caf/expected.hpp>
#include <caf/timespan.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace baton {

struct agent_options {
  uint32_t containers = 0;
  std::string job_context_dir;
  std::string socket;
  std::string env_file;
  std::string log_file;
  std::string result_file;
  caf::timespan start_timeout{0};
  caf::timespan lost_timeout{0};
  caf::timespan cancel_grace_period{0};
  caf::timespan handshake_timeout{0};
};

struct bootstrap_options {
  int32_t container_id = 0;
  std::string job_context_dir;
  std::string socket;
  caf::timespan connect_timeout{0};
  /// The command after `--`, if any.
  std::vector<std::string> command;
};

struct pod_options {
  std::string spec_file;
  std::optional<uint64_t> seed;
  std::string log_file;
  std::string result_file;
  bool keep = false;
};

struct install_options {
  /// Where the bundle goes: `<dir>/baton`.
  std::string dir;
  /// The bundle to copy; empty: the one this baton runs from.
  std::string from;
};

struct manifest_options {
  std::string spec_file;
  std::string agent_image;
  /// The pod's name; empty: derived from the spec file's name.
  std::string name;
};

struct status_options {
  std::string socket;
  bool json = false;
  caf::timespan timeout{0};
};

/// True if `args` ask for help (`-h` or `--help` before any `--`).
bool wants_help(const std::vector<std::string>& args);

/// Parse the arguments after the subcommand name. Options come from the
/// command line, else from their environment variable in `env`, else from
/// their default. Errors name the option (or variable) and the value.
caf::expected<agent_options> parse_agent_options(
  const std::vector<std::string>& args, const env_map& env);

caf::expected<bootstrap_options> parse_bootstrap_options(
  const std::vector<std::string>& args, const env_map& env);

caf::expected<pod_options> parse_pod_options(
  const std::vector<std::string>& args, const env_map& env);

caf::expected<install_options> parse_install_options(
  const std::vector<std::string>& args, const env_map& env);

caf::expected<manifest_options> parse_manifest_options(
  const std::vector<std::string>& args, const env_map& env);

caf::expected<status_options> parse_status_options(
  const std::vector<std::string>& args, const env_map& env);

std::string main_help();
std::string agent_help();
std::string bootstrap_help();
std::string pod_help();
std::string status_help();
std::string install_help();
std::string manifest_help();

} // namespace baton
