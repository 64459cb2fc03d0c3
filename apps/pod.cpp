// `baton pod`: a pod on one machine. Plays the part of Kubernetes: makes
// the shared volume, starts every container's process in no particular
// order, and collects the agent's status.

#include "apps/pod.hpp"

#include "job/environment.hpp"
#include "job/pod_spec.hpp"
#include "messages/duration.hpp"
#include "messages/error.hpp"
#include "os/child_process.hpp"
#include "os/process.hpp"
#include "os/signals.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace baton {

namespace {

struct process_spec {
  std::string name;
  std::vector<std::string> argv;
  env_map env;
  std::string working_dir;
  /// Where stdout goes; empty: inherited.
  std::string stdout_file;
};

caf::expected<pid_t> start(const process_spec& spec) {
  // As container runtimes do, a missing working directory is created.
  std::error_code err;
  if (!spec.working_dir.empty())
    std::filesystem::create_directories(spec.working_dir, err);
  if (err)
    return make_error(ec::system_error, "cannot create the working directory '"
                                          + spec.working_dir
                                          + "': " + err.message());
  auto argv = c_strings(spec.argv);
  auto env_list = to_env_list(spec.env);
  auto envp = c_strings(env_list);
  int out = -1;
  if (!spec.stdout_file.empty()) {
    out = ::open(spec.stdout_file.c_str(),
                 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0)
      return make_error(ec::system_error, "cannot create '" + spec.stdout_file
                                            + "': " + std::strerror(errno));
  }
  auto pid = ::fork();
  if (pid < 0)
    return make_error(ec::system_error,
                      std::string{"cannot fork: "} + std::strerror(errno));
  if (pid == 0) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // Each container in a process group of its own, as in a pod.
    ::setpgid(0, 0);
    if (out >= 0)
      ::dup2(out, STDOUT_FILENO);
    if (!spec.working_dir.empty() && ::chdir(spec.working_dir.c_str()) != 0)
      ::_exit(126);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  if (out >= 0)
    ::close(out);
  return pid;
}

caf::error write_env_file(const std::string& path, const env_map& env) {
  std::ofstream out{path};
  for (auto& [key, value] : env) {
    if (value.find('\n') != std::string::npos)
      return make_error(ec::invalid_argument,
                        "pod spec: env." + key
                          + ": values with newlines are not supported");
    out << key << '=' << value << '\n';
  }
  if (!out.flush())
    return make_error(ec::system_error, "cannot write '" + path + "'");
  return {};
}

} // namespace

