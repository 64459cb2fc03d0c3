#pragma once

// Child processes of process-level tests and benchmarks: each runs in a
// process group of its own with stdin from /dev/null, and is killed (its
// whole group) if still running when dropped. Waiting reaps it with its
// resource usage.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/types.h>

namespace baton::test_support {

using namespace std::chrono_literals;

/// The wall clock (CLOCK_REALTIME) in ns since the epoch: the clock of the
/// agent's log lines, of `bench_tool`'s records and of `exited_ns()`.
int64_t now_ns();

/// The marker that removes a variable from a child's environment.
extern const char* const unset;

/// Where a child's stdout and stderr go; "/dev/null" discards.
struct outputs {
  std::string out = "/dev/null";
  std::string err = "/dev/null";
};

/// A child process, in a group of its own, killed with it if still running
/// when dropped.
class process {
public:
  /// Starts `argv` (its first element a path) with this process's
  /// environment plus `env` (a value of `unset` removes a variable),
  /// stdout and stderr to `files`.
  explicit process(std::vector<std::string> argv, outputs files = {},
                   const std::map<std::string, std::string>& env = {});

  /// The same, stdout and stderr to `output_prefix` + ".out" and ".err".
  process(std::vector<std::string> argv, const std::string& output_prefix,
          const std::map<std::string, std::string>& env = {});

  ~process();

  process(process&& other) noexcept;
  process(const process&) = delete;
  process& operator=(const process&) = delete;
  process& operator=(process&&) = delete;

  pid_t pid() const noexcept {
    return pid_;
  }

  /// Sends `signo` to the process itself, not its group.
  void signal(int signo) const;

  /// Waits for the exit status (128+N when killed by signal N; 127 when it
  /// could not start), or nothing after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout = 30s);

  /// Blocks until the process exits: its exit status, as `wait` gives it.
  /// Reaped the moment it exits, so that `exited_ns()` can time it.
  int wait_for_exit();

  bool running();

  /// When the process was reaped (see `now_ns`); 0 before.
  int64_t exited_ns() const noexcept {
    return exited_ns_;
  }

  /// User plus system CPU the process used, once reaped.
  double cpu_seconds() const noexcept;

  std::string out() const;
  std::string err() const;

private:
  /// Reaps the process with `wait4(options)`; true once it has exited.
  bool reap(int options);

  pid_t pid_ = -1;
  std::optional<int> status_;
  rusage usage_{};
  int64_t exited_ns_ = 0;
  outputs files_;
};

} // namespace baton::test_support
