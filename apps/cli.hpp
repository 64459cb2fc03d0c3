#pragma once

// The command line of every `baton` subcommand: options, their environment
// variables and defaults, parsing and help texts. The apps stay thin.

#include "actors/agent/agent_node.hpp"
#include "actors/bootstrap/bootstrap_node.hpp"
#include "apps/install.hpp"
#include "apps/manifest.hpp"
#include "apps/pod.hpp"
#include "apps/status.hpp"
#include "job/environment.hpp"

#include <caf/expected.hpp>

#include <string>
#include <vector>

namespace baton {

/// An option as the README documents it.
struct option_doc {
  std::string name;
  /// Its environment variable; empty if it has none.
  std::string env;
};

/// A subcommand of `baton`. One table of them drives dispatch and the
/// main help.
struct subcommand {
  const char* name;
  /// Its lines in `baton --help`, '\n' between them.
  const char* summary;
  /// Prints its help if `args` (after its name) ask for it, else parses
  /// them (falling back on `env`) and runs it; 2 on bad arguments.
  int (*main)(const std::vector<std::string>& args, const env_map& env);
  /// Its options, in the order its help lists them.
  std::vector<option_doc> (*options)();
};

/// Every subcommand, in the order of `baton --help`.
const std::vector<subcommand>& subcommands();

/// True if `args` ask for help (`-h` or `--help` before any `--`).
bool wants_help(const std::vector<std::string>& args);

/// Parse the arguments after the subcommand name. Options come from the
/// command line, else from their environment variable in `env`, else from
/// their default. Errors name the option (or variable) and the value.
caf::expected<agent_options>
parse_agent_options(const std::vector<std::string>& args, const env_map& env);

caf::expected<bootstrap_options>
parse_bootstrap_options(const std::vector<std::string>& args,
                        const env_map& env);

caf::expected<pod_options>
parse_pod_options(const std::vector<std::string>& args, const env_map& env);

caf::expected<install_options>
parse_install_options(const std::vector<std::string>& args, const env_map& env);

caf::expected<manifest_options>
parse_manifest_options(const std::vector<std::string>& args,
                       const env_map& env);

caf::expected<status_options>
parse_status_options(const std::vector<std::string>& args, const env_map& env);

std::string main_help();
std::string agent_help();
std::string bootstrap_help();
std::string pod_help();
std::string status_help();
std::string install_help();
std::string manifest_help();

} // namespace baton
