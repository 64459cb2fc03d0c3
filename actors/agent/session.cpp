#include "actors/agent/session.hpp"

#include "actors/agent/session_dialect.hpp"

#include "messages/duration.hpp"
#include "messages/error.hpp"

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <spdlog/spdlog.h>

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

session_state::session_state() = default;

session_state::~session_state() = default;

session_dialect::~session_dialect() = default;

void session_dialect::on_frames(session_ptr self, std::vector<wire::frame>&) {
  lifecycle::fail(self, make_error(ec::unexpected_message,
                                   "frames on a connection of the "
                                   "reference's dialect"));
}

void session_dialect::on_bytes(session_ptr self, std::string&) {
  lifecycle::fail(self, make_error(ec::unexpected_message,
                                   "raw bytes on a connection of baton's "
                                   "dialect"));
}

void session_dialect::closed_unbound(session_ptr, const std::string&) {
  // nop
}

namespace {

bool a_container(session_phase x) {
  return x == session_phase::bound || x == session_phase::exiting
         || x == session_phase::exited;
}

// Arms the next tick: the deadline of whatever the phase waits for.
void check_at(session_ptr self, caf::actor_clock::time_point when) {
  auto& st = self->state;
  st.next_check = when;
  self->delayed_send(self, when - self->clock().now(), atom::tick::value);
}

// The connection ends. A container that registered but did not report its
// exit status is lost at once (reference: noticed only after 30 s).
void finish(session_ptr self, const std::string& why) {
  auto& st = self->state;
  if (st.phase == session_phase::closed)
    return;
  auto was = std::exchange(st.phase, session_phase::closed);
  if (was == session_phase::bound || was == session_phase::exiting) {
    caf::anon_send(st.aggregator, atom::eof::value, st.id);
    self->send(st.runner, atom::lost::value, st.id, why);
  }
  self->quit();
}

void on_closed(session_ptr self, const std::string& why) {
  auto& st = self->state;
  if (st.phase == session_phase::closed)
    return;
  auto stopping = why == agent_stopping;
  if (st.phase == session_phase::exiting && !stopping) {
    // The exit is reported: it is recorded all the same, not lost.
    st.peer_gone = true;
    return;
  }
  if (st.phase == session_phase::bound && !stopping)
    spdlog::warn("{}: connection closed before the exit status: {}", st.label,
                 why.empty() ? "closed by the peer" : why);
  else if (!a_container(st.phase) && why.empty())
    st.speaks->closed_unbound(self, why);
  finish(self, why.empty() ? "connection closed before its exit status" : why);
}

void on_tick(session_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  switch (st.phase) {
    case session_phase::handshake:
    case session_phase::unbound:
    case session_phase::registering:
      // Only the handshake deadline ticks before the registration.
      return lifecycle::fail(
        self, make_error(ec::handshake_timeout,
                         "no registration within "
                           + format_duration(st.config.handshake_timeout)));
    case session_phase::exited:
      if (now < st.next_check)
        return;
      spdlog::debug("{}: closing: the peer kept the connection open after "
                    "its exit was acknowledged",
                    st.label);
      return lifecycle::close(self, "exit acknowledged");
    case session_phase::bound:
      // Ticks of the handshake deadline, the heartbeat check and the
      // linger deadline share the atom; one that comes before the next
      // check is due is stale.
      if (now < st.next_check)
        return;
      if (now - st.last_heard >= st.config.lost_timeout)
        return lifecycle::fail(
          self,
          make_error(ec::heartbeat_timeout,
                     "no " + std::string{st.speaks->called.heartbeat} + " for "
                       + format_duration(st.config.lost_timeout)));
      return check_at(self, st.last_heard + st.config.lost_timeout);
    default: return;
  }
}

} // namespace

