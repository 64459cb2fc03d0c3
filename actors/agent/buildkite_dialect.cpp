// The reference's dialect: Go net/rpc with gob on buildkite.sock, after an
// HTTP CONNECT preamble. Flow control is the reply: a WriteLogs call is
// answered once its bytes fit into the log window, and a stock client waits
// for each reply.

#include "actors/agent/session_dialect.hpp"

#include "messages/error.hpp"
#include "messages/rpc.hpp"
#include "os/process.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <spdlog/spdlog.h>

#include <deque>
#include <limits>
#include <optional>
#include <utility>

namespace baton {

namespace {

/// The error Go's client turns into rpc.ErrShutdown: the reference's Status
/// once the job is done.
constexpr const char* shut_down = "connection is shut down";

/// WriteLogs bytes a peer may have unanswered beyond the log window. A
/// stock client waits for each reply and has at most two calls in flight
/// (stdout and stderr); more is a peer that does not wait, and is closed.
constexpr uint64_t max_held_bytes = 2 * gob::default_max_message_size;

// What the warnings of peers that are no container count toward.
constexpr std::string_view bad_requests
  = "connections refused for bad requests";
constexpr std::string_view bad_calls
  = "connections refused for malformed calls";

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

// Go's server: "Service.Method", a known service, a known method.
std::string unknown_method_error(const std::string& name) {
  auto dot = name.rfind('.');
  if (dot == std::string::npos)
    return "rpc: service/method request ill-formed: " + name;
  if (name.compare(0, dot, "Runner") != 0)
    return "rpc: can't find service " + name;
  return "rpc: can't find method " + name;
}

// The reference's answer to Status for a run state. Its RunState has no
// shutdown: that is rpc.ErrShutdown. Nor a skip: a stock client told to
// interrupt before its turn gives up without running its command, which is
// what a skip means.
rpc::run_state reference_state(run_state x) {
  switch (x) {
    case run_state::start: return rpc::run_state::start;
    case run_state::interrupt:
    case run_state::skip: return rpc::run_state::interrupt;
    default: return rpc::run_state::wait;
  }
}

class buildkite_dialect final : public session_dialect {
public:
  // The reference: only Status calls are heartbeats.
  buildkite_dialect()
    : session_dialect({"rpc-session", "rpc session", "Status call"}) {
    // nop
  }

  void on_bytes(session_ptr self, std::string& bytes) override;

  // A stock client writes its own header: it has no use for its name.
  void registered(session_ptr self, std::vector<std::string>& env,
                  const std::string&, turn& now) override {
    auto seq = std::exchange(register_seq_, 0);
    lifecycle::tell(self, std::move(now));
    reply(self, rpc::register_method, seq, rpc::register_response_type(),
          rpc::to_value(rpc::register_response{std::move(env)}));
  }

  void refused(session_ptr self, const caf::error& err) override {
    reply_error(self, rpc::register_method, std::exchange(register_seq_, 0),
                reference_text(err, register_id_));
  }

  void push(session_ptr, turn now) override {
    // Status polls are answered from it, without a round trip.
    pushed_ = now.state;
  }

  void exit_recorded(session_ptr self) override {
    reply_empty(self, rpc::exit_method, *exit_seq_);
  }

  void last_word(session_ptr self, const caf::error& err) override {
    // net/rpc has no way to tell the peer why, but the Exit being
    // answered can carry it.
    if (exit_seq_ && self->state.phase == session_phase::exiting)
      reply_error(self, rpc::exit_method, *exit_seq_, render(err));
  }

  void closed_unbound(session_ptr self, const std::string&) override {
    if (auto err = codec_.finish())
      lifecycle::warn(self, "connections closed inside a call",
                      "connection closed: " + render(err));
  }

private:
  void reply(session_ptr self, std::string_view method, uint64_t seq,
             const gob::type_ptr& type, const gob::value& value,
             std::string error = {});

  void reply_empty(session_ptr self, std::string_view method, uint64_t seq) {
    reply(self, method, seq, rpc::empty_type(), rpc::to_value(rpc::empty{}));
  }

  void reply_error(session_ptr self, std::string_view method, uint64_t seq,
                   std::string error) {
    reply(self, method, seq, rpc::empty_type(), rpc::to_value(rpc::empty{}),
          std::move(error));
  }

  void fail(session_ptr self, const caf::error& err,
            std::string_view counted = bad_calls) {
    lifecycle::fail(self, err, counted);
  }

  bool on_preamble(session_ptr self, std::string& bytes);
  void on_call(session_ptr self, rpc::call& call);
  void on_register(session_ptr self, uint64_t seq, int64_t id);
  void on_status(session_ptr self, uint64_t seq, int64_t id);
  void answer_status(session_ptr self, uint64_t seq, run_state state);
  void on_write_logs(session_ptr self, uint64_t seq, rpc::logs& logs);
  void forward_logs(session_ptr self, std::string data);
  void on_written(session_ptr self, uint64_t n);
  void on_exit(session_ptr self, uint64_t seq, const rpc::exit_code& x);
  void exit_of_another(session_ptr self, uint64_t seq, int64_t id);

