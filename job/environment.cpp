#include "job/environment.hpp"

#include "messages/error.hpp"

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>

extern char** environ;

namespace baton {

env_map to_env_map(const std::vector<std::string>& entries) {
  env_map result;
  for (auto& entry : entries) {
    auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0)
      continue;
    result[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return result;
}

std::vector<std::string> to_env_list(const env_map& env) {
  std::vector<std::string> result;
  result.reserve(env.size());
  for (auto& [key, value] : env)
    result.push_back(key + "=" + value);
  return result;
}

env_map own_environment() {
  std::vector<std::string> entries;
  for (auto p = environ; p != nullptr && *p != nullptr; ++p)
    entries.emplace_back(*p);
  return to_env_map(entries);
}

namespace {

// Names the container's own value always wins for (reference:
// kubernetes-bootstrap's protected list).
constexpr std::array<const char*, 11> container_wins = {
  "BUILDKITE_BOOTSTRAP_PHASES",
  "BUILDKITE_COMMAND",
  "BUILDKITE_CONTAINER_ID",
  "BUILDKITE_JOB_CONTEXT_DIR",
  "BUILDKITE_SOCKETS_PATH",
  "HOME",
  "HOSTNAME",
  "PATH",
  "PWD",
  "SHLVL",
  "TERM",
};

bool starts_with(const std::string& str, const char* prefix) {
  return str.compare(0, std::strlen(prefix), prefix) == 0;
}

bool container_value_wins(const std::string& name, const env_map& own) {
  if (starts_with(name, "KUBERNETES_"))
    return true;
  for (auto protected_name : container_wins)
    if (name == protected_name)
      return true;
  // The shells are the container's only if it set one.
  if (name == "BUILDKITE_SHELL" || name == "BUILDKITE_HOOKS_SHELL")
    return own.count(name) > 0;
  return false;
}

std::string basename_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

env_map merge_environment(const env_map& own, const env_map& job,
                          const std::string& local_context_dir,
                          const std::string& bin_path) {
  auto result = own;
  for (auto& [name, value] : job)
    if (!container_value_wins(name, own))
      result[name] = value;
  for (auto name : {"BUILDKITE_ENV_FILE", "BUILDKITE_ENV_JSON_FILE",
                    "BUILDKITE_AGENT_JOB_TIMEOUT_FILE"}) {
    auto i = result.find(name);
    if (i != result.end() && !i->second.empty())
      i->second = local_context_dir + "/" + basename_of(i->second);
  }
  result["BUILDKITE_KUBERNETES_EXEC"] = "true";
  if (result.count("BUILDKITE_BUILD_CHECKOUT_PATH") == 0) {
    auto i = result.find("BUILDKITE_BUILD_PATH");
    auto build_path = i != result.end() ? i->second : "/workspace/build";
    result["BUILDKITE_BUILD_CHECKOUT_PATH"] = build_path + "/buildkite";
  }
  result["BUILDKITE_BIN_PATH"] = bin_path;
  return result;
}

void add_job_variables(env_map& env, const env_map& own,
                       const std::vector<std::string>& vars) {
  for (auto& [name, value] : to_env_map(vars))
    if (!container_value_wins(name, own))
      env[name] = value;
}

caf::expected<env_map> read_env_file(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    return make_error(ec::invalid_argument, "cannot read the env file '" + path
                                              + "': " + std::strerror(errno));
  env_map result;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#')
      continue;
    auto eq = line.find('=');
    if (eq == std::string::npos || eq == first)
      return make_error(ec::invalid_argument,
                        "env file '" + path + "', line "
                          + std::to_string(number)
                          + ": expected KEY=VALUE (the line is not shown, it "
                            "may hold a secret)");
    result[line.substr(first, eq - first)] = line.substr(eq + 1);
  }
  return result;
}

} // namespace baton
