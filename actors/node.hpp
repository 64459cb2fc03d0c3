#pragma once

// What the agent and bootstrap nodes share: the configuration of their
// actor systems.

#include <caf/actor_system_config.hpp>

#include <cstddef>

namespace baton {

/// The actor system of a node: the io middleman, `workers` scheduler
/// threads of the work-sharing kind, baton's message types.
struct node_config : caf::actor_system_config {
  explicit node_config(size_t workers);
};

} // namespace baton
