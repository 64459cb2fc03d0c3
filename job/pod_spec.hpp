#pragma once

#include "job/environment.hpp"

#include <caf/expected.hpp>

#include <string>
#include <vector>

namespace baton {

/// A pod as `baton pod` runs it and `baton manifest` renders it:
/// `{"env": {"K": "V"}, "containers": [{"name", "command", "env",
/// "workingDir", "image"}]}`.
struct pod_spec {
  struct container {
    std::string name;
    std::vector<std::string> command;
    env_map env;
    std::string working_dir;
    /// Used on Kubernetes only; `baton pod` ignores it.
    std::string image;
  };

  /// The job environment.
  env_map env;
  std::vector<container> containers;
};

/// Parses a pod spec. Errors name the field, e.g. "containers[1].command:
/// expected an array of strings".
caf::expected<pod_spec> parse_pod_spec(const std::string& text);

/// Reads and parses a pod spec file.
caf::expected<pod_spec> read_pod_spec(const std::string& path);

} // namespace baton
