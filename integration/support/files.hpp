#pragma once

// Files and directories of process-level tests and benchmarks, and waits
// on conditions that hold once another process has done its part.

#include <chrono>
#include <functional>
#include <string>

#include <sys/types.h>

namespace baton::test_support {

using namespace std::chrono_literals;

std::string read_file(const std::string& path);

void write_file(const std::string& path, const std::string& content);

bool file_exists(const std::string& path);

/// Polls `predicate` every `poll_every` until it holds or `timeout` passes;
/// true if it held.
bool wait_until(const std::function<bool()>& predicate,
                std::chrono::milliseconds timeout = 20s,
                std::chrono::milliseconds poll_every = 5ms);

/// A fresh directory, removed with everything in it at the end.
class temp_dir {
public:
  /// Told the path of a directory that could not be removed.
  using failure_handler = void (*)(const std::string& path);

  /// Creates `prefix` plus six random characters with permissions `mode`;
  /// a failure to remove it goes to `on_failure` (by default, stderr).
  explicit temp_dir(const std::string& prefix, mode_t mode = 0700,
                    failure_handler on_failure = nullptr);
  ~temp_dir();

  temp_dir(temp_dir&& other) noexcept;
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  temp_dir& operator=(temp_dir&&) = delete;

  const std::string& path() const noexcept {
    return path_;
  }

  std::string operator/(const std::string& name) const {
    return path_ + "/" + name;
  }

private:
  std::string path_;
  failure_handler on_failure_;
};

} // namespace baton::test_support
