#include "actors/agent/socket_broker.hpp"

#include "actors/agent/session_dialect.hpp"
#include "messages/error.hpp"
#include "messages/rpc.hpp"

#include <caf/io/broker.hpp>
#include <caf/io/receive_policy.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <spdlog/spdlog.h>

#include <sys/socket.h>

namespace baton {

namespace {

// Sets how much a connection's reads take, keeping the account of the
// receive buffers. CAF keeps a buffer's capacity once it grew, so a
// connection that streamed holds a stream-sized buffer until it closes
// (its client closes right after the exit report is acknowledged).
void set_read_size(socket_broker_ptr self, caf::io::connection_handle hdl,
                   socket_broker_state::connection& conn, size_t size) {
  if (size > conn.read_buffer) {
    self->state.read_buffer_bytes += size - conn.read_buffer;
    conn.read_buffer = size;
  }
  self->configure_read(hdl, caf::io::receive_policy::at_most(size));
}

// Forgets connection `i` and its receive buffer.
void forget(socket_broker_ptr self,
            std::map<caf::io::connection_handle,
                     socket_broker_state::connection>::iterator i) {
  self->state.read_buffer_bytes -= i->second.read_buffer;
  self->state.connections.erase(i);
}

void write_frame(socket_broker_ptr self, caf::io::connection_handle hdl,
                 const wire::message& msg) {
  wire::append(self->wr_buf(hdl), wire::encode(msg));
  self->flush(hdl);
}

// What refusals for the connection limit count toward; the decoder's
// errors count as a session's of the same code would.
constexpr std::string_view over_the_limit
  = "connections refused beyond the connection limit";

// Logs a warning about a peer. A flood of like ones is held back: the
// connection may be a container's, but then its session warns that the
// container is lost, and that line is never held back.
void warn_peer(socket_broker_ptr self, std::string_view counted,
               const std::string& text) {
  auto& st = self->state;
  warn_through(st.config.session.peer_warnings.get(), {st.name, counted},
               std::string{st.name} + ": " + text, self->clock().now());
}

// Closes a connection whose byte stream is broken, telling the peer why.
void drop(socket_broker_ptr self, caf::io::connection_handle hdl,
          const caf::error& err) {
  auto i = self->state.connections.find(hdl);
  if (i == self->state.connections.end())
    return;
  auto text = render(err);
  warn_peer(self, lifecycle::counted_as(code_of(err)),
            "closing connection " + std::to_string(hdl.id()) + ": " + text);
  write_frame(self, hdl, wire::error_report{to_string(code_of(err)), text});
  self->send(i->second.session, atom::closed::value, text);
  forget(self, i);
  self->close(hdl);
}

// Tells a refused peer why in its own dialect, then closes.
void refuse(socket_broker_ptr self, caf::io::connection_handle hdl, bool rpc,
            const std::string& why) {
  if (rpc) {
    auto text = rpc::http_response("503 Service Unavailable", why + "\n",
                                   false);
    auto& buf = self->wr_buf(hdl);
    buf.insert(buf.end(), text.begin(), text.end());
    self->flush(hdl);
  } else {
    write_frame(self, hdl,
                wire::error_report{to_string(ec::socket_error), why});
  }
  self->close(hdl);
}

// Tells a connection's session that it is gone.
void notify_closed(socket_broker_ptr self,
                   const socket_broker_state::connection& conn,
                   std::string why) {
  self->send(conn.session, atom::closed::value, std::move(why));
}

// The connection `hdl` names, if the message being handled comes from its
// own session. CAF's handle is the socket's descriptor number, which the
// kernel gives the next connection as soon as one closes: a session still
// answering a connection that is gone would otherwise write to, or close,
// the container that got its number. Such messages are dropped and counted.
socket_broker_state::connection* owned_by_sender(socket_broker_ptr self,
                                                 caf::io::connection_handle hdl,
                                                 const char* what) {
  auto& st = self->state;
  auto i = st.connections.find(hdl);
  auto sender = self->current_sender();
  if (i != st.connections.end() && sender != nullptr) {
    auto& conn = i->second;
    if (caf::actor_cast<caf::strong_actor_ptr>(conn.session) == sender)
      return &conn;
  }
  ++st.stale;
  spdlog::debug("{}: dropped a {} for connection {} from an actor that does "
                "not own it ({} dropped so far)",
                st.name, what, hdl.id(), st.stale);
  return nullptr;
}

std::string describe_peer(caf::io::connection_handle hdl) {
  ucred cred;
  socklen_t len = sizeof(cred);
  if (::getsockopt(static_cast<int>(hdl.id()), SOL_SOCKET, SO_PEERCRED, &cred,
                   &len)
      != 0)
    return "an unknown peer";
  return "pid " + std::to_string(cred.pid) + " uid " + std::to_string(cred.uid);
}

} // namespace

socket_broker_actor::behavior_type
socket_broker(socket_broker_ptr self, int listen_fd, int rpc_listen_fd,
              runner_actor runner, log_aggregator_actor aggregator,
              socket_broker_config config) {
  auto& st = self->state;
  st.config = config;
  st.runner = std::move(runner);
  st.aggregator = std::move(aggregator);
  self->add_doorman(listen_fd);
  if (rpc_listen_fd >= 0)
    st.rpc_acceptor = self->add_doorman(rpc_listen_fd);
  if (auto& limiter = st.config.session.peer_warnings)
    self->delayed_send(self, limiter->interval(), atom::tick::value);
  return {
    [=](const caf::io::new_connection_msg& msg) {
      auto& st = self->state;
      auto hdl = msg.handle;
      auto rpc = st.rpc_acceptor != caf::io::accept_handle{}
                 && msg.source == st.rpc_acceptor;
      if (st.connections.size() >= st.config.max_connections) {
        warn_peer(self, over_the_limit,
                  "refusing a connection beyond the limit of "
                    + std::to_string(st.config.max_connections));
        refuse(self, hdl, rpc,
               "the agent serves at most "
                 + std::to_string(st.config.max_connections)
                 + " connections at once");
        return;
      }
      spdlog::debug("{}: {} connection {} from {}", st.name,
                    rpc ? "buildkite" : "baton", hdl.id(), describe_peer(hdl));
      socket_broker_state::connection conn{
        wire::frame_decoder{st.config.max_frame_size}, {}, rpc};
      auto protocol = rpc ? dialect::buildkite : dialect::baton;
      conn.session = self->spawn(session, hdl, session_peer_actor{self},
                                 st.runner, st.aggregator, st.config.session,
                                 protocol);
      auto& added = st.connections.emplace(hdl, std::move(conn)).first->second;
      set_read_size(self, hdl, added, socket_broker_state::small_read_size);
    },
    [=](caf::io::new_data_msg& msg) {
      auto i = self->state.connections.find(msg.handle);
      if (i == self->state.connections.end())
        return;
      auto& conn = i->second;
      if (conn.rpc) {
        // The RPC session parses its own bytes: the preamble, then gob.
        self->send(conn.session, atom::received::value,
                   std::string{msg.buf.begin(), msg.buf.end()});
        return;
      }
      // The frames of one read go to the session as one message, so a
      // stream of log frames costs one message (and one write) per read.
      std::vector<wire::frame> frames;
      auto ok = conn.decoder.consume(msg.buf.data(), msg.buf.size(),
                                     [&](wire::frame&& frm) {
                                       frames.push_back(std::move(frm));
                                     });
      if (frames.size() == 1)
        self->send(conn.session, std::move(frames.front()));
      else if (!frames.empty())
        self->send(conn.session, std::move(frames));
      if (!ok)
        drop(self, msg.handle, conn.decoder.error());
    },
    [=](const caf::io::connection_closed_msg& msg) {
      auto i = self->state.connections.find(msg.handle);
      if (i == self->state.connections.end())
        return;
      std::string why;
      if (auto err = i->second.decoder.finish()) {
        why = render(err);
        warn_peer(self, lifecycle::counted_as(code_of(err)),
                  "connection " + std::to_string(msg.handle.id())
                    + " closed: " + why);
      }
      notify_closed(self, i->second, std::move(why));
      forget(self, i);
    },
    [=](const caf::io::acceptor_closed_msg&) {
      spdlog::error("{}: the listening socket closed", self->state.name);
    },
    [=](atom::write, caf::io::connection_handle hdl, const wire::frame& frm) {
      if (owned_by_sender(self, hdl, "write") == nullptr)
        return;
      wire::append(self->wr_buf(hdl), frm);
      self->flush(hdl);
    },
    [=](atom::write, caf::io::connection_handle hdl, const std::string& bytes) {
      if (owned_by_sender(self, hdl, "write") == nullptr)
        return;
      auto& buf = self->wr_buf(hdl);
      buf.insert(buf.end(), bytes.begin(), bytes.end());
      self->flush(hdl);
    },
    [=](atom::close, caf::io::connection_handle hdl) {
      if (owned_by_sender(self, hdl, "close") == nullptr)
        return;
      forget(self, self->state.connections.find(hdl));
      self->close(hdl);
    },
    [=](atom::stream, caf::io::connection_handle hdl, bool on) {
      if (auto conn = owned_by_sender(self, hdl, "stream"))
        set_read_size(self, hdl, *conn,
                      on ? socket_broker_state::stream_read_size
                         : socket_broker_state::small_read_size);
    },
    [=](atom::status) -> caf::result<uint64_t, uint64_t, uint64_t> {
      auto& st = self->state;
      return {static_cast<uint64_t>(st.connections.size()),
              st.read_buffer_bytes, st.stale};
    },
    [=](atom::tick) {
      // Each interval, whether or not connections come: the last warnings
      // of a flood are summed up soon after it ends, not at the agent's exit.
      auto& limiter = self->state.config.session.peer_warnings;
      limiter->flush(self->clock().now());
      self->delayed_send(self, limiter->interval(), atom::tick::value);
    },
    [=](atom::stop) {
      for (auto& kvp : self->state.connections)
        notify_closed(self, kvp.second, std::string{agent_stopping});
      self->state.connections.clear();
      self->state.read_buffer_bytes = 0;
      self->close_all();
      self->quit();
    },
  };
}

} // namespace baton
