#include "actors/node.hpp"

#include "messages/atoms.hpp"

#include <caf/io/middleman.hpp>

namespace baton {

node_config::node_config(size_t workers) {
  load<caf::io::middleman>();
  // Work sharing: idle workers block on a condition variable and wake at
  // once. The default work stealing polls and, once idle, sleeps 10 ms
  // between polls, which would add up to 10 ms to every hand-off.
  set("scheduler.policy", caf::atom("sharing"));
  set("scheduler.max-threads", workers);
  set("middleman.workers", 0);
  set("logger.verbosity", caf::atom("quiet"));
  baton::add_message_types(*this);
}

} // namespace baton
