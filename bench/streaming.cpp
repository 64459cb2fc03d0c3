// Scenarios of the job log: a command's output streamed into it through a
// pipe or a pty, into a slow reader, and line by line.

#include "bench/measure.hpp"
#include "bench/scenarios.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace baton::bench {

namespace {

struct stream_run {
  double seconds = 0;
  double agent_cpu = 0;
  double agent_rss = 0;
  double bootstrap_rss = 0;
  bool exact = false;
};

// One command writes `size` bytes in `block`-sized writes; the job log is a
// file.
stream_run stream_once(uint64_t size, uint64_t block, bool pty) {
  auto job = run_job(1);
  stream_run result;
  auto a = job.start_agent({}, {}, launcher(job / "agent.usage"));
  if (!wait_for_file(job.socket()))
    return result;
  auto t0 = now_ns();
  auto b = job.start_bootstrap(
    0, {tool_exe(), "write", std::to_string(size), std::to_string(block)},
    {{"BUILDKITE_PTY", pty ? "true" : "false"}},
    launcher(job / "bootstrap.usage"));
  auto status = a.wait_for_exit();
  b.wait_for_exit();
  result.seconds = static_cast<double>(a.exited_ns() - t0) / 1e9;
  auto agent = usage_of(job / "agent.usage");
  result.agent_rss = agent.first;
  result.agent_cpu = agent.second;
  result.bootstrap_rss = usage_of(job / "bootstrap.usage").first;
  struct stat st;
  ::stat(job.log_file().c_str(), &st);
  auto header = read_file(job.log_file()).substr(0, 200);
  auto header_size = header.find('\n') + 1;
  result.exact = status == 0
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
  auto dir = run_dir();
  process r{{tool_exe(), "receive", dir / "raw.sock", dir / "raw.out"}};
  if (!wait_for_file(dir / "raw.out.ready"))
    return {};
  auto t0 = now_ns();
  process w{{"/bin/sh", "-c",
             "'" + tool_exe() + "' write " + std::to_string(size) + " "
               + std::to_string(block) + " | '" + tool_exe() + "' relay '"
               + dir / "raw.sock" + "'"}};
  r.wait_for_exit();
  w.wait_for_exit();
  return {static_cast<double>(r.exited_ns() - t0) / 1e9, r.cpu_seconds()};
}

// The raw limit of the pty path: a writer into a pty, the master copied to
// a Unix socket, the receiver to a file.
raw_run raw_pty_once(uint64_t size, uint64_t block) {
  auto dir = run_dir();
  process r{{tool_exe(), "receive", dir / "raw.sock", dir / "raw.out"}};
  if (!wait_for_file(dir / "raw.out.ready"))
    return {};
  auto t0 = now_ns();
  process w{{tool_exe(), "pty-relay", std::to_string(size),
             std::to_string(block), dir / "raw.sock"}};
  r.wait_for_exit();
  w.wait_for_exit();
  return {static_cast<double>(r.exited_ns() - t0) / 1e9, r.cpu_seconds()};
}

// The job log as a FIFO at `path` that a thread of ours reads, `read_size`
// bytes at a time, handing each read to `on_read`. Our own writer end keeps
// the reader from seeing an end before the agent opened the pipe; `finish`,
// once the agent is gone, drops it, and the reader ends.
class log_pipe {
public:
  log_pipe(const std::string& path, size_t read_size,
           std::function<void(const char*, size_t)> on_read) {
    ::mkfifo(path.c_str(), 0644);
    rd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK);
    wr_ = ::open(path.c_str(), O_WRONLY);
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

  void finish() {
    ::close(wr_);
    reader_.join();
    ::close(rd_);
  }

private:
  int rd_ = -1;
  int wr_ = -1;
  std::thread reader_;
};

} // namespace

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

// The job log is a pipe read at `rate` bytes/s, far slower than the
// command: memory must stay flat and every byte arrive. With `members` > 1,
// that many steps of one group stream `size` bytes of lines in all at once,
// through the whole-line merge: the slow sink slows every one of them.
json slow_sink(uint64_t size, double rate, int members) {
  auto job = run_job(static_cast<uint32_t>(members));
  uint64_t received = 0;
  auto start = now_ns();
  log_pipe log{job.log_file(), 64 * 1024, [&](const char*, size_t n) {
                 received += n;
                 // Pace the reads to `rate`.
                 auto due = start
                            + static_cast<int64_t>(static_cast<double>(received)
                                                   / rate * 1e9);
                 auto ahead = due - now_ns();
                 if (ahead > 0)
                   nap(static_cast<int>(ahead / 1'000'000));
               }};
  auto a = job.start_agent({}, {}, launcher(job / "agent.usage"));
  wait_for_file(job.socket());
  auto t0 = now_ns();
  std::vector<process> bs;
  if (members == 1) {
    bs.push_back(job.start_bootstrap(
      0, {tool_exe(), "write", std::to_string(size), "65536"}, {},
      launcher(job / "bootstrap.usage")));
  } else {
    auto each = std::to_string(size / static_cast<uint64_t>(members));
    for (int id = 0; id < members; ++id)
      bs.push_back(job.start_bootstrap(
        id, {tool_exe(), "lines", each, "4093"},
        {{"BATON_GROUP", "sink"}, {"BUILDKITE_PTY", "false"}},
        launcher(job / ("bootstrap" + std::to_string(id) + ".usage"))));
  }
  a.wait_for_exit();
  for (auto& b : bs)
    b.wait_for_exit();
  log.finish();
  auto seconds = static_cast<double>(a.exited_ns() - t0) / 1e9;
  return {{"bytes", size},
          {"members", members},
          {"sink_mb_s", rate / 1e6},
          {"effective_mb_s", static_cast<double>(size) / 1e6 / seconds},
          {"agent_peak_rss_mib", usage_of(job / "agent.usage").first},
          {"bootstrap_peak_rss_mib",
           usage_of(job
                    / (members == 1 ? std::string{"bootstrap.usage"}
                                    : std::string{"bootstrap0.usage"}))
             .first},
          {"bytes_received", received},
          {"all_bytes_arrived", received >= size}};
}

// A trickling producer, one line per 10 ms: line written -> in the job log.
json line_latency(int lines) {
  auto job = run_job(1);
  std::vector<double> samples;
  std::string pending;
  log_pipe log{job.log_file(), 4096, [&](const char* bytes, size_t n) {
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
  auto a = job.start_agent();
  auto b = job.start_bootstrap(0, {tool_exe(), "trickle", std::to_string(lines),
                                   "10"});
  a.wait_for_exit();
  b.wait_for_exit();
  log.finish();
  return summarize(samples, "ms");
}

} // namespace baton::bench
