// baton's own dialect: length-prefixed frames (docs/protocol.md), cut by the
// socket broker. Flow control is credit: the peer may have `log_window`
// bytes in flight, and grants come back as the job log takes them.

#include "actors/agent/session_dialect.hpp"

#include "messages/error.hpp"
#include "os/process.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <nlohmann/json.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <utility>

namespace baton {

namespace {

class baton_dialect final : public session_dialect {
public:
  baton_dialect() : session_dialect({"session", "session", "heartbeat"}) {
    // nop
  }

  void on_frames(session_ptr self, std::vector<wire::frame>& frames) override;

  void registered(session_ptr self, std::vector<std::string>& env,
                  const std::string& name, turn& now) override {
    auto& log_window = self->state.config.log_window;
    credit_ = log_window;
    // Credit before the state: a container told to start can log its
    // header at once.
    lifecycle::write(self,
                     wire::encode(wire::registered{std::move(env), name}));
    lifecycle::write(self, wire::encode(wire::credit{log_window}));
    if (configured_)
      lifecycle::tell(self, std::move(now));
  }

  void refused(session_ptr self, const caf::error& err) override {
    lifecycle::fail(self, err);
  }

  void push(session_ptr self, turn x) override;

  void exit_recorded(session_ptr self) override {
    lifecycle::write(self, wire::encode(wire::exit_ack{}));
  }

  void last_word(session_ptr self, const caf::error& err) override {
    lifecycle::write(self, wire::encode(wire::error_report{
                             to_string(code_of(err)), render(err)}));
  }

private:
  void refuse_unexpected(session_ptr self, wire::frame_type type);
  void on_hello(session_ptr self, const wire::hello& msg);
  void on_register(session_ptr self, const wire::register_request& msg);
  void on_settings(session_ptr self, const wire::settings_report& msg);
  void on_log(session_ptr self, log_batch batch);
  void on_exit(session_ptr self, const wire::exit_report& msg);
  void on_status(session_ptr self);
  bool take_log(session_ptr self, wire::frame& frm, log_batch& batch);
  void dispatch(session_ptr self, wire::frame& frm);

