#include "actors/agent/agent_node.hpp"

#include "actors/agent/cancellation_watcher.hpp"
#include "actors/agent/log_aggregator.hpp"
#include "actors/agent/runner.hpp"
#include "actors/agent/socket_broker.hpp"
#include "actors/node.hpp"
#include "job/environment.hpp"
#include "job/redactor.hpp"
#include "messages/duration.hpp"
#include "messages/error.hpp"
#include "os/process.hpp"
#include "os/signals.hpp"
#include "os/unix_socket.hpp"
#include "os/warning_limiter.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <memory>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace baton {

namespace {

// Writes the result document (the result file, or the end marker) next to
// its final name, then renames it, so a reader never sees half a document.
caf::error write_result_file(const std::string& path,
                             const job_result& result) {
  auto tmp = path + ".tmp";
  {
    std::ofstream out{tmp, std::ios::trunc};
    if (!out)
      return make_error(ec::system_error, "cannot write the result file '" + tmp
                                            + "': " + std::strerror(errno));
    out << to_json(result).dump(2) << '\n';
    if (!out.flush())
      return make_error(ec::system_error,
                        "cannot write the result file '" + tmp + "'");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return make_error(ec::system_error, "cannot move the result file into "
                                        "place at '"
                                          + path
                                          + "': " + std::strerror(errno));
  return {};
}

// Removes the socket file if it is still the one this agent created.
void remove_socket(const std::string& path, const struct stat& created) {
  struct stat now;
  if (::lstat(path.c_str(), &now) == 0 && now.st_ino == created.st_ino
      && now.st_dev == created.st_dev)
    ::unlink(path.c_str());
}

} // namespace

int run_agent(const agent_options& options) {
  // Log chunks come and go by the thousand: keep their memory in the heap
  // rather than returning it to the kernel and faulting it in again.
  tune_allocator();
  // Room for the connection limit (1024 by default) and the rest: the soft
  // limit is often 1024 while the hard one is far higher.
  rlimit files;
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < 4096) {
    files.rlim_cur = std::min<rlim_t>(files.rlim_max, 4096);
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
  // Before any thread starts: every thread inherits the mask.
  block_signals({SIGTERM, SIGINT, SIGPIPE});
  setup_logging("baton-agent");
  auto job_env = own_environment();
  if (!options.env_file.empty()) {
    auto extra = read_env_file(options.env_file);
    if (!extra) {
      spdlog::error("{}", render(extra.error()));
      return 2;
    }
    for (auto& [key, value] : *extra)
      job_env[key] = value;
  }
  runner_config rc;
  rc.containers = options.containers;
  rc.env = to_env_list(job_env);
  rc.start_timeout = options.start_timeout;
  rc.names = options.container_names;
  rc.services = options.services;
  rc.services_known = options.services_known;
  rc.summary = !options.no_summary;
  socket_broker_config bc;
  bc.session.lost_timeout = options.lost_timeout;
  bc.session.handshake_timeout = options.handshake_timeout;
  bc.session.heartbeat_interval = std::min<caf::timespan>(
    defaults::heartbeat_interval, options.lost_timeout / 4);
  bc.session.peer_warnings = std::make_shared<warning_limiter>();
  // Every container receives the environment in one frame.
  auto env_frame = wire::encode(wire::registered{rc.env});
  if (env_frame.body.size() > bc.max_frame_size) {
    spdlog::error("the job environment takes {} bytes, over the frame limit "
                  "of {} bytes",
                  env_frame.body.size(), bc.max_frame_size);
    return 2;
  }
  for (auto err : {rc.validate(), bc.session.validate()}) {
    if (err) {
      spdlog::error("{}", render(err));
      return 2;
    }
  }
  log_sink_ptr sink;
  if (options.log_file.empty()) {
    sink = make_fd_sink(STDOUT_FILENO, "stdout", false);
  } else {
    auto file = open_file_sink(options.log_file);
    if (!file) {
      spdlog::error("{}", render(file.error()));
      return 2;
    }
    sink = *file;
  }
  // A marker left by an earlier job in this directory must not turn this
  // job's containers away: it goes before the socket appears.
  auto marker = options.job_context_dir + "/" + defaults::done_marker_name;
  if (::unlink(marker.c_str()) == 0)
    spdlog::info("removed the marker of an earlier job, {}", marker);
  auto fd = listen_unix(options.socket);
  if (!fd) {
    spdlog::error("{}", render(fd.error()));
    return 2;
  }
  struct stat socket_stat {};
  ::lstat(options.socket.c_str(), &socket_stat);
  // The reference's RPC dialect, for stock Buildkite clients.
  int rpc_fd = -1;
  struct stat rpc_socket_stat {};
  if (!options.rpc_socket.empty()) {
    auto listening = listen_unix(options.rpc_socket);
    if (!listening) {
      spdlog::error("{}", render(listening.error()));
      remove_socket(options.socket, socket_stat);
      return 2;
    }
    rpc_fd = *listening;
    ::lstat(options.rpc_socket.c_str(), &rpc_socket_stat);
  }
  if (rpc_fd >= 0)
    spdlog::info("listening on {} and {} for {} containers", options.socket,
                 options.rpc_socket, options.containers);
  else
    spdlog::info("listening on {} for {} containers", options.socket,
                 options.containers);
  // One worker (the log aggregator has a thread of its own): every hop
  // between threads costs a wake-up (measured: a third less CPU per GiB
  // than two workers).
  node_config cfg{1};
  caf::actor_system sys{cfg};
  // On a thread of its own: a slow job log blocks its writes, never the
  // sessions' heartbeats, registrations or hand-offs.
  log_aggregator_config lc;
  lc.containers = rc.containers;
  lc.patterns = redaction_patterns(job_env);
  lc.secrets = secrets_of(job_env, lc.patterns);
  lc.timestamp_lines = options.timestamp_lines;
  if (!lc.secrets.empty())
    spdlog::info("redacting the values of {} secret variables from the job "
                 "log",
                 lc.secrets.size());
  auto aggregator_hdl = sys.spawn<caf::detached>(log_aggregator, sink,
                                                 std::move(lc));
  auto runner_hdl = sys.spawn(runner, rc, aggregator_hdl);
  auto broker_hdl = sys.middleman().spawn_broker(
    socket_broker, *fd, rpc_fd, runner_hdl, aggregator_hdl, bc);
  auto watcher_hdl = sys.spawn(cancellation_watcher, runner_hdl,
                               options.cancel_grace_period);
  watch_signals({SIGTERM, SIGINT}, [watcher_hdl](int signo) {
    caf::anon_send(watcher_hdl, atom::signal::value, signo);
  });
  job_result result;
  caf::scoped_actor self{sys};
  self->request(runner_hdl, caf::infinite, atom::done::value)
    .receive([&](job_result& x) { result = std::move(x); },
             [&](caf::error& err) {
               result.status = defaults::not_connected_status;
               result.reason = "the runner failed: " + render(err);
             });
  self->request(aggregator_hdl, std::chrono::seconds{5}, atom::status::value)
    .receive(
      [&](std::vector<uint64_t>& bytes) {
        for (size_t id = 0; id < bytes.size() && id < result.containers.size();
             ++id)
          result.containers[id].log_bytes = bytes[id];
      },
      [&](caf::error& err) {
        spdlog::warn("cannot count the log bytes: {}", render(err));
      });
  int code = exit_status_for(result.status);
  if (!options.result_file.empty()) {
    if (auto err = write_result_file(options.result_file, result)) {
      spdlog::error("{}", render(err));
      code = code == 0 ? 1 : code;
    }
  }
  // Containers that start from now on, or still wait for the socket, give
  // up at once instead of waiting for their connect timeout.
  if (auto err = write_result_file(marker, result))
    spdlog::warn("cannot leave the job's end marker: {}", render(err));
  bc.session.peer_warnings->flush_all(warning_limiter::clock::now());
  // A failed job is worth a warning: on Kubernetes the agent logs warnings
  // only, beside the job log, and this line holds the exact status.
  spdlog::log(result.status == 0 ? spdlog::level::info : spdlog::level::warn,
              "job {} with status {}: {}",
              result.interrupted ? "interrupted" : "done", result.status,
              result.reason);
  caf::anon_send(broker_hdl, atom::stop::value);
  remove_socket(options.socket, socket_stat);
  if (rpc_fd >= 0)
    remove_socket(options.rpc_socket, rpc_socket_stat);
  spdlog::default_logger()->flush();
  // Skip the actor system's teardown: a peer that stopped reading could
  // hold queued writes, and nothing is left to do.
  std::fflush(nullptr);
  ::_exit(code);
}

} // namespace baton
