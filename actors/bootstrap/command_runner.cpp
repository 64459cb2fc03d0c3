#include "actors/bootstrap/command_runner.hpp"

#include "messages/defaults.hpp"
#include "messages/wire.hpp"
#include "os/cgroup.hpp"
#include "os/child_process.hpp"
#include "os/process.hpp"

#include <caf/send.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace baton {

command_runner::~command_runner() {
  // nop
}

namespace {

/// Hands log credit from the bootstrap actor to the output thread.
class credit_gate {
public:
  /// Blocks until there is credit or the gate closes; takes up to `max`.
  /// Returns 0 once closed.
  uint64_t take(uint64_t max) {
    std::unique_lock<std::mutex> guard{mtx_};
    cv_.wait(guard, [this] { return credit_ > 0 || closed_; });
    if (closed_)
      return 0;
    auto n = std::min(credit_, max);
    credit_ -= n;
    return n;
  }

  void grant(uint64_t n) {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      credit_ += n;
    }
    cv_.notify_one();
  }

  void close() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      closed_ = true;
    }
    cv_.notify_one();
  }

private:
  std::mutex mtx_;
  std::condition_variable cv_;
  uint64_t credit_ = 0;
  bool closed_ = false;
};

void write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    auto n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return; // Our own stdout is gone: the job log still gets every byte.
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
}

// Reads a command's output in chunks of at most `max` bytes, never more
// than the credit granted. After the first bytes of a chunk arrive, it
// gathers what follows for up to the flush deadline, so a command writing
// in small pieces still travels in large chunks while a lone line waits at
// most that long.
void pump_output(credit_gate& gate, int fd, int tee, size_t max,
                 const bootstrap_actor& listener) {
  using clock = std::chrono::steady_clock;
  // Non-blocking reads: drain what is there, wait in ppoll only when
  // nothing is (a pty master hands out at most 4 KiB per read).
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  auto wait_readable = [fd](const timespec* timeout) {
    pollfd pfd{fd, POLLIN, 0};
    int n;
    do {
      n = ::ppoll(&pfd, 1, timeout, nullptr);
    } while (n < 0 && errno == EINTR);
    return n > 0;
  };
  // Read into one reused buffer, then hand each chunk over in a string of
  // its own: one copy, no zero-filling. The chunk goes out as the body of
  // a log_at frame: the time its first bytes were read, then the bytes.
  constexpr auto header = wire::log_at_header_size;
  std::unique_ptr<char[]> storage{new char[header + max]};
  auto buf = storage.get() + header;
  for (auto eof = false; !eof;) {
    auto credit = gate.take(max);
    if (credit == 0)
      break;
    size_t filled = 0;
    clock::time_point deadline;
    int64_t read_ns = 0;
    while (filled < credit) {
      auto n = ::read(fd, buf + filled, credit - filled);
      if (n > 0) {
        if (filled == 0) {
          deadline = clock::now() + defaults::log_flush_deadline;
          read_ns = wall_clock_ns();
        }
        filled += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN) {
        if (filled == 0) {
          wait_readable(nullptr);
          continue;
        }
        auto left = deadline - clock::now();
        if (left <= clock::duration::zero())
          break;
        auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left);
        timespec timeout{0, static_cast<long>(ns.count())};
        if (!wait_readable(&timeout))
          break;
        continue;
      }
      // End of output; a pty master reports EIO once the last writer is
      // gone.
      eof = true;
      break;
    }
    gate.grant(credit - filled);
    if (filled == 0)
      continue;
    if (tee >= 0)
      write_all(tee, buf, filled);
    wire::write_log_time(storage.get(), read_ns);
    caf::anon_send(listener, atom::output::value,
                   std::string{storage.get(), header + filled});
  }
  ::close(fd);
  caf::anon_send(listener, atom::eof::value);
}

// How the command ended, from its waitpid status and its cgroup's OOM-kill
// counter before it started: a command that died of SIGKILL (or a shell
// whose child did, reporting 137) while the counter rose was OOM-killed.
step_exit exit_of(int wait_status, const memory_cgroup& cgroup,
                  std::optional<uint64_t> kills_before) {
  step_exit result{exit_status_of(wait_status)};
  result.signal = signal_name_of(wait_status);
  if (result.status == 128 + SIGKILL && kills_before) {
    auto kills_after = cgroup.oom_kills();
    result.oom_killed = kills_after && *kills_after > *kills_before;
    if (result.oom_killed)
      result.memory_limit = cgroup.limit().value_or(0);
  }
  return result;
}

class process_runner : public command_runner {
public:
  process_runner(int tee_fd, size_t chunk_size)
    : gate_(std::make_shared<credit_gate>()), tee_fd_(tee_fd),
      chunk_size_(chunk_size) {
    // nop
  }

  ~process_runner() override {
    gate_->close();
  }

  caf::error start(const command_spec& spec,
                   bootstrap_actor listener) override {
    // The OOM killer's count before the command, to tell after it whether
    // the kernel killed it for memory.
    auto cgroup = memory_cgroup::of_self();
    auto kills_before = cgroup.oom_kills();
    auto child = child_process::start(spec);
    if (!child)
      return std::move(child.error());
    child_ = *child;
    if (!child_.note().empty())
      spdlog::warn("bootstrap: {}", child_.note());
    // Both threads outlive this object if they must (a grandchild may hold
    // the pty open); they share only the gate and the listener handle.
    std::thread{[gate = gate_, fd = child_.output_fd(), tee = tee_fd_,
                 max = chunk_size_, listener] {
      pump_output(*gate, fd, tee, max, listener);
    }}.detach();
    std::thread{[child = child_, listener, cgroup, kills_before] {
      auto wait_status = child.wait_status();
      caf::anon_send(listener, atom::exit::value,
                     exit_of(wait_status, cgroup, kills_before));
    }}.detach();
    return {};
  }

  void grant(uint64_t bytes) override {
    gate_->grant(bytes);
  }

  void signal(int signo) override {
    child_.signal_group(signo);
  }

  void stop_output() override {
    gate_->close();
  }

private:
  std::shared_ptr<credit_gate> gate_;
  child_process child_;
  int tee_fd_;
  size_t chunk_size_;
};

} // namespace

command_runner_ptr make_process_runner(int tee_fd, size_t chunk_size) {
  return std::make_shared<process_runner>(tee_fd, chunk_size);
}

} // namespace baton
