#pragma once

// Every typed actor interface of baton, in one place: who talks to whom with
// which messages.
//
// The agent:
//
//   socket broker --frames or bytes--> session --register/exit/lost--> runner
//        ^                             |  ^                              |
//        +---------write/close---------+  +------state (pushed)----------+
//                                      |
//                                      +--log/eof--> log aggregator --> job log
//
// A session speaks either dialect through a member that turns its bytes
// into the container's life (actors/agent/session_dialect.hpp).
//
//   signal thread --signal--> cancellation watcher --interrupt/terminate-->
//   runner
//
// The bootstrap:
//
//   client broker     <--frames--> bootstrap --> command (child process)
//   rpc client broker <--frames--> bootstrap   (the reference's dialect)

#include "messages/atoms.hpp"
#include "messages/job.hpp"
#include "messages/wire.hpp"

#include <caf/io/connection_handle.hpp>
#include <caf/io/system_messages.hpp>
#include <caf/io/typed_broker.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace baton {

/// What a bootstrap needs of its connection: a client broker, or a test
/// double standing in for it.
using peer_actor = caf::typed_actor<
  // Writes a frame to the connection.
  caf::reacts_to<atom::write, caf::io::connection_handle, wire::frame>,
  // Closes the connection once its pending writes are out.
  caf::reacts_to<atom::close, caf::io::connection_handle>,
  // The connection carries a log stream (true: its container's turn came)
  // or no longer (false: its exit is reported): read it in large pieces
  // only while it streams, so waiting and idle connections are cheap.
  caf::reacts_to<atom::stream, caf::io::connection_handle, bool>>;

/// What a session needs of its connection: the socket broker, or a test
/// double standing in for it. Frames are baton's dialect, bytes the
/// reference's.
using session_peer_actor = peer_actor::extend<
  caf::reacts_to<atom::write, caf::io::connection_handle, std::string>>;

/// One per connection: lives one container's life on the agent, in either
/// dialect (baton's frames or the reference's net/rpc), and binds the
/// connection to its container id.
using session_actor = caf::typed_actor<
  // A frame arrived from the peer (baton's dialect).
  caf::reacts_to<wire::frame>,
  // Frames that arrived together (one read), in order: their log bytes
  // travel on as one batch.
  caf::reacts_to<std::vector<wire::frame>>,
  // Bytes arrived from the peer (the reference's dialect: the HTTP
  // preamble, then gob).
  caf::reacts_to<atom::received, std::string>,
  // The connection is gone; the text says why ("" if the peer closed it).
  caf::reacts_to<atom::closed, std::string>,
  // The runner pushes what the container should do now.
  caf::reacts_to<atom::state, turn>,
  // Checks the handshake deadline, heartbeat silence and the linger after
  // the exit (sent to itself).
  caf::reacts_to<atom::tick>>;

/// What the runner needs of a session: where to push its container's run
/// state.
using container_actor = caf::typed_actor<caf::reacts_to<atom::state, turn>>;

/// The job state machine (reference: Runner).
using runner_actor = caf::typed_actor<
  // Registers a container served by a session; replies with the job
  // environment, the container's name and what it should do now (`wait`
  // until its settings came, if they follow).
  caf::replies_to<atom::register_, registration, container_actor>::with<
    std::vector<std::string>, std::string, turn>,
  // The settings of container `id`, which registered without them; replies
  // with what it should do now.
  caf::replies_to<atom::configure, int32_t, step_settings>::with<turn>,
  // Replies with what container `id` should do now; `shutdown` once the job
  // is done (the RPC dialect's Status for a container the caller does not
  // serve).
  caf::replies_to<atom::state, int32_t>::with<run_state>,
  // Records how the step of container `id` ended, and the variables it
  // passes on to later steps.
  caf::replies_to<atom::exit, int32_t, step_exit>::with<atom::ok>,
  // Marks container `id` lost, for the given reason.
  caf::reacts_to<atom::lost, int32_t, std::string>,
  // Service `id` passed its readiness check: the steps may run.
  caf::reacts_to<atom::ready, int32_t>,
  // Cancels the job: every container is told to interrupt. Idempotent.
  caf::reacts_to<atom::interrupt>,
  // Stops the job now, for the given reason. Idempotent.
  caf::reacts_to<atom::terminate, std::string>,
  // Replies with a snapshot of the job.
  caf::replies_to<atom::status>::with<job_result>,
  // Replies with the result once the job is done.
  caf::replies_to<atom::done>::with<job_result>,
  // Fires the start timeout (sent to itself).
  caf::reacts_to<atom::tick>>;

/// The single writer of the job log.
using log_aggregator_actor = caf::typed_actor<
  // Appends output of container `id`, read from its command at the given
  // time (ns since the epoch, for timestamped lines); replies with the
  // number of bytes written once they are in the sink, which the session
  // grants back.
  caf::replies_to<atom::log, int32_t, int64_t, std::string>::with<uint64_t>,
  // The same for pieces that arrived together: written with one write;
  // replies with the bytes received in all of them.
  caf::replies_to<atom::log, int32_t, log_batch>::with<uint64_t>,
  // Job variables added by a step (`KEY=VALUE`): the values of those whose
  // names match the redaction patterns are redacted from then on.
  caf::reacts_to<atom::env, std::vector<std::string>>,
  // A line of the agent's own (a step line, the summary): redacted with
  // every secret known, stamped with the time now if lines are, begun on a
  // line of its own, and counted in no container's bytes; replies once it
  // is in the sink.
  caf::replies_to<atom::log, std::string>::with<atom::ok>,
  // Container `id` has no more output; replies once everything is written.
  caf::replies_to<atom::eof, int32_t>::with<atom::ok>,
  // Replies with the bytes written per container.
  caf::replies_to<atom::status>::with<std::vector<uint64_t>>,
  // Writes container `id`'s output in this mode from now on; with
  // `prefixed`, each line starts with the text given ("[db] ").
  caf::reacts_to<atom::mode, int32_t, log_mode, std::string>,
  // Writes the heading given and then the last lines kept of container
  // `id` (in mode `tail`), if any; replies once they are in the sink.
  caf::replies_to<atom::tail, int32_t, std::string>::with<atom::ok>,
  // The partial line of container `id` held since hold number `n` has
  // waited long enough: write it as a line of its own (sent to itself).
  caf::reacts_to<atom::tick, int32_t, uint64_t>>;

