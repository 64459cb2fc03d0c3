#pragma once

#include "actors/actors.hpp"
#include "actors/agent/session.hpp"
#include "messages/rpc.hpp"

#include <caf/io/connection_handle.hpp>
#include <caf/stateful_actor.hpp>

#include <cstddef>
#include <map>

namespace baton {

struct socket_broker_config {
  session_config session;
  size_t max_frame_size = defaults::max_frame_size;
  /// Connections served at once; more are refused with an error frame.
  size_t max_connections = 1024;
};

struct socket_broker_state {
  static constexpr const char* name = "socket-broker";

  /// Bytes asked for per read of a log stream: several whole log chunks.
  static constexpr size_t stream_read_size
    = 4 * (defaults::log_chunk_size + wire::header_size);

  /// Bytes asked for per read while a connection does not stream (before
  /// its turn, after its exit): CAF keeps a buffer of this size per
  /// connection, and waiting, idle or hostile connections should cost
  /// little. Frames larger than this arrive in several reads.
  static constexpr size_t small_read_size = 1024;

  /// A connection speaks baton's protocol (frames cut here, one session
  /// each) or the reference's RPC dialect (bytes to an RPC session).
  struct connection {
    wire::frame_decoder decoder;
    session_actor session;
    /// It speaks the reference's dialect: its session parses the bytes.
    bool rpc = false;
    /// The bytes of CAF's receive buffer for it: the largest read size it
    /// had (the buffer keeps its capacity).
    size_t read_buffer = 0;
  };

  socket_broker_config config;
  /// The acceptor of buildkite.sock, if it is served.
  caf::io::accept_handle rpc_acceptor;
  runner_actor runner;
  log_aggregator_actor aggregator;
  std::map<caf::io::connection_handle, connection> connections;
  /// The receive buffers the connections hold, summed: small ones for
  /// those that never streamed, stream-sized ones for those that did.
  uint64_t read_buffer_bytes = 0;
  /// Writes, closes and stream changes dropped because their sender does
  /// not own the connection they name (a session whose connection is gone,
  /// its descriptor number already another connection's).
  uint64_t stale = 0;
};

using socket_broker_ptr
  = caf::stateful_actor<socket_broker_state, socket_broker_impl>*;

/// Spawns with `middleman().spawn_broker(socket_broker, fd, rpc_fd, runner,
/// aggregator, config)`, where `fd` listens for baton's protocol and
/// `rpc_fd` (or -1) for the reference's RPC dialect (see `listen_unix`).
/// Every connection gets its own session; frames that do not parse close
/// only that connection. Both sockets share the connection limit.
socket_broker_actor::behavior_type
socket_broker(socket_broker_ptr self, int listen_fd, int rpc_listen_fd,
              runner_actor runner, log_aggregator_actor aggregator,
              socket_broker_config config);

} // namespace baton