namespace lifecycle {

std::string_view counted_as(ec code) {
  switch (code) {
    case ec::handshake_timeout:
      return "connections closed for not registering in time";
    case ec::protocol_mismatch:
      return "connections refused for a protocol mismatch";
    case ec::unexpected_message:
      return "connections refused for unexpected messages";
    case ec::unrecognized_container:
    case ec::duplicate_container: return "registrations refused";
    case ec::truncated_frame: return "connections closed inside a frame";
    default: return "connections refused for malformed frames";
  }
}

void warn(session_ptr self, std::string_view counted, const std::string& text) {
  auto& st = self->state;
  auto line = st.label + ": " + text;
  if (a_container(st.phase))
    spdlog::warn("{}", line);
  else
    warn_through(st.config.peer_warnings.get(),
                 {st.speaks->called.source, counted}, line,
                 self->clock().now());
}

void heard(session_ptr self) {
  self->state.last_heard = self->clock().now();
}

void write(session_ptr self, wire::frame frm) {
  auto& st = self->state;
  if (!st.peer_gone)
    self->send(st.peer, atom::write::value, st.hdl, std::move(frm));
}

void write(session_ptr self, std::string bytes) {
  auto& st = self->state;
  if (!st.peer_gone)
    self->send(st.peer, atom::write::value, st.hdl, std::move(bytes));
}

void set_streaming(session_ptr self, bool on) {
  auto& st = self->state;
  if (st.streaming == on || st.peer_gone)
    return;
  st.streaming = on;
  self->send(st.peer, atom::stream::value, st.hdl, on);
}

void tell(session_ptr self, turn now) {
  if (now.state == run_state::start)
    set_streaming(self, true);
  self->state.speaks->push(self, std::move(now));
}

void register_container(session_ptr self, registration reg) {
  auto& st = self->state;
  st.phase = session_phase::registering;
  auto id = reg.id;
  self
    ->request(st.runner, caf::infinite, atom::register_::value, std::move(reg),
              container_actor{session_actor{self}})
    .then(
      [=](std::vector<std::string>& env, std::string& name, turn& now) {
        auto& st = self->state;
        if (st.phase != session_phase::registering)
          return;
        st.phase = session_phase::bound;
        st.id = id;
        st.label += " (container " + std::to_string(id) + ")";
        st.speaks->registered(self, env, name, now);
        heard(self);
        check_at(self, st.last_heard + st.config.lost_timeout);
      },
      [=](caf::error& err) {
        auto& st = self->state;
        if (st.phase != session_phase::registering)
          return;
        st.phase = session_phase::unbound;
        st.speaks->refused(self, err);
      });
}

void write_log(session_ptr self, log_batch batch,
               std::function<void(session_ptr, uint64_t)> written) {
  auto& st = self->state;
  self
    ->request(st.aggregator, caf::infinite, atom::log::value, st.id,
              std::move(batch))
    .then(
      [=](uint64_t n) {
        if (self->state.phase != session_phase::closed)
          written(self, n);
      },
      [=](caf::error& err) { job_log_failed(self, err); });
}

void begin_exit(session_ptr self) {
  self->state.phase = session_phase::exiting;
  set_streaming(self, false);
}

void report_exit(session_ptr self, step_exit x) {
  auto& st = self->state;
  // This message reaches the aggregator before any later byte.
  if (!x.outputs.empty())
    self->send(st.aggregator, atom::env::value, x.outputs);
  self->request(st.aggregator, caf::infinite, atom::eof::value, st.id)
    .then(
      [=](atom::ok) {
        auto& st = self->state;
        self->request(st.runner, caf::infinite, atom::exit::value, st.id, x)
          .then(
            [=](atom::ok) {
              auto& st = self->state;
              if (st.phase != session_phase::exiting)
                return;
              st.phase = session_phase::exited;
              if (st.peer_gone)
                return finish(self, "exit recorded");
              st.speaks->exit_recorded(self);
              // The peer closes once it has the acknowledgement; one that
              // does not is closed after the handshake timeout rather than
              // holding a connection slot until the agent exits.
              check_at(self, self->clock().now() + st.config.handshake_timeout);
            },
            [=](caf::error& err) {
              if (self->state.phase == session_phase::exiting)
                fail(self, err);
            });
      },
      [=](caf::error& err) { job_log_failed(self, err); });
}

void fail(session_ptr self, const caf::error& err, std::string_view counted) {
  auto& st = self->state;
  if (st.phase == session_phase::closed)
    return;
  auto text = render(err);
  warn(self, counted.empty() ? counted_as(code_of(err)) : counted,
       "closing the connection: " + text);
  st.speaks->last_word(self, err);
  close(self, text);
}

void job_log_failed(session_ptr self, const caf::error& err) {
  if (self->state.phase == session_phase::closed)
    return;
  self->send(self->state.runner, atom::terminate::value, render(err));
  fail(self, err);
}

void close(session_ptr self, const std::string& why) {
  auto& st = self->state;
  if (!st.peer_gone)
    self->send(st.peer, atom::close::value, st.hdl);
  finish(self, why);
}

} // namespace lifecycle

session_actor::behavior_type
session(session_ptr self, caf::io::connection_handle hdl,
        session_peer_actor peer, runner_actor runner,
        log_aggregator_actor aggregator, session_config config,
        dialect protocol) {
  auto& st = self->state;
  st.config = std::move(config);
  st.hdl = hdl;
  st.peer = std::move(peer);
  st.runner = std::move(runner);
  st.aggregator = std::move(aggregator);
  st.speaks = protocol == dialect::buildkite ? make_buildkite_dialect()
                                             : make_baton_dialect();
  st.label = std::string{st.speaks->called.kind} + " "
             + std::to_string(hdl.id());
  lifecycle::heard(self);
  // A peer that never registers is closed, as it would otherwise hold a
  // connection slot for as long as the agent runs.
  check_at(self, st.last_heard + st.config.handshake_timeout);
  return {
    [=](wire::frame& frm) {
      std::vector<wire::frame> frames;
      frames.push_back(std::move(frm));
      if (self->state.phase != session_phase::closed)
        self->state.speaks->on_frames(self, frames);
    },
    [=](std::vector<wire::frame>& frames) {
      if (self->state.phase != session_phase::closed)
        self->state.speaks->on_frames(self, frames);
    },
    [=](atom::received, std::string& bytes) {
      if (self->state.phase != session_phase::closed)
        self->state.speaks->on_bytes(self, bytes);
    },
    [=](atom::closed, const std::string& why) { on_closed(self, why); },
    [=](atom::state, turn& now) {
      auto& st = self->state;
      if (st.phase == session_phase::bound
          || st.phase == session_phase::exiting)
        lifecycle::tell(self, std::move(now));
    },
    [=](atom::tick) { on_tick(self); },
  };
}

} // namespace baton
