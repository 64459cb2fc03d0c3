// The benchmark suite: every row of the performance table, measured with
// real `baton` processes (and, for the scale row, the real actors in one
// process). Prints one JSON document. Timings never decide a test: this
// program only reports, with the raw limit of the same path measured in the
// same run so that ratios hold on a noisy machine.
//
//   baton_bench [--runs N] [--size BYTES] [--only NAME[,NAME...]]

#include "actors/agent/runner.hpp"
#include "messages/atoms.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

using nlohmann::json;

namespace {

// -- utilities ----------------------------------------------------------------

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::string baton_exe = BATON_EXE;
std::string tool_exe = BENCH_TOOL_EXE;
std::string peer_exe = BUILDKITE_PEER;

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

int64_t read_ns(const std::string& path) {
  auto text = read_file(path);
  return text.empty() ? -1 : std::stoll(text);
}

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

void nap(int ms) {
  ::poll(nullptr, 0, ms);
}

bool wait_for_file(const std::string& path, int timeout_ms = 20000) {
  for (int waited = 0; !exists(path); waited += 1) {
    if (waited > timeout_ms)
      return false;
    nap(1);
  }
  return true;
}

/// A directory for one run, on tmpfs where there is one so that disk speed
/// does not decide the figures.
struct run_dir {
  std::string path;
  run_dir() {
    std::string base = exists("/dev/shm") ? "/dev/shm" : "/tmp";
    auto tmpl = base + "/baton-bench-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    path = ::mkdtemp(buf.data());
  }
  ~run_dir() {
    auto cmd = "rm -rf -- '" + path + "'";
    if (std::system(cmd.c_str()) != 0)
      std::fprintf(stderr, "cannot remove %s\n", path.c_str());
  }
  std::string operator/(const std::string& name) const {
    return path + "/" + name;
  }
};

struct child {
  pid_t pid = -1;
  int status = -1;
  rusage usage{};
  int64_t exited_ns = 0;

  /// Waits for the exit (blocking).
  void wait() {
    if (status >= 0)
      return;
    if (pid < 0) {
      status = 127;
      return;
    }
    int st = 0;
    while (::wait4(pid, &st, 0, &usage) < 0 && errno == EINTR)
      ;
    exited_ns = now_ns();
    status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }

  double cpu_seconds() const {
    return usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6
           + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
  }
};

child spawn(const std::vector<std::string>& argv,
            const std::map<std::string, std::string>& env = {},
            const std::string& out = "/dev/null",
            const std::string& err = "/dev/null") {
  std::vector<std::string> env_list;
  for (auto p = environ; *p != nullptr; ++p) {
    std::string entry = *p;
    auto key = entry.substr(0, entry.find('='));
    if (env.count(key) == 0)
      env_list.push_back(entry);
  }
  for (auto& [key, value] : env)
    env_list.push_back(key + "=" + value);
  std::vector<char*> c_argv;
  for (auto& arg : argv)
    c_argv.push_back(const_cast<char*>(arg.c_str()));
  c_argv.push_back(nullptr);
  std::vector<char*> c_env;
  for (auto& entry : env_list)
    c_env.push_back(entry.data());
  c_env.push_back(nullptr);
  // posix_spawn (vfork-like): the child's CPU and page faults are its own
  // from exec on, not the cost of copying this process.
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&files, 2, err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  child result;
  if (::posix_spawn(&result.pid, c_argv[0], &files, &attr, c_argv.data(),
                    c_env.data())
      != 0)
    result.pid = -1;
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&files);
  return result;
}

child agent(const run_dir& dir, int containers,
            std::vector<std::string> extra = {},
            const std::string& log_file = "") {
  std::vector<std::string> argv
    = {baton_exe,           "agent",
       "--containers",      std::to_string(containers),
       "--job-context-dir", dir.path,
       "--log-file",        log_file.empty() ? dir / "job.log" : log_file};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return spawn(argv, {}, "/dev/null", dir / "agent.err");
}

