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

/// Where a container's life on the agent is, in either dialect. Calls of
/// the reference's dialect may overlap (Go's server runs each in a goroutine
/// of its own), so the phase says what the connection is bound to, not
/// which call is being answered.
enum class session_phase : uint8_t {
  /// Waiting for the peer's hello (baton) or HTTP CONNECT (the reference).
  handshake,
  /// Waiting for the peer's register (or status request).
  unbound,
  /// Answering a status request; the connection closes after it.
  querying,
  /// Register sent to the runner, waiting for its answer.
  registering,
  /// Bound to a container id: logs, heartbeats and the exit flow.
  bound,
  /// Exit reported; its log going out, then the runner's answer.
  exiting,
  /// Exit recorded; only heartbeats and the close may follow.
  exited,
  /// The connection is closed.
  closed,
};

const char* to_string(session_phase x);

class session_dialect;

struct session_state {
  static constexpr const char* name = "session";

  session_state();
  ~session_state();

  session_config config;
  caf::io::connection_handle hdl;
  session_peer_actor peer;
  runner_actor runner;
  log_aggregator_actor aggregator;
  /// How the peer's bytes become the container's life, and back.
  std::unique_ptr<session_dialect> speaks;
  session_phase phase = session_phase::handshake;
  /// The container this connection is bound to, once registered.
  int32_t id = -1;
  /// The connection reads in large pieces: from its turn to its exit.
  bool streaming = false;
  /// The peer closed the connection after reporting its exit: the exit is
  /// still recorded, then the session ends without a word to the peer.
  bool peer_gone = false;
  /// When the peer was last heard from.
  caf::actor_clock::time_point last_heard;
  /// When the next heartbeat check (or, once exited, the close) is due; a
  /// tick before it is stale.
  caf::actor_clock::time_point next_check;
  /// Prefix of diagnostics: "session 3 (container 1)".
  std::string label;
};

/// Spawns with `spawn(session, hdl, peer, runner, aggregator, config,
/// protocol)`. Serves one connection in the given dialect.
///
/// baton's dialect (docs/protocol.md): hello, register, settings, then log
/// frames within the granted credit, heartbeats and the exit report.
///
/// The reference's dialect serves its Runner methods:
/// - `Register(id)`: registers the container with the runner and binds the
///   connection to it; the reference's error texts.
/// - `Status(id)`: for its own container, the state the runner pushed last;
///   for any other id, asks the runner. `connection is shut down` once the
///   job is done.
/// - `WriteLogs(Logs)`: the bytes of the container registered on this
///   connection, through redaction into the job log; answered once they fit
///   into the log window, so a slow job log throttles the peer.
/// - `Exit(ExitCode)`: reports the container's exit status after its log.
///
/// Either way, a connection that ends before its exit report leaves the
/// container lost at once; one whose peer goes silent (no heartbeat, or no
/// Status call) for the lost timeout too.
session_actor::behavior_type
session(session_actor::stateful_pointer<session_state> self,
        caf::io::connection_handle hdl, session_peer_actor peer,
        runner_actor runner, log_aggregator_actor aggregator,
        session_config config, dialect protocol);

} // namespace baton
