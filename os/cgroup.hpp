#pragma once

// The memory cgroup a process runs in, read as the OOM killer leaves it:
// how many of its processes the kernel killed for memory, and its limit.
// cgroup v2 (`memory.events`, `memory.max`) and v1 (`memory.oom_control`,
// `memory.limit_in_bytes`) alike. A file that is missing or unreadable
// gives no answer, never an error: no verdict is better than a wrong one.

#include <cstdint>
#include <optional>
#include <string>

namespace baton {

class memory_cgroup {
public:
  /// The memory cgroup named by `proc_cgroup` (the text of
  /// /proc/self/cgroup), under the cgroup file system at `root`. Inside a
  /// container the cgroup's own directory is usually the root itself: a
  /// path that does not exist under `root` falls back to it.
  static memory_cgroup find(const std::string& proc_cgroup,
                            const std::string& root);

  /// This process's, from /proc/self/cgroup and /sys/fs/cgroup.
  static memory_cgroup of_self();

  /// The directory whose files are read; empty if none was found.
  const std::string& dir() const noexcept {
    return dir_;
  }

  bool v2() const noexcept {
    return v2_;
  }

  /// How many processes of the cgroup the OOM killer has killed, if the
  /// kernel says.
  std::optional<uint64_t> oom_kills() const;

  /// The memory limit in bytes, if there is one and it can be read.
  std::optional<uint64_t> limit() const;

private:
  std::string dir_;
  bool v2_ = false;
};

} // namespace baton
