#pragma once

// `baton pod`: a whole pod on this machine, without Kubernetes.

#include <cstdint>
#include <optional>
#include <string>

namespace baton {

struct pod_options {
  std::string spec_file;
  std::optional<uint64_t> seed;
  std::string log_file;
  std::string result_file;
  bool keep = false;
  /// Show the nodes' info lines, not only the job log and warnings.
  bool verbose = false;
  /// Leave the job summary out of the job log (the step lines stay).
  bool no_summary = false;
};

/// Runs the pod. Returns the agent's exit status.
int run_pod(const pod_options& options);

} // namespace baton
