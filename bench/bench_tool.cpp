// Small programs the benchmarks run as commands and peers. Each prints or
// records CLOCK_REALTIME nanoseconds, the clock the agent's log uses too.
//
//   bench_tool handoff FILE        records its start in FILE.start and,
//                                  just before exiting, its end in FILE.end
//   bench_tool wait-signal FILE    writes its pid to FILE.ready, waits for
//                                  SIGTERM, records its arrival in FILE
//   bench_tool write BYTES BLOCK   writes BYTES to stdout in BLOCK-sized
//                                  writes, as fast as it can
//   bench_tool lines BYTES BLOCK   the same, in 80-byte lines
//   bench_tool trickle N MS        writes N lines, one every MS ms, each
//                                  holding the time it was written
//   bench_tool relay SOCKET        copies stdin to the Unix socket SOCKET
//   bench_tool pty-relay BYTES BLOCK SOCKET
//                                  a child writes BYTES into a pty (OPOST
//                                  off, as baton sets it); copies the
//                                  master side to the Unix socket SOCKET
//   bench_tool receive SOCKET FILE accepts one connection on SOCKET and
//                                  copies it to FILE
//   bench_tool spawn-chain N BASE  the hand-off's physical limit: runs
//                                  `bench_tool handoff BASE<k>` for k in
//                                  0..N-1, each spawned (posix_spawn) once
//                                  the one before was waited for
//   bench_tool launch FILE -- ARGV runs ARGV as a child, waits for it and
//                                  writes its own peak RSS (KiB) and CPU
//                                  (us) to FILE: a launcher of its own, so
//                                  the peak is not the forking bench's
//   bench_tool parent-cpu FILE     writes the CPU time (ns, every thread)
//                                  its parent has used so far, and its own
//                                  start time, to FILE
//   bench_tool waiter SOCKET ID    a container that registers with the
//                                  agent at SOCKET as ID (protocol 2) and
//                                  waits, holding the connection, until the
//                                  agent closes it

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern "C" char** environ;

namespace {

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void record(const std::string& path, int64_t ns) {
  auto text = std::to_string(ns) + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || ::write(fd, text.data(), text.size()) < 0) {
    std::perror(path.c_str());
    std::exit(1);
  }
  ::close(fd);
}

bool write_all(int fd, const char* data, size_t size) {
  while (size > 0) {
    auto n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

int copy(int in, int out) {
  std::vector<char> buf(256 * 1024);
  for (;;) {
    auto n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return 1;
    if (n == 0)
      return 0;
    if (!write_all(out, buf.data(), static_cast<size_t>(n)))
      return 1;
  }
}

sockaddr_un address(const char* path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path, sizeof(addr.sun_path) - 1);
  return addr;
}

volatile sig_atomic_t got_signal = 0;

// Time on a CPU, in ns, of every thread of process `pid`, from schedstat:
// unlike /proc/PID/stat it does not round to 10 ms.
int64_t cpu_ns_of(pid_t pid) {
  auto dir = "/proc/" + std::to_string(pid) + "/task";
  auto d = ::opendir(dir.c_str());
  if (d == nullptr)
    return -1;
  int64_t total = 0;
  while (auto entry = ::readdir(d)) {
    if (entry->d_name[0] == '.')
      continue;
    auto path = dir + "/" + entry->d_name + "/schedstat";
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0)
      continue;
    char buf[128] = {};
    if (::read(fd, buf, sizeof(buf) - 1) > 0)
      total += std::strtoll(buf, nullptr, 10);
    ::close(fd);
  }
  ::closedir(d);
  return total;
}

