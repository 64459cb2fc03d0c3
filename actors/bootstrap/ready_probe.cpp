#include "actors/bootstrap/ready_probe.hpp"

#include "job/command.hpp"
#include "messages/duration.hpp"
#include "messages/error.hpp"
#include "os/child_process.hpp"
#include "os/tcp_connect.hpp"

#include <caf/send.hpp>

#include <chrono>
#include <csignal>
#include <thread>

#include <poll.h>
#include <unistd.h>

namespace baton {

ready_probe::~ready_probe() {
  // nop
}

namespace {

// Runs the check command until it exits or `timeout` passes (then it is
// killed); empty if it exited 0, else why not.
std::string run_check(const std::vector<std::string>& argv,
                      std::vector<std::string> env, caf::timespan timeout,
                      int tee_fd) {
  command_spec spec;
  spec.argv = argv;
  spec.env = std::move(env);
  spec.pty = false;
  auto child = child_process::start(spec);
  if (!child)
    return render(child.error());
  // Drain its output (to the container's own log) until it ends or the
  // try's time is up.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto fd = child->output_fd();
  char buf[4096];
  auto timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fd, POLLIN, 0};
    auto n = ::poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      continue;
    auto got = ::read(fd, buf, sizeof(buf));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      break;
    if (tee_fd >= 0 && ::write(tee_fd, buf, static_cast<size_t>(got)) < 0) {
      // The container's own log is best effort.
    }
  }
  ::close(fd);
  if (timed_out)
    child->signal_group(SIGKILL);
  auto status = child->wait();
  if (timed_out)
    return "the check ran past " + format_duration(timeout);
  if (status != 0)
    return "the check exited with status " + std::to_string(status);
  return {};
}

class process_ready_probe : public ready_probe {
public:
  explicit process_ready_probe(int tee_fd) : tee_fd_(tee_fd) {
    // nop
  }

  void try_once(const ready_check& check, const env_map& env,
                caf::timespan timeout, bootstrap_actor listener) override {
    if (check.port != 0) {
      std::thread{[host = check.host, port = check.port, timeout, listener] {
        auto err = try_tcp_connect(host, port, timeout);
        caf::anon_send(listener, atom::ready::value,
                       err ? render(err) : std::string{});
      }}.detach();
      return;
    }
    auto with_check = env;
    with_check["BUILDKITE_COMMAND"] = check.command;
    auto argv = command_line({}, with_check);
    if (!argv) {
      caf::anon_send(listener, atom::ready::value, render(argv.error()));
      return;
    }
    std::thread{[argv = std::move(*argv), env = to_env_list(env), timeout,
                 listener, tee = tee_fd_]() mutable {
      caf::anon_send(listener, atom::ready::value,
                     run_check(argv, std::move(env), timeout, tee));
    }}.detach();
  }

private:
  int tee_fd_;
};

} // namespace

ready_probe_ptr make_ready_probe(int tee_fd) {
  return std::make_shared<process_ready_probe>(tee_fd);
}

} // namespace baton
