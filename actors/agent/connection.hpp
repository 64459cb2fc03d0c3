#pragma once

// What a session does for its connection whichever dialect it speaks:
// baton's frames (session.cpp) or the reference's net/rpc (rpc_session.cpp).
// Both states name these members alike; `Self` is either actor's pointer.

#include "actors/actors.hpp"
#include "actors/agent/session.hpp"
#include "messages/atoms.hpp"

#include <caf/io/connection_handle.hpp>
#include <caf/send.hpp>

#include <string>
#include <utility>

namespace baton::connection {

/// Fills in a new session's state and arms its handshake deadline: a peer
/// that never registers is closed, as it would otherwise hold a connection
/// slot for as long as the agent runs.
template <class Self, class Peer>
void open(Self self, caf::io::connection_handle hdl, Peer peer,
          runner_actor runner, log_aggregator_actor aggregator,
          const session_config& config, const char* kind) {
  auto& st = self->state;
  st.config = config;
  st.hdl = hdl;
  st.peer = std::move(peer);
  st.runner = std::move(runner);
  st.aggregator = std::move(aggregator);
  st.label = std::string{kind} + " " + std::to_string(hdl.id());
  st.last_heard = self->clock().now();
  self->delayed_send(self, st.config.handshake_timeout, atom::tick::value);
}

/// Reads in large pieces only while the container streams: from its turn
/// to its exit report. A waiting connection costs a small buffer.
template <class Self>
void set_streaming(Self self, bool on) {
  auto& st = self->state;
  if (st.streaming == on)
    return;
  st.streaming = on;
  self->send(st.peer, atom::stream::value, st.hdl, on);
}

/// The connection ends. A container that registered but did not report its
/// exit status is lost at once (reference: noticed only after 30 s).
template <class Self>
void finish(Self self, const std::string& why) {
  auto& st = self->state;
  using phase = decltype(st.phase);
  if (st.phase == phase::closed)
    return;
  auto was = std::exchange(st.phase, phase::closed);
  if (was == phase::bound || was == phase::exiting) {
    caf::anon_send(st.aggregator, atom::eof::value, st.id);
    self->send(st.runner, atom::lost::value, st.id, why);
  }
  self->quit();
}

} // namespace baton::connection
