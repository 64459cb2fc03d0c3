#pragma once

// What a session does for its connection whichever dialect it speaks:
// baton's frames (session.cpp) or the reference's net/rpc (rpc_session.cpp).
// Both states name these members alike; `Self` is either actor's pointer.

#include "actors/actors.hpp"
#include "actors/agent/session.hpp"
#include "messages/atoms.hpp"
#include "messages/error.hpp"

#include <caf/io/connection_handle.hpp>
#include <caf/send.hpp>

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>
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

/// What a warning about a peer counts toward, by the error that ends its
/// connection: the summary reads "N more <this> in the last 10s".
inline std::string_view counted_as(ec code) {
  switch (code) {
    case ec::handshake_timeout:
      return "connections closed for not registering in time";
    case ec::protocol_mismatch:
      return "connections refused for a protocol mismatch";
    case ec::unexpected_message:
      return "connections refused for unexpected messages";
    case ec::unrecognized_container:
    case ec::duplicate_container: return "registrations refused";
    case ec::truncated_frame: return "connections closed inside a frame";
    default: return "connections refused for malformed frames";
  }
}

/// Logs a warning about the connection. Once it is a container's, that is a
/// warning about the job and always printed. Before, it is about a peer
/// (a scanner, a stray client, a peer in a loop), and a flood of like ones
/// is held back by the shared `warning_limiter`.
template <class Self>
void warn(Self self, std::string_view counted, const std::string& text) {
  auto& st = self->state;
  using phase = decltype(st.phase);
  auto line = st.label + ": " + text;
  auto a_container = st.phase == phase::bound || st.phase == phase::exiting
                     || st.phase == phase::exited;
  if (a_container)
    spdlog::warn("{}", line);
  else
    warn_through(st.config.peer_warnings.get(), {st.name, counted}, line,
                 self->clock().now());
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
