#pragma once

// A job on one machine as process-level tests and benchmarks start it:
// a fresh job context directory, the agent (or the Go peer's runner in its
// place) and one bootstrap (or stock client) per container, each a real
// process.

#include "integration/support/files.hpp"
#include "integration/support/process.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace baton::test_support {

/// The baton binary the build made.
std::string baton_exe();

/// The Go peer that speaks the reference's protocol (`buildkite-peer
/// client` and `buildkite-peer runner`); where Go was missing at build
/// time, a path that does not exist.
std::string buildkite_peer_exe();

/// Where the processes of a job send their stdout: to a file beside their
/// stderr's, or nowhere (a benchmark's commands stream gigabytes through
/// the bootstrap's stdout).
enum class stdout_sink { file, discard };

/// A job context directory and the processes of the job started in it.
/// Each process's stderr goes to `NAME.err` in the directory, its stdout
/// to `NAME.out` or nowhere.
class job_dir {
public:
  job_dir(temp_dir dir, uint32_t containers, stdout_sink out);

  const std::string& path() const noexcept {
    return dir_.path();
  }

  std::string operator/(const std::string& name) const {
    return dir_ / name;
  }

  uint32_t containers() const noexcept {
    return containers_;
  }

  /// The agent's socket.
  std::string socket() const {
    return dir_ / "baton.sock";
  }

  /// The socket of the reference's RPC dialect.
  std::string rpc_socket() const {
    return dir_ / "buildkite.sock";
  }

  /// The job log the agent (or the stock runner) writes.
  std::string log_file() const {
    return dir_ / "job.log";
  }

  /// Starts the agent with the job log in `log_file()`, then `args`;
  /// `prefix` in front runs it through a wrapper.
  process start_agent(const std::vector<std::string>& args = {},
                      const std::map<std::string, std::string>& env = {},
                      const std::vector<std::string>& prefix = {});

  /// Starts a bootstrap for container `id` running `command` (none: the
  /// bootstrap's default).
  process start_bootstrap(int id, const std::vector<std::string>& command,
                          const std::map<std::string, std::string>& env = {},
                          const std::vector<std::string>& prefix = {});

  /// Starts a stock client (the Go peer, as kubernetes-bootstrap) for
  /// container `id` running `command`, polling Status every `poll` (the
  /// stock client: 1s).
  process
  start_stock_client(int id, const std::vector<std::string>& command,
                     const std::string& poll,
                     const std::map<std::string, std::string>& env = {});

  /// Starts the Go peer's runner with the reference's rules in place of
  /// the agent, on `rpc_socket()`, with the job log in `log_file()`, then
  /// `args`.
  process start_stock_runner(const std::vector<std::string>& args = {});

private:
  /// The files of a process called `name`.
  outputs outputs_of(const std::string& name) const;

  /// The name of a container's process: numbered by how many came before,
  /// so that a container started twice keeps both outputs.
  std::string container_process(const std::string& kind, int id);

  temp_dir dir_;
  uint32_t containers_;
  stdout_sink out_;
  int started_ = 0;
};

} // namespace baton::test_support
