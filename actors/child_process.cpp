#include "actors/child_process.hpp"

#include "messages/error.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>

#include <fcntl.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

namespace baton {

namespace {

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(char** argv, char** envp, int output_fd,
                             int error_pipe, bool pty) {
  // The parent blocks the signals it handles in a thread; the command
  // starts with a clean slate.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int signo = 1; signo < NSIG; ++signo)
    if (signo != SIGKILL && signo != SIGSTOP)
      ::signal(signo, SIG_DFL);
  if (pty) {
    // A new session with the pty as its controlling terminal.
    ::setsid();
    ::ioctl(output_fd, TIOCSCTTY, 0);
    ::dup2(output_fd, STDIN_FILENO);
  } else {
    ::setpgid(0, 0);
    int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd >= 0)
      ::dup2(null_fd, STDIN_FILENO);
  }
  ::dup2(output_fd, STDOUT_FILENO);
  ::dup2(output_fd, STDERR_FILENO);
  if (output_fd > STDERR_FILENO)
    ::close(output_fd);
  // The parent resolved argv[0] in the command's PATH; a name still without
  // a '/' is not there, and execvpe would search this process's PATH.
  if (std::strchr(argv[0], '/') != nullptr)
    ::execvpe(argv[0], argv, envp);
  else
    errno = ENOENT;
  int err = errno;
  auto ignored = ::write(error_pipe, &err, sizeof(err));
  static_cast<void>(ignored);
  ::_exit(127);
}

std::vector<char*> c_strings(const std::vector<std::string>& xs) {
  std::vector<char*> result;
  result.reserve(xs.size() + 1);
  for (auto& x : xs)
    result.push_back(const_cast<char*>(x.c_str()));
  result.push_back(nullptr);
  return result;
}

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
  int read_fd = -1;
  int write_fd = -1;
  if (spec.pty) {
    if (::openpty(&read_fd, &write_fd, nullptr, nullptr, nullptr) != 0)
      return make_error(ec::system_error, std::string{"cannot open a pty: "}
                                            + std::strerror(errno));
    // Bytes pass through as the command wrote them: no "\n" -> "\r\n".
    // (Departs from a terminal's default so the job log is byte-exact.)
    termios tio;
    if (::tcgetattr(write_fd, &tio) == 0) {
      tio.c_oflag &= ~static_cast<tcflag_t>(OPOST);
      ::tcsetattr(write_fd, TCSANOW, &tio);
    }
    ::fcntl(read_fd, F_SETFD, FD_CLOEXEC);
  } else {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
      return make_error(ec::system_error, std::string{"cannot open a pipe: "}
                                            + std::strerror(errno));
    read_fd = fds[0];
    write_fd = fds[1];
  }
  int error_pipe[2];
  if (::pipe2(error_pipe, O_CLOEXEC) != 0) {
    auto err = errno;
    ::close(read_fd);
    ::close(write_fd);
    return make_error(ec::system_error, std::string{"cannot open a pipe: "}
                                          + std::strerror(err));
  }
  auto argv = c_strings(spec.argv);
  auto envp = c_strings(spec.env);
  // execvpe searches the PATH of this process; the command's PATH is what
  // counts, so look it up there first.
  std::string resolved;
  if (spec.argv[0].find('/') == std::string::npos) {
    std::string path = "/usr/local/bin:/usr/bin:/bin";
    for (auto& entry : spec.env)
      if (entry.compare(0, 5, "PATH=") == 0)
        path = entry.substr(5);
    size_t start = 0;
    while (start <= path.size()) {
      auto end = path.find(':', start);
      if (end == std::string::npos)
        end = path.size();
      auto dir = path.substr(start, end - start);
      auto candidate = (dir.empty() ? "." : dir) + "/" + spec.argv[0];
      if (::access(candidate.c_str(), X_OK) == 0) {
        resolved = candidate;
        break;
      }
      start = end + 1;
    }
    if (!resolved.empty())
      argv[0] = const_cast<char*>(resolved.c_str());
  }
  auto pid = ::fork();
  if (pid < 0) {
    auto err = errno;
    ::close(read_fd);
    ::close(write_fd);
    ::close(error_pipe[0]);
    ::close(error_pipe[1]);
    return make_error(ec::system_error, std::string{"cannot fork: "}
                                          + std::strerror(err));
  }
  if (pid == 0) {
    ::close(read_fd);
    ::close(error_pipe[0]);
    exec_child(argv.data(), envp.data(), write_fd, error_pipe[1], spec.pty);
  }
  // Also set the group from the parent, so that signal_group works even
  // before the child ran (the usual double setpgid).
  if (!spec.pty)
    ::setpgid(pid, pid);
  ::close(write_fd);
  ::close(error_pipe[1]);
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(error_pipe[0], &child_errno, sizeof(child_errno));
  } while (n < 0 && errno == EINTR);
  ::close(error_pipe[0]);
  if (n == sizeof(child_errno)) {
    int status;
    ::waitpid(pid, &status, 0);
    ::close(read_fd);
    return make_error(ec::system_error, "cannot run '" + spec.argv[0]
                                          + "': " + std::strerror(child_errno));
  }
  child_process result;
  result.pid_ = pid;
  result.output_fd_ = read_fd;
  return result;
}

void child_process::signal_group(int signo) const {
  if (pid_ > 0)
    ::kill(-pid_, signo);
}

int child_process::wait() const {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR)
      return 1;
  }
  return exit_status_of(status);
}

} // namespace baton
