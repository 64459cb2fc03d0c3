// The benchmark suite: every row of the performance table, measured with
// real `baton` processes (and, for the scale row, the real actors in one
// process). Prints one JSON document. Timings never decide a test: this
// program only reports, with the raw limit of the same path measured in the
// same run so that ratios hold on a noisy machine. The scenarios live in
// one file per group (see scenarios.hpp).
//
//   baton_bench [--runs N] [--size BYTES] [--only NAME[,NAME...]]

#include "bench/measure.hpp"
#include "bench/scenarios.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <sys/utsname.h>

using namespace baton::bench;

namespace {

json machine() {
  utsname u;
  ::uname(&u);
  std::string model;
  std::istringstream cpu{read_file("/proc/cpuinfo")};
  for (std::string line; std::getline(cpu, line);)
    if (line.compare(0, 10, "model name") == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  char date[32];
  auto t = std::time(nullptr);
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return {{"cores", std::thread::hardware_concurrency()},
          {"cpu", model},
          {"kernel", std::string{u.release}},
          {"date", date}};
}

} // namespace

int main(int argc, char** argv) {
  int runs = 5;
  uint64_t size = 1024ull * 1024 * 1024;
  std::set<std::string> only;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc)
      runs = std::atoi(argv[++i]);
    else if (arg == "--size" && i + 1 < argc)
      size = std::strtoull(argv[++i], nullptr, 10);
    else if (arg == "--only" && i + 1 < argc) {
      std::istringstream names{argv[++i]};
      for (std::string name; std::getline(names, name, ',');)
        only.insert(name);
    } else {
      std::fprintf(stderr, "usage: baton_bench [--runs N] [--size BYTES] "
                           "[--only NAME,...]\n");
      return 2;
    }
  }
  auto want = [&](const char* name) {
    return only.empty() || only.count(name) > 0;
  };
  json doc = {{"machine", machine()}, {"runs", runs}};
  auto& r = doc["results"];
  auto step = [&](const char* name, const std::function<json()>& f) {
    if (!want(name))
      return;
    std::fprintf(stderr, "running %s...\n", name);
    r[name] = f();
  };
  step("handoff", [&] { return handoff(11, runs); });
  step("handoff_128", [&] { return handoff(128, std::max(1, runs / 5)); });
  step("service_ready", [&] { return service_ready(runs * 4); });
  step("interrupt", [&] { return interrupt(runs * 4); });
  step("lost", [&] { return lost(runs * 4); });
  step("connect_before_agent", [&] { return connect_before_agent(runs * 4); });
  step("exec_to_registered", [&] { return exec_to_registered(runs * 4); });
  step("throughput_64k", [&] { return throughput(size, 65536, runs); });
  step("throughput_4k", [&] { return throughput(size, 4096, runs); });
  // Log lines as a compiler prints them: many small writes.
  step("throughput_256", [&] { return throughput(size / 16, 256, runs); });
  step("slow_sink", [&] { return slow_sink(size / 8, 20e6); });
  step("line_latency", [&] { return line_latency(300); });
  step("group_wall_4", [&] { return group_wall(4, runs); });
  step("group_merge_8", [&] { return group_merge(size / 4, 8, runs); });
  step("group_slow_sink_8", [&] { return slow_sink(size / 8, 20e6, 8); });
  step("simulate_10k", [&] { return simulate(10000); });
  step("agent_rss_waiting_10", [&] { return agent_rss_waiting(10, runs); });
  step("agent_rss_waiting_100", [&] { return agent_rss_waiting(100, runs); });
  step("agent_rss_waiting_500", [&] { return agent_rss_waiting(500, runs); });
  step("pod_200", [&] { return pod_wall(200, runs); });
  step("rpc_handoff_stock_clients_baton_agent",
       [&] { return rpc_handoff("baton", "stock", 5, runs); });
  step("rpc_handoff_stock_clients_stock_runner",
       [&] { return rpc_handoff("stock", "stock", 5, runs); });
  step("rpc_handoff_baton_bootstraps_stock_runner",
       [&] { return rpc_handoff("stock", "baton", 5, runs); });
  step("rpc_throughput", [&] { return rpc_throughput(size / 4, runs); });
  std::printf("%s\n", doc.dump(2).c_str());
  return 0;
}
