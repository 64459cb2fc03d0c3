#include "integration/support/job_dir.hpp"

#include <utility>

namespace baton::test_support {

namespace {

// `head`, then `tail`.
std::vector<std::string> concat(std::vector<std::string> head,
                                const std::vector<std::string>& tail) {
  head.insert(head.end(), tail.begin(), tail.end());
  return head;
}

} // namespace

std::string baton_exe() {
  return BATON_EXE;
}

std::string buildkite_peer_exe() {
  return BUILDKITE_PEER;
}

job_dir::job_dir(temp_dir dir, uint32_t containers, stdout_sink out)
  : dir_(std::move(dir)), containers_(containers), out_(out) {
  // nop
}

process job_dir::start_agent(const std::vector<std::string>& args,
                             const std::map<std::string, std::string>& env,
                             const std::vector<std::string>& prefix) {
  auto argv = concat(prefix, {baton_exe(), "agent", "--containers",
                              std::to_string(containers_), "--job-context-dir",
                              path(), "--log-file", log_file()});
  return process{concat(std::move(argv), args), outputs_of("agent"), env};
}

process job_dir::start_bootstrap(int id,
                                 const std::vector<std::string>& command,
                                 const std::map<std::string, std::string>& env,
                                 const std::vector<std::string>& prefix) {
  auto argv = concat(prefix, {baton_exe(), "bootstrap", "--container-id",
                              std::to_string(id), "--job-context-dir", path()});
  if (!command.empty())
    argv = concat(concat(std::move(argv), {"--"}), command);
  auto files = outputs_of(container_process("bootstrap", id));
  return process{std::move(argv), std::move(files), env};
}

process
job_dir::start_stock_client(int id, const std::vector<std::string>& command,
                            const std::string& poll,
                            const std::map<std::string, std::string>& env) {
  std::vector<std::string> argv
    = {buildkite_peer_exe(), "client", "--socket", rpc_socket(), "--id",
       std::to_string(id),   "--poll", poll,       "--"};
  auto files = outputs_of(container_process("stock-client", id));
  return process{concat(std::move(argv), command), std::move(files), env};
}

process job_dir::start_stock_runner(const std::vector<std::string>& args) {
  std::vector<std::string> argv
    = {buildkite_peer_exe(), "runner",       "--socket",
       rpc_socket(),         "--containers", std::to_string(containers_),
       "--log-file",         log_file()};
  return process{concat(std::move(argv), args), outputs_of("stock-runner")};
}

outputs job_dir::outputs_of(const std::string& name) const {
  auto base = dir_ / name;
  return {out_ == stdout_sink::file ? base + ".out" : "/dev/null",
          base + ".err"};
}

std::string job_dir::container_process(const std::string& kind, int id) {
  return kind + "-" + std::to_string(id) + "-" + std::to_string(started_++);
}

} // namespace baton::test_support
