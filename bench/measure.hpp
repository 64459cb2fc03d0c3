#pragma once

// What every scenario of the benchmarks uses: the programs they run, job
// directories on tmpfs, polling, and the statistics of the JSON document.

#include "integration/support/files.hpp"
#include "integration/support/job_dir.hpp"
#include "integration/support/process.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace baton::bench {

using namespace std::chrono_literals;
using nlohmann::json;
using test_support::baton_exe;
using test_support::job_dir;
using test_support::now_ns;
using test_support::process;
using test_support::read_file;
using test_support::temp_dir;

/// `bench_tool`, the commands and peers the scenarios run (bench_tool.cpp).
std::string tool_exe();

/// A directory for one run, on tmpfs where there is one so that disk speed
/// does not decide the figures.
temp_dir run_dir();

/// A job of `containers` containers in a `run_dir()`. Its processes' stdout
/// is discarded: the bootstraps copy every byte of their commands there.
job_dir run_job(uint32_t containers);

/// How often a scenario polls for what another process did: a wait delays
/// the measurement that follows it by less than this.
constexpr std::chrono::milliseconds poll_interval = 1ms;

void nap(int ms);

/// True once `path` exists, false after `timeout`.
bool wait_for_file(const std::string& path,
                   std::chrono::milliseconds timeout = 20s);

/// The nanoseconds `bench_tool` recorded in `path`, or -1.
int64_t read_ns(const std::string& path);

/// Parses the agent's "container N registered" line in `agent_err` (its
/// stderr): its UTC timestamp in nanoseconds, or -1.
int64_t registered_ns(const std::string& agent_err, int id);

/// Runs a process under `bench_tool launch`, which reports the peak RSS
/// and CPU of its own child to `usage_file`: a process forked straight from
/// this one would carry this process's peak into its own (Linux keeps it
/// across exec).
std::vector<std::string> launcher(const std::string& usage_file);

/// The peak RSS (MiB) and CPU (s) that `bench_tool launch` wrote.
std::pair<double, double> usage_of(const std::string& usage_file);

double ms(int64_t ns);

double median(std::vector<double> xs);

/// The count, minimum, p50, p99 and maximum of `xs`, in `unit`.
json summarize(std::vector<double> xs, const char* unit);

} // namespace baton::bench
