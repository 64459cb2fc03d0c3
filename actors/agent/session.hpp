#pragma once

#include "actors/actors.hpp"
#include "messages/defaults.hpp"
#include "os/warning_limiter.hpp"

#include <caf/actor_clock.hpp>
#include <caf/io/connection_handle.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace baton {

struct session_config {
  /// The smallest log window: room for a bootstrap's header line.
  static constexpr uint64_t min_log_window = 4096;

  /// Silence after which a registered container counts as lost.
  caf::timespan lost_timeout = defaults::lost_timeout;
  /// How often the bootstrap must send a heartbeat (told in the welcome).
  caf::timespan heartbeat_interval = defaults::heartbeat_interval;
  /// Log bytes the peer may have in flight.
  uint64_t log_window = defaults::log_window;
  /// How long the peer has to say hello and register.
  caf::timespan handshake_timeout = defaults::handshake_timeout;
  /// Where warnings about connections that are no container's go, shared
  /// by every session and the broker; null prints each one.
  std::shared_ptr<warning_limiter> peer_warnings;

  caf::error validate() const;
};

/// Where a session is in the protocol.
enum class session_phase : uint8_t {
  /// Waiting for the peer's hello.
  handshake,
  /// Waiting for the peer's register (or status request).
  unbound,
  /// Answering a status request; the connection closes after it.
  querying,
  /// Register sent to the runner, waiting for its answer.
  registering,
  /// Bound to a container id: logs, heartbeats and the exit flow.
  bound,
  /// Exit reported; waiting for the runner's answer.
  exiting,
  /// Exit recorded; only heartbeats and the close may follow.
  exited,
  /// The connection is closed.
  closed,
};

const char* to_string(session_phase x);

struct session_state {
  static constexpr const char* name = "session";

  session_config config;
  caf::io::connection_handle hdl;
  peer_actor peer;
  runner_actor runner;
  log_aggregator_actor aggregator;
  session_phase phase = session_phase::handshake;
  /// The protocol version the peer speaks (from its hello).
  uint32_t version = defaults::protocol_version;
  /// The container this connection is bound to, once registered.
  int32_t id = -1;
  /// Its settings reached the runner (version 2 sends them after the
  /// registration; version 1 has none).
  bool configured = false;
  /// The connection reads in large pieces: from its turn to its exit.
  bool streaming = false;
  /// Log bytes the peer may still send without a new grant.
  uint64_t credit = 0;
  /// Log bytes written but not yet granted back (sent in batches).
  uint64_t ungranted = 0;
  /// When the peer was last heard from.
  caf::actor_clock::time_point last_heard;
  /// When the next heartbeat check (or, once exited, the close) is due; a
  /// tick before it is stale.
  caf::actor_clock::time_point next_check;
  /// Prefix of diagnostics: "session 3 (container 1)".
  std::string label;
};

/// Spawns with `spawn(session, hdl, peer, runner, aggregator, config)`.
session_actor::behavior_type
session(session_actor::stateful_pointer<session_state> self,
        caf::io::connection_handle hdl, peer_actor peer, runner_actor runner,
        log_aggregator_actor aggregator, session_config config);

} // namespace baton
