#include "integration/support/process.hpp"

#include "integration/support/files.hpp"

#include <cerrno>
#include <csignal>
#include <ctime>
#include <utility>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace baton::test_support {

const char* const unset = "\x01unset";

namespace {

// This process's environment with `changes` applied, as "KEY=value".
std::vector<std::string>
environment_with(const std::map<std::string, std::string>& changes) {
  std::map<std::string, std::string> merged;
  for (auto p = environ; *p != nullptr; ++p) {
    std::string entry = *p;
    auto eq = entry.find('=');
    if (eq != std::string::npos)
      merged[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (auto& [key, value] : changes) {
    if (value == unset)
      merged.erase(key);
    else
      merged[key] = value;
  }
  std::vector<std::string> result;
  for (auto& [key, value] : merged)
    result.push_back(key + "=" + value);
  return result;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> result;
  for (auto& x : strings)
    result.push_back(x.data());
  result.push_back(nullptr);
  return result;
}

// Starts `argv` in a process group of its own; -1 if it cannot start.
// posix_spawn (vfork-like), so that the child's CPU and page faults are its
// own from exec on, not the cost of copying this process.
pid_t spawn(std::vector<std::string> argv, const outputs& files,
            std::vector<std::string> env) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, files.out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, files.err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  auto c_argv = c_strings(argv);
  auto c_env = c_strings(env);
  pid_t pid = -1;
  if (::posix_spawn(&pid, c_argv[0], &actions, &attr, c_argv.data(),
                    c_env.data())
      != 0)
    pid = -1;
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int exit_status(int wait_status) {
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status)
                                : 128 + WTERMSIG(wait_status);
}

} // namespace

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

process::process(std::vector<std::string> argv, outputs files,
                 const std::map<std::string, std::string>& env)
  : files_(std::move(files)) {
  pid_ = spawn(std::move(argv), files_, environment_with(env));
  if (pid_ < 0)
    status_ = 127;
}

process::process(std::vector<std::string> argv,
                 const std::string& output_prefix,
                 const std::map<std::string, std::string>& env)
  : process(std::move(argv),
            outputs{output_prefix + ".out", output_prefix + ".err"}, env) {
  // nop
}

process::process(process&& other) noexcept
  : pid_(std::exchange(other.pid_, -1)),
    status_(std::exchange(other.status_, 127)), usage_(other.usage_),
    exited_ns_(other.exited_ns_), files_(std::move(other.files_)) {
  // nop
}

process::~process() {
  if (running()) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    wait(10s);
  }
}

void process::signal(int signo) const {
  if (pid_ > 0)
    ::kill(pid_, signo);
}

bool process::reap(int options) {
  if (status_)
    return true;
  int status = 0;
  auto reaped = ::wait4(pid_, &status, options, &usage_);
  if (reaped != pid_)
    return false;
  exited_ns_ = now_ns();
  status_ = exit_status(status);
  return true;
}

std::optional<int> process::wait(std::chrono::milliseconds timeout) {
  wait_until([this] { return reap(WNOHANG); }, timeout);
  return status_;
}

int process::wait_for_exit() {
  while (!reap(0)) {
    // Interrupted by a signal: wait again. Anything else means the process
    // is not this one's child to wait for.
    if (errno != EINTR) {
      status_ = 127;
      break;
    }
  }
  return *status_;
}

bool process::running() {
  return !wait(0ms).has_value();
}

double process::cpu_seconds() const noexcept {
  return usage_.ru_utime.tv_sec + usage_.ru_utime.tv_usec / 1e6
         + usage_.ru_stime.tv_sec + usage_.ru_stime.tv_usec / 1e6;
}

std::string process::out() const {
  return read_file(files_.out);
}

std::string process::err() const {
  return read_file(files_.err);
}

} // namespace baton::test_support
