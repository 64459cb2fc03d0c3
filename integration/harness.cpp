#include "integration/harness.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include <dirent.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace baton::integration {

namespace {

// Kills and reaps every child of this process. The test process adopts the
// orphans of the processes it started (a command whose bootstrap was
// killed, say), so nothing a test started outlives it and burns CPU under
// the tests that follow.
void kill_children() {
  auto self = ::getpid();
  for (bool found = true; found;) {
    found = false;
    auto dir = ::opendir("/proc");
    if (dir == nullptr)
      return;
    while (auto entry = ::readdir(dir)) {
      auto pid = std::atoi(entry->d_name);
      if (pid <= 0)
        continue;
      // The parent pid is the second field after the ")" of the name.
      auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
      auto paren = stat.rfind(')');
      if (paren == std::string::npos)
        continue;
      char state = 0;
      int ppid = 0;
      if (std::sscanf(stat.c_str() + paren + 1, " %c %d", &state, &ppid) != 2
          || ppid != self)
        continue;
      found = true;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    ::closedir(dir);
  }
}

class reap_leftovers : public ::testing::EmptyTestEventListener {
  void OnTestEnd(const ::testing::TestInfo&) override {
    kill_children();
  }
};

// Installed before any test runs.
const bool reaper_installed = [] {
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  ::testing::UnitTest::GetInstance()->listeners().Append(new reap_leftovers);
  return true;
}();

// Fails the test where the Go peer (the stock clients and the stock
// runner) was not built.
void expect_peer_built() {
  auto exe = test_support::buildkite_peer_exe();
  EXPECT_TRUE(file_exists(exe))
    << "the Go peer " << exe
    << " was not built: install golang-go (.ci/deps test) and reconfigure";
}

// A temporary directory left behind fails the test that made it.
void fail_removal(const std::string& path) {
  ADD_FAILURE() << "cannot remove " << path;
}

} // namespace

command_reaper::~command_reaper() {
  auto text = read_file(pid_file);
  if (!text.empty())
    ::kill(-std::stoi(text), SIGKILL);
}

std::string zero_durations(const std::string& log) {
  auto is_seconds = [](std::string_view x) {
    // "2.41s": digits, a point, two digits, an s.
    auto point = x.find('.');
    if (point == 0 || point == std::string_view::npos || x.size() != point + 4
        || x.back() != 's')
      return false;
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    return std::all_of(x.begin(), x.begin() + point, digit)
           && digit(x[point + 1]) && digit(x[point + 2]);
  };
  static constexpr std::string_view after = " after ";
  std::string out;
  out.reserve(log.size());
  for (size_t start = 0; start < log.size();) {
    auto end = std::min(log.find('\n', start), log.size());
    std::string_view line{log.data() + start, end - start};
    auto at = line.rfind(after);
    // "~~~ " starts the line, or follows a timestamp ("...:00.000Z ").
    auto marker = line.find("~~~ ");
    bool agents = marker == 0 || (marker == 25 && line[23] == 'Z');
    if (agents && at != std::string_view::npos
        && is_seconds(line.substr(at + after.size()))) {
      out.append(line.substr(0, at + after.size())).append("0.00s");
      out.append(log, end, end < log.size() ? 1 : 0);
    } else {
      out.append(log, start, end + 1 - start);
    }
    start = end + 1;
  }
  return out;
}

std::string passed_line(int id) {
  auto n = std::to_string(id);
  return "~~~ Container " + n + " (container-" + n + ") passed after 0.00s\n";
}

size_t position(const std::string& haystack, const std::string& needle) {
  auto pos = haystack.find(needle);
  EXPECT_NE(pos, std::string::npos) << "'" << needle << "' not in:\n"
                                    << haystack;
  return pos;
}

void expect_in_order(const std::string& text,
                     const std::vector<std::string>& needles) {
  size_t last = 0;
  for (size_t i = 0; i < needles.size(); ++i) {
    auto pos = position(text, needles[i]);
    if (i > 0) {
      EXPECT_LT(last, pos) << "'" << needles[i - 1] << "' before '"
                           << needles[i] << "'";
    }
    last = pos;
  }
}

// 0777: containers may run as other uids.
temp_dir::temp_dir()
  : test_support::temp_dir{"/tmp/baton-it-", 0777, fail_removal} {
  // nop
}

std::string shell_wait_for(const std::string& path) {
  return "while [ ! -e " + path + " ]; do sleep 0.01; done";
}

raw_peer::raw_peer(const std::string& socket_path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof(addr.sun_path) - 1);
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    close();
}

raw_peer::~raw_peer() {
  close();
}

void raw_peer::close() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

bool raw_peer::send(const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::send(fd_, bytes.data() + done, bytes.size() - done,
                    MSG_NOSIGNAL);
    if (n <= 0)
      return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

std::optional<std::string>
raw_peer::read_to_end(std::chrono::milliseconds timeout) {
  std::string result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    pollfd pfd{fd_, POLLIN, 0};
    if (left.count() <= 0
        || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0)
      return std::nullopt;
    char buf[4096];
    auto n = ::read(fd_, buf, sizeof(buf));
    if (n <= 0)
      return result;
    result.append(buf, static_cast<size_t>(n));
  }
}

bool raw_peer::read_until(const std::string& needle,
                          std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (received_.find(needle) == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    pollfd pfd{fd_, POLLIN, 0};
    if (left.count() <= 0
        || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0)
      return false;
    char buf[4096];
    auto n = ::read(fd_, buf, sizeof(buf));
    if (n <= 0)
      return false;
    received_.append(buf, static_cast<size_t>(n));
  }
  return true;
}

std::string frame_bytes(uint8_t type, const std::string& body) {
  auto n = static_cast<uint32_t>(body.size());
  std::string out;
  out += static_cast<char>((n >> 24) & 0xFF);
  out += static_cast<char>((n >> 16) & 0xFF);
  out += static_cast<char>((n >> 8) & 0xFF);
  out += static_cast<char>(n & 0xFF);
  out += static_cast<char>(type);
  return out + body;
}

job::job(uint32_t containers)
  : dir{temp_dir{}, containers, test_support::stdout_sink::file} {
  // nop
}

process& job::start_agent(std::vector<std::string> extra_args,
                          std::map<std::string, std::string> env) {
  extra_args.insert(extra_args.begin(), {"--result-file", result_file()});
  if (!summary)
    extra_args.push_back("--no-summary");
  agent = std::make_unique<process>(dir.start_agent(extra_args, env));
  return *agent;
}

process& job::start_bootstrap(int id, const std::string& command,
                              std::map<std::string, std::string> env,
                              std::vector<std::string> prefix) {
  std::vector<std::string> argv;
  if (!command.empty())
    argv = {"sh", "-c", command};
  bootstraps.push_back(
    std::make_unique<process>(dir.start_bootstrap(id, argv, env, prefix)));
  return *bootstraps.back();
}

process& job::start_stock_client(int id, const std::string& command,
                                 std::map<std::string, std::string> env,
                                 const std::string& poll) {
  expect_peer_built();
  bootstraps.push_back(std::make_unique<process>(
    dir.start_stock_client(id, {"sh", "-c", command}, poll, env)));
  return *bootstraps.back();
}

process& job::start_stock_runner(std::vector<std::string> extra_args) {
  expect_peer_built();
  agent = std::make_unique<process>(dir.start_stock_runner(extra_args));
  return *agent;
}

} // namespace baton::integration