child bootstrap(const run_dir& dir, int id, std::vector<std::string> command,
                std::map<std::string, std::string> env = {}) {
  std::vector<std::string> argv = {baton_exe,
                                   "bootstrap",
                                   "--container-id",
                                   std::to_string(id),
                                   "--job-context-dir",
                                   dir.path,
                                   "--"};
  argv.insert(argv.end(), command.begin(), command.end());
  return spawn(argv, env, "/dev/null",
               dir / ("bootstrap-" + std::to_string(id) + ".err"));
}

// -- the reference's protocol
// ---------------------------------------------------

// A stock client (the Go peer, as kubernetes-bootstrap) for container `id`,
// polling Status every `poll`.
child stock_client(const run_dir& dir, int id, std::vector<std::string> command,
                   const std::string& poll = "1s") {
  std::vector<std::string> argv
    = {peer_exe, "client",           "--socket", dir / "buildkite.sock",
       "--id",   std::to_string(id), "--poll",   poll,
       "--"};
  argv.insert(argv.end(), command.begin(), command.end());
  return spawn(argv, {}, "/dev/null",
               dir / ("stock-client-" + std::to_string(id) + ".err"));
}

// The Go peer's runner, with the reference's rules, on buildkite.sock.
child stock_runner(const run_dir& dir, int containers,
                   const std::string& log_file = "") {
  return spawn({peer_exe, "runner", "--socket", dir / "buildkite.sock",
                "--containers", std::to_string(containers), "--log-file",
                log_file.empty() ? dir / "job.log" : log_file},
               {}, "/dev/null", dir / "runner.err");
}

