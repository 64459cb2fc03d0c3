#pragma once

// Every tunable of baton and its default, in one place. Where baton departs
// from the reference (the Buildkite agent's kubernetes package), the
// reference value is noted.

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace baton::defaults {

using namespace std::chrono_literals;

/// The version of the wire protocol this build speaks. Version 2 adds the
/// step settings, timestamped log frames, the turn's job information and
/// the outputs in the exit report (see docs/protocol.md).
constexpr uint32_t protocol_version = 2;

/// The oldest version the agent still serves: a bootstrap that speaks it
/// gets the reference's behaviour.
constexpr uint32_t min_protocol_version = 1;

/// The job context directory shared by every container of the pod.
constexpr const char* job_context_dir = "/workspace";

/// The socket's file name inside the job context directory.
constexpr const char* socket_name = "baton.sock";

/// The marker the agent leaves in the job context directory when the job
/// is over, holding the result: a bootstrap that starts later, or still
/// waits for the socket, gives up at once instead of waiting for its
/// connect timeout. A new agent removes an old one before it listens.
constexpr const char* done_marker_name = "baton.done";

/// The file name of the socket that serves the reference's RPC dialect
/// (Go net/rpc and gob), as stock Buildkite clients expect it.
constexpr const char* rpc_socket_name = "buildkite.sock";

/// Largest frame body accepted or sent.
constexpr size_t max_frame_size = 1024 * 1024;

/// Log bytes a bootstrap may have in flight before the agent grants more:
/// bounds the agent's memory per connection (reference: one synchronous
/// round trip per write).
constexpr uint64_t log_window = 512 * 1024;

/// Largest log chunk a bootstrap sends in one frame: an eighth of the
/// window, so that chunks stream without waiting for grants.
constexpr size_t log_chunk_size = 64 * 1024;

/// Log credit a bootstrap keeps from its command for lines of its own while
/// the command runs (a timeout, a bad $BATON_ENV); the rest of the window
/// is the command's.
constexpr uint64_t own_lines_reserve = 1024;

/// How long a bootstrap gathers a command's output into one chunk after its
/// first bytes arrived: small writes travel together, no line waits longer.
constexpr auto log_flush_deadline = 1ms;

/// Silence after which a connected container counts as lost (reference:
/// 30 s, checked every 100 ms; baton also notices a closed connection at
/// once).
constexpr auto lost_timeout = 30s;

/// How long a new connection has to say hello and register before the
/// agent closes it (the reference has none: a silent peer was held forever).
constexpr auto handshake_timeout = 10s;

/// Warnings of one kind about connections not bound to a container (bad
/// frames, refused requests, handshake timeouts) printed per interval; the
/// rest are counted and summed up in one line when the interval ends, so a
/// peer stuck in a loop cannot fill the agent's stderr (on Kubernetes, the
/// container log on the node's disk). Warnings about the job are never
/// held back.
constexpr size_t peer_warning_burst = 5;
constexpr auto peer_warning_interval = 10s;

/// How often a bootstrap tells the agent it is alive (reference: its 1 s
/// status poll doubles as the heartbeat).
constexpr auto heartbeat_interval = 1s;

/// How long the agent waits for every container to register; 0 disables
/// (reference: 5 min).
constexpr auto start_timeout = 5min;

/// After an interrupt, how long containers get to exit before the job is
/// terminated.
constexpr auto cancel_grace_period = 15s;

/// How long a bootstrap keeps trying to connect (reference: 120 s, retried
/// every 1 s; baton retries within milliseconds of the socket appearing).
constexpr auto connect_timeout = 120s;

/// How long a service has to pass its readiness check (BATON_READY_TIMEOUT).
constexpr auto ready_timeout = 60s;

/// A service's readiness check is tried every this often at first, backing
/// off to `ready_poll_max`; each try of a command may take at most
/// `ready_try_timeout`.
constexpr auto ready_poll_min = 100ms;
constexpr auto ready_poll_max = 1s;
constexpr auto ready_try_timeout = 10s;

/// The last lines of a service's output the job log shows when it fails.
constexpr size_t service_tail_lines = 20;

/// A line held back for the line merge is written once it is this long, or
/// has waited `line_hold_timeout`, as a line of its own.
constexpr size_t max_held_line = 64 * 1024;
constexpr auto line_hold_timeout = 1s;

/// After the cancel signal, how long before the command gets SIGKILL.
constexpr auto cancel_signal_timeout = 10s;

/// After SIGKILL, how long before the bootstrap exits on its own.
constexpr auto cancel_cleanup_timeout = 5s;

/// The aggregate wait status of a lost container.
constexpr int32_t lost_status = -7;

/// The aggregate wait status of a container that never connected.
constexpr int32_t not_connected_status = -10;

/// The aggregate wait status of a container that connected but never
/// reported an exit status.
constexpr int32_t unreported_status = 137;

/// A bootstrap's exit status when its command never ran: interrupted
/// before its turn, or the agent went away (reference: the error exit of
/// kubernetes-bootstrap).
constexpr int32_t not_started_status = 1;

/// A bootstrap's exit status when it skips its command: the job failed and
/// the step is not an always-step, or the job ended before the container
/// connected. The same as a command that never ran: non-zero, so that the
/// container shows the job did not pass.
constexpr int32_t skipped_status = 1;

/// A bootstrap's exit status when its step's settings (the variables of
/// job/steps.hpp's table) are invalid: the command does not run.
constexpr int32_t invalid_settings_status = 2;

/// A bootstrap's exit status when its command cannot be executed, as a
/// shell reports it.
constexpr int32_t cannot_execute_status = 127;

/// How long a bootstrap waits for the rest of the command's output once the
/// command exited (a background process may hold the pty open).
constexpr auto output_drain_timeout = 2s;

} // namespace baton::defaults
