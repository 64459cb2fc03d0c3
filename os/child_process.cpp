#include "os/child_process.hpp"

#include "messages/error.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>

#include <fcntl.h>
#include <pty.h>
#include <spawn.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

namespace baton {

namespace {

// Looks `name` up in the command's own PATH (not this process's): the
// program, or an empty string.
std::string resolve(const std::string& name,
                    const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos)
    return name;
  std::string path = "/usr/local/bin:/usr/bin:/bin";
  for (auto& entry : env)
    if (entry.compare(0, 5, "PATH=") == 0)
      path = entry.substr(5);
  size_t start = 0;
  while (start <= path.size()) {
    auto end = path.find(':', start);
    if (end == std::string::npos)
      end = path.size();
    auto dir = path.substr(start, end - start);
    auto candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return {};
}

caf::error sys_error(const std::string& what, int err) {
  return make_error(ec::system_error, what + ": " + std::strerror(err));
}

/// posix_spawn's attributes and file actions, released on every path.
struct spawn_setup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  /// The parent's end of the child's stdin, if not /dev/null.
  int stdin_fd = -1;

  spawn_setup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }

  ~spawn_setup() {
    if (stdin_fd >= 0)
      ::close(stdin_fd);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

} // namespace

std::vector<char*> c_strings(const std::vector<std::string>& xs) {
  std::vector<char*> result;
  result.reserve(xs.size() + 1);
  for (auto& x : xs)
    result.push_back(const_cast<char*>(x.c_str()));
  result.push_back(nullptr);
  return result;
}

std::string signal_name_of(int wait_status) {
  if (!WIFSIGNALED(wait_status))
    return {};
  auto signo = WTERMSIG(wait_status);
  if (auto abbrev = ::sigabbrev_np(signo))
    return std::string{"SIG"} + abbrev;
  return "signal " + std::to_string(signo);
}

namespace {

// Raises this process's oom_score_adj to the maximum while it lives and
// restores it after, so that a child spawned meanwhile inherits the
// maximum: the kernel's OOM killer then picks the command, not us. (Going
// back down to where we were needs no privilege either: the kernel only
// refuses values below the floor a privileged writer set.)
class oom_victim_scope {
public:
  oom_victim_scope() {
    std::ifstream in{path};
    if (!(in >> old_))
      return;
    std::ofstream out{path};
    raised_ = static_cast<bool>(out << 1000 << std::flush);
    if (!raised_)
      spdlog::debug("cannot raise oom_score_adj: the command is not the "
                    "OOM killer's first choice");
  }

  ~oom_victim_scope() {
    if (!raised_)
      return;
    std::ofstream out{path};
    if (!(out << old_ << std::flush))
      spdlog::warn("cannot lower oom_score_adj back to {}", old_);
  }

  oom_victim_scope(const oom_victim_scope&) = delete;
  oom_victim_scope& operator=(const oom_victim_scope&) = delete;

private:
  static constexpr const char* path = "/proc/self/oom_score_adj";
  int old_ = 0;
  bool raised_ = false;
};

} // namespace

int exit_status_of(int wait_status) {
  if (WIFEXITED(wait_status))
    return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status))
    return 128 + WTERMSIG(wait_status);
  return 1;
}

