#pragma once

// Running baton on Kubernetes: the bundle an init container installs into
// the pod's shared volume, and the Pod manifest rendered from a pod spec.

#include "actors/cli.hpp"
#include "actors/pod_spec.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace baton {

/// Where the bundle lives in every container of a pod, and the mount point
/// of the shared volume.
constexpr const char* bundle_mount = "/workspace";
constexpr const char* bundle_dir = "/workspace/baton";

/// The absolute path of the running executable: the kernel's record of what
/// was executed (works without /proc), else /proc/self/exe. Run through the
/// loader explicitly, this is the loader.
std::string executable_path();

/// The bundle holding the running executable: the parent of its `bin/` or,
/// run through the bundle's loader, of its `lib/`.
std::string own_bundle_root();

/// Copies the bundle at `from` (holding `bin/baton` and `lib/`) to
/// `<dir>/baton`, replacing what is there only once the copy is complete.
/// Returns a one-line summary.
caf::expected<std::string> install_bundle(const std::string& from,
                                          const std::string& dir);

/// The Pod manifest for `spec`. Errors name the container and the field:
/// every container needs an image and a name that Kubernetes accepts.
caf::expected<nlohmann::json> render_manifest(const pod_spec& spec,
                                              const std::string& name,
                                              const std::string& agent_image);

/// A pod name from a spec file's path: its stem, as a DNS-1123 label.
std::string pod_name_for(const std::string& spec_file);

/// `baton install`. Returns 0, or 1 with the reason on stderr.
int run_install(const install_options& options);

/// `baton manifest`. Prints the manifest; returns 0, or 2 for a bad spec.
int run_manifest(const manifest_options& options);

} // namespace baton
