#pragma once

#include <caf/expected.hpp>

#include <map>
#include <string>
#include <vector>

namespace baton {

/// An environment as a sorted map from name to value.
using env_map = std::map<std::string, std::string>;

/// Splits `KEY=VALUE` strings into a map. Strings without '=' are skipped.
env_map to_env_map(const std::vector<std::string>& entries);

/// Joins a map into `KEY=VALUE` strings.
std::vector<std::string> to_env_list(const env_map& env);

/// The environment of this process.
env_map own_environment();

/// The environment a bootstrap runs its command with, by the reference's
/// exact rules: start from the container's own environment `own`, apply the
/// job environment `job` except the names whose container value wins, then
/// rebase the env files onto `local_context_dir` and set the variables a
/// bootstrap sets (see SPEC.md, "Environment merge").
env_map merge_environment(const env_map& own, const env_map& job,
                          const std::string& local_context_dir,
                          const std::string& bin_path);

/// Applies job variables (`KEY=VALUE`, such as outputs of earlier steps)
/// to a merged environment `env` by the merge's rules: a name whose
/// container value wins (see `merge_environment`) keeps it.
void add_job_variables(env_map& env, const env_map& own,
                       const std::vector<std::string>& vars);

/// Reads an env file: `KEY=VALUE` lines, blank lines and `#` comments. An
/// error names the file and the line number, never the line itself (it may
/// hold a secret).
caf::expected<env_map> read_env_file(const std::string& path);

} // namespace baton
