// Scenarios of the job's reactions: the hand-off from one container's
// command to the next, an interrupted job, a lost container.

#include "bench/measure.hpp"
#include "bench/scenarios.hpp"

#include <csignal>
#include <string>
#include <vector>

namespace baton::bench {

namespace {

// The hand-offs (end of k -> start of k+1) recorded by `bench_tool
// handoff` commands at BASE0 .. BASE<n-1>.
std::vector<double> handoffs_of(const std::string& base, int n) {
  std::vector<double> result;
  for (int k = 0; k + 1 < n; ++k) {
    auto end = read_ns(base + std::to_string(k) + ".end");
    auto start = read_ns(base + std::to_string(k + 1) + ".start");
    if (end > 0 && start > 0)
      result.push_back(ms(start - end));
  }
  return result;
}

} // namespace

// Command k exits -> command k+1 starts, both processes' exit and exec
// included; beside it, in each run, the physical limit: the same commands
// spawned one after another by one process (`bench_tool spawn-chain`).
json handoff(int containers, int runs) {
  std::vector<double> samples, chain, ratios;
  int failures = 0;
  for (int run = 0; run < runs; ++run) {
    auto job = run_job(containers);
    process c{
      {tool_exe(), "spawn-chain", std::to_string(containers), job / "c"}};
    c.wait_for_exit();
    auto limit = handoffs_of(job / "c", containers);
    auto a = job.start_agent();
    std::vector<process> bs;
    for (int id = 0; id < containers; ++id)
      bs.push_back(job.start_bootstrap(id, {tool_exe(), "handoff",
                                            job / ("h" + std::to_string(id))}));
    auto status = a.wait_for_exit();
    for (auto& b : bs)
      b.wait_for_exit();
    if (status != 0) {
      ++failures;
      continue;
    }
    auto mine = handoffs_of(job / "h", containers);
    samples.insert(samples.end(), mine.begin(), mine.end());
    chain.insert(chain.end(), limit.begin(), limit.end());
    if (!mine.empty() && !limit.empty())
      ratios.push_back(median(mine) / median(limit));
  }
  return {{"containers", containers},
          {"failed_runs", failures},
          {"baton", summarize(samples, "ms")},
          {"spawn_chain", summarize(chain, "ms")},
          {"ratio_p50", summarize(ratios, "x")}};
}

// A service is ready -> the first step's command starts: a service without
// a readiness check is ready once its command started (`bench_tool serve`
// records when), the step is `bench_tool handoff`. Beside it, in each run,
// the spawn chain's hand-off; the target is a hand-off's ratio.
json service_ready(int runs) {
  std::vector<double> samples, chain, ratios;
  int failures = 0;
  for (int run = 0; run < runs; ++run) {
    auto job = run_job(2);
    process c{{tool_exe(), "spawn-chain", "2", job / "c"}};
    c.wait_for_exit();
    auto limit = handoffs_of(job / "c", 2);
    auto a = job.start_agent({"--services", "0"});
    auto service = job.start_bootstrap(0, {tool_exe(), "serve", job / "s"},
                                       {{"BATON_SERVICE", "true"}});
    auto step = job.start_bootstrap(1, {tool_exe(), "handoff", job / "h"});
    auto status = a.wait_for_exit();
    service.wait_for_exit();
    step.wait_for_exit();
    auto ready = read_ns(job / "s.start");
    auto start = read_ns(job / "h.start");
    if (status != 0 || ready <= 0 || start <= 0 || limit.empty()) {
      ++failures;
      continue;
    }
    samples.push_back(ms(start - ready));
    chain.insert(chain.end(), limit.begin(), limit.end());
    ratios.push_back(ms(start - ready) / median(limit));
  }
  return {{"failed_runs", failures},
          {"baton", summarize(samples, "ms")},
          {"spawn_chain", summarize(chain, "ms")},
          {"ratio_p50", summarize(ratios, "x")}};
}

// The agent receives SIGTERM -> the running command receives its cancel
// signal.
json interrupt(int runs) {
  std::vector<double> samples;
  for (int run = 0; run < runs; ++run) {
    auto job = run_job(2);
    auto a = job.start_agent();
    auto b0 = job.start_bootstrap(0, {tool_exe(), "wait-signal", job / "sig"});
    auto b1 = job.start_bootstrap(1, {"/bin/true"});
    if (!wait_for_file(job / "sig.ready"))
      continue;
    auto t0 = now_ns();
    a.signal(SIGTERM);
    a.wait_for_exit();
    b0.wait_for_exit();
    b1.wait_for_exit();
    if (wait_for_file(job / "sig", 1000ms))
      samples.push_back(ms(read_ns(job / "sig") - t0));
  }
  return summarize(samples, "ms");
}

// A bootstrap is killed with SIGKILL -> the agent has marked it lost and
// ended the job (measured at the agent's exit, an upper bound).
json lost(int runs) {
  std::vector<double> samples;
  for (int run = 0; run < runs; ++run) {
    auto job = run_job(2);
    auto a = job.start_agent({"--lost-timeout", "30s"});
    auto b0 = job.start_bootstrap(0, {tool_exe(), "wait-signal", job / "sig"});
    auto b1 = job.start_bootstrap(1, {"/bin/true"});
    if (!wait_for_file(job / "sig.ready"))
      continue;
    auto t0 = now_ns();
    b0.signal(SIGKILL);
    a.wait_for_exit();
    samples.push_back(ms(a.exited_ns() - t0));
    b0.wait_for_exit();
    b1.wait_for_exit();
    // The orphaned command (never pid -1: that would be every process).
    if (auto orphan = read_ns(job / "sig.ready"); orphan > 0)
      ::kill(static_cast<pid_t>(orphan), SIGKILL);
  }
  return summarize(samples, "ms");
}

} // namespace baton::bench
