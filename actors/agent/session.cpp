#include "actors/agent/session.hpp"

#include "actors/agent/connection.hpp"

#include "messages/duration.hpp"
#include "messages/error.hpp"
#include "os/process.hpp"

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <nlohmann/json.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <utility>

namespace baton {

caf::error session_config::validate() const {
  if (lost_timeout.count() <= 0)
    return make_error(ec::invalid_argument,
                      "lost timeout must be positive, got "
                        + format_duration(lost_timeout));
  if (heartbeat_interval.count() <= 0 || heartbeat_interval >= lost_timeout)
    return make_error(ec::invalid_argument,
                      "heartbeat interval must be positive and below the "
                      "lost timeout ("
                        + format_duration(lost_timeout) + "), got "
                        + format_duration(heartbeat_interval));
  if (handshake_timeout.count() <= 0)
    return make_error(ec::invalid_argument,
                      "handshake timeout must be positive, got "
                        + format_duration(handshake_timeout));
  if (log_window < min_log_window)
    return make_error(ec::invalid_argument, "log window must be at least "
                                              + std::to_string(min_log_window)
                                              + " bytes, got "
                                              + std::to_string(log_window));
  return {};
}

const char* to_string(session_phase x) {
  switch (x) {
    case session_phase::handshake: return "handshake";
    case session_phase::unbound: return "unbound";
    case session_phase::querying: return "querying";
    case session_phase::registering: return "registering";
    case session_phase::bound: return "bound";
    case session_phase::exiting: return "exiting";
    case session_phase::exited: return "exited";
    case session_phase::closed: return "closed";
  }
  return "invalid";
}

namespace {

using session_ptr = session_actor::stateful_pointer<session_state>;

void send_frame(session_ptr self, const wire::message& msg) {
  self->send(self->state.peer, atom::write::value, self->state.hdl,
             wire::encode(msg));
}

// Tells the peer what to do now, in the terms of its protocol version.
void send_turn(session_ptr self, turn x) {
  if (x.state == run_state::start)
    connection::set_streaming(self, true);
  wire::state_update msg{x.state, std::move(x.env), std::move(x.job_result),
                         x.job_status};
  if (self->state.version < 2) {
    // Version 1 knows no skip: it gives up as when the job shuts down.
    if (msg.state == run_state::skip)
      msg.state = run_state::shutdown;
    msg.env.clear();
    msg.job_result.clear();
  }
  send_frame(self, msg);
}

// Refuses something: tells the peer why, logs it, closes the connection.
void fail(session_ptr self, const caf::error& err) {
  auto& st = self->state;
  auto text = render(err);
  connection::warn(self, connection::counted_as(code_of(err)),
                   "closing the connection: " + text);
  send_frame(self, wire::error_report{to_string(code_of(err)), text});
  self->send(st.peer, atom::close::value, st.hdl);
  connection::finish(self, text);
}

// The job log cannot be written: the job is over for every container (the
// runner hears why first), and this peer hears it too.
void job_log_failed(session_ptr self, const caf::error& err) {
  self->send(self->state.runner, atom::terminate::value, render(err));
  fail(self, err);
}

void refuse_unexpected(session_ptr self, wire::frame_type type) {
  fail(self, make_error(ec::unexpected_message,
                        std::string{"unexpected "} + wire::to_string(type)
                          + " frame while the session is in phase "
                          + to_string(self->state.phase)));
}

void on_hello(session_ptr self, const wire::hello& msg) {
  auto& st = self->state;
  if (msg.version < defaults::min_protocol_version
      || msg.version > defaults::protocol_version) {
    fail(self,
         make_error(ec::protocol_mismatch,
                    "protocol version mismatch: the agent speaks "
                      + std::to_string(defaults::min_protocol_version) + " to "
                      + std::to_string(defaults::protocol_version)
                      + ", the peer speaks " + std::to_string(msg.version)));
    return;
  }
  st.version = msg.version;
  st.phase = session_phase::unbound;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
    st.config.heartbeat_interval);
  // At least 1 ms: 0 would mean "never" to the peer.
  auto heartbeat_ms = std::max<int64_t>(ms.count(), 1);
  send_frame(self,
             wire::welcome{st.version, static_cast<uint32_t>(heartbeat_ms)});
}

void on_register(session_ptr self, const wire::register_request& msg) {
  auto& st = self->state;
  st.phase = session_phase::registering;
  // From version 2 the settings follow, once the bootstrap merged the job
  // environment; version 1 gets the reference's behaviour.
  registration reg;
  reg.id = msg.id;
  reg.configured = st.version < 2;
  self
    ->request(st.runner, caf::infinite, atom::register_::value, reg,
              container_actor{session_actor{self}})
    .then(
      [=](std::vector<std::string>& env, turn& now) {
        auto& st = self->state;
        if (st.phase != session_phase::registering)
          return;
        st.phase = session_phase::bound;
        st.id = msg.id;
        st.configured = st.version < 2;
        st.label += " (container " + std::to_string(msg.id) + ")";
        st.credit = st.config.log_window;
        // Credit before the state: a container told to start can log its
        // header at once.
        send_frame(self, wire::registered{std::move(env)});
        send_frame(self, wire::credit{st.config.log_window});
        if (st.configured)
          send_turn(self, std::move(now));
        st.last_heard = self->clock().now();
        st.next_check = st.last_heard + st.config.lost_timeout;
        self->delayed_send(self, st.config.lost_timeout, atom::tick::value);
      },
      [=](caf::error& err) {
        if (self->state.phase == session_phase::registering)
          fail(self, err);
      });
}

void on_settings(session_ptr self, const wire::settings_report& msg) {
  auto& st = self->state;
  st.configured = true;
  self
    ->request(st.runner, caf::infinite, atom::configure::value, st.id,
              msg.settings)
    .then(
      [=](turn& now) {
        auto& st = self->state;
        if (st.phase == session_phase::bound
            || st.phase == session_phase::exiting)
          send_turn(self, std::move(now));
      },
      [=](caf::error& err) {
        if (self->state.phase != session_phase::closed)
          fail(self, err);
      });
}

// Passes log bytes that arrived together on to the aggregator, as one
// batch: one message, one write and one reply however many frames.
void on_log(session_ptr self, log_batch batch) {
  auto& st = self->state;
  uint64_t n = 0;
  for (auto& piece : batch)
    n += piece.bytes.size();
  if (n > st.credit) {
    fail(self, make_error(ec::credit_exceeded,
                          "log frame of " + std::to_string(n)
                            + " bytes exceeds the remaining credit of "
                            + std::to_string(st.credit) + " bytes"));
    return;
  }
  st.credit -= n;
  self
    ->request(st.aggregator, caf::infinite, atom::log::value, st.id,
              std::move(batch))
    .then(
      [=](uint64_t written) {
        auto& st = self->state;
        if (st.phase == session_phase::closed)
          return;
        // Grants go out in batches of a quarter window: fewer frames and
        // wake-ups. No deadlock: a peer out of credit has a whole window
        // written, which always reaches the batch size.
        st.ungranted += written;
        if (st.ungranted >= st.config.log_window / 4) {
          st.credit += st.ungranted;
          send_frame(self, wire::credit{st.ungranted});
          st.ungranted = 0;
        }
      },
      [=](caf::error& err) { job_log_failed(self, err); });
}

void on_exit(session_ptr self, const wire::exit_report& msg) {
  auto& st = self->state;
  st.phase = session_phase::exiting;
  connection::set_streaming(self, false);
  // Secrets among the variables passed on are redacted from every later
  // byte (this message reaches the aggregator before any of them).
  if (!msg.outputs.empty())
    self->send(st.aggregator, atom::env::value, msg.outputs);
  // The log first, then the status: once the runner hands the turn to the
  // next container, this container's output is already in the job log.
  step_exit x{msg.status, msg.timed_out, msg.outputs};
  self->request(st.aggregator, caf::infinite, atom::eof::value, st.id)
    .then(
      [=](atom::ok) {
        auto& st = self->state;
        self->request(st.runner, caf::infinite, atom::exit::value, st.id, x)
          .then(
            [=](atom::ok) {
              if (self->state.phase != session_phase::exiting)
                return;
              auto& st = self->state;
              st.phase = session_phase::exited;
              send_frame(self, wire::exit_ack{});
              // The peer closes once it has the acknowledgement; one that
              // does not is closed after the handshake timeout rather than
              // holding a connection slot until the agent exits.
              st.next_check = self->clock().now() + st.config.handshake_timeout;
              self->delayed_send(self, st.config.handshake_timeout,
                                 atom::tick::value);
            },
            [=](caf::error& err) {
              if (self->state.phase == session_phase::exiting)
                fail(self, err);
            });
      },
      [=](caf::error& err) { job_log_failed(self, err); });
}

// Answers `baton status`: the runner's snapshot with the log bytes, then
// the connection closes.
void on_status(session_ptr self) {
  auto& st = self->state;
  st.phase = session_phase::querying;
  self->request(st.runner, caf::infinite, atom::status::value)
    .then([=](job_result& result) {
      self->request(self->state.aggregator, caf::infinite, atom::status::value)
        .then([=](std::vector<uint64_t>& bytes) mutable {
          for (size_t id = 0;
               id < bytes.size() && id < result.containers.size(); ++id)
            result.containers[id].log_bytes = bytes[id];
          send_frame(self, wire::status_report{to_json(result).dump()});
          self->send(self->state.peer, atom::close::value, self->state.hdl);
          connection::finish(self, "status sent");
        });
    });
}

// The hot path: a log frame of a bound session moves its bytes into
// `batch` without being decoded (copied). False for any other frame.
bool take_log(session_ptr self, wire::frame& frm, log_batch& batch) {
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
void dispatch(session_ptr self, wire::frame& frm) {
  auto& st = self->state;
  auto msg = wire::decode(frm);
  if (!msg) {
    fail(self, msg.error());
    return;
  }
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
      if (st.phase != phase::bound || st.configured)
        return refuse_unexpected(self, frm.type);
      return on_settings(self, std::get<wire::settings_report>(*msg));
    case wire::frame_type::status:
      if (st.phase != phase::unbound)
        return refuse_unexpected(self, frm.type);
      return on_status(self);
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
      connection::warn(self, "connections closed on the peer's error report",
                       "peer reports " + report.code + ": " + report.message);
      self->send(st.peer, atom::close::value, st.hdl);
      return connection::finish(self,
                                "peer reported an error: " + report.message);
    }
    default:
      // Frames only the agent sends.
      return refuse_unexpected(self, frm.type);
  }
}

