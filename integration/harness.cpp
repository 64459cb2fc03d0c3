#include "integration/harness.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace baton::integration {

const char* const unset = "\x01unset";

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

} // namespace

std::string baton_exe() {
  return BATON_EXE;
}

std::string buildkite_peer_exe() {
  std::string exe = BUILDKITE_PEER;
  EXPECT_TRUE(file_exists(exe))
    << "the Go peer " << exe
    << " was not built: install golang-go (.ci/deps test) and reconfigure";
  return exe;
}

command_reaper::~command_reaper() {
  auto text = read_file(pid_file);
  if (!text.empty())
    ::kill(-std::stoi(text), SIGKILL);
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

temp_dir::temp_dir() {
  char tmpl[] = "/tmp/baton-it-XXXXXX";
  path_ = ::mkdtemp(tmpl);
  // Containers may run as other uids.
  ::chmod(path_.c_str(), 0777);
}

temp_dir::~temp_dir() {
  std::string cmd = "rm -rf -- '" + path_ + "'";
  if (std::system(cmd.c_str()) != 0)
    ADD_FAILURE() << "cannot remove " << path_;
}

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << content;
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string shell_wait_for(const std::string& path) {
  return "while [ ! -e " + path + " ]; do sleep 0.01; done";
}

bool wait_until(const std::function<bool()>& predicate,
                std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    ::poll(nullptr, 0, 5);
  }
  return true;
}

process::process(std::vector<std::string> argv,
                 const std::string& output_prefix,
                 std::map<std::string, std::string> env)
  : out_path_(output_prefix + ".out"), err_path_(output_prefix + ".err") {
  std::map<std::string, std::string> merged;
  for (auto p = environ; *p != nullptr; ++p) {
    std::string entry = *p;
    auto eq = entry.find('=');
    if (eq != std::string::npos)
      merged[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  for (auto& [key, value] : env) {
    if (value == unset)
      merged.erase(key);
    else
      merged[key] = value;
  }
  std::vector<std::string> env_list;
  for (auto& [key, value] : merged)
    env_list.push_back(key + "=" + value);
  std::vector<char*> c_argv;
  for (auto& arg : argv)
    c_argv.push_back(arg.data());
  c_argv.push_back(nullptr);
  std::vector<char*> c_env;
  for (auto& entry : env_list)
    c_env.push_back(entry.data());
  c_env.push_back(nullptr);
  int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::setpgid(0, 0);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, STDIN_FILENO);
    ::execve(c_argv[0], c_argv.data(), c_env.data());
    ::_exit(127);
  }
  ::close(out);
  ::close(err);
}

process::~process() {
  if (running()) {
    ::kill(-pid_, SIGKILL);
    ::kill(pid_, SIGKILL);
    wait(10s);
  }
}

void process::signal(int signo) const {
  ::kill(pid_, signo);
}

std::optional<int> process::wait(std::chrono::milliseconds timeout) {
  if (status_)
    return status_;
  wait_until(
    [this] {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) != pid_)
        return false;
      status_ = WIFEXITED(status) ? WEXITSTATUS(status)
                                  : 128 + WTERMSIG(status);
      return true;
    },
    timeout);
  return status_;
}

bool process::running() {
  return !wait(0ms).has_value();
}

std::string process::out() const {
  return read_file(out_path_);
}

std::string process::err() const {
  return read_file(err_path_);
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

job::job(uint32_t containers) : containers(containers) {
  // nop
}

process& job::start_agent(std::vector<std::string> extra_args,
                          std::map<std::string, std::string> env) {
  std::vector<std::string> argv
    = {baton_exe(),         "agent",
       "--containers",      std::to_string(containers),
       "--job-context-dir", dir.path(),
       "--log-file",        log_file(),
       "--result-file",     result_file()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  agent = std::make_unique<process>(argv, dir / "agent", std::move(env));
  return *agent;
}

process& job::start_bootstrap(int id, const std::string& command,
                              std::map<std::string, std::string> env,
                              std::vector<std::string> prefix) {
  auto argv = prefix;
  argv.insert(argv.end(),
              {baton_exe(), "bootstrap", "--container-id", std::to_string(id),
               "--job-context-dir", dir.path()});
  if (!command.empty())
    argv.insert(argv.end(), {"--", "sh", "-c", command});
  auto name = dir
              / ("bootstrap-" + std::to_string(id) + "-"
                 + std::to_string(bootstraps.size()));
  bootstraps.push_back(std::make_unique<process>(argv, name, std::move(env)));
  return *bootstraps.back();
}

process& job::start_stock_client(int id, const std::string& command,
                                 std::map<std::string, std::string> env,
                                 const std::string& poll) {
  std::vector<std::string> argv = {buildkite_peer_exe(),
                                   "client",
                                   "--socket",
                                   rpc_socket(),
                                   "--id",
                                   std::to_string(id),
                                   "--poll",
                                   poll,
                                   "--",
                                   "sh",
                                   "-c",
                                   command};
  auto name = dir
              / ("stock-client-" + std::to_string(id) + "-"
                 + std::to_string(bootstraps.size()));
  bootstraps.push_back(std::make_unique<process>(argv, name, std::move(env)));
  return *bootstraps.back();
}

process& job::start_stock_runner(std::vector<std::string> extra_args) {
  std::vector<std::string> argv
    = {buildkite_peer_exe(), "runner",       "--socket",
       rpc_socket(),         "--containers", std::to_string(containers),
       "--log-file",         log_file()};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  agent = std::make_unique<process>(argv, dir / "stock-runner");
  return *agent;
}

} // namespace baton::integration
