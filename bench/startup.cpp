// Scenarios of a bootstrap's start-up: how soon it registers, how soon its
// command runs, and the CPU that costs.

#include "bench/measure.hpp"
#include "bench/scenarios.hpp"

#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include <dirent.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace baton::bench {

namespace {

// CPU time (ns) every live thread of `pid` has used, from its schedstat.
int64_t cpu_ns(pid_t pid) {
  auto dir = "/proc/" + std::to_string(pid) + "/task";
  int64_t total = 0;
  if (auto d = ::opendir(dir.c_str())) {
    while (auto entry = ::readdir(d))
      if (entry->d_name[0] != '.')
        total += std::atoll(
          read_file(dir + "/" + entry->d_name + "/schedstat").c_str());
    ::closedir(d);
  }
  return total;
}

} // namespace

// A bootstrap started before the agent: the socket appears -> registered.
json connect_before_agent(int runs) {
  std::vector<double> samples;
  for (int run = 0; run < runs; ++run) {
    auto job = run_job(1);
    auto b = job.start_bootstrap(0, {"/bin/true"});
    nap(100); // Let it settle into waiting for the socket.
    int watch = ::inotify_init1(IN_CLOEXEC);
    ::inotify_add_watch(watch, job.path().c_str(), IN_MOVED_TO | IN_CREATE);
    auto a = job.start_agent();
    int64_t appeared = -1;
    char buf[4096];
    while (appeared < 0) {
      auto n = ::read(watch, buf, sizeof(buf));
      if (n <= 0)
        break;
      for (char* p = buf; p < buf + n;) {
        auto ev = reinterpret_cast<inotify_event*>(p);
        if (ev->len > 0 && std::strcmp(ev->name, "baton.sock") == 0)
          appeared = now_ns();
        p += sizeof(inotify_event) + ev->len;
      }
    }
    ::close(watch);
    a.wait_for_exit();
    b.wait_for_exit();
    auto reg = registered_ns(a.err(), 0);
    if (appeared > 0 && reg > 0)
      samples.push_back(ms(reg - appeared));
  }
  return summarize(samples, "ms");
}

// A bootstrap's start-up while the agent is listening:
// - exec -> registered (wall, from the agent's log) and the CPU that took:
//   container 1 registers and then waits, idle, for container 0, so its
//   CPU once it settles is its start-up cost;
// - exec -> command started (wall) for container 0, and the CPU its
//   bootstrap used until then (all threads);
// - beside them the physical limits: a plain process spawned the same way,
//   from exec to running, and its CPU; and the CPU of `baton --version`,
//   which loads the same shared libraries and does nothing else.
json exec_to_registered(int runs) {
  std::vector<double> samples, startup_cpu, to_start, cpu, raw_wall, raw_cpu,
    ratios, loader_cpu, cpu_ratios;
  for (int run = 0; run < runs; ++run) {
    auto job = run_job(2);
    auto r0 = now_ns();
    process raw{{tool_exe(), "handoff", job / "raw"}};
    raw.wait_for_exit();
    // The floor of any baton process: loading and relocating its shared
    // libraries (CAF, spdlog, fmt, libstdc++), then exiting.
    process loader{{baton_exe(), "--version"}};
    loader.wait_for_exit();
    auto raw_start = read_ns(job / "raw.start");
    auto a = job.start_agent();
    if (!wait_for_file(job.socket()))
      continue;
    auto t0 = now_ns();
    auto waiting = job.start_bootstrap(1, {"true"});
    int64_t reg = -1;
    test_support::wait_until(
      [&] {
        reg = registered_ns(a.err(), 1);
        return reg >= 0;
      },
      20s, poll_interval);
    // Its start-up CPU: settled once two reads 10 ms apart agree.
    int64_t startup_ns = cpu_ns(waiting.pid());
    for (int i = 0; i < 100; ++i) {
      nap(10);
      auto now = cpu_ns(waiting.pid());
      if (now == startup_ns)
        break;
      startup_ns = now;
    }
    auto t1 = now_ns();
    auto b = job.start_bootstrap(0, {tool_exe(), "parent-cpu", job / "cpu"});
    a.wait_for_exit();
    b.wait_for_exit();
    waiting.wait_for_exit();
    std::istringstream in{read_file(job / "cpu")};
    int64_t command_cpu_ns = -1;
    int64_t started = -1;
    in >> command_cpu_ns >> started;
    if (reg <= 0 || command_cpu_ns < 0 || raw_start <= 0)
      continue;
    auto loader_ms = loader.cpu_seconds() * 1e3;
    samples.push_back(ms(reg - t0));
    startup_cpu.push_back(ms(startup_ns));
    loader_cpu.push_back(loader_ms);
    cpu_ratios.push_back(ms(startup_ns) / loader_ms);
    to_start.push_back(ms(started - t1));
    cpu.push_back(ms(command_cpu_ns));
    raw_wall.push_back(ms(raw_start - r0));
    raw_cpu.push_back(raw.cpu_seconds() * 1e3);
    ratios.push_back((started - t1) / static_cast<double>(raw_start - r0));
  }
  return {{"exec_to_registered", summarize(samples, "ms")},
          {"bootstrap_cpu_to_registered", summarize(startup_cpu, "ms")},
          {"loader_floor_cpu", summarize(loader_cpu, "ms")},
          {"cpu_ratio_to_loader_floor", summarize(cpu_ratios, "x")},
          {"exec_to_command", summarize(to_start, "ms")},
          {"bootstrap_cpu_to_command", summarize(cpu, "ms")},
          {"raw_spawn_wall", summarize(raw_wall, "ms")},
          {"raw_spawn_cpu", summarize(raw_cpu, "ms")},
          {"ratio_wall_p50", summarize(ratios, "x")}};
}

} // namespace baton::bench
