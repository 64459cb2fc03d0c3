#include "os/child_process.hpp"

#include "messages/error.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include <poll.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;
using namespace baton;

namespace {

using std::chrono::steady_clock;

/// How long any one step of a real process may take before the test fails.
constexpr auto deadline = 10s;

command_spec make_spec(std::vector<std::string> argv, bool pty) {
  command_spec spec;
  spec.argv = std::move(argv);
  spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin"};
  spec.pty = pty;
  return spec;
}

/// A started command that is never left behind: the destructor kills and
/// reaps it if the test did not, and closes its output descriptor.
class running {
public:
  explicit running(child_process child) : child_(child) {}

  running(const running&) = delete;
  running& operator=(const running&) = delete;

  ~running() {
    if (!waited_) {
      child_.signal_group(SIGKILL);
      wait();
    }
    if (child_.output_fd() >= 0)
      ::close(child_.output_fd());
  }

  const child_process& child() const {
    return child_;
  }

  /// Reads the output until EOF (pipe) or EIO (pty), or until `stop`
  /// appears; nullopt if neither happens before the deadline.
  std::optional<std::string> read(const std::string& stop = {}) {
    auto fd = child_.output_fd();
    auto until = steady_clock::now() + deadline;
    std::string out;
    char buf[4096];
    for (;;) {
      if (!stop.empty() && out.find(stop) != std::string::npos)
        return out;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    until - steady_clock::now())
                    .count();
      if (left <= 0)
        return std::nullopt;
      pollfd pfd{fd, POLLIN, 0};
      auto ready = ::poll(&pfd, 1, static_cast<int>(left));
      if (ready < 0 && errno == EINTR)
        continue;
      if (ready <= 0)
        return std::nullopt;
      auto n = ::read(fd, buf, sizeof(buf));
      if (n > 0)
        out.append(buf, static_cast<size_t>(n));
      else if (n == 0 || errno == EIO)
        return out;
      else if (errno != EINTR && errno != EAGAIN)
        return std::nullopt;
    }
  }

  /// Waits for the command's exit status; kills it if it outlives the
  /// deadline (failing the test).
  int wait() {
    waited_ = true;
    auto status = std::async(std::launch::async,
                             [child = child_] { return child.wait(); });
    if (status.wait_for(deadline) != std::future_status::ready) {
      ADD_FAILURE() << "process " << child_.pid() << " still runs after "
                    << deadline.count() << " s";
      child_.signal_group(SIGKILL);
    }
    return status.get();
  }

private:
  child_process child_;
  bool waited_ = false;
};

/// A temporary directory, removed with its files when it goes out of scope.
class temp_dir {
public:
  temp_dir() {
    std::string pattern = ::testing::TempDir() + "baton-child-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    EXPECT_NE(::mkdtemp(buf.data()), nullptr);
    path_ = buf.data();
  }

  ~temp_dir() {
    for (auto& file : files_)
      std::remove(file.c_str());
    ::rmdir(path_.c_str());
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const {
    return path_;
  }

  /// Writes an executable shell script `name` printing `text`.
  void add_script(const std::string& name, const std::string& text) {
    auto file = path_ + "/" + name;
    {
      std::ofstream out{file};
      out << "#!/bin/sh\necho " << text << "\n";
    }
    EXPECT_EQ(::chmod(file.c_str(), 0755), 0);
    files_.push_back(file);
  }

private:
  std::string path_;
  std::vector<std::string> files_;
};

struct outcome {
  int status;
  std::string output;
};

/// Runs `spec` to completion: all of its output, then its exit status.
outcome run(const command_spec& spec) {
  auto child = child_process::start(spec);
  if (!child) {
    ADD_FAILURE() << render(child.error());
    return {-1, {}};
  }
  running proc{*child};
  auto output = proc.read();
  EXPECT_TRUE(output) << "no EOF before the deadline";
  return {proc.wait(), output.value_or("")};
}

} // namespace

TEST(child_process, exit_status_is_reported) {
  for (auto pty : {false, true}) {
    EXPECT_EQ(run(make_spec({"sh", "-c", "exit 3"}, pty)).status, 3) << pty;
    EXPECT_EQ(run(make_spec({"true"}, pty)).status, 0) << pty;
  }
}

TEST(child_process, killed_by_a_signal_gives_128_plus_the_signal) {
  for (auto pty : {false, true})
    EXPECT_EQ(run(make_spec({"sh", "-c", "kill -TERM $$"}, pty)).status, 143)
      << pty;
}

TEST(child_process, stdout_and_stderr_merge_in_pipe_mode) {
  auto result
    = run(make_spec({"sh", "-c", "echo out; echo err >&2; echo end"}, false));
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.output, "out\nerr\nend\n");
}

TEST(child_process, stdout_and_stderr_merge_in_pty_mode) {
  auto result
    = run(make_spec({"sh", "-c", "echo out; echo err >&2; echo end"}, true));
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.output, "out\nerr\nend\n");
}

