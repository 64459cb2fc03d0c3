#pragma once

// What must hold of the runner's state after any input, checked by both
// session fuzz targets.

#include "actors/agent/runner.hpp"

#include <caf/actor_cast.hpp>
#include <caf/stateful_actor.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>

namespace baton::fuzz {

inline void check_runner_invariants(const runner_actor& r) {
  auto& st
    = dynamic_cast<caf::stateful_actor<runner_state, runner_actor::base>&>(
        *caf::actor_cast<caf::abstract_actor*>(r))
        .state;
  // A container that registered is connected, exited or lost; a skipped
  // one may or may not have registered before its turn was passed over.
  uint32_t surely_registered = 0;
  uint32_t maybe_registered = 0;
  for (auto& c : st.containers) {
    if (c.state == container_state::connected
        || c.state == container_state::exited
        || c.state == container_state::lost)
      ++surely_registered;
    if (c.state != container_state::not_yet_connected)
      ++maybe_registered;
    // A connected container has a session; a skipped one may keep its
    // session (the runner tells it it is skipped through it); no other has.
    if (c.state == container_state::connected && !c.session)
      std::abort();
    if (c.session && c.state != container_state::connected
        && c.state != container_state::skipped)
      std::abort();
    if (c.state == container_state::connected && st.finished(c))
      std::abort();
  }
  if (st.registered < surely_registered || st.registered > maybe_registered)
    std::abort();
}

/// The bytes of the job log the runner wrote itself (the lines that say a
/// container was skipped), which the log bytes sent do not account for.
inline size_t runner_lines_size(const std::string& log) {
  static constexpr char prefix[] = "~~~ Skipping container ";
  size_t total = 0;
  for (auto pos = log.find(prefix); pos != std::string::npos;
       pos = log.find(prefix, pos + 1)) {
    auto end = log.find('\n', pos);
    total += (end == std::string::npos ? log.size() : end + 1) - pos;
  }
  return total;
}

} // namespace baton::fuzz
