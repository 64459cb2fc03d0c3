#include "os/log_sink.hpp"

#include "messages/error.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <unistd.h>

namespace baton {

log_sink::~log_sink() {
  // nop
}

namespace {

class fd_sink : public log_sink {
public:
  fd_sink(int fd, std::string name, bool owned)
    : fd_(fd), name_(std::move(name)), owned_(owned) {
    // nop
  }

  ~fd_sink() override {
    if (owned_)
      ::close(fd_);
  }

  caf::error write(const char* data, size_t size) override {
    if (failed_)
      return failed_;
    while (size > 0) {
      auto n = ::write(fd_, data, size);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        failed_ = make_error(ec::log_sink_failed, "cannot write the job log to "
                                                    + name_ + ": "
                                                    + std::strerror(errno));
        return failed_;
      }
      data += n;
      size -= static_cast<size_t>(n);
    }
    return {};
  }

  const std::string& name() const override {
    return name_;
  }

private:
  int fd_;
  std::string name_;
  bool owned_;
  caf::error failed_;
};

} // namespace

log_sink_ptr make_fd_sink(int fd, std::string name, bool owned) {
  return std::make_shared<fd_sink>(fd, std::move(name), owned);
}

caf::expected<log_sink_ptr> open_file_sink(const std::string& path) {
  auto fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                   0644);
  if (fd < 0)
    return make_error(ec::log_sink_failed, "cannot open the job log file '"
                                             + path
                                             + "': " + std::strerror(errno));
  return make_fd_sink(fd, path, true);
}

memory_sink::memory_sink(size_t capacity) : capacity_(capacity) {
  // nop
}

caf::error memory_sink::write(const char* data, size_t size) {
  if (size > capacity_ - data_.size())
    return make_error(ec::log_sink_failed,
                      "cannot write the job log to memory: no space left ("
                        + std::to_string(capacity_) + " bytes)");
  data_.append(data, size);
  return {};
}

const std::string& memory_sink::name() const {
  return name_;
}

} // namespace baton