  /// A WriteLogs call held back until the job log has room for it.
  struct held_call {
    uint64_t seq = 0;
    std::string data;
  };

  /// Bytes of the HTTP preamble received so far.
  std::string preamble_;
  rpc::server_codec codec_;
  /// The Register call being answered, and the id it asks for.
  uint64_t register_seq_ = 0;
  int64_t register_id_ = 0;
  /// The run state the runner pushed last.
  run_state pushed_ = run_state::wait;
  /// Log bytes handed to the aggregator and not yet written.
  uint64_t in_flight_ = 0;
  /// WriteLogs calls that wait for room in the log window, in order.
  std::deque<held_call> held_;
  uint64_t held_bytes_ = 0;
  /// The Exit call, once made, and its status.
  std::optional<uint64_t> exit_seq_;
  int32_t exit_status_ = 0;
  /// The Exit waits for the held calls to go out first.
  bool exit_held_ = false;
};

// Answers call `seq` of `method` with `value`, or with the error `error`
// when it is not empty.
void buildkite_dialect::reply(session_ptr self, std::string_view method,
                              uint64_t seq, const gob::type_ptr& type,
                              const gob::value& value, std::string error) {
  auto& st = self->state;
  if (st.phase == session_phase::closed)
    return;
  std::string out;
  rpc::response_header header{std::string{method}, seq, std::move(error)};
  if (auto err = codec_.append_reply(out, header, type, value)) {
    // Our own reply does not fit its type: a bug, not the peer's fault.
    spdlog::error("{}: cannot encode the reply to {}: {}", st.label, method,
                  render(err));
    return;
  }
  lifecycle::write(self, std::move(out));
}

void buildkite_dialect::on_register(session_ptr self, uint64_t seq,
                                    int64_t id) {
  auto& st = self->state;
  auto& method = rpc::register_method;
  if (st.phase != session_phase::unbound) {
    // One connection serves one container (the reference binds nothing
    // and would take a second id on the same connection).
    if (st.phase != session_phase::registering && id == st.id)
      return reply_error(self, method, seq, already_registered(id));
    return reply_error(self, method, seq,
                       "this connection already registered "
                         + (st.phase == session_phase::registering
                              ? std::string{"a client id"}
                              : "client id " + std::to_string(st.id))
                         + "; connect again to register client id "
                         + std::to_string(id));
  }
  if (!fits_int32(id))
    return reply_error(self, method, seq, unrecognized(id));
  register_seq_ = seq;
  register_id_ = id;
  lifecycle::register_container(self, registration{static_cast<int32_t>(id),
                                                   dialect::buildkite});
}

void buildkite_dialect::answer_status(session_ptr self, uint64_t seq,
                                      run_state state) {
  if (state == run_state::shutdown)
    return reply_error(self, rpc::status_method, seq, shut_down);
  reply(self, rpc::status_method, seq, gob::int_type(),
        rpc::to_value(reference_state(state)));
}

void buildkite_dialect::on_status(session_ptr self, uint64_t seq, int64_t id) {
  auto& st = self->state;
  auto own = id == st.id
             && (st.phase == session_phase::bound
                 || st.phase == session_phase::exiting);
  if (own) {
    // The heartbeat, answered without a round trip to the runner.
    lifecycle::heard(self);
    return answer_status(self, seq, pushed_);
  }
  // Another id, or before Register, or after Exit (the reference answers
  // for any id): the runner knows.
  if (!fits_int32(id))
    return reply_error(self, rpc::status_method, seq, unrecognized(id));
  self
    ->request(st.runner, caf::infinite, atom::state::value,
              static_cast<int32_t>(id))
    .then([=](run_state state) { answer_status(self, seq, state); },
          [=](caf::error& err) {
            reply_error(self, rpc::status_method, seq, reference_text(err, id));
          });
}

// Hands `data` to the aggregator, as a batch of one.
void buildkite_dialect::forward_logs(session_ptr self, std::string data) {
  auto n = static_cast<uint64_t>(data.size());
  in_flight_ += n;
  log_batch batch;
  batch.push_back(log_piece{wall_clock_ns(), std::move(data)});
  lifecycle::write_log(self, std::move(batch),
                       [this, n](session_ptr self, uint64_t) {
                         on_written(self, n);
                       });
}

// Room in the window: the held calls go out, in order, and a held Exit
// after them.
void buildkite_dialect::on_written(session_ptr self, uint64_t n) {
  in_flight_ -= n;
  while (!held_.empty() && in_flight_ < self->state.config.log_window) {
    auto call = std::move(held_.front());
    held_.pop_front();
    held_bytes_ -= call.data.size();
    forward_logs(self, std::move(call.data));
    reply_empty(self, rpc::write_logs_method, call.seq);
  }
  if (held_.empty() && std::exchange(exit_held_, false))
    lifecycle::report_exit(self, step_exit{exit_status_, false, {}});
}

void buildkite_dialect::on_write_logs(session_ptr self, uint64_t seq,
                                      rpc::logs& logs) {
  auto& st = self->state;
  auto& method = rpc::write_logs_method;
  if (st.phase != session_phase::bound)
    // The reference writes anyone's bytes; here they belong to the
    // container registered on this connection, so there must be one.
    return reply_error(self, method, seq,
                       st.phase == session_phase::exiting
                           || st.phase == session_phase::exited
                         ? "WriteLogs after Exit on this connection"
                         : "WriteLogs before Register: no client id is "
                           "registered on this connection");
  if (logs.data.empty())
    return reply_empty(self, method, seq);
  if (in_flight_ < st.config.log_window && held_.empty()) {
    forward_logs(self, std::move(logs.data));
    return reply_empty(self, method, seq);
  }
  // The job log is behind: hold the reply, and with it the peer.
  held_bytes_ += logs.data.size();
  if (held_bytes_ > max_held_bytes)
    return fail(self, make_error(ec::credit_exceeded,
                                 "more than " + std::to_string(max_held_bytes)
                                   + " bytes of WriteLogs calls unanswered: "
                                     "the peer does not wait for its "
                                     "replies"));
  held_.push_back({seq, std::move(logs.data)});
}

// Only the connection a container registered on reports its exit (the
// reference takes it from anyone); the runner knows which ids exist.
void buildkite_dialect::exit_of_another(session_ptr self, uint64_t seq,
                                        int64_t id) {
  auto& method = rpc::exit_method;
  if (!fits_int32(id))
    return reply_error(self, method, seq, unrecognized(id));
  self
    ->request(self->state.runner, caf::infinite, atom::state::value,
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
}

void buildkite_dialect::on_exit(session_ptr self, uint64_t seq,
                                const rpc::exit_code& x) {
  auto& st = self->state;
  auto& method = rpc::exit_method;
  if (x.id == st.id
      && (st.phase == session_phase::exiting
          || st.phase == session_phase::exited))
    return reply_error(self, method, seq,
                       "client id " + std::to_string(x.id)
                         + " already reported its exit status");
  if (x.id != st.id || st.phase != session_phase::bound)
    return exit_of_another(self, seq, x.id);
  if (!fits_int32(x.exit_status))
    return reply_error(self, method, seq,
                       "exit status " + std::to_string(x.exit_status)
                         + " is out of range");
  lifecycle::begin_exit(self);
  exit_seq_ = seq;
  exit_status_ = static_cast<int32_t>(x.exit_status);
  if (!held_.empty()) {
    exit_held_ = true;
    return;
  }
  lifecycle::report_exit(self, step_exit{exit_status_, false, {}});
}

void buildkite_dialect::on_call(session_ptr self, rpc::call& call) {
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
      return on_register(self, seq, id);
    return on_status(self, seq, id);
  }
  if (method == rpc::write_logs_method) {
    rpc::logs logs;
    if (auto err = rpc::from_value(call.body, logs))
      return bad_body(err);
    return on_write_logs(self, seq, logs);
  }
  if (method == rpc::exit_method) {
    rpc::exit_code x;
    if (auto err = rpc::from_value(call.body, x))
      return bad_body(err);
    return on_exit(self, seq, x);
  }
  reply_error(self, method, seq, unknown_method_error(method));
}

// Reads the HTTP CONNECT preamble. True once it is through, with `bytes`
// holding what came after it: the first calls.
bool buildkite_dialect::on_preamble(session_ptr self, std::string& bytes) {
  preamble_ += bytes;
  auto result = rpc::parse_connect(preamble_);
  switch (result.status) {
    case rpc::preamble_status::need_more: return false;
    case rpc::preamble_status::rejected:
      lifecycle::warn(self, bad_requests,
                      "refusing the connection: " + render(result.error));
      lifecycle::write(self, std::move(result.response));
      lifecycle::close(self, render(result.error));
      return false;
    case rpc::preamble_status::failed:
      fail(self, result.error, bad_requests);
      return false;
    case rpc::preamble_status::ok: break;
  }
  self->state.phase = session_phase::unbound;
  lifecycle::write(self, std::string{rpc::connected_response});
  bytes = preamble_.substr(result.consumed);
  preamble_.clear();
  preamble_.shrink_to_fit();
  return true;
}

void buildkite_dialect::on_bytes(session_ptr self, std::string& bytes) {
  auto& st = self->state;
  if (st.phase == session_phase::handshake && !on_preamble(self, bytes))
    return;
  codec_.feed(bytes.data(), bytes.size());
  rpc::call call;
  while (st.phase != session_phase::closed && codec_.next(call))
    on_call(self, call);
  if (st.phase != session_phase::closed && codec_.error())
    fail(self, codec_.error());
}

} // namespace

std::unique_ptr<session_dialect> make_buildkite_dialect() {
  return std::make_unique<buildkite_dialect>();
}

} // namespace baton