/// Turns signals into an interrupt, then a terminate.
using cancellation_watcher_actor = caf::typed_actor<
  // The process received signal `signo`.
  caf::reacts_to<atom::signal, int>,
  // The grace period after the interrupt has run out (sent to itself).
  caf::reacts_to<atom::grace>>;

/// Bridges the agent's Unix socket: accepts connections, splits their bytes
/// into frames for one session each, and writes frames out.
using socket_broker_impl = caf::io::typed_broker<
  // Replies with the connections served, the bytes of receive buffer they
  // hold (the broker's own accounting) and the writes, closes and stream
  // changes dropped for not coming from the connection's own session.
  caf::replies_to<atom::status>::with<uint64_t, uint64_t, uint64_t>,
  caf::reacts_to<atom::write, caf::io::connection_handle, wire::frame>,
  caf::reacts_to<atom::write, caf::io::connection_handle, std::string>,
  caf::reacts_to<atom::close, caf::io::connection_handle>,
  caf::reacts_to<atom::stream, caf::io::connection_handle, bool>,
  // Stops accepting, closes every connection and quits.
  caf::reacts_to<atom::stop>,
  // Sums up the peers' warnings held back in the interval just over.
  caf::reacts_to<atom::tick>, caf::reacts_to<caf::io::new_connection_msg>,
  caf::reacts_to<caf::io::new_data_msg>,
  caf::reacts_to<caf::io::connection_closed_msg>,
  caf::reacts_to<caf::io::acceptor_closed_msg>>;

using socket_broker_actor = socket_broker_impl::actor_hdl;

/// Why every session's connection closes when the socket broker stops: the
/// job is over, so a session still bound then (its exit being acknowledged,
/// or a skipped container's) is no news and not warned about.
constexpr std::string_view agent_stopping = "the agent is shutting down";

/// The bootstrap's state machine: registers, waits for its turn, runs the
/// command and streams its output, reports the exit status.
using bootstrap_actor = caf::typed_actor<
  // A frame arrived from the agent.
  caf::reacts_to<wire::frame>,
  // The connection to the agent is gone; the text says why.
  caf::reacts_to<atom::closed, std::string>,
  // The command wrote this output: a `log_at` frame body, the time it was
  // read (ns since the epoch, 8 bytes) and then the bytes; credit for them
  // was already taken.
  caf::reacts_to<atom::output, std::string>,
  // The command's output ended.
  caf::reacts_to<atom::eof>,
  // The command exited with this status (128+N if killed by signal N).
  caf::reacts_to<atom::exit, int32_t>,
  // The command ended so: its status, the signal, the OOM killer's verdict.
  caf::reacts_to<atom::exit, step_exit>,
  // The bootstrap process received signal `signo`.
  caf::reacts_to<atom::signal, int>,
  // Time to send a heartbeat (sent to itself).
  caf::reacts_to<atom::tick>,
  // One of the command's deadlines passed (sent to itself).
  caf::reacts_to<atom::grace, deadline>,
  // A service's readiness check passed (empty) or failed (why).
  caf::reacts_to<atom::ready, std::string>>;

/// Bridges the bootstrap's connection to the agent: splits bytes into
/// frames for the bootstrap actor and writes its frames out.
using client_broker_impl = caf::io::typed_broker<
  caf::reacts_to<atom::write, caf::io::connection_handle, wire::frame>,
  caf::reacts_to<atom::close, caf::io::connection_handle>,
  caf::reacts_to<atom::stream, caf::io::connection_handle, bool>,
  // The process received signal `signo`: passed on to the bootstrap actor.
  caf::reacts_to<atom::signal, int>, caf::reacts_to<caf::io::new_data_msg>,
  caf::reacts_to<caf::io::connection_closed_msg>>;

using client_broker_actor = client_broker_impl::actor_hdl;

/// Bridges the bootstrap to a stock runner in the reference's RPC dialect:
/// turns the bootstrap's frames into Runner calls and the replies (and its
/// own Status polls) into frames, so the bootstrap actor is the same for
/// both dialects.
using rpc_client_broker_impl = caf::io::typed_broker<
  caf::reacts_to<atom::write, caf::io::connection_handle, wire::frame>,
  caf::reacts_to<atom::close, caf::io::connection_handle>,
  caf::reacts_to<atom::stream, caf::io::connection_handle, bool>,
  caf::reacts_to<atom::signal, int>,
  // Time to poll the runner's Status (sent to itself).
  caf::reacts_to<atom::tick>, caf::reacts_to<caf::io::new_data_msg>,
  caf::reacts_to<caf::io::connection_closed_msg>>;

} // namespace baton
