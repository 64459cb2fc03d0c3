#include "actors/agent/rpc_session.hpp"

#include "actors/agent/connection.hpp"

#include "messages/duration.hpp"
#include "messages/error.hpp"
#include "os/process.hpp"

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <spdlog/spdlog.h>

#include <limits>
#include <string_view>

namespace baton {

const char* to_string(rpc_phase x) {
  switch (x) {
    case rpc_phase::preamble: return "preamble";
    case rpc_phase::unbound: return "unbound";
    case rpc_phase::registering: return "registering";
    case rpc_phase::bound: return "bound";
    case rpc_phase::exiting: return "exiting";
    case rpc_phase::exited: return "exited";
    case rpc_phase::closed: return "closed";
  }
  return "invalid";
}

namespace {

using rpc_ptr = rpc_session_actor::stateful_pointer<rpc_session_state>;

/// The error Go's client turns into rpc.ErrShutdown: the reference's Status
/// once the job is done.
constexpr const char* shut_down = "connection is shut down";

/// WriteLogs bytes a peer may have unanswered beyond the log window. A
/// stock client waits for each reply and has at most two calls in flight
/// (stdout and stderr); more is a peer that does not wait, and is closed.
constexpr uint64_t max_held_bytes = 2 * gob::default_max_message_size;

// The runner's latest word on this container, answered to Status without a
// round trip; from its turn on, the connection reads in large pieces.
void take_turn(rpc_ptr self, run_state state) {
  self->state.pushed = state;
  if (state == run_state::start)
    connection::set_streaming(self, true);
}

void send_bytes(rpc_ptr self, std::string bytes) {
  auto& st = self->state;
  self->send(st.peer, atom::write::value, st.hdl, std::move(bytes));
}

// Answers call `seq` of `method` with `reply`, or with the error `error`
// when it is not empty.
void reply(rpc_ptr self, std::string_view method, uint64_t seq,
           const gob::type_ptr& type, const gob::value& value,
           std::string error = {}) {
  auto& st = self->state;
  if (st.phase == rpc_phase::closed)
    return;
  std::string out;
  rpc::response_header header{std::string{method}, seq, std::move(error)};
  if (auto err = st.codec.append_reply(out, header, type, value)) {
    // Our own reply does not fit its type: a bug, not the peer's fault.
    spdlog::error("{}: cannot encode the reply to {}: {}", st.label, method,
                  render(err));
    return;
  }
  send_bytes(self, std::move(out));
}

void reply_empty(rpc_ptr self, std::string_view method, uint64_t seq) {
  reply(self, method, seq, rpc::empty_type(), rpc::to_value(rpc::empty{}));
}

void reply_error(rpc_ptr self, std::string_view method, uint64_t seq,
                 std::string error) {
  reply(self, method, seq, rpc::empty_type(), rpc::to_value(rpc::empty{}),
        std::move(error));
}

// Ids and statuses travel as Go ints (64 bits); baton's are 32 bits.
bool fits_int32(int64_t x) {
  return x >= std::numeric_limits<int32_t>::min()
         && x <= std::numeric_limits<int32_t>::max();
}

// The reference's error texts, which stock clients may match on.
std::string unrecognized(int64_t id) {
  return "unrecognized client id: " + std::to_string(id);
}

std::string already_registered(int64_t id) {
  return "client id " + std::to_string(id) + " already registered";
}

// Maps a runner error to the text the reference would send.
std::string reference_text(const caf::error& err, int64_t id) {
  switch (code_of(err)) {
    case ec::unrecognized_container: return unrecognized(id);
    case ec::duplicate_container: return already_registered(id);
    default: return render(err);
  }
}

// What the warnings of peers that are no container count toward.
constexpr std::string_view bad_requests
  = "connections refused for bad requests";
constexpr std::string_view bad_calls
  = "connections refused for malformed calls";

// Closes the connection, with the reason in the agent's log (net/rpc has no
// way to tell the peer). `counted` names the kind of a peer's warning.
void fail(rpc_ptr self, const std::string& why,
          std::string_view counted = bad_calls) {
  auto& st = self->state;
  connection::warn(self, counted, "closing the connection: " + why);
  self->send(st.peer, atom::close::value, st.hdl);
  connection::finish(self, why);
}

// The job log cannot be written: the job is over for every container (the
// runner hears why first), and this peer hears it in its reply to call
// `seq`.
void job_log_failed(rpc_ptr self, std::string_view method, uint64_t seq,
                    const caf::error& err) {
  auto why = render(err);
  reply_error(self, method, seq, why);
  self->send(self->state.runner, atom::terminate::value, why);
  fail(self, why);
}

void on_register(rpc_ptr self, const rpc::call& call, int64_t id) {
  auto& st = self->state;
  auto& method = call.header.service_method;
  auto seq = call.header.seq;
  if (st.phase != rpc_phase::unbound) {
    // One connection serves one container (the reference binds nothing
    // and would take a second id on the same connection).
    if (st.phase != rpc_phase::registering && id == st.id)
      return reply_error(self, method, seq, already_registered(id));
    return reply_error(self, method, seq,
                       "this connection already registered "
                         + (st.phase == rpc_phase::registering
                              ? std::string{"a client id"}
                              : "client id " + std::to_string(st.id))
                         + "; connect again to register client id "
                         + std::to_string(id));
  }
  if (!fits_int32(id))
    return reply_error(self, method, seq, unrecognized(id));
  st.phase = rpc_phase::registering;
  auto id32 = static_cast<int32_t>(id);
  self
    ->request(st.runner, caf::infinite, atom::register_::value,
              registration{id32, dialect::buildkite},
              container_actor{rpc_session_actor{self}})
    .then(
      [=](std::vector<std::string>& env, turn& now) {
        auto& st = self->state;
        if (st.phase != rpc_phase::registering)
          return;
        st.phase = rpc_phase::bound;
        st.id = id32;
        st.label += " (container " + std::to_string(id32) + ")";
        take_turn(self, now.state);
        reply(self, method, seq, rpc::register_response_type(),
              rpc::to_value(rpc::register_response{std::move(env)}));
        st.last_heard = self->clock().now();
        st.next_check = st.last_heard + st.config.lost_timeout;
        self->delayed_send(self, st.config.lost_timeout, atom::tick::value);
      },
      [=](caf::error& err) {
        auto& st = self->state;
        if (st.phase != rpc_phase::registering)
          return;
        st.phase = rpc_phase::unbound;
        reply_error(self, method, seq, reference_text(err, id));
      });
}

void answer_status(rpc_ptr self, const std::string& method, uint64_t seq,
                   run_state state) {
  // The reference's RunState has no shutdown: it is rpc.ErrShutdown. Nor a
  // skip: a stock client told to interrupt before its turn gives up
  // without running its command, which is what a skip means.
  if (state == run_state::shutdown)
    return reply_error(self, method, seq, shut_down);
  auto rs = state == run_state::start ? rpc::run_state::start
            : state == run_state::interrupt || state == run_state::skip
              ? rpc::run_state::interrupt
              : rpc::run_state::wait;
  reply(self, method, seq, gob::int_type(), rpc::to_value(rs));
}

void on_status(rpc_ptr self, const rpc::call& call, int64_t id) {
  auto& st = self->state;
  auto& method = call.header.service_method;
  auto seq = call.header.seq;
  auto own = id == st.id
             && (st.phase == rpc_phase::bound
                 || st.phase == rpc_phase::exiting);
  if (own) {
    // The heartbeat, answered without a round trip to the runner.
    st.last_heard = self->clock().now();
    return answer_status(self, method, seq, st.pushed);
  }
  // Another id, or before Register, or after Exit (the reference answers
  // for any id): the runner knows.
  if (!fits_int32(id))
    return reply_error(self, method, seq, unrecognized(id));
  self
    ->request(st.runner, caf::infinite, atom::state::value,
              static_cast<int32_t>(id))
    .then([=](run_state state) { answer_status(self, method, seq, state); },
          [=](caf::error& err) {
            reply_error(self, method, seq, reference_text(err, id));
          });
}

void report_exit(rpc_ptr self, uint64_t seq, int32_t status);

// Hands `data` to the aggregator. Once it is written, calls held for room
// in the window follow, and a held Exit after them.
void forward_logs(rpc_ptr self, uint64_t seq, std::string data) {
  auto& st = self->state;
  auto n = static_cast<uint64_t>(data.size());
  st.in_flight += n;
  constexpr auto method = rpc::write_logs_method;
  self
    ->request(st.aggregator, caf::infinite, atom::log::value, st.id,
              wall_clock_ns(), std::move(data))
    .then(
      [=](uint64_t) {
        auto& st = self->state;
        if (st.phase == rpc_phase::closed)
          return;
        st.in_flight -= n;
        // Room in the window: the held calls go out, in order.
        while (!st.held.empty() && st.in_flight < st.config.log_window) {
          auto call = std::move(st.held.front());
          st.held.pop_front();
          st.held_bytes -= call.data.size();
          forward_logs(self, call.seq, std::move(call.data));
          reply_empty(self, method, call.seq);
        }
        if (st.held.empty() && st.pending_exit) {
          auto [exit_seq, status] = *st.pending_exit;
          st.pending_exit.reset();
          report_exit(self, exit_seq, status);
        }
      },
      [=](caf::error& err) { job_log_failed(self, method, seq, err); });
}

void on_write_logs(rpc_ptr self, const rpc::call& call, rpc::logs& logs) {
  auto& st = self->state;
  auto& method = call.header.service_method;
  auto seq = call.header.seq;
  if (st.phase != rpc_phase::bound)
    // The reference writes anyone's bytes; here they belong to the
    // container registered on this connection, so there must be one.
    return reply_error(self, method, seq,
                       st.phase == rpc_phase::exiting
                           || st.phase == rpc_phase::exited
                         ? "WriteLogs after Exit on this connection"
                         : "WriteLogs before Register: no client id is "
                           "registered on this connection");
  if (logs.data.empty())
    return reply_empty(self, method, seq);
  if (st.in_flight < st.config.log_window && st.held.empty()) {
    forward_logs(self, seq, std::move(logs.data));
    return reply_empty(self, method, seq);
  }
  // The job log is behind: hold the reply, and with it the peer.
  st.held_bytes += logs.data.size();
  if (st.held_bytes > max_held_bytes)
    return fail(self, "more than " + std::to_string(max_held_bytes)
                        + " bytes of WriteLogs calls unanswered: the peer "
                          "does not wait for its replies");
  st.held.push_back({seq, std::move(logs.data)});
}

// Reports the exit: the log first, then the status, so that once the
// runner hands the turn on, this container's output is in the job log.
void report_exit(rpc_ptr self, uint64_t seq, int32_t status) {
  auto& st = self->state;
  constexpr auto method = rpc::exit_method;
  self->request(st.aggregator, caf::infinite, atom::eof::value, st.id)
    .then(
      [=](atom::ok) {
        auto& st = self->state;
        self
          ->request(st.runner, caf::infinite, atom::exit::value, st.id,
                    step_exit{status, false, {}})
          .then(
            [=](atom::ok) {
              auto& st = self->state;
              if (st.phase != rpc_phase::exiting)
                return;
              st.phase = rpc_phase::exited;
              reply_empty(self, method, seq);
              // The peer closes once it has the reply; one that does not is
              // closed after the handshake timeout.
              st.next_check = self->clock().now() + st.config.handshake_timeout;
              self->delayed_send(self, st.config.handshake_timeout,
                                 atom::tick::value);
            },
            [=](caf::error& err) {
              if (self->state.phase != rpc_phase::exiting)
                return;
              reply_error(self, method, seq, render(err));
              fail(self, render(err));
            });
      },
      [=](caf::error& err) { job_log_failed(self, method, seq, err); });
}

void on_exit(rpc_ptr self, const rpc::call& call, const rpc::exit_code& x) {
  auto& st = self->state;
  auto& method = call.header.service_method;
  auto seq = call.header.seq;
  if (x.id != st.id || st.phase != rpc_phase::bound) {
    if (x.id == st.id
        && (st.phase == rpc_phase::exiting || st.phase == rpc_phase::exited))
      return reply_error(self, method, seq,
                         "client id " + std::to_string(x.id)
                           + " already reported its exit status");
    // Only the connection a container registered on reports its exit (the
    // reference takes it from anyone); the runner knows which ids exist.
    auto id = x.id;
    if (!fits_int32(id))
      return reply_error(self, method, seq, unrecognized(id));
    self
      ->request(st.runner, caf::infinite, atom::state::value,
                static_cast<int32_t>(id))
      .then(
        [=](run_state) {
          reply_error(self, method, seq,
                      "client id " + std::to_string(id)
                        + " is not registered on this connection");
        },
        [=](caf::error& err) {
          reply_error(self, method, seq, reference_text(err, id));
        });
    return;
  }
  if (!fits_int32(x.exit_status))
    return reply_error(self, method, seq,
                       "exit status " + std::to_string(x.exit_status)
                         + " is out of range");
  st.phase = rpc_phase::exiting;
  connection::set_streaming(self, false);
  auto status = static_cast<int32_t>(x.exit_status);
  if (!st.held.empty()) {
    st.pending_exit = std::make_pair(seq, status);
    return;
  }
  report_exit(self, seq, status);
}

// Go's server: "Service.Method", a known service, a known method.
std::string unknown_method_error(const std::string& name) {
  auto dot = name.rfind('.');
  if (dot == std::string::npos)
    return "rpc: service/method request ill-formed: " + name;
  if (name.compare(0, dot, "Runner") != 0)
    return "rpc: can't find service " + name;
  return "rpc: can't find method " + name;
}

void on_call(rpc_ptr self, rpc::call& call) {
  auto& method = call.header.service_method;
  auto seq = call.header.seq;
  // A body of the wrong type gets an error reply, and the connection goes
  // on, as with Go's server.
  auto bad_body = [&](const caf::error& err) {
    reply_error(self, method, seq, method + ": " + render(err));
  };
  if (method == rpc::register_method || method == rpc::status_method) {
    int64_t id = 0;
    if (auto err = rpc::from_value(call.body, id))
      return bad_body(err);
    if (method == rpc::register_method)
      return on_register(self, call, id);
    return on_status(self, call, id);
  }
  if (method == rpc::write_logs_method) {
    rpc::logs logs;
    if (auto err = rpc::from_value(call.body, logs))
      return bad_body(err);
    return on_write_logs(self, call, logs);
  }
  if (method == rpc::exit_method) {
    rpc::exit_code x;
    if (auto err = rpc::from_value(call.body, x))
      return bad_body(err);
    return on_exit(self, call, x);
  }
  reply_error(self, method, seq, unknown_method_error(method));
}

// Reads the HTTP CONNECT preamble; returns the bytes after it, if any.
void on_preamble(rpc_ptr self, std::string& bytes) {
  auto& st = self->state;
  st.preamble += bytes;
  auto result = rpc::parse_connect(st.preamble);
  switch (result.status) {
    case rpc::preamble_status::need_more: return;
    case rpc::preamble_status::rejected:
      connection::warn(self, bad_requests,
                       "refusing the connection: " + render(result.error));
      send_bytes(self, result.response);
      self->send(st.peer, atom::close::value, st.hdl);
      return connection::finish(self, render(result.error));
    case rpc::preamble_status::failed:
      return fail(self, render(result.error), bad_requests);
    case rpc::preamble_status::ok: break;
  }
  st.phase = rpc_phase::unbound;
  send_bytes(self, std::string{rpc::connected_response});
  // Bytes after the preamble are the first calls.
  bytes = st.preamble.substr(result.consumed);
  st.preamble.clear();
  st.preamble.shrink_to_fit();
}

void on_received(rpc_ptr self, std::string& bytes) {
  auto& st = self->state;
  if (st.phase == rpc_phase::closed)
    return;
  if (st.phase == rpc_phase::preamble) {
    on_preamble(self, bytes);
    if (st.phase == rpc_phase::preamble || st.phase == rpc_phase::closed)
      return;
  }
  st.codec.feed(bytes.data(), bytes.size());
  rpc::call call;
  while (st.phase != rpc_phase::closed && st.codec.next(call))
    on_call(self, call);
  if (st.phase != rpc_phase::closed && st.codec.error())
    fail(self, render(st.codec.error()));
}

} // namespace

rpc_session_actor::behavior_type
rpc_session(rpc_ptr self, caf::io::connection_handle hdl, rpc_peer_actor peer,
            runner_actor runner, log_aggregator_actor aggregator,
            session_config config) {
  connection::open(self, hdl, std::move(peer), std::move(runner),
                   std::move(aggregator), config, "rpc session");
  return {
    [=](atom::received, std::string& bytes) { on_received(self, bytes); },
    [=](atom::closed, const std::string& why) {
      auto& st = self->state;
      if (st.phase == rpc_phase::closed)
        return;
      if ((st.phase == rpc_phase::bound || st.phase == rpc_phase::exiting)
          && why != agent_stopping)
        spdlog::warn("{}: connection closed before the exit status: {}",
                     st.label, why.empty() ? "closed by the peer" : why);
      else if (auto err = st.codec.finish(); err && why.empty())
        connection::warn(self, "connections closed inside a call",
                         "connection closed: " + render(err));
      connection::finish(
        self, why.empty() ? "connection closed before its exit status" : why);
    },
    [=](atom::state, const turn& now) { take_turn(self, now.state); },
    [=](atom::tick) {
      auto& st = self->state;
      auto now = self->clock().now();
      switch (st.phase) {
        case rpc_phase::preamble:
        case rpc_phase::unbound:
        case rpc_phase::registering:
          return fail(self,
                      "no registration within "
                        + format_duration(st.config.handshake_timeout),
                      connection::counted_as(ec::handshake_timeout));
        case rpc_phase::exited:
          if (now >= st.next_check) {
            self->send(st.peer, atom::close::value, st.hdl);
            connection::finish(self, "exit acknowledged");
          }
          return;
        case rpc_phase::bound: break;
        default: return;
      }
      if (now < st.next_check)
        return;
      if (now - st.last_heard >= st.config.lost_timeout)
        return fail(self, "no Status call for "
                            + format_duration(st.config.lost_timeout));
      st.next_check = st.last_heard + st.config.lost_timeout;
      self->delayed_send(self, st.next_check - now, atom::tick::value);
    },
  };
}

} // namespace baton
