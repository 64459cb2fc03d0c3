#pragma once

// Real `baton` processes for integration tests: each runs in a process group
// of its own, its stdout and stderr go to files, and every wait has a
// deadline. The processes, directories and waits themselves come from
// integration/support, which the benchmarks share; here is what a test adds
// to them: gtest's failures, the fixtures' conventions, hostile peers.

#include "integration/support/files.hpp"
#include "integration/support/job_dir.hpp"
#include "integration/support/process.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace baton::integration {

using namespace std::chrono_literals;

// The support library's names, as the tests know them.
using test_support::baton_exe;
using test_support::file_exists;
using test_support::process;
using test_support::read_file;
using test_support::unset;
using test_support::wait_until;
using test_support::write_file;

/// A fresh directory under /tmp that containers of any uid may use; a
/// failure to remove it at the end fails the test.
class temp_dir : public test_support::temp_dir {
public:
  temp_dir();
};

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

/// `log` with the durations in the agent's "~~~" lines (a step line, the
/// summary's first line) written as "0.00s": real time passes between a
/// start and an exit.
std::string zero_durations(const std::string& log);

/// The agent's step line for container `id`, default-named, that passed,
/// as `job::log()` shows it.
std::string passed_line(int id);

/// A shell command that returns once `path` exists: a command's way to
/// wait for the test's go-ahead.
std::string shell_wait_for(const std::string& path);

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

/// A job on one machine: a job context directory, an agent, bootstraps.
/// Every process's stdout and stderr go to files in the directory.
class job {
public:
  explicit job(uint32_t containers);

  std::string context_dir() const {
    return dir.path();
  }

  std::string log_file() const {
    return dir.log_file();
  }

  std::string result_file() const {
    return dir / "result.json";
  }

  /// The agent's socket in the job context directory.
  std::string socket() const {
    return dir.socket();
  }

  /// The socket of the reference's RPC dialect.
  std::string rpc_socket() const {
    return dir.rpc_socket();
  }

  /// True once the agent's sockets exist (within the default deadline).
  bool wait_listening() const {
    return wait_until(
      [this] { return file_exists(socket()) && file_exists(rpc_socket()); });
  }

  /// Starts the agent with the log and result files in the directory.
  process& start_agent(std::vector<std::string> extra_args = {},
                       std::map<std::string, std::string> env = {});

  /// Starts a bootstrap for container `id` running `sh -c command` (no
  /// command when empty); `prefix` in front runs it through a wrapper.
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

  /// The job log, with the durations of the step lines zeroed.
  std::string log() const {
    return zero_durations(read_file(log_file()));
  }

  /// Whether `start_agent` lets the agent write its job summary: most tests
  /// compare job logs without it.
  bool summary = false;

  test_support::job_dir dir;
  std::unique_ptr<process> agent;
  std::vector<std::unique_ptr<process>> bootstraps;
};

} // namespace baton::integration
