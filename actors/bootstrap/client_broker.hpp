#pragma once

#include "actors/actors.hpp"
#include "actors/bootstrap/bootstrap.hpp"

#include <caf/stateful_actor.hpp>

namespace baton {

struct client_broker_state {
  static constexpr const char* name = "client-broker";

  wire::frame_decoder decoder;
  bootstrap_actor bootstrap;
  /// The one connection to the agent, while it is open. A bootstrap never
  /// opens another, but a write or close that arrives after this one closed
  /// must not act on whatever later takes its descriptor number.
  caf::io::connection_handle hdl;
  bool open = true;
};

using client_broker_ptr
  = caf::stateful_actor<client_broker_state, client_broker_impl>*;

/// Spawns with `middleman().spawn_broker(client_broker, fd, runner,
/// config)`, where `fd` is connected to the agent. Spawns the bootstrap
/// actor for that connection and quits when it does.
client_broker_impl::behavior_type client_broker(client_broker_ptr self, int fd,
                                                command_runner_ptr runner,
                                                bootstrap_config config);

} // namespace baton
