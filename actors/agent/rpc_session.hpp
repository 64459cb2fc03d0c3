#pragma once

#include "actors/actors.hpp"
#include "actors/agent/session.hpp"
#include "messages/rpc.hpp"

#include <caf/actor_clock.hpp>
#include <caf/io/connection_handle.hpp>
#include <caf/stateful_actor.hpp>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace baton {

/// Where an RPC session is. Calls may overlap (Go's server runs each in a
/// goroutine of its own), so the phase says what the connection is bound
/// to, not which call is being answered.
enum class rpc_phase : uint8_t {
  /// Waiting for the HTTP CONNECT preamble.
  preamble,
  /// Connected: calls accepted, no container registered yet.
  unbound,
  /// Register sent to the runner, waiting for its answer.
  registering,
  /// Bound to a container id: logs, status polls and the exit.
  bound,
  /// Exit reported; waiting for the runner's answer.
  exiting,
  /// Exit recorded; status polls until the peer closes.
  exited,
  /// The connection is closed.
  closed,
};

const char* to_string(rpc_phase x);

struct rpc_session_state {
  static constexpr const char* name = "rpc-session";

  /// A WriteLogs call held back until the job log has room for it.
  struct held_call {
    uint64_t seq = 0;
    std::string data;
  };

  session_config config;
  caf::io::connection_handle hdl;
  rpc_peer_actor peer;
  runner_actor runner;
  log_aggregator_actor aggregator;
  rpc_phase phase = rpc_phase::preamble;
  /// Bytes of the HTTP preamble received so far.
  std::string preamble;
  rpc::server_codec codec;
  /// The container this connection is bound to, once registered.
  int32_t id = -1;
  /// The run state the runner pushed last: Status polls are answered from
  /// it, without a round trip to the runner.
  run_state pushed = run_state::wait;
  /// The connection reads in large pieces: from its turn to its Exit.
  bool streaming = false;
  /// Log bytes handed to the aggregator and not yet written.
  uint64_t in_flight = 0;
  /// WriteLogs calls that wait for room in the log window, in order.
  std::deque<held_call> held;
  uint64_t held_bytes = 0;
  /// An Exit that waits for the held calls to go out first.
  std::optional<std::pair<uint64_t, int32_t>> pending_exit;
  /// When the peer last polled its Status (reference: only Status calls
  /// are heartbeats).
  caf::actor_clock::time_point last_heard;
  /// When the next heartbeat check (or, once exited, the close) is due; a
  /// tick before it is stale.
  caf::actor_clock::time_point next_check;
  /// Prefix of diagnostics: "rpc session 3 (container 1)".
  std::string label;
};

/// Spawns with `spawn(rpc_session, hdl, peer, runner, aggregator, config)`.
/// Serves the reference's Runner methods on one connection:
/// - `Register(id)`: registers the container with the runner and binds the
///   connection to it; the reference's error texts.
/// - `Status(id)`: for its own container, the state the runner pushed last;
///   for any other id, asks the runner. `connection is shut down` once the
///   job is done.
/// - `WriteLogs(Logs)`: the bytes of the container registered on this
///   connection, through redaction into the job log; answered once they fit
///   into the log window, so a slow job log throttles the peer.
/// - `Exit(ExitCode)`: reports the container's exit status after its log.
/// A connection that ends before its Exit leaves the container lost at
/// once; one whose peer stops polling Status for the lost timeout too.
rpc_session_actor::behavior_type
rpc_session(rpc_session_actor::stateful_pointer<rpc_session_state> self,
            caf::io::connection_handle hdl, rpc_peer_actor peer,
            runner_actor runner, log_aggregator_actor aggregator,
            session_config config);

} // namespace baton