// A frame of baton's protocol: length, type, body.
std::string frame(uint8_t type, const std::string& body) {
  auto n = static_cast<uint32_t>(body.size());
  std::string out;
  for (int shift = 24; shift >= 0; shift -= 8)
    out += static_cast<char>((n >> shift) & 0xFF);
  out += static_cast<char>(type);
  return out + body;
}

} // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "handoff" && argc == 3) {
    std::string base = argv[2];
    record(base + ".start", now_ns());
    record(base + ".end", now_ns());
    return 0;
  }
  if (cmd == "serve" && argc == 3) {
    // A service: up from its start until SIGTERM.
    record(std::string{argv[2]} + ".start", now_ns());
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    int signo = 0;
    sigwait(&mask, &signo);
    return 0;
  }
  if (cmd == "wait-signal" && argc == 3) {
    struct sigaction sa {};
    sa.sa_handler = [](int) { got_signal = 1; };
    sigaction(SIGTERM, &sa, nullptr);
    sigset_t mask, old;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigprocmask(SIG_BLOCK, &mask, &old);
    record(std::string{argv[2]} + ".ready", ::getpid());
    while (!got_signal)
      sigsuspend(&old);
    record(argv[2], now_ns());
    return 0;
  }
  if (cmd == "write" && argc == 4) {
    auto total = std::strtoull(argv[2], nullptr, 10);
    auto block = std::strtoull(argv[3], nullptr, 10);
    std::vector<char> buf(block);
    for (size_t i = 0; i < buf.size(); ++i)
      buf[i] = static_cast<char>('a' + i % 26);
    for (uint64_t done = 0; done < total;) {
      auto n = std::min<uint64_t>(block, total - done);
      if (!write_all(STDOUT_FILENO, buf.data(), n))
        return 1;
      done += n;
    }
    return 0;
  }
  if (cmd == "lines" && argc == 4) {
    // As "write", but in 80-byte lines (a compiler's or a test runner's),
    // the blocks splitting them anywhere.
    auto total = std::strtoull(argv[2], nullptr, 10);
    auto block = std::strtoull(argv[3], nullptr, 10);
    std::vector<char> buf(block);
    for (uint64_t done = 0; done < total;) {
      auto n = std::min<uint64_t>(block, total - done);
      for (uint64_t i = 0; i < n; ++i) {
        auto at = done + i;
        buf[i] = at % 80 == 79 ? '\n' : static_cast<char>('a' + at % 26);
      }
      if (!write_all(STDOUT_FILENO, buf.data(), n))
        return 1;
      done += n;
    }
    return 0;
  }
  if (cmd == "trickle" && argc == 4) {
    auto lines = std::atoi(argv[2]);
    auto ms = std::atoi(argv[3]);
    for (int i = 0; i < lines; ++i) {
      auto line = "line " + std::to_string(now_ns()) + "\n";
      if (!write_all(STDOUT_FILENO, line.data(), line.size()))
        return 1;
      ::poll(nullptr, 0, ms);
    }
    return 0;
  }
  if (cmd == "relay" && argc == 3) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    auto addr = address(argv[2]);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      std::perror("connect");
      return 1;
    }
    return copy(STDIN_FILENO, fd);
  }
  if (cmd == "pty-relay" && argc == 5) {
    int master = -1;
    int slave = -1;
    if (::openpty(&master, &slave, nullptr, nullptr, nullptr) != 0)
      return 1;
    termios tio;
    ::tcgetattr(slave, &tio);
    tio.c_oflag &= ~static_cast<tcflag_t>(OPOST);
    ::tcsetattr(slave, TCSANOW, &tio);
    auto total = std::strtoull(argv[2], nullptr, 10);
    auto block = std::strtoull(argv[3], nullptr, 10);
    if (::fork() == 0) {
      ::close(master);
      std::vector<char> buf(block, 'x');
      for (uint64_t done = 0; done < total;) {
        auto n = std::min<uint64_t>(block, total - done);
        if (!write_all(slave, buf.data(), n))
          ::_exit(1);
        done += n;
      }
      ::_exit(0);
    }
    ::close(slave);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    auto addr = address(argv[4]);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
      return 1;
    copy(master, fd); // Ends with EIO once the writer is gone.
    return 0;
  }
  if (cmd == "receive" && argc == 4) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    auto addr = address(argv[2]);
    ::unlink(argv[2]);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0
        || ::listen(fd, 1) != 0) {
      std::perror("bind");
      return 1;
    }
    record(std::string{argv[3]} + ".ready", now_ns());
    int conn = ::accept(fd, nullptr, nullptr);
    int out = ::open(argv[3], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    return copy(conn, out);
  }
  if (cmd == "spawn-chain" && argc == 4) {
    auto n = std::atoi(argv[2]);
    std::string base = argv[3];
    for (int k = 0; k < n; ++k) {
      auto file = base + std::to_string(k);
      char self[] = "/proc/self/exe";
      std::vector<char*> args{argv[0], const_cast<char*>("handoff"),
                              file.data(), nullptr};
      pid_t pid = -1;
      if (::posix_spawn(&pid, self, nullptr, nullptr, args.data(), environ)
          != 0)
        return 1;
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
    return 0;
  }
  if (cmd == "launch" && argc >= 5 && std::string{argv[3]} == "--") {
    auto pid = ::fork();
    if (pid == 0) {
      ::execv(argv[4], argv + 4);
      ::_exit(127);
    }
    int status = 0;
    rusage usage{};
    while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR)
      ;
    auto cpu_us = (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000
                  + usage.ru_utime.tv_usec + usage.ru_stime.tv_usec;
    auto text = std::to_string(usage.ru_maxrss) + " " + std::to_string(cpu_us)
                + "\n";
    int fd = ::open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      write_all(fd, text.data(), text.size());
      ::close(fd);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  if (cmd == "parent-cpu" && argc == 3) {
    auto start = now_ns();
    auto cpu = cpu_ns_of(::getppid());
    auto text = std::to_string(cpu) + " " + std::to_string(start) + "\n";
    int fd = ::open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || !write_all(fd, text.data(), text.size()))
      return 1;
    ::close(fd);
    return 0;
  }
  if (cmd == "waiter" && argc == 4) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    auto addr = address(argv[2]);
    while (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
      ::poll(nullptr, 0, 5);
    auto id = std::string{argv[3]};
    auto out = frame(1, R"({"peer":"bench waiter","version":2})")
               + frame(3, R"({"id":)" + id + "}");
    if (!write_all(fd, out.data(), out.size()))
      return 1;
    // The settings follow the `registered` frame (type 4), as a
    // bootstrap's do. Heartbeats are not needed: the benchmark ends long
    // before the lost timeout. Then read until the agent closes.
    std::string in;
    bool configured = false;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) {
      if (configured)
        continue;
      in.append(buf, static_cast<size_t>(n));
      for (size_t pos = 0; in.size() >= pos + 5;) {
        auto p = reinterpret_cast<const unsigned char*>(in.data() + pos);
        auto len = (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16)
                   | (uint32_t{p[2]} << 8) | p[3];
        if (in.size() < pos + 5 + len)
          break;
        if (p[4] == 4) {
          auto settings = frame(14, R"({"always":false})");
          write_all(fd, settings.data(), settings.size());
          configured = true;
          break;
        }
        pos += 5 + len;
      }
    }
    return 0;
  }
  std::fprintf(stderr, "usage: see the comment at the top of bench_tool.cpp\n");
  return 2;
}
