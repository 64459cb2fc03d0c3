// Scenarios of the reference's protocol: hand-offs and output with the Go
// peer's stock clients and runner on either side of baton.

#include "bench/measure.hpp"
#include "bench/scenarios.hpp"

#include <string>
#include <vector>

#include <sys/stat.h>

namespace baton::bench {

// Hand-offs in the reference's protocol: `runner` is "baton" (a baton agent)
// or "stock" (the Go runner); `client` is "stock" (Go clients polling every
// 1 s) or "baton" (baton bootstrap --protocol buildkite, polling every
// 100 ms).
json rpc_handoff(const std::string& runner, const std::string& client,
                 int containers, int runs) {
  std::vector<double> samples;
  int failures = 0;
  for (int run = 0; run < runs; ++run) {
    auto job = run_job(containers);
    auto a = runner == "baton" ? job.start_agent() : job.start_stock_runner();
    std::vector<process> cs;
    for (int id = 0; id < containers; ++id) {
      std::vector<std::string> command = {tool_exe(), "handoff",
                                          job / ("h" + std::to_string(id))};
      if (client == "stock")
        cs.push_back(job.start_stock_client(id, command, "1s"));
      else
        cs.push_back(
          job.start_bootstrap(id, command, {{"BATON_PROTOCOL", "buildkite"}}));
    }
    auto status = a.wait_for_exit();
    for (auto& c : cs)
      c.wait_for_exit();
    if (status != 0) {
      ++failures;
      continue;
    }
    for (int id = 0; id + 1 < containers; ++id) {
      auto end = read_ns(job / ("h" + std::to_string(id) + ".end"));
      auto start = read_ns(job / ("h" + std::to_string(id + 1) + ".start"));
      samples.push_back(ms(start - end));
    }
  }
  auto result = summarize(samples, "ms");
  result["containers"] = containers;
  result["failed_runs"] = failures;
  return result;
}

// A stock client's output (WriteLogs, one synchronous call per 32 KiB
// read, as the stock client does) into a baton agent and into the Go
// runner, each run beside the other.
json rpc_throughput(uint64_t size, int runs) {
  std::vector<double> baton_rate, stock_rate, ratio, baton_cpu, stock_cpu;
  int inexact = 0;
  auto mb = static_cast<double>(size) / 1e6;
  auto gib = static_cast<double>(size) / (1024.0 * 1024 * 1024);
  for (int run = 0; run < runs; ++run) {
    double seconds[2] = {0, 0};
    double cpu[2] = {0, 0};
    for (int which = 0; which < 2; ++which) {
      auto job = run_job(1);
      auto a = which == 0 ? job.start_agent() : job.start_stock_runner();
      if (!wait_for_file(job.rpc_socket()))
        continue;
      auto t0 = now_ns();
      auto c = job.start_stock_client(
        0, {tool_exe(), "write", std::to_string(size), "65536"}, "100ms");
      auto status = a.wait_for_exit();
      c.wait_for_exit();
      seconds[which] = static_cast<double>(a.exited_ns() - t0) / 1e9;
      cpu[which] = a.cpu_seconds();
      struct stat st;
      ::stat(job.log_file().c_str(), &st);
      // The stock client's line before the output.
      auto header = std::string{"~~~ Bootstrapping phases (unknown)\n"};
      if (status != 0
          || static_cast<uint64_t>(st.st_size) != size + header.size())
        ++inexact;
    }
    baton_rate.push_back(mb / seconds[0]);
    stock_rate.push_back(mb / seconds[1]);
    ratio.push_back(seconds[1] / seconds[0]);
    baton_cpu.push_back(cpu[0] / gib);
    stock_cpu.push_back(cpu[1] / gib);
  }
  return {{"bytes", size},
          {"into_baton_mb_s", summarize(baton_rate, "MB/s")},
          {"into_stock_runner_mb_s", summarize(stock_rate, "MB/s")},
          {"ratio_baton_to_stock", summarize(ratio, "x")},
          {"baton_agent_cpu_s_per_gib", summarize(baton_cpu, "s")},
          {"stock_runner_cpu_s_per_gib", summarize(stock_cpu, "s")},
          {"runs_not_byte_exact", inexact}};
}

} // namespace baton::bench
