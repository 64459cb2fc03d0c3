#pragma once

// Every scenario of the benchmarks, one JSON object each; `baton_bench.cpp`
// runs them in the order of the performance table.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace baton::bench {

// -- handoff.cpp: the job's reactions -----------------------------------------

/// Command k exits -> command k+1 starts, beside a raw spawn chain.
nlohmann::json handoff(int containers, int runs);

/// A service is ready -> the first step starts, beside a raw spawn chain.
nlohmann::json service_ready(int runs);

/// The agent receives SIGTERM -> the running command receives its signal.
nlohmann::json interrupt(int runs);

/// A bootstrap is killed -> the agent has ended the job.
nlohmann::json lost(int runs);

// -- startup.cpp: a bootstrap's start-up --------------------------------------

/// A bootstrap started before the agent: the socket appears -> registered.
nlohmann::json connect_before_agent(int runs);

/// exec -> registered and exec -> command started, with their CPU, beside
/// a raw spawn and the shared-library loader's floor.
nlohmann::json exec_to_registered(int runs);

// -- streaming.cpp: the job log -----------------------------------------------

/// `size` bytes in `block`-sized writes through a pipe and a pty, each
/// beside its raw relay.
nlohmann::json throughput(uint64_t size, uint64_t block, int runs);

/// The job log a pipe read at `rate` bytes/s, written by one step or by
/// `members` steps of one group at once.
nlohmann::json slow_sink(uint64_t size, double rate, int members = 1);

/// A line written -> the line in the job log.
nlohmann::json line_latency(int lines);

// -- groups.cpp: parallel groups --------------------------------------------

/// `members` steps sleeping a second, in one group and one after another.
nlohmann::json group_wall(int members, int runs);

/// `members` steps of one group streaming `size` bytes of lines in all,
/// beside one step streaming them alone: the merge's CPU and memory.
nlohmann::json group_merge(uint64_t size, int members, int runs);

// -- scale.cpp: many containers -----------------------------------------------

/// The runner's actors with `containers` simulated containers in one
/// process.
nlohmann::json simulate(int containers);

/// The agent's peak RSS with `waiting` containers waiting for their turn.
nlohmann::json agent_rss_waiting(int waiting, int runs);

/// The wall time of `baton pod` with `containers` containers.
nlohmann::json pod_wall(int containers, int runs);

// -- rpc.cpp: the reference's protocol ----------------------------------------

/// Hand-offs with `runner` ("baton" or "stock") and `client` ("stock" or
/// "baton").
nlohmann::json rpc_handoff(const std::string& runner, const std::string& client,
                           int containers, int runs);

/// A stock client's output into a baton agent and into the Go runner.
nlohmann::json rpc_throughput(uint64_t size, int runs);

} // namespace baton::bench
