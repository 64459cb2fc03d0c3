#include "actors/bootstrap/bootstrap_node.hpp"

#include "actors/bootstrap/client_broker.hpp"
#include "actors/bootstrap/rpc_client_broker.hpp"
#include "actors/node.hpp"
#include "job/environment.hpp"
#include "job/steps.hpp"
#include "messages/duration.hpp"
#include "messages/error.hpp"
#include "os/process.hpp"
#include "os/signals.hpp"
#include "os/unix_socket.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/send.hpp>

#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <future>

#include <unistd.h>

namespace baton {

int run_bootstrap(const bootstrap_options& options) {
  use_one_arena();
  // Reference: these are logged and swallowed; the agent decides.
  std::vector<int> swallowed = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};
  block_signals({SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE});
  auto name = "baton-bootstrap-" + std::to_string(options.container_id);
  setup_logging(name.c_str());
  // Stock runners know nothing of services: say so before connecting.
  auto own = own_environment();
  if (auto service = own.find(service_variable);
      options.protocol == dialect::buildkite && service != own.end()
      && service->second == "true") {
    spdlog::error("{}=true needs baton's protocol (--protocol baton): the "
                  "reference's has no services",
                  service_variable);
    return defaults::not_started_status;
  }
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
    options.connect_timeout);
  // A container that starts after the job ended (or while it ends) finds
  // the agent's marker and gives up at once, rather than keeping its pod
  // alive until the connect timeout.
  auto marker = options.job_context_dir + "/" + defaults::done_marker_name;
  auto fd = connect_unix_wait(options.socket, timeout, marker);
  if (!fd && code_of(fd.error()) == ec::job_over) {
    spdlog::warn("skipping container {}: {}", options.container_id,
                 render(fd.error()));
    return defaults::skipped_status;
  }
  if (!fd) {
    spdlog::error("cannot connect to the agent within {}: {}",
                  format_duration(options.connect_timeout), render(fd.error()));
    return defaults::not_started_status;
  }
  std::promise<int> done;
  auto status = done.get_future();
  bootstrap_config config;
  config.container_id = options.container_id;
  config.command = options.command;
  config.own_env = std::move(own);
  config.protocol = options.protocol;
  config.job_context_dir = options.job_context_dir;
  config.bin_path = executable_dir();
  config.stdout_fd = STDOUT_FILENO;
  config.on_done = [&done](int code) { done.set_value(code); };
  node_config cfg{1};
  caf::actor_system sys{cfg};
  auto runner = make_process_runner(STDOUT_FILENO, defaults::log_chunk_size);
  // The bootstrap actor is the same for both dialects; the broker
  // translates.
  caf::actor broker;
  if (options.protocol == dialect::buildkite)
    broker = caf::actor_cast<caf::actor>(sys.middleman().spawn_broker(
      rpc_client_broker, *fd, runner, std::move(config)));
  else
    broker = caf::actor_cast<caf::actor>(sys.middleman().spawn_broker(
      client_broker, *fd, runner, std::move(config)));
  watch_signals(swallowed, [broker](int signo) {
    caf::anon_send(broker, atom::signal::value, signo);
  });
  auto code = status.get();
  spdlog::default_logger()->flush();
  std::fflush(nullptr);
  // Skip the actor system's teardown: the output reader may still block on
  // a pty that a background process holds open.
  ::_exit(code);
}

} // namespace baton