TEST(child_process, output_is_byte_exact_in_both_modes) {
  const std::string expected{"a\nb\r\n\0c", 7};
  for (auto pty : {false, true}) {
    auto result = run(make_spec({"printf", "a\\nb\\r\\n\\0c"}, pty));
    EXPECT_EQ(result.status, 0) << pty;
    EXPECT_EQ(result.output, expected) << pty;
  }
}

TEST(child_process, pty_mode_gives_a_terminal_and_pipe_mode_does_not) {
  auto script = "if test -t 0 && test -t 1; then echo tty; else echo no; fi";
  EXPECT_EQ(run(make_spec({"sh", "-c", script}, true)).output, "tty\n");
  EXPECT_EQ(run(make_spec({"sh", "-c", script}, false)).output, "no\n");
}

TEST(child_process, stdin_is_dev_null_in_pipe_mode) {
  auto result = run(make_spec({"sh", "-c", "cat; echo done"}, false));
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.output, "done\n");
}

TEST(child_process, the_commands_path_finds_the_program) {
  temp_dir first;
  temp_dir second;
  first.add_script("baton-test-prog", "first");
  second.add_script("baton-test-prog", "second");
  auto spec = make_spec({"baton-test-prog"}, false);
  spec.env = {"PATH=/nonexistent:" + second.path() + ":" + first.path()};
  auto result = run(spec);
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.output, "second\n");
}

TEST(child_process, a_program_outside_the_commands_path_is_not_found) {
  // `sh` is on this process's PATH, not on the command's.
  temp_dir empty;
  auto spec = make_spec({"sh", "-c", "echo ran"}, false);
  spec.env = {"PATH=" + empty.path()};
  auto child = child_process::start(spec);
  if (child) {
    running proc{*child};
    ADD_FAILURE() << "ran: " << proc.read().value_or("<no EOF>");
    return;
  }
  EXPECT_EQ(render(child.error()),
            "cannot run 'sh': No such file or directory");
}

TEST(child_process, missing_program_is_named) {
  for (auto pty : {false, true}) {
    auto child
      = child_process::start(make_spec({"no-such-program-xyz", "arg"}, pty));
    ASSERT_FALSE(child);
    EXPECT_EQ(code_of(child.error()), ec::system_error);
    EXPECT_EQ(render(child.error()),
              "cannot run 'no-such-program-xyz': No such file or directory");
  }
  auto child = child_process::start(make_spec({"/no/such/dir/prog"}, false));
  ASSERT_FALSE(child);
  EXPECT_EQ(render(child.error()),
            "cannot run '/no/such/dir/prog': No such file or directory");
}

TEST(child_process, empty_command_is_an_error) {
  auto child = child_process::start(make_spec({}, false));
  ASSERT_FALSE(child);
  EXPECT_EQ(code_of(child.error()), ec::invalid_argument);
}

TEST(child_process, signal_group_reaches_a_grandchild) {
  for (auto pty : {false, true}) {
    // The background sleep holds the output open: EOF proves it is gone.
    auto child = child_process::start(
      make_spec({"sh", "-c", "sleep 100 & echo started; wait"}, pty));
    ASSERT_TRUE(child) << render(child.error());
    running proc{*child};
    EXPECT_EQ(::getpgid(child->pid()), child->pid()) << pty;
    auto started = proc.read("started\n");
    ASSERT_TRUE(started) << pty;
    child->signal_group(SIGTERM);
    auto rest = proc.read();
    EXPECT_TRUE(rest) << "the grandchild still holds the output, pty: " << pty;
    EXPECT_EQ(proc.wait(), 128 + SIGTERM) << pty;
  }
}

TEST(child_process, child_signal_mask_is_clean) {
  sigset_t term;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigset_t old;
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &term, &old), 0);
  auto child = child_process::start(make_spec({"sleep", "100"}, false));
  ASSERT_EQ(::pthread_sigmask(SIG_SETMASK, &old, nullptr), 0);
  ASSERT_TRUE(child) << render(child.error());
  running proc{*child};
  child->signal_group(SIGTERM);
  EXPECT_EQ(proc.wait(), 128 + SIGTERM);
}

TEST(child_process, exit_status_of_maps_wait_statuses) {
  EXPECT_EQ(exit_status_of(W_EXITCODE(0, 0)), 0);
  EXPECT_EQ(exit_status_of(W_EXITCODE(3, 0)), 3);
  EXPECT_EQ(exit_status_of(W_EXITCODE(255, 0)), 255);
  EXPECT_EQ(exit_status_of(W_EXITCODE(0, SIGTERM)), 143);
  EXPECT_EQ(exit_status_of(W_EXITCODE(0, SIGKILL)), 137);
  EXPECT_EQ(exit_status_of(W_EXITCODE(0, SIGSEGV) | WCOREFLAG), 139);
  EXPECT_EQ(exit_status_of(W_STOPCODE(SIGSTOP)), 1);
}
