#pragma once

// Real `baton` processes for integration tests: each runs in a process group
// of its own, its stdout and stderr go to files, and every wait has a
// deadline.

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace baton::integration {

using namespace std::chrono_literals;

/// The baton binary under test.
std::string baton_exe();

/// The Go peer that speaks the reference's protocol (`buildkite-peer
/// client` and `buildkite-peer runner`); fails the test if it was not
/// built.
std::string buildkite_peer_exe();

/// A fresh directory, removed with everything in it at the end.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::string& path() const noexcept {
    return path_;
  }

  std::string operator/(const std::string& name) const {
    return path_ + "/" + name;
  }

private:
  std::string path_;
};

std::string read_file(const std::string& path);

void write_file(const std::string& path, const std::string& content);

bool file_exists(const std::string& path);

/// Position of `needle` in `haystack`, failing the test if it is absent.
size_t position(const std::string& haystack, const std::string& needle);

/// Checks that every needle is in `text`, each after the one before.
void expect_in_order(const std::string& text,
                     const std::vector<std::string>& needles);

/// Kills, at the end of a test, the process group of a command that its
/// killed bootstrap left behind: the command writes its pid (`echo $$ >
/// FILE`, the leader of its own group) to `pid_file`.
struct command_reaper {
  std::string pid_file;
  ~command_reaper();
};

/// A shell command that returns once `path` exists: a command's way to
/// wait for the test's go-ahead.
std::string shell_wait_for(const std::string& path);

/// Polls `predicate` until it holds or `timeout` passes; true if it held.
bool wait_until(const std::function<bool()>& predicate,
                std::chrono::milliseconds timeout = 20s);

/// A child process. Killed (its whole group) if still running at the end.
class process {
public:
  /// Starts `argv` with this process's environment plus `env` (a value of
  /// "\x01unset" removes a variable), stdout and stderr to files beside
  /// `output_prefix`.
  process(std::vector<std::string> argv, const std::string& output_prefix,
          std::map<std::string, std::string> env = {});
  ~process();

  process(const process&) = delete;
  process& operator=(const process&) = delete;

  pid_t pid() const noexcept {
    return pid_;
  }

  void signal(int signo) const;

  /// Waits for the exit status (128+N when killed by signal N), or nothing
  /// after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout = 30s);

  bool running();

  std::string out() const;
  std::string err() const;

private:
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::string out_path_;
  std::string err_path_;
};

/// A raw connection to a socket, for tests that play a hostile peer.
class raw_peer {
public:
  explicit raw_peer(const std::string& socket_path);
  ~raw_peer();

  raw_peer(const raw_peer&) = delete;
  raw_peer& operator=(const raw_peer&) = delete;

  bool connected() const noexcept {
    return fd_ >= 0;
  }

  /// Writes all of `bytes`; false if the agent closed the connection.
  bool send(const std::string& bytes);

  /// Everything the agent sends until it closes the connection, or nothing
  /// if it does not close it within `timeout`.
  std::optional<std::string>
  read_to_end(std::chrono::milliseconds timeout = 10s);

  /// Reads until what the agent sent contains `needle`; false on a close
  /// or after `timeout`.
  bool read_until(const std::string& needle,
                  std::chrono::milliseconds timeout = 10s);

  void close();

private:
  int fd_ = -1;
  std::string received_;
};

/// A frame as the wire carries it: header and body.
std::string frame_bytes(uint8_t type, const std::string& body);

/// The marker that removes a variable from a child's environment.
extern const char* const unset;

/// A job on one machine: a job context directory, an agent, bootstraps.
class job {
public:
  explicit job(uint32_t containers);

  std::string context_dir() const {
    return dir.path();
  }

  std::string log_file() const {
    return dir / "job.log";
  }

  std::string result_file() const {
    return dir / "result.json";
  }

  /// The agent's socket in the job context directory.
  std::string socket() const {
    return dir / "baton.sock";
  }

  /// The socket of the reference's RPC dialect.
  std::string rpc_socket() const {
    return dir / "buildkite.sock";
  }

  /// True once the agent's sockets exist (within the default deadline).
  bool wait_listening() const {
    return wait_until(
      [this] { return file_exists(socket()) && file_exists(rpc_socket()); });
  }

  /// Starts the agent with the log and result files in the directory.
  process& start_agent(std::vector<std::string> extra_args = {},
                       std::map<std::string, std::string> env = {});

  /// Starts a bootstrap for container `id` running `command` (via `sh -c`
  /// when `shell` is true).
  process& start_bootstrap(int id, const std::string& command,
                           std::map<std::string, std::string> env = {},
                           std::vector<std::string> prefix = {});

  /// Starts a stock client (the Go peer, as kubernetes-bootstrap) for
  /// container `id` running `sh -c command`, polling Status every `poll`
  /// (the stock client: 1s).
  process& start_stock_client(int id, const std::string& command,
                              std::map<std::string, std::string> env = {},
                              const std::string& poll = "100ms");

  /// Starts the Go peer's runner with the reference's rules in place of
  /// the agent, on `rpc_socket()`, with the job log in `log_file()`.
  process& start_stock_runner(std::vector<std::string> extra_args = {});

  std::string log() const {
    return read_file(log_file());
  }

  temp_dir dir;
  uint32_t containers;
  std::unique_ptr<process> agent;
  std::vector<std::unique_ptr<process>> bootstraps;
};

} // namespace baton::integration
