#pragma once

#include <caf/expected.hpp>

#include <string>
#include <vector>

#include <sys/types.h>

namespace baton {

/// What to run and how.
struct command_spec {
  /// The program and its arguments; argv[0] is looked up in PATH of `env`.
  std::vector<std::string> argv;
  /// The complete environment, as `KEY=VALUE`.
  std::vector<std::string> env;
  /// Run in a pseudo-terminal (reference: BUILDKITE_PTY, default true).
  bool pty = true;
  /// Make the command, not this process, the OOM killer's preferred
  /// victim: it starts with oom_score_adj 1000, which needs no privilege.
  bool oom_victim = false;
};

/// A running command in its own process group (its own session when in a
/// pty), with stdout and stderr merged into one readable descriptor and
/// stdin from /dev/null (or the pty). Where no pty can be opened, the
/// command runs with pipes and `note()` says why.
class child_process {
public:
  /// Starts the command. Fails with an error naming the program when it
  /// cannot be executed.
  static caf::expected<child_process> start(const command_spec& spec);

  child_process() = default;

  pid_t pid() const noexcept {
    return pid_;
  }

  /// Where the command's output arrives: a pty master or a pipe. The caller
  /// owns it.
  int output_fd() const noexcept {
    return output_fd_;
  }

  /// Empty, or what departed from the spec (such as a pipe for a pty).
  const std::string& note() const noexcept {
    return note_;
  }

  /// Sends `signo` to the command's whole process group.
  void signal_group(int signo) const;

  /// Blocks until the command exits; returns its exit status as a shell
  /// reports it (128+N when killed by signal N).
  int wait() const;

  /// Blocks until the command exits; returns its waitpid status.
  int wait_status() const;

private:
  pid_t pid_ = -1;
  int output_fd_ = -1;
  std::string note_;
};

/// Pointers to the strings of `xs` and a final null, for exec's argv and
/// envp; valid while `xs` is.
std::vector<char*> c_strings(const std::vector<std::string>& xs);

/// Maps a waitpid status to an exit status as a shell reports it.
int exit_status_of(int wait_status);

/// The name of the signal that ended a command, such as "SIGSEGV", from
/// its waitpid status; empty if it exited.
std::string signal_name_of(int wait_status);

} // namespace baton