// Parses the agent's "container N registered" line: its UTC timestamp in
// nanoseconds, or -1.
int64_t registered_ns(const run_dir& dir, int id) {
  std::istringstream in{read_file(dir / "agent.err")};
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

// -- statistics ---------------------------------------------------------------

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

double ms(int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

// -- scenarios ----------------------------------------------------------------

double median(std::vector<double> xs) {
  if (xs.empty())
    return 0;
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

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

// Command k exits -> command k+1 starts, both processes' exit and exec
// included; beside it, in each run, the physical limit: the same commands
// spawned one after another by one process (`bench_tool spawn-chain`).
json handoff(int containers, int runs) {
  std::vector<double> samples, chain, ratios;
  int failures = 0;
  for (int run = 0; run < runs; ++run) {
    run_dir dir;
    auto c
      = spawn({tool_exe, "spawn-chain", std::to_string(containers), dir / "c"});
    c.wait();
    auto limit = handoffs_of(dir / "c", containers);
    auto a = agent(dir, containers);
    std::vector<child> bs;
    for (int id = 0; id < containers; ++id)
      bs.push_back(bootstrap(
        dir, id, {tool_exe, "handoff", dir / ("h" + std::to_string(id))}));
    a.wait();
    for (auto& b : bs)
      b.wait();
    if (a.status != 0) {
      ++failures;
      continue;
    }
    auto mine = handoffs_of(dir / "h", containers);
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

// Hand-offs in the reference's protocol: `runner` is "baton" (a baton agent)
// or "stock" (the Go runner); `client` is "stock" (Go clients polling every
// 1 s) or "baton" (baton bootstrap --protocol buildkite, polling every
// 100 ms).
json rpc_handoff(const std::string& runner, const std::string& client,
                 int containers, int runs) {
  std::vector<double> samples;
  int failures = 0;
  for (int run = 0; run < runs; ++run) {
    run_dir dir;
    auto a = runner == "baton" ? agent(dir, containers)
                               : stock_runner(dir, containers);
    std::vector<child> cs;
    for (int id = 0; id < containers; ++id) {
      std::vector<std::string> command = {tool_exe, "handoff",
                                          dir / ("h" + std::to_string(id))};
      if (client == "stock")
        cs.push_back(stock_client(dir, id, command));
      else
        cs.push_back(
          bootstrap(dir, id, command, {{"BATON_PROTOCOL", "buildkite"}}));
    }
    a.wait();
    for (auto& c : cs)
      c.wait();
    if (a.status != 0) {
      ++failures;
      continue;
    }
    for (int id = 0; id + 1 < containers; ++id) {
      auto end = read_ns(dir / ("h" + std::to_string(id) + ".end"));
      auto start = read_ns(dir / ("h" + std::to_string(id + 1) + ".start"));
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
      run_dir dir;
      auto a = which == 0 ? agent(dir, 1) : stock_runner(dir, 1);
      if (!wait_for_file(dir / "buildkite.sock"))
        continue;
      auto t0 = now_ns();
      auto c = stock_client(
        dir, 0, {tool_exe, "write", std::to_string(size), "65536"}, "100ms");
      a.wait();
      c.wait();
      seconds[which] = static_cast<double>(a.exited_ns - t0) / 1e9;
      cpu[which] = a.cpu_seconds();
      struct stat st;
      ::stat((dir / "job.log").c_str(), &st);
      // The stock client's line before the output.
      auto header = std::string{"~~~ Bootstrapping phases (unknown)\n"};
      if (a.status != 0
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

// The agent receives SIGTERM -> the running command receives its cancel
// signal.
json interrupt(int runs) {
  std::vector<double> samples;
  for (int run = 0; run < runs; ++run) {
    run_dir dir;
    auto a = agent(dir, 2);
    auto b0 = bootstrap(dir, 0, {tool_exe, "wait-signal", dir / "sig"});
    auto b1 = bootstrap(dir, 1, {"/bin/true"});
    if (!wait_for_file(dir / "sig.ready"))
      continue;
    auto t0 = now_ns();
    ::kill(a.pid, SIGTERM);
    a.wait();
    b0.wait();
    b1.wait();
    if (wait_for_file(dir / "sig", 1000))
      samples.push_back(ms(read_ns(dir / "sig") - t0));
  }
  return summarize(samples, "ms");
}

// A bootstrap is killed with SIGKILL -> the agent has marked it lost and
// ended the job (measured at the agent's exit, an upper bound).
json lost(int runs) {
  std::vector<double> samples;
  for (int run = 0; run < runs; ++run) {
    run_dir dir;
    auto a = agent(dir, 2, {"--lost-timeout", "30s"});
    auto b0 = bootstrap(dir, 0, {tool_exe, "wait-signal", dir / "sig"});
    auto b1 = bootstrap(dir, 1, {"/bin/true"});
    if (!wait_for_file(dir / "sig.ready"))
      continue;
    auto t0 = now_ns();
    ::kill(b0.pid, SIGKILL);
    a.wait();
    samples.push_back(ms(a.exited_ns - t0));
    b0.wait();
    b1.wait();
    // The orphaned command.
    ::kill(static_cast<pid_t>(read_ns(dir / "sig.ready")), SIGKILL);
  }
  return summarize(samples, "ms");
}

// A bootstrap started before the agent: the socket appears -> registered.
json connect_before_agent(int runs) {
  std::vector<double> samples;
  for (int run = 0; run < runs; ++run) {
    run_dir dir;
    auto b = bootstrap(dir, 0, {"/bin/true"});
    nap(100); // Let it settle into waiting for the socket.
    int watch = ::inotify_init1(IN_CLOEXEC);
    ::inotify_add_watch(watch, dir.path.c_str(), IN_MOVED_TO | IN_CREATE);
    auto a = agent(dir, 1);
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
    a.wait();
    b.wait();
    auto reg = registered_ns(dir, 0);
    if (appeared > 0 && reg > 0)
      samples.push_back(ms(reg - appeared));
  }
  return summarize(samples, "ms");
}

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
    run_dir dir;
    auto r0 = now_ns();
    auto raw = spawn({tool_exe, "handoff", dir / "raw"});
    raw.wait();
    // The floor of any baton process: loading and relocating its shared
    // libraries (CAF, spdlog, fmt, libstdc++), then exiting.
    auto loader = spawn({baton_exe, "--version"});
    loader.wait();
    auto raw_start = read_ns(dir / "raw.start");
    auto a = agent(dir, 2);
    if (!wait_for_file(dir / "baton.sock"))
      continue;
    auto t0 = now_ns();
    auto waiting = bootstrap(dir, 1, {"true"});
    int64_t reg = -1;
    for (int i = 0; i < 20000 && reg < 0; ++i, nap(1))
      reg = registered_ns(dir, 1);
    // Its start-up CPU: settled once two reads 10 ms apart agree.
    int64_t startup_ns = cpu_ns(waiting.pid);
    for (int i = 0; i < 100; ++i) {
      nap(10);
      auto now = cpu_ns(waiting.pid);
      if (now == startup_ns)
        break;
      startup_ns = now;
    }
    auto t1 = now_ns();
    auto b = bootstrap(dir, 0, {tool_exe, "parent-cpu", dir / "cpu"});
    a.wait();
    b.wait();
    waiting.wait();
    std::istringstream in{read_file(dir / "cpu")};
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

struct stream_run {
  double seconds = 0;
  double agent_cpu = 0;
  double agent_rss = 0;
  double bootstrap_rss = 0;
  bool exact = false;
};

// Runs `argv` under `bench_tool launch`, which reports the peak RSS of its
// own child: a process forked straight from this one would carry this
// process's peak into its own (Linux keeps it across exec).
child launched(const std::string& usage_file, std::vector<std::string> argv,
               const std::map<std::string, std::string>& env = {},
               const std::string& err = "/dev/null") {
  argv.insert(argv.begin(), {tool_exe, "launch", usage_file, "--"});
  return spawn(argv, env, "/dev/null", err);
}

// Peak RSS (MiB) and CPU (s) that `bench_tool launch` wrote.
std::pair<double, double> usage_of(const std::string& usage_file) {
  std::istringstream in{read_file(usage_file)};
  double kib = 0;
  double us = 0;
  in >> kib >> us;
  return {kib / 1024, us / 1e6};
}

// One command writes `size` bytes in `block`-sized writes; the job log is a
// file.
stream_run stream_once(uint64_t size, uint64_t block, bool pty) {
  run_dir dir;
  stream_run result;
  auto a
    = launched(dir / "agent.usage",
               {baton_exe, "agent", "--containers", "1", "--job-context-dir",
                dir.path, "--log-file", dir / "job.log"},
               {}, dir / "agent.err");
  if (!wait_for_file(dir / "baton.sock"))
    return result;
  auto t0 = now_ns();
  auto b = launched(dir / "bootstrap.usage",
                    {baton_exe, "bootstrap", "--container-id", "0",
                     "--job-context-dir", dir.path, "--", tool_exe, "write",
                     std::to_string(size), std::to_string(block)},
                    {{"BUILDKITE_PTY", pty ? "true" : "false"}});
  a.wait();
  b.wait();
  result.seconds = static_cast<double>(a.exited_ns - t0) / 1e9;
  auto agent = usage_of(dir / "agent.usage");
  result.agent_rss = agent.first;
  result.agent_cpu = agent.second;
  result.bootstrap_rss = usage_of(dir / "bootstrap.usage").first;
  struct stat st;
  ::stat((dir / "job.log").c_str(), &st);
  auto header = read_file(dir / "job.log").substr(0, 200);
  auto header_size = header.find('\n') + 1;
  result.exact = a.status == 0
                 && static_cast<uint64_t>(st.st_size) == size + header_size;
  return result;
}

// The raw limit of a path: its time, and the CPU of its receiver (which,
// like the agent, reads from a Unix socket and writes a file).
struct raw_run {
  double seconds = 0;
  double receiver_cpu = 0;
};

// The raw limit of the same path: pipe -> relay process -> Unix socket ->
// receiver -> file.
raw_run raw_once(uint64_t size, uint64_t block) {
  run_dir dir;
  auto r = spawn({tool_exe, "receive", dir / "raw.sock", dir / "raw.out"});
  if (!wait_for_file(dir / "raw.out.ready"))
    return {};
  auto t0 = now_ns();
  auto w = spawn({"/bin/sh", "-c",
                  "'" + tool_exe + "' write " + std::to_string(size) + " "
                    + std::to_string(block) + " | '" + tool_exe + "' relay '"
                    + dir / "raw.sock" + "'"});
  r.wait();
  w.wait();
  return {static_cast<double>(r.exited_ns - t0) / 1e9, r.cpu_seconds()};
}

// The raw limit of the pty path: a writer into a pty, the master copied to
// a Unix socket, the receiver to a file.
raw_run raw_pty_once(uint64_t size, uint64_t block) {
  run_dir dir;
  auto r = spawn({tool_exe, "receive", dir / "raw.sock", dir / "raw.out"});
  if (!wait_for_file(dir / "raw.out.ready"))
    return {};
  auto t0 = now_ns();
  auto w = spawn({tool_exe, "pty-relay", std::to_string(size),
                  std::to_string(block), dir / "raw.sock"});
  r.wait();
  w.wait();
  return {static_cast<double>(r.exited_ns - t0) / 1e9, r.cpu_seconds()};
}

json throughput(uint64_t size, uint64_t block, int runs) {
  std::vector<double> pty_rate, raw_rate, raw_pty_rate, ratio, pty_ratio,
    cpu_per_gib, pty_cpu_per_gib, raw_cpu_per_gib, raw_pty_cpu_per_gib,
    cpu_ratio, pty_cpu_ratio, agent_rss, bootstrap_rss, pipe_rate;
  int inexact = 0;
  auto mb = static_cast<double>(size) / 1e6;
  auto gib = static_cast<double>(size) / (1024.0 * 1024 * 1024);
  for (int run = 0; run < runs; ++run) {
    // Each baton run beside its raw limit, measured right before it.
    auto raw = raw_once(size, block);
    auto p = stream_once(size, block, false);
    auto raw_pty = raw_pty_once(size, block);
    auto s = stream_once(size, block, true);
    if (!s.exact || !p.exact)
      ++inexact;
    raw_rate.push_back(mb / raw.seconds);
    pipe_rate.push_back(mb / p.seconds);
    ratio.push_back(raw.seconds / p.seconds);
    raw_pty_rate.push_back(mb / raw_pty.seconds);
    pty_rate.push_back(mb / s.seconds);
    pty_ratio.push_back(raw_pty.seconds / s.seconds);
    cpu_per_gib.push_back(p.agent_cpu / gib);
    pty_cpu_per_gib.push_back(s.agent_cpu / gib);
    raw_cpu_per_gib.push_back(raw.receiver_cpu / gib);
    raw_pty_cpu_per_gib.push_back(raw_pty.receiver_cpu / gib);
    cpu_ratio.push_back(p.agent_cpu / raw.receiver_cpu);
    pty_cpu_ratio.push_back(s.agent_cpu / raw_pty.receiver_cpu);
    agent_rss.push_back(std::max(p.agent_rss, s.agent_rss));
    bootstrap_rss.push_back(std::max(p.bootstrap_rss, s.bootstrap_rss));
  }
  return {{"bytes", size},
          {"block", block},
          {"pipe",
           {{"baton_mb_s", summarize(pipe_rate, "MB/s")},
            {"raw_mb_s", summarize(raw_rate, "MB/s")},
            {"ratio_to_raw", summarize(ratio, "x")},
            {"agent_cpu_s_per_gib", summarize(cpu_per_gib, "s")},
            {"raw_receiver_cpu_s_per_gib", summarize(raw_cpu_per_gib, "s")},
            {"cpu_ratio_to_raw_receiver", summarize(cpu_ratio, "x")}}},
          {"pty",
           {{"baton_mb_s", summarize(pty_rate, "MB/s")},
            {"raw_mb_s", summarize(raw_pty_rate, "MB/s")},
            {"ratio_to_raw", summarize(pty_ratio, "x")},
            {"agent_cpu_s_per_gib", summarize(pty_cpu_per_gib, "s")},
            {"raw_receiver_cpu_s_per_gib", summarize(raw_pty_cpu_per_gib, "s")},
            {"cpu_ratio_to_raw_receiver", summarize(pty_cpu_ratio, "x")}}},
          {"agent_peak_rss_mib", summarize(agent_rss, "MiB")},
          {"bootstrap_peak_rss_mib", summarize(bootstrap_rss, "MiB")},
          {"runs_not_byte_exact", inexact}};
}

// The agent's peak RSS with `waiting` containers registered and waiting
// for their turn (container 0 never comes), beside the same agent with no
// container connected.
json agent_rss_waiting(int waiting, int runs) {
  std::vector<double> rss;
  for (int run = 0; run < runs; ++run) {
    run_dir dir;
    auto a = agent(dir, waiting + 1, {"--start-timeout", "0"});
    if (!wait_for_file(dir / "baton.sock"))
      continue;
    std::vector<child> ws;
    for (int id = 1; id <= waiting; ++id)
      ws.push_back(
        spawn({tool_exe, "waiter", dir / "baton.sock", std::to_string(id)}));
    // Wait until every one registered (the agent logs each).
    auto needle = "(" + std::to_string(waiting) + " of ";
    for (int i = 0; i < 20000; ++i) {
      if (read_file(dir / "agent.err").find(needle) != std::string::npos)
        break;
      nap(1);
    }
    // VmHWM is the process's own (its peak since exec).
    auto status = read_file("/proc/" + std::to_string(a.pid) + "/status");
    auto at = status.find("VmHWM:");
    if (at != std::string::npos)
      rss.push_back(std::stod(status.substr(at + 6)) / 1024);
    ::kill(a.pid, SIGKILL);
    a.wait();
    for (auto& w : ws)
      w.wait();
  }
  return summarize(rss, "MiB");
}

// `baton pod` with `containers` containers, each `sh -c 'echo step K'`
// without a pty: the wall time of the whole pod.
json pod_wall(int containers, int runs) {
  std::vector<double> seconds;
  run_dir dir;
  json spec = {{"env", {{"BUILDKITE_PTY", "false"}}},
               {"containers", json::array()}};
  for (int k = 0; k < containers; ++k)
    spec["containers"].push_back(
      {{"name", "step-" + std::to_string(k)},
       {"command", {"sh", "-c", "echo step " + std::to_string(k)}}});
  auto file = dir / "pod.json";
  std::ofstream{file} << spec.dump();
  for (int run = 0; run < runs; ++run) {
    auto t0 = now_ns();
    auto p = spawn({baton_exe, "pod", file});
    p.wait();
    if (p.status == 0)
      seconds.push_back(static_cast<double>(p.exited_ns - t0) / 1e9);
  }
  auto result = summarize(seconds, "s");
  result["containers"] = containers;
  return result;
}

// The job log as a FIFO that a thread of ours reads, `read_size` bytes at a
// time, handing each read to `on_read`. Our own writer end keeps the reader
// from seeing an end before the agent opened the pipe; `finish`, once the
// agent is gone, drops it, and the reader ends.
class log_pipe {
public:
  log_pipe(const run_dir& dir, size_t read_size,
           std::function<void(const char*, size_t)> on_read)
    : path_(dir / "log.fifo") {
    ::mkfifo(path_.c_str(), 0644);
    rd_ = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK);
    wr_ = ::open(path_.c_str(), O_WRONLY);
    reader_ = std::thread{[this, read_size, on_read = std::move(on_read)] {
      ::fcntl(rd_, F_SETFL, 0);
      std::vector<char> buf(read_size);
      for (;;) {
        auto n = ::read(rd_, buf.data(), buf.size());
        if (n <= 0)
          break;
        on_read(buf.data(), static_cast<size_t>(n));
      }
    }};
  }

  const std::string& path() const {
    return path_;
  }

  void finish() {
    ::close(wr_);
    reader_.join();
    ::close(rd_);
  }

private:
  std::string path_;
  int rd_ = -1;
  int wr_ = -1;
  std::thread reader_;
};

// The job log is a pipe read at `rate` bytes/s, far slower than the
// command: memory must stay flat and every byte arrive.
json slow_sink(uint64_t size, double rate) {
  run_dir dir;
  uint64_t received = 0;
  auto start = now_ns();
  log_pipe log{dir, 64 * 1024, [&](const char*, size_t n) {
                 received += n;
                 // Pace the reads to `rate`.
                 auto due = start
                            + static_cast<int64_t>(static_cast<double>(received)
                                                   / rate * 1e9);
                 auto ahead = due - now_ns();
                 if (ahead > 0)
                   nap(static_cast<int>(ahead / 1'000'000));
               }};
  auto a = launched(dir / "agent.usage",
                    {baton_exe, "agent", "--containers", "1",
                     "--job-context-dir", dir.path, "--log-file", log.path()});
  wait_for_file(dir / "baton.sock");
  auto t0 = now_ns();
  auto b = launched(dir / "bootstrap.usage",
                    {baton_exe, "bootstrap", "--container-id", "0",
                     "--job-context-dir", dir.path, "--", tool_exe, "write",
                     std::to_string(size), "65536"});
  a.wait();
  b.wait();
  log.finish();
  auto seconds = static_cast<double>(a.exited_ns - t0) / 1e9;
  return {{"bytes", size},
          {"sink_mb_s", rate / 1e6},
          {"effective_mb_s", static_cast<double>(size) / 1e6 / seconds},
          {"agent_peak_rss_mib", usage_of(dir / "agent.usage").first},
          {"bootstrap_peak_rss_mib", usage_of(dir / "bootstrap.usage").first},
          {"bytes_received", received},
          {"all_bytes_arrived", received >= size}};
}

// A trickling producer, one line per 10 ms: line written -> in the job log.
json line_latency(int lines) {
  run_dir dir;
  std::vector<double> samples;
  std::string pending;
  log_pipe log{dir, 4096, [&](const char* bytes, size_t n) {
                 auto now = now_ns();
                 pending.append(bytes, n);
                 size_t pos;
                 while ((pos = pending.find('\n')) != std::string::npos) {
                   auto line = pending.substr(0, pos);
                   pending.erase(0, pos + 1);
                   if (line.compare(0, 5, "line ") == 0)
                     samples.push_back(ms(now - std::stoll(line.substr(5))));
                 }
               }};
  auto a = agent(dir, 1, {}, log.path());
  auto b = bootstrap(dir, 0,
                     {tool_exe, "trickle", std::to_string(lines), "10"});
  a.wait();
  b.wait();
  log.finish();
  return summarize(samples, "ms");
}

// The runner with 10,000 simulated containers in one process, on the real
// scheduler: each registers, runs when told and exits at once.
json simulate(int containers) {
  using namespace baton;
  spdlog::set_level(spdlog::level::off);
  caf::actor_system_config cfg;
  cfg.set("logger.verbosity", caf::atom("quiet"));
  baton::add_message_types(cfg);
  caf::actor_system sys{cfg};
  runner_config rc;
  rc.containers = static_cast<uint32_t>(containers);
  auto r = sys.spawn(runner, rc, log_aggregator_actor{});
  auto t0 = std::chrono::steady_clock::now();
  for (int id = 0; id < containers; ++id) {
    sys.spawn([=](session_actor::pointer self) -> session_actor::behavior_type {
      auto exit_now = [=] {
        self
          ->request(r, caf::infinite, atom::exit::value, id,
                    step_exit{0, false, {}})
          .then([=](atom::ok) { self->quit(); });
      };
      self
        ->request(r, caf::infinite, atom::register_::value,
                  registration{id, dialect::baton},
                  container_actor{session_actor{self}})
        .then([=](std::vector<std::string>&, turn& now) {
          if (now.state == run_state::start)
            exit_now();
        });
      return {
        [](wire::frame&) {},
        [](std::vector<wire::frame>&) {},
        [](atom::received, std::string&) {},
        [](atom::closed, const std::string&) {},
        [=](atom::state, turn& now) {
          if (now.state == run_state::start)
            exit_now();
        },
        [](atom::tick) {},
      };
    });
  }
  caf::scoped_actor self{sys};
  job_result result;
  self->request(r, caf::infinite, atom::done::value)
    .receive([&](job_result& x) { result = std::move(x); },
             [&](caf::error&) {});
  auto seconds
    = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
        .count();
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  return {{"containers", containers},
          {"seconds", seconds},
          {"status", result.status}};
}

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
