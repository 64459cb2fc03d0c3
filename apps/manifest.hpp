#pragma once

// `baton manifest`: the Kubernetes Pod manifest rendered from a pod spec.

#include "job/pod_spec.hpp"

#include <caf/expected.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace baton {

/// What a pod spec is rendered as.
struct workload {
  /// A batch/v1 Job around the pod (backoffLimit 0) rather than the Pod.
  bool job = false;
  /// With a Job: how long Kubernetes keeps it once finished; none: until
  /// deleted.
  std::optional<int64_t> ttl_seconds_after_finished;
  /// One init container per distinct step image, running the installed
  /// baton in it: an image that cannot be pulled or run fails the pod
  /// before the job starts, named.
  bool image_checks = true;
};

struct manifest_options {
  std::string spec_file;
  std::string agent_image;
  /// The pod's name; empty: derived from the spec file's name.
  std::string name;
  workload kind;
  bool skip_image_checks = false;
};

/// The Pod manifest for `spec`, or the Job around it. Errors name the
/// container and the field: every container needs an image and a name
/// that Kubernetes accepts.
caf::expected<nlohmann::json>
render_manifest(const pod_spec& spec, const std::string& name,
                const std::string& agent_image, const workload& kind = {});

/// A pod name from a spec file's path: its stem, as a DNS-1123 label.
std::string pod_name_for(const std::string& spec_file);

/// `baton manifest`. Prints the manifest; returns 0, or 2 for a bad spec.
int run_manifest(const manifest_options& options);

} // namespace baton