  /// The protocol version the peer speaks (from its hello).
  uint32_t version_ = defaults::protocol_version;
  /// Its settings reached the runner (version 2 sends them after the
  /// registration; version 1 has none).
  bool configured_ = false;
  /// Log bytes the peer may still send without a new grant.
  uint64_t credit_ = 0;
  /// Log bytes written but not yet granted back (sent in batches).
  uint64_t ungranted_ = 0;
};

// Tells the peer what to do now, in the terms of its protocol version.
void baton_dialect::push(session_ptr self, turn x) {
  wire::state_update msg{x.state, std::move(x.env), std::move(x.job_result),
                         x.job_status};
  if (version_ < 2) {
    // Version 1 knows no skip: it gives up as when the job shuts down.
    if (msg.state == run_state::skip)
      msg.state = run_state::shutdown;
    msg.env.clear();
    msg.job_result.clear();
  }
  lifecycle::write(self, wire::encode(msg));
}

void baton_dialect::refuse_unexpected(session_ptr self, wire::frame_type type) {
  lifecycle::fail(self,
                  make_error(ec::unexpected_message,
                             std::string{"unexpected "} + wire::to_string(type)
                               + " frame while the session is in phase "
                               + to_string(self->state.phase)));
}

void baton_dialect::on_hello(session_ptr self, const wire::hello& msg) {
  auto& st = self->state;
  if (msg.version < defaults::min_protocol_version
      || msg.version > defaults::protocol_version)
    return lifecycle::fail(
      self, make_error(ec::protocol_mismatch,
                       "protocol version mismatch: the agent speaks "
                         + std::to_string(defaults::min_protocol_version)
                         + " to " + std::to_string(defaults::protocol_version)
                         + ", the peer speaks " + std::to_string(msg.version)));
  version_ = msg.version;
  st.phase = session_phase::unbound;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
    st.config.heartbeat_interval);
  // At least 1 ms: 0 would mean "never" to the peer.
  auto heartbeat_ms = std::max<int64_t>(ms.count(), 1);
  lifecycle::write(self, wire::encode(wire::welcome{
                           version_, static_cast<uint32_t>(heartbeat_ms)}));
}

void baton_dialect::on_register(session_ptr self,
                                const wire::register_request& msg) {
  // From version 2 the settings follow, once the bootstrap merged the job
  // environment; version 1 gets the reference's behaviour.
  configured_ = version_ < 2;
  registration reg;
  reg.id = msg.id;
  reg.configured = configured_;
  lifecycle::register_container(self, std::move(reg));
}

void baton_dialect::on_settings(session_ptr self,
                                const wire::settings_report& msg) {
  auto& st = self->state;
  configured_ = true;
  self
    ->request(st.runner, caf::infinite, atom::configure::value, st.id,
              msg.settings)
    .then(
      [=](turn& now) {
        auto& st = self->state;
        if (st.phase == session_phase::bound
            || st.phase == session_phase::exiting)
          lifecycle::tell(self, std::move(now));
      },
      [=](caf::error& err) { lifecycle::fail(self, err); });
}

void baton_dialect::on_log(session_ptr self, log_batch batch) {
  uint64_t n = 0;
  for (auto& piece : batch)
    n += piece.bytes.size();
  if (n > credit_)
    return lifecycle::fail(
      self, make_error(ec::credit_exceeded,
                       "log frame of " + std::to_string(n)
                         + " bytes exceeds the remaining credit of "
                         + std::to_string(credit_) + " bytes"));
  credit_ -= n;
  lifecycle::write_log(
    self, std::move(batch), [this](session_ptr self, uint64_t written) {
      // Grants go out in batches of a quarter window:
      // fewer frames and wake-ups. No deadlock: a peer
      // out of credit has a whole window written, which
      // always reaches the batch size.
      ungranted_ += written;
      if (ungranted_ < self->state.config.log_window / 4)
        return;
      credit_ += ungranted_;
      lifecycle::write(self, wire::encode(wire::credit{ungranted_}));
      ungranted_ = 0;
    });
}

void baton_dialect::on_exit(session_ptr self, const wire::exit_report& msg) {
  lifecycle::begin_exit(self);
  step_exit x;
  x.status = msg.status;
  x.timed_out = msg.timed_out;
  x.outputs = msg.outputs;
  x.signal = msg.signal;
  x.oom_killed = msg.oom_killed;
  x.memory_limit = msg.memory_limit;
  x.timeout_ms = msg.timeout_ms;
  lifecycle::report_exit(self, std::move(x));
}

// Answers `baton status`: the runner's snapshot with the log bytes, then
// the connection closes.
void baton_dialect::on_status(session_ptr self) {
  auto& st = self->state;
  st.phase = session_phase::querying;
  self->request(st.runner, caf::infinite, atom::status::value)
    .then([=](job_result& result) {
      self->request(self->state.aggregator, caf::infinite, atom::status::value)
        .then([=](std::vector<uint64_t>& bytes) mutable {
          for (size_t id = 0;
               id < bytes.size() && id < result.containers.size(); ++id)
            result.containers[id].log_bytes = bytes[id];
          lifecycle::write(
            self, wire::encode(wire::status_report{to_json(result).dump()}));
          lifecycle::close(self, "status sent");
        });
    });
}

// The hot path: a log frame of a bound session moves its bytes into
// `batch` without being decoded (copied). False for any other frame.
bool baton_dialect::take_log(session_ptr self, wire::frame& frm,
                             log_batch& batch) {
  if (self->state.phase != session_phase::bound)
    return false;
  if (frm.type == wire::frame_type::log_at
      && frm.body.size() > wire::log_at_header_size) {
    auto read_ns = wire::read_log_time(frm.body.data());
    frm.body.erase(0, wire::log_at_header_size);
    batch.push_back(log_piece{read_ns, std::move(frm.body)});
    return true;
  }
  // Version 1 sends no time: the time it arrived stands in.
  if (frm.type == wire::frame_type::log && !frm.body.empty()) {
    batch.push_back(log_piece{wall_clock_ns(), std::move(frm.body)});
    return true;
  }
  return false;
}

// Any frame but a log frame of a bound session, on an open connection.
void baton_dialect::dispatch(session_ptr self, wire::frame& frm) {
  auto& st = self->state;
  auto msg = wire::decode(frm);
  if (!msg)
    return lifecycle::fail(self, msg.error());
  using phase = session_phase;
  switch (frm.type) {
    case wire::frame_type::hello:
      if (st.phase != phase::handshake)
        return refuse_unexpected(self, frm.type);
      return on_hello(self, std::get<wire::hello>(*msg));
    case wire::frame_type::register_:
      if (st.phase != phase::unbound)
        return refuse_unexpected(self, frm.type);
      return on_register(self, std::get<wire::register_request>(*msg));
    case wire::frame_type::log:
    case wire::frame_type::log_at:
      // The valid ones in phase bound took the hot path above.
      return refuse_unexpected(self, frm.type);
    case wire::frame_type::settings:
      if (st.phase != phase::bound || configured_)
        return refuse_unexpected(self, frm.type);
      return on_settings(self, std::get<wire::settings_report>(*msg));
    case wire::frame_type::status:
      if (st.phase != phase::unbound)
        return refuse_unexpected(self, frm.type);
      return on_status(self);
    case wire::frame_type::ready:
      // A service's readiness; the runner checks it is one, and running.
      if (st.phase != phase::bound || !configured_)
        return refuse_unexpected(self, frm.type);
      self->send(st.runner, atom::ready::value, st.id);
      return;
    case wire::frame_type::heartbeat:
      if (st.phase == phase::handshake)
        return refuse_unexpected(self, frm.type);
      return;
    case wire::frame_type::exit:
      if (st.phase != phase::bound)
        return refuse_unexpected(self, frm.type);
      return on_exit(self, std::get<wire::exit_report>(*msg));
    case wire::frame_type::error: {
      auto& report = std::get<wire::error_report>(*msg);
      lifecycle::warn(self, "connections closed on the peer's error report",
                      "peer reports " + report.code + ": " + report.message);
      return lifecycle::close(self,
                              "peer reported an error: " + report.message);
    }
    default:
      // Frames only the agent sends.
      return refuse_unexpected(self, frm.type);
  }
}

// Frames of one read, in order: runs of log frames go on as one batch each.
// Every frame is a sign of life.
void baton_dialect::on_frames(session_ptr self,
                              std::vector<wire::frame>& frames) {
  auto& st = self->state;
  lifecycle::heard(self);
  log_batch batch;
  for (auto& frm : frames) {
    if (take_log(self, frm, batch))
      continue;
    if (!batch.empty())
      on_log(self, std::exchange(batch, {}));
    // Either may have closed the connection.
    if (st.phase == session_phase::closed)
      return;
    dispatch(self, frm);
    if (st.phase == session_phase::closed)
      return;
  }
  if (!batch.empty())
    on_log(self, std::move(batch));
}

} // namespace

std::unique_ptr<session_dialect> make_baton_dialect() {
  return std::make_unique<baton_dialect>();
}

} // namespace baton
