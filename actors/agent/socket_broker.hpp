#pragma once

#include "actors/actors.hpp"
#include "actors/agent/session.hpp"

#include <caf/io/connection_handle.hpp>
#include <caf/stateful_actor.hpp>

#include <cstddef>
#include <map>

namespace baton {

struct socket_broker_config {
  session_config session;
  size_t max_frame_size = defaults::max_frame_size;
  /// Connections served at once; more are refused with an error frame.
  size_t max_connections = 1024;
};

struct socket_broker_state {
  static constexpr const char* name = "socket-broker";

  struct connection {
    wire::frame_decoder decoder;
    session_actor session;
  };

  socket_broker_config config;
  runner_actor runner;
  log_aggregator_actor aggregator;
  std::map<caf::io::connection_handle, connection> connections;
  /// Connections refused for being over the limit (logged once).
  size_t refused = 0;
};

using socket_broker_ptr
  = caf::stateful_actor<socket_broker_state, socket_broker_impl>*;

/// Spawns with `middleman().spawn_broker(socket_broker, fd, runner,
/// aggregator, config)`, where `fd` listens (see `listen_unix`). Every
/// connection gets its own session; frames that do not parse close only
/// that connection.
socket_broker_actor::behavior_type
socket_broker(socket_broker_ptr self, int listen_fd, runner_actor runner,
              log_aggregator_actor aggregator, socket_broker_config config);

} // namespace baton
