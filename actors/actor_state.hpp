#pragma once

// Test access to an actor's state, for the deterministic tests and the
// fuzz targets, both of which run every actor on one thread.

#include <caf/actor_cast.hpp>
#include <caf/stateful_actor.hpp>

namespace baton::testing {

/// The state of the stateful typed actor `hdl`.
template <class State, class Handle>
State& state_of(const Handle& hdl) {
  using impl = caf::stateful_actor<State, typename Handle::base>;
  auto ptr = caf::actor_cast<caf::abstract_actor*>(hdl);
  return dynamic_cast<impl&>(*ptr).state;
}

} // namespace baton::testing