caf::expected<child_process> child_process::start(const command_spec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty())
    return make_error(ec::invalid_argument, "no command to run");
  auto program = resolve(spec.argv[0], spec.env);
  if (program.empty())
    return sys_error("cannot run '" + spec.argv[0] + "'", ENOENT);
  // posix_spawn clones without copying this process's page tables, which
  // keeps the start of a command off the hand-off's critical path.
  spawn_setup setup;
  // The command starts with a clean slate: the bootstrap blocks the signals
  // it handles in a thread, and a child would inherit that mask.
  sigset_t none;
  sigemptyset(&none);
  sigset_t all;
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &all);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  int read_fd = -1;
  int slave_fd = -1;
  std::string note;
  bool pty = spec.pty;
  if (pty && ::openpty(&read_fd, &slave_fd, nullptr, nullptr, nullptr) != 0) {
    // A root without /dev/ptmx (a bare sandbox) or with its ptys used up:
    // the job still runs, through a pipe. (The reference fails here.)
    note = std::string{"no pty ("} + std::strerror(errno)
           + "): the command's output comes through a pipe";
    pty = false;
  }
  if (pty) {
    // Bytes pass through as the command wrote them: no "\n" -> "\r\n".
    // (Departs from a terminal's default so the job log is byte-exact.)
    termios tio;
    if (::tcgetattr(slave_fd, &tio) == 0) {
      tio.c_oflag &= ~static_cast<tcflag_t>(OPOST);
      ::tcsetattr(slave_fd, TCSANOW, &tio);
    }
    ::fcntl(read_fd, F_SETFD, FD_CLOEXEC);
    ::fcntl(slave_fd, F_SETFD, FD_CLOEXEC);
    // A new session; opening the slave by name then makes it the
    // controlling terminal.
    flags |= POSIX_SPAWN_SETSID;
    auto name = ::ptsname(read_fd);
    if (name == nullptr) {
      auto err = errno;
      ::close(read_fd);
      ::close(slave_fd);
      return sys_error("cannot name the pty", err);
    }
    posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, name, O_RDWR,
                                     0);
    posix_spawn_file_actions_adddup2(&setup.actions, STDIN_FILENO,
                                     STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&setup.actions, STDIN_FILENO,
                                     STDERR_FILENO);
  } else {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
      return sys_error("cannot open a pipe", errno);
    read_fd = fds[0];
    slave_fd = fds[1];
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&setup.attr, 0);
    if (::access("/dev/null", R_OK) == 0) {
      posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO,
                                       "/dev/null", O_RDONLY, 0);
    } else {
      // No /dev in this root: stdin is a pipe nobody writes to, which
      // reads as end of file just the same.
      int empty[2];
      if (::pipe2(empty, O_CLOEXEC) != 0) {
        auto err = errno;
        ::close(read_fd);
        ::close(slave_fd);
        return sys_error("cannot open a pipe", err);
      }
      ::close(empty[1]);
      posix_spawn_file_actions_adddup2(&setup.actions, empty[0], STDIN_FILENO);
      setup.stdin_fd = empty[0];
    }
    posix_spawn_file_actions_adddup2(&setup.actions, slave_fd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&setup.actions, slave_fd, STDERR_FILENO);
  }
  posix_spawnattr_setflags(&setup.attr, flags);
  auto argv = c_strings(spec.argv);
  argv[0] = const_cast<char*>(program.c_str());
  auto envp = c_strings(spec.env);
  pid_t pid = -1;
  int err = 0;
  {
    std::optional<oom_victim_scope> victim;
    if (spec.oom_victim)
      victim.emplace();
    err = ::posix_spawn(&pid, program.c_str(), &setup.actions, &setup.attr,
                        argv.data(), envp.data());
    if (err == ENOEXEC) {
      // A script without a "#!" line: run it with the shell, as execvp
      // does.
      std::vector<char*> sh_argv = {const_cast<char*>("/bin/sh")};
      sh_argv.insert(sh_argv.end(), argv.begin(), argv.end());
      err = ::posix_spawn(&pid, "/bin/sh", &setup.actions, &setup.attr,
                          sh_argv.data(), envp.data());
    }
  }
  ::close(slave_fd);
  if (err != 0) {
    ::close(read_fd);
    return sys_error("cannot run '" + spec.argv[0] + "'", err);
  }
  child_process result;
  result.pid_ = pid;
  result.output_fd_ = read_fd;
  result.note_ = std::move(note);
  return result;
}

void child_process::signal_group(int signo) const {
  if (pid_ > 0)
    ::kill(-pid_, signo);
}

int child_process::wait() const {
  return exit_status_of(wait_status());
}

int child_process::wait_status() const {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR)
      return 1 << 8; // Exited 1: the reference's status for "no status".
  }
  return status;
}

} // namespace baton
