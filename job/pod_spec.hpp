#pragma once

#include "job/environment.hpp"

#include <caf/expected.hpp>

#include <string>
#include <vector>

namespace baton {

/// A pod as `baton pod` runs it and `baton manifest` renders it:
/// `{"env": {"K": "V"}, "timestampLines": bool, "timeout": "1h",
/// "containers": [{"name", "command", "env", "workingDir", "image",
/// "softFail": bool or [statuses], "always": bool, "timeout": "10m"}]}`.
/// The agent's resources when the spec names none: a request only, sized
/// from bench/'s figures (docs/deploy.md, Sizing): a 9.7 MiB peak RSS while
/// streaming 1 GiB, and CPU only while relaying output.
inline constexpr const char* default_agent_resources
  = R"({"requests":{"cpu":"10m","memory":"32Mi"}})";

struct pod_spec {
  struct container {
    std::string name;
    std::vector<std::string> command;
    env_map env;
    std::string working_dir;
    /// Used on Kubernetes only; `baton pod` ignores it.
    std::string image;
    /// The step's settings, as its bootstrap reads them: the variables of
    /// `step_setting_table` (job/steps.hpp) the container's keys set, such
    /// as BATON_SOFT_FAIL ("true" or "1,3").
    env_map step_env;
    /// Kubernetes ResourceRequirements as JSON text (`requests`, `limits`
    /// of cpu, memory, ephemeral-storage), for its container in the
    /// manifest; empty: none. `baton pod` ignores it.
    std::string resources;
  };

  /// The job environment.
  env_map env;
  /// Every job-log line starts with the time it was read.
  bool timestamp_lines = false;
  /// How long the whole job may take (a Go duration); empty: no limit.
  std::string timeout;
  /// The agent's and the init containers' ResourceRequirements as JSON text:
  /// `agentResources`, or a small request by default.
  std::string agent_resources = default_agent_resources;
  std::vector<container> containers;
};

/// The environment a container's bootstrap runs with: its `env`, its
/// `BUILDKITE_CONTAINER_ID` and its step settings.
env_map container_env(const pod_spec::container& c, size_t id);

/// True if the container is a service (`"service": true`).
bool is_service(const pod_spec::container& c);

/// The container's parallel group (`"group"`), or empty.
std::string group_of(const pod_spec::container& c);

/// The services' ids as `baton agent --services` takes them: a comma list,
/// or "none".
std::string service_ids(const pod_spec& spec);

/// The containers' names as `baton agent --container-names` takes them: a
/// comma list in id order.
std::string container_names(const pod_spec& spec);

/// Parses a pod spec. Errors name the field, e.g. "containers[1].command:
/// expected an array of strings".
caf::expected<pod_spec> parse_pod_spec(const std::string& text);

/// Reads and parses a pod spec file.
caf::expected<pod_spec> read_pod_spec(const std::string& path);

} // namespace baton
