#pragma once

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <cstddef>
#include <memory>
#include <string>

namespace baton {

/// Where the job log goes. Only the log aggregator writes to it.
class log_sink {
public:
  virtual ~log_sink();

  /// Writes all of `data[0..size)`, or returns an error naming the sink and
  /// the cause. A sink that failed once keeps failing.
  virtual caf::error write(const char* data, size_t size) = 0;

  /// A name for diagnostics: the path, or "stdout".
  virtual const std::string& name() const = 0;
};

using log_sink_ptr = std::shared_ptr<log_sink>;

/// Writes to a file descriptor, which it closes if it owns it.
log_sink_ptr make_fd_sink(int fd, std::string name, bool owned);

/// Creates or truncates `path` and writes to it.
caf::expected<log_sink_ptr> open_file_sink(const std::string& path);

/// Keeps the log in memory; fails every write once `capacity` would be
/// exceeded (a stand-in for a full disk in tests).
class memory_sink : public log_sink {
public:
  explicit memory_sink(size_t capacity = static_cast<size_t>(-1));

  caf::error write(const char* data, size_t size) override;

  const std::string& name() const override;

  const std::string& data() const noexcept {
    return data_;
  }

private:
  size_t capacity_;
  std::string data_;
  std::string name_ = "memory";
};

} // namespace baton