void on_frame(session_ptr self, wire::frame& frm) {
  auto& st = self->state;
  if (st.phase == session_phase::closed)
    return;
  st.last_heard = self->clock().now();
  log_batch batch;
  if (take_log(self, frm, batch))
    return on_log(self, std::move(batch));
  dispatch(self, frm);
}

// Frames of one read, in order: runs of log frames go on as one batch each.
void on_frames(session_ptr self, std::vector<wire::frame>& frames) {
  auto& st = self->state;
  if (st.phase == session_phase::closed)
    return;
  st.last_heard = self->clock().now();
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
  }
  if (!batch.empty())
    on_log(self, std::move(batch));
}

} // namespace

session_actor::behavior_type
session(session_ptr self, caf::io::connection_handle hdl, peer_actor peer,
        runner_actor runner, log_aggregator_actor aggregator,
        session_config config) {
  connection::open(self, hdl, std::move(peer), std::move(runner),
                   std::move(aggregator), config, "session");
  return {
    [=](wire::frame& frm) { on_frame(self, frm); },
    [=](std::vector<wire::frame>& frames) { on_frames(self, frames); },
    [=](atom::closed, const std::string& why) {
      auto& st = self->state;
      if (st.phase == session_phase::closed)
        return;
      if ((st.phase == session_phase::bound
           || st.phase == session_phase::exiting)
          && why != agent_stopping)
        spdlog::warn("{}: connection closed before the exit status: {}",
                     st.label, why.empty() ? "closed by the peer" : why);
      connection::finish(
        self, why.empty() ? "connection closed before its exit status" : why);
    },
    [=](atom::state, turn& now) {
      auto& st = self->state;
      if (st.phase == session_phase::bound
          || st.phase == session_phase::exiting)
        send_turn(self, std::move(now));
    },
    [=](atom::tick) {
      auto& st = self->state;
      if (st.phase == session_phase::handshake
          || st.phase == session_phase::unbound) {
        fail(self,
             make_error(ec::handshake_timeout,
                        "no registration within "
                          + format_duration(st.config.handshake_timeout)));
        return;
      }
      // Ticks of the handshake deadline, the heartbeat check and the
      // linger deadline share the atom; one that comes before the next
      // check is due is stale.
      auto now = self->clock().now();
      if (st.phase == session_phase::exited) {
        if (now >= st.next_check) {
          spdlog::debug("{}: closing: the peer kept the connection open after "
                        "its exit was acknowledged",
                        st.label);
          self->send(st.peer, atom::close::value, st.hdl);
          connection::finish(self, "exit acknowledged");
        }
        return;
      }
      if (st.phase != session_phase::bound || now < st.next_check)
        return;
      auto silent = now - st.last_heard;
      if (silent >= st.config.lost_timeout) {
        fail(self, make_error(ec::heartbeat_timeout,
                              "no heartbeat for "
                                + format_duration(st.config.lost_timeout)));
        return;
      }
      st.next_check = st.last_heard + st.config.lost_timeout;
      self->delayed_send(self, st.next_check - now, atom::tick::value);
    },
  };
}

} // namespace baton
