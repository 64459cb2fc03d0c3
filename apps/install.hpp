#pragma once

// `baton install`: the bundle an init container copies into the pod's
// shared volume.

#include <caf/expected.hpp>

#include <string>

namespace baton {

/// Where the bundle lives in every container of a pod, and the mount point
/// of the shared volume.
constexpr const char* bundle_mount = "/workspace";
constexpr const char* bundle_dir = "/workspace/baton";

struct install_options {
  /// Where the bundle goes: `<dir>/baton`.
  std::string dir;
  /// The bundle to copy; empty: the one this baton runs from.
  std::string from;
};

/// The bundle holding the running executable: the parent of its `bin/` or,
/// run through the bundle's loader, of its `lib/`.
std::string own_bundle_root();

/// Copies the bundle at `from` (holding `bin/baton` and `lib/`) to
/// `<dir>/baton`, replacing what is there only once the copy is complete.
/// Returns a one-line summary.
caf::expected<std::string> install_bundle(const std::string& from,
                                          const std::string& dir);

/// `baton install`. Returns 0, or 1 with the reason on stderr.
int run_install(const install_options& options);

} // namespace baton
