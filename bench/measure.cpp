#include "bench/measure.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <sstream>

#include <poll.h>

namespace baton::bench {

std::vector<std::string> launcher(const std::string& usage_file) {
  return {tool_exe(), "launch", usage_file, "--"};
}

std::pair<double, double> usage_of(const std::string& usage_file) {
  std::istringstream in{read_file(usage_file)};
  double kib = 0;
  double us = 0;
  in >> kib >> us;
  return {kib / 1024, us / 1e6};
}

std::string tool_exe() {
  return BENCH_TOOL_EXE;
}

temp_dir run_dir() {
  std::string base = test_support::file_exists("/dev/shm") ? "/dev/shm"
                                                           : "/tmp";
  return temp_dir{base + "/baton-bench-"};
}

job_dir run_job(uint32_t containers) {
  return job_dir{run_dir(), containers, test_support::stdout_sink::discard};
}

void nap(int ms) {
  ::poll(nullptr, 0, ms);
}

bool wait_for_file(const std::string& path, std::chrono::milliseconds timeout) {
  return test_support::wait_until(
    [&] { return test_support::file_exists(path); }, timeout, poll_interval);
}

int64_t read_ns(const std::string& path) {
  auto text = read_file(path);
  return text.empty() ? -1 : std::stoll(text);
}

int64_t registered_ns(const std::string& agent_err, int id) {
  std::istringstream in{agent_err};
  auto needle = "runner: container " + std::to_string(id) + " registered";
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) == std::string::npos)
      continue;
    std::tm tm{};
    long micros = 0;
    if (std::sscanf(line.c_str(), "%d-%d-%dT%d:%d:%d.%ldZ", &tm.tm_year,
                    &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                    &tm.tm_sec, &micros)
        != 7)
      return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return int64_t{timegm(&tm)} * 1'000'000'000 + micros * 1000;
  }
  return -1;
}

double ms(int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

double median(std::vector<double> xs) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

json summarize(std::vector<double> xs, const char* unit) {
  if (xs.empty())
    return {{"n", 0}};
  std::sort(xs.begin(), xs.end());
  auto at = [&](double q) {
    auto i = static_cast<size_t>(q * static_cast<double>(xs.size() - 1) + 0.5);
    return xs[std::min(i, xs.size() - 1)];
  };
  return {{"n", xs.size()}, {"unit", unit},    {"min", xs.front()},
          {"p50", at(0.5)}, {"p99", at(0.99)}, {"max", xs.back()}};
}

} // namespace baton::bench
