// Scenarios of parallel groups: the wall time of members that run at once
// against the same steps one after another, and the whole-line merge's
// cost against the sequential path's.

#include "bench/measure.hpp"
#include "bench/scenarios.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace baton::bench {

namespace {

// Runs `commands` as one job, in one group if `group`: from the bootstraps'
// start to the agent's exit, in seconds (negative if the job failed). The
// agent runs under `bench_tool launch`, which reports its peak RSS and CPU
// to `usage`.
double run_steps(job_dir& job,
                 const std::vector<std::vector<std::string>>& commands,
                 bool group, const std::string& usage = {}) {
  auto a = job.start_agent(
    {}, {}, usage.empty() ? std::vector<std::string>{} : launcher(usage));
  if (!wait_for_file(job.socket()))
    return -1;
  std::map<std::string, std::string> env{{"BUILDKITE_PTY", "false"}};
  if (group)
    env["BATON_GROUP"] = "bench";
  auto t0 = now_ns();
  std::vector<process> bs;
  for (size_t id = 0; id < commands.size(); ++id)
    bs.push_back(job.start_bootstrap(static_cast<int>(id), commands[id], env));
  auto status = a.wait_for_exit();
  for (auto& b : bs)
    b.wait_for_exit();
  return status == 0 ? static_cast<double>(a.exited_ns() - t0) / 1e9 : -1;
}

} // namespace

// `members` steps that each sleep a second, in one group and one after
// another; the physical limit is one `sleep 1` spawned alone.
json group_wall(int members, int runs) {
  std::vector<double> group_s, sequential_s, raw_s, speedup, over_raw;
  int failures = 0;
  std::vector<std::vector<std::string>> steps(members, {"/bin/sleep", "1"});
  for (int run = 0; run < runs; ++run) {
    auto t0 = now_ns();
    process raw{{"/bin/sleep", "1"}};
    raw.wait_for_exit();
    auto raw_run = static_cast<double>(raw.exited_ns() - t0) / 1e9;
    auto group_job = run_job(members);
    auto grouped = run_steps(group_job, steps, true);
    auto sequential_job = run_job(members);
    auto one_by_one = run_steps(sequential_job, steps, false);
    if (grouped < 0 || one_by_one < 0) {
      ++failures;
      continue;
    }
    raw_s.push_back(raw_run);
    group_s.push_back(grouped);
    sequential_s.push_back(one_by_one);
    speedup.push_back(one_by_one / grouped);
    over_raw.push_back(grouped / raw_run);
  }
  return {{"members", members},
          {"group_s", summarize(group_s, "s")},
          {"sequential_s", summarize(sequential_s, "s")},
          {"raw_sleep_s", summarize(raw_s, "s")},
          {"sequential_over_group", summarize(speedup, "x")},
          {"group_over_raw_sleep", summarize(over_raw, "x")},
          {"failures", failures}};
}

// `members` steps in one group each stream `size / members` bytes of 80-byte
// lines at once, against one step streaming `size` bytes of the same lines
// (the sequential path, written as it comes): the agent's CPU per GiB, its
// peak RSS (bounded: at most one partial line held per member) and the job
// log's bytes.
json group_merge(uint64_t size, int members, int runs) {
  std::vector<double> merge_cpu, direct_cpu, cpu_ratio, merge_rss, direct_rss,
    merge_mb_s, direct_mb_s;
  int failures = 0;
  auto gib = static_cast<double>(size) / (1024.0 * 1024 * 1024);
  auto mb = static_cast<double>(size) / 1e6;
  auto each = size / static_cast<uint64_t>(members);
  for (int run = 0; run < runs; ++run) {
    auto merged_job = run_job(members);
    std::vector<std::vector<std::string>> writers(
      members, {tool_exe(), "lines", std::to_string(each), "4093"});
    auto merged = run_steps(merged_job, writers, true, merged_job / "usage");
    auto direct_job = run_job(1);
    auto direct = run_steps(
      direct_job,
      {{tool_exe(), "lines", std::to_string(each * members), "4093"}}, false,
      direct_job / "usage");
    if (merged < 0 || direct < 0) {
      ++failures;
      continue;
    }
    auto m = usage_of(merged_job / "usage");
    auto d = usage_of(direct_job / "usage");
    merge_cpu.push_back(m.second / gib);
    direct_cpu.push_back(d.second / gib);
    cpu_ratio.push_back(m.second / d.second);
    merge_rss.push_back(m.first);
    direct_rss.push_back(d.first);
    merge_mb_s.push_back(mb / merged);
    direct_mb_s.push_back(mb / direct);
  }
  return {{"bytes", size},
          {"members", members},
          {"merge_agent_cpu_s_per_gib", summarize(merge_cpu, "s")},
          {"direct_agent_cpu_s_per_gib", summarize(direct_cpu, "s")},
          {"merge_cpu_ratio_to_direct", summarize(cpu_ratio, "x")},
          {"merge_mb_s", summarize(merge_mb_s, "MB/s")},
          {"direct_mb_s", summarize(direct_mb_s, "MB/s")},
          {"merge_agent_peak_rss_mib", summarize(merge_rss, "MiB")},
          {"direct_agent_peak_rss_mib", summarize(direct_rss, "MiB")},
          {"failures", failures}};
}

} // namespace baton::bench
