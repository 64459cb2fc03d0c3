#include "actors/bootstrap/rpc_client_broker.hpp"

#include "messages/error.hpp"

#include <caf/io/receive_policy.hpp>
#include <caf/send.hpp>

#include <spdlog/spdlog.h>

namespace baton {

namespace {

using broker_ptr = rpc_client_broker_ptr;
using call_kind = rpc_client_broker_state::call_kind;

void write_bytes(broker_ptr self, const std::string& bytes) {
  auto& buf = self->wr_buf(self->state.hdl);
  buf.insert(buf.end(), bytes.begin(), bytes.end());
  self->flush(self->state.hdl);
}

// Passes a message to the bootstrap as if the agent had sent it.
void to_bootstrap(broker_ptr self, const wire::message& msg) {
  self->send(self->state.bootstrap, wire::encode(msg));
}

// The connection is over for the bootstrap: it hears why, once.
void disconnect(broker_ptr self, const std::string& why) {
  auto& st = self->state;
  if (st.done)
    return;
  st.done = true;
  self->send(st.bootstrap, atom::closed::value, why);
  self->close(st.hdl);
}

void call(broker_ptr self, call_kind kind, std::string_view method,
          const gob::type_ptr& type, const gob::value& arg,
          uint64_t bytes = 0) {
  auto& st = self->state;
  if (st.done)
    return;
  auto seq = st.next_seq++;
  std::string out;
  if (auto err = st.codec.append_call(out, method, seq, type, arg)) {
    spdlog::error("{}: cannot encode {}: {}", st.name, method, render(err));
    return;
  }
  st.calls.emplace(seq, rpc_client_broker_state::pending_call{kind, bytes});
  write_bytes(self, out);
}

void poll_status(broker_ptr self) {
  auto& st = self->state;
  if (!st.registered || st.status_in_flight || st.done)
    return;
  st.status_in_flight = true;
  call(self, call_kind::status, rpc::status_method, gob::int_type(),
       gob::value::integer(st.id));
}

void send_logs(broker_ptr self, std::string data) {
  auto& st = self->state;
  st.logs_in_flight = true;
  auto n = static_cast<uint64_t>(data.size());
  call(self, call_kind::write_logs, rpc::write_logs_method, rpc::logs_type(),
       rpc::to_value(rpc::logs{std::move(data)}), n);
}

// Reports the exit status once every log byte before it is answered: the
// runner hands the turn on when it has the status.
void maybe_send_exit(broker_ptr self) {
  auto& st = self->state;
  if (!st.exit_status || st.exit_sent || st.logs_in_flight
      || !st.pending_logs.empty())
    return;
  st.exit_sent = true;
  call(self, call_kind::exit, rpc::exit_method, rpc::exit_code_type(),
       rpc::to_value(rpc::exit_code{st.id, *st.exit_status}));
}

// A frame from the bootstrap, meant for the agent: the matching call.
void on_frame(broker_ptr self, const wire::frame& frm) {
  auto& st = self->state;
  // The hot path: output moves on without being decoded. The reference
  // has no read times: they stay here.
  if (frm.type == wire::frame_type::log_at
      && frm.body.size() > wire::log_at_header_size) {
    auto bytes = std::string_view{frm.body}.substr(wire::log_at_header_size);
    if (st.logs_in_flight)
      st.pending_logs += bytes;
    else
      send_logs(self, std::string{bytes});
    return;
  }
  auto msg = wire::decode(frm);
  if (!msg)
    return;
  std::visit(
    [&](auto& x) {
      using type = std::decay_t<decltype(x)>;
      if constexpr (std::is_same_v<type, wire::hello>) {
        write_bytes(self, std::string{rpc::connect_request});
      } else if constexpr (std::is_same_v<type, wire::register_request>) {
        st.id = x.id;
        call(self, call_kind::register_, rpc::register_method, gob::int_type(),
             gob::value::integer(x.id));
      } else if constexpr (std::is_same_v<type, wire::exit_report>) {
        // The reference knows no timeouts or outputs: the status is all.
        st.exit_status = x.status;
        maybe_send_exit(self);
      } else if constexpr (std::is_same_v<type, wire::error_report>) {
        disconnect(self, x.message);
      }
      // Heartbeats: the Status polls are the reference's heartbeats. The
      // step's settings: the reference has no such thing.
    },
    *msg);
}

run_state from_reference(rpc::run_state x) {
  switch (x) {
    case rpc::run_state::wait: return run_state::wait;
    case rpc::run_state::start: return run_state::start;
    default: return run_state::interrupt;
  }
}

void on_status_reply(broker_ptr self, const rpc::reply& rep) {
  auto& st = self->state;
  st.status_in_flight = false;
  auto state = run_state::shutdown;
  // An error is the job's end: "connection is shut down" once it is done.
  if (rep.header.error.empty()) {
    rpc::run_state x;
    if (auto err = rpc::from_value(rep.body, x))
      spdlog::warn("{}: {}", st.name, render(err));
    else
      state = from_reference(x);
  }
  if (state != st.last_state) {
    st.last_state = state;
    to_bootstrap(self, wire::state_update{state});
  }
  if (state != run_state::shutdown)
    self->delayed_send(self, rpc_status_poll, atom::tick::value);
}

void on_reply(broker_ptr self, rpc::reply& rep) {
  auto& st = self->state;
  auto i = st.calls.find(rep.header.seq);
  if (i == st.calls.end()) {
    spdlog::warn("{}: ignoring a reply to call {}, which is not in flight",
                 st.name, rep.header.seq);
    return;
  }
  auto pending = i->second;
  st.calls.erase(i);
  auto& error = rep.header.error;
  switch (pending.kind) {
    case call_kind::register_: {
      rpc::register_response response;
      auto err = error.empty() ? rpc::from_value(rep.body, response)
                               : make_error(ec::unexpected_message, error);
      if (err) {
        to_bootstrap(self, wire::error_report{"register", render(err)});
        return disconnect(self, "the runner refused to register container "
                                  + std::to_string(st.id) + ": " + render(err));
      }
      to_bootstrap(self, wire::registered{std::move(response.env)});
      to_bootstrap(self, wire::credit{defaults::log_window});
      st.registered = true;
      return poll_status(self);
    }
    case call_kind::status: return on_status_reply(self, rep);
    case call_kind::write_logs:
      if (!error.empty())
        spdlog::warn("{}: the runner refused log bytes: {}", st.name, error);
      st.logs_in_flight = false;
      // Answered: the bootstrap may read as much output again.
      to_bootstrap(self, wire::credit{pending.bytes});
      if (!st.pending_logs.empty()) {
        std::string next;
        next.swap(st.pending_logs);
        send_logs(self, std::move(next));
      }
      return maybe_send_exit(self);
    case call_kind::exit:
      if (!error.empty())
        return disconnect(self, "the runner refused the exit status: " + error);
      return to_bootstrap(self, wire::exit_ack{});
  }
}

void on_data(broker_ptr self, const char* data, size_t size) {
  auto& st = self->state;
  if (st.connecting) {
    st.preamble.append(data, size);
    auto answer = rpc::check_connected(st.preamble);
    switch (answer.status) {
      case rpc::preamble_status::need_more: return;
      case rpc::preamble_status::ok: break;
      default: return disconnect(self, render(answer.error));
    }
    st.connecting = false;
    // Only now may gob bytes flow: the Go server drops what comes with the
    // CONNECT. The reference has no heartbeat besides its Status polls.
    to_bootstrap(self, wire::welcome{defaults::protocol_version, 0});
    // What came after the answer is the first gob bytes; the codec copies
    // them, so the preamble can go.
    st.codec.feed(st.preamble.data() + answer.consumed,
                  st.preamble.size() - answer.consumed);
    st.preamble.clear();
  } else {
    st.codec.feed(data, size);
  }
  rpc::reply rep;
  while (!st.done && st.codec.next(rep))
    on_reply(self, rep);
  if (st.codec.error())
    disconnect(self,
               "the runner sent a bad message: " + render(st.codec.error()));
}

} // namespace

rpc_client_broker_impl::behavior_type
rpc_client_broker(rpc_client_broker_ptr self, int fd, command_runner_ptr runner,
                  bootstrap_config config) {
  auto& st = self->state;
  st.hdl = self->add_scribe(fd);
  self->configure_read(st.hdl,
                       caf::io::receive_policy::at_most(bootstrap_read_size));
  st.bootstrap = self->spawn(bootstrap, st.hdl, peer_actor{self},
                             std::move(runner), std::move(config));
  self->monitor(st.bootstrap);
  self->set_down_handler([=](const caf::down_msg&) { self->quit(); });
  return {
    [=](atom::write, caf::io::connection_handle, const wire::frame& frm) {
      if (!self->state.done)
        on_frame(self, frm);
    },
    [=](atom::close, caf::io::connection_handle) {
      auto& st = self->state;
      if (st.done)
        return;
      st.done = true;
      self->close(st.hdl);
    },
    [](atom::stream, caf::io::connection_handle, bool) {},
    [=](atom::signal, int signo) {
      self->send(self->state.bootstrap, atom::signal::value, signo);
    },
    [=](atom::tick) { poll_status(self); },
    [=](caf::io::new_data_msg& msg) {
      if (!self->state.done)
        on_data(self, msg.buf.data(), msg.buf.size());
    },
    [=](const caf::io::connection_closed_msg&) {
      auto& st = self->state;
      if (st.done)
        return;
      st.done = true;
      auto err = st.connecting ? rpc::check_connected(st.preamble).error
                               : st.codec.finish();
      if (st.connecting && !err)
        err = make_error(ec::truncated_frame,
                         "the runner closed the connection before answering "
                         "the CONNECT");
      self->send(st.bootstrap, atom::closed::value,
                 err ? render(err) : std::string{});
    },
  };
}

} // namespace baton