int run_pod(const pod_options& options) {
  block_signals({SIGTERM, SIGINT});
  // Quiet by default: the job log and warnings, as `kubectl logs` shows
  // them. --verbose (or BATON_LOG_LEVEL) brings back the nodes' info lines.
  // A level already set wins; the nodes inherit `own`, level included.
  auto own = own_environment();
  auto level
    = own.try_emplace("BATON_LOG_LEVEL", options.verbose ? "info" : "warn")
        .first;
  setup_logging("baton-pod", level->second.c_str());
  auto spec = read_pod_spec(options.spec_file);
  if (!spec) {
    spdlog::error("{}", render(spec.error()));
    return 2;
  }
  if (std::any_of(spec->containers.begin(), spec->containers.end(),
                  [](auto& c) { return !c.resources.empty(); })
      || spec->agent_resources != default_agent_resources)
    spdlog::info("the spec's resources are for Kubernetes: local processes "
                 "run without them");
  char tmpl[] = "/tmp/baton-pod-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) {
    spdlog::error("cannot create the job context directory: {}",
                  std::strerror(errno));
    return 2;
  }
  std::string dir = tmpl;
  // Containers may run as other uids.
  ::chmod(dir.c_str(), 0777);
  auto env_file = dir + "/job.env";
  if (auto err = write_env_file(env_file, spec->env)) {
    spdlog::error("{}", render(err));
    return 2;
  }
  auto exe = executable_path();
  auto n = spec->containers.size();
  std::vector<process_spec> procs;
  process_spec agent{"agent",
                     {exe, "agent", "--containers", std::to_string(n),
                      "--job-context-dir", dir, "--env-file", env_file},
                     own,
                     "",
                     ""};
  if (!options.log_file.empty())
    agent.argv.insert(agent.argv.end(), {"--log-file", options.log_file});
  if (!options.result_file.empty())
    agent.argv.insert(agent.argv.end(), {"--result-file", options.result_file});
  if (spec->timestamp_lines)
    agent.argv.push_back("--timestamp-lines");
  if (options.no_summary)
    agent.argv.push_back("--no-summary");
  agent.argv.insert(agent.argv.end(),
                    {"--container-names", container_names(*spec), "--services",
                     service_ids(*spec)});
  procs.push_back(agent);
  for (size_t id = 0; id < n; ++id) {
    auto& c = spec->containers[id];
    process_spec p{c.name,
                   {exe, "bootstrap", "--container-id", std::to_string(id),
                    "--job-context-dir", dir, "--"},
                   own,
                   c.working_dir,
                   dir + "/" + c.name + ".log"};
    p.argv.insert(p.argv.end(), c.command.begin(), c.command.end());
    // As the rendered manifest does: the container knows its own id and
    // its step settings.
    for (auto& [key, value] : container_env(c, id))
      p.env[key] = value;
    procs.push_back(std::move(p));
  }
  // Kubernetes starts the containers in no particular order.
  std::vector<size_t> order(procs.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  auto seed = options.seed ? *options.seed : std::random_device{}();
  std::mt19937_64 rng{seed};
  std::shuffle(order.begin(), order.end(), rng);
  std::string order_text;
  for (auto i : order)
    order_text += " " + procs[i].name;
  spdlog::info("job context directory {}; starting (seed {}):{}", dir, seed,
               order_text);
  std::vector<pid_t> pids(procs.size(), -1);
  for (auto i : order) {
    auto pid = start(procs[i]);
    if (!pid) {
      spdlog::error("cannot start {}: {}", procs[i].name, render(pid.error()));
      for (auto p : pids)
        if (p > 0)
          ::kill(-p, SIGKILL);
      return 2;
    }
    pids[i] = *pid;
  }
  auto agent_pid = pids[0];
  // Cancelling the pod cancels the job: the agent decides the rest.
  watch_signals({SIGTERM, SIGINT},
                [agent_pid](int signo) { ::kill(agent_pid, signo); });
  // The job's timeout cancels it, as Kubernetes's activeDeadlineSeconds
  // stops the pod: the agent interrupts the job.
  struct deadline_state {
    std::mutex mtx;
    std::condition_variable cv;
    bool agent_done = false;
  };
  auto job_deadline = std::make_shared<deadline_state>();
  if (!spec->timeout.empty()) {
    auto timeout = *parse_duration(spec->timeout);
    std::thread{[job_deadline, timeout, agent_pid, text = spec->timeout] {
      auto& st = *job_deadline;
      std::unique_lock<std::mutex> guard{st.mtx};
      if (st.cv.wait_for(guard, timeout, [&] { return st.agent_done; }))
        return;
      spdlog::warn("the job ran past its timeout of {}; cancelling it", text);
      ::kill(agent_pid, SIGTERM);
    }}.detach();
  }
  int status = 0;
  while (::waitpid(agent_pid, &status, 0) < 0 && errno == EINTR)
    ; // Retry.
  {
    std::lock_guard<std::mutex> guard{job_deadline->mtx};
    job_deadline->agent_done = true;
  }
  job_deadline->cv.notify_all();
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  // The bootstraps end on their own once the agent is gone, within their
  // cancel timeouts; past those, they are killed as a kubelet would.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
  size_t alive = procs.size() - 1;
  while (alive > 0) {
    alive = 0;
    for (size_t i = 1; i < pids.size(); ++i) {
      if (pids[i] <= 0)
        continue;
      if (::waitpid(pids[i], nullptr, WNOHANG) == pids[i])
        pids[i] = -1;
      else
        ++alive;
    }
    if (alive == 0)
      break;
    if (std::chrono::steady_clock::now() > deadline) {
      for (size_t i = 1; i < pids.size(); ++i) {
        if (pids[i] > 0) {
          spdlog::warn("{} did not exit; killing it", procs[i].name);
          ::kill(-pids[i], SIGKILL);
          ::waitpid(pids[i], nullptr, 0);
        }
      }
      break;
    }
    ::poll(nullptr, 0, 10);
  }
  if (options.keep) {
    spdlog::info("kept the job context directory {}", dir);
  } else {
    std::string cmd = "rm -rf -- '" + dir + "'";
    if (std::system(cmd.c_str()) != 0)
      spdlog::warn("cannot remove {}", dir);
  }
  return code;
}

} // namespace baton
