#pragma once

// A container's life on the agent is written once (session.cpp): its
// registration, turns, streaming, exit report and acknowledgement, linger,
// heartbeats, deadlines and close. What differs between baton's frames and
// the reference's net/rpc is only how the peer's bytes become those events
// and how the answers, and flow control, reach the peer: a dialect.
//
// The dialect is a member of the session rather than an actor in front of
// it: one actor per connection, one mailbox, and the lifecycle's state (the
// phase) is the one both read, so they cannot disagree about it.

#include "actors/actors.hpp"
#include "actors/agent/session.hpp"
#include "messages/error.hpp"
#include "messages/job.hpp"

#include <caf/error.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace baton {

using session_ptr = session_actor::stateful_pointer<session_state>;

/// The dialect's side of a session. The lifecycle calls it; it calls the
/// lifecycle (namespace `lifecycle` below) for everything the container's
/// life decides.
class session_dialect {
public:
  /// How diagnostics name a dialect's sessions.
  struct names {
    /// The source of warnings about peers ("session", "rpc-session"): the
    /// summaries of held-back warnings are counted per source.
    std::string_view source;
    /// The first word of the session's label ("session 3").
    std::string_view kind;
    /// What the peer's sign of life is called: "no <it> for 30s".
    std::string_view heartbeat;
  };

  explicit session_dialect(names called) : called(called) {
    // nop
  }

  virtual ~session_dialect();

  const names called;

  /// Frames cut from the connection's bytes by the socket broker, in order.
  /// Only baton's dialect has frames; the other refuses them.
  virtual void on_frames(session_ptr self, std::vector<wire::frame>& frames);

  /// The connection's bytes as they came. Only the reference's dialect
  /// parses its own bytes; the other refuses them.
  virtual void on_bytes(session_ptr self, std::string& bytes);

  /// The runner took the registration: answers the peer with the job's
  /// environment, its name and what to do now.
  virtual void registered(session_ptr self, std::vector<std::string>& env,
                          const std::string& name, turn& now)
    = 0;

  /// The runner refused the registration.
  virtual void refused(session_ptr self, const caf::error& err) = 0;

  /// What the container should do now, as the runner said.
  virtual void push(session_ptr self, turn now) = 0;

  /// The runner recorded the exit: acknowledges it to the peer.
  virtual void exit_recorded(session_ptr self) = 0;

  /// The agent closes the connection for `err`: the peer's last word of
  /// why, where the dialect has a way to say it.
  virtual void last_word(session_ptr self, const caf::error& err) = 0;

  /// The peer closed a connection that is no container's; `why` as the
  /// broker gave it. A dialect may warn of a message cut short.
  virtual void closed_unbound(session_ptr self, const std::string& why);
};

/// baton's own frames (docs/protocol.md).
std::unique_ptr<session_dialect> make_baton_dialect();

/// The reference's Go net/rpc and gob (docs/protocol.md).
std::unique_ptr<session_dialect> make_buildkite_dialect();

namespace lifecycle {

/// What a warning about a peer counts toward, by the error that ends its
/// connection: the summary reads "N more <this> in the last 10s".
std::string_view counted_as(ec code);

/// Logs a warning about the connection. Once it is a container's, that is a
/// warning about the job and always printed. Before, it is about a peer
/// (a scanner, a stray client, a peer in a loop), and a flood of like ones
/// is held back by the shared `warning_limiter`.
void warn(session_ptr self, std::string_view counted, const std::string& text);

/// The peer showed a sign of life.
void heard(session_ptr self);

/// Writes to the connection, unless the peer is gone.
void write(session_ptr self, wire::frame frm);
void write(session_ptr self, std::string bytes);

/// Reads in large pieces only while the container streams: from its turn
/// to its exit report. A waiting connection costs a small buffer.
void set_streaming(session_ptr self, bool on);

/// Tells the peer what the container should do now (the dialect's `push`);
/// from its turn on, the connection reads in large pieces.
void tell(session_ptr self, turn now);

/// Asks the runner to register the container; binds the connection to it
/// on success. Either way the dialect answers the peer.
void register_container(session_ptr self, registration reg);

/// Passes log bytes that arrived together on to the aggregator, as one
/// batch: one message, one write and one reply however many pieces. Calls
/// `written` with their size once they are in the job log; a job log that
/// cannot be written ends the job.
void write_log(session_ptr self, log_batch batch,
               std::function<void(session_ptr, uint64_t)> written);

/// The peer reported its exit: no more log bytes are taken, and the
/// connection reads in small pieces again.
void begin_exit(session_ptr self);

/// Reports the exit to the runner once the container's log is written, so
/// that when the runner hands the turn on, this container's output is in
/// the job log. Secrets among the outputs are redacted from every later
/// byte. The dialect acknowledges it (`exit_recorded`).
void report_exit(session_ptr self, step_exit x);

/// Refuses something: tells the peer why (if the dialect can), logs it,
/// closes the connection. `counted` overrides what a warning about a peer
/// counts toward (by default, by the error's code).
void fail(session_ptr self, const caf::error& err,
          std::string_view counted = {});

/// The job log cannot be written: the job is over for every container (the
/// runner hears why first), and this peer hears it too.
void job_log_failed(session_ptr self, const caf::error& err);

/// Closes the connection without an error: its business is done.
void close(session_ptr self, const std::string& why);

} // namespace lifecycle

} // namespace baton
