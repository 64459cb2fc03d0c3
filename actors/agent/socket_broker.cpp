#include "actors/agent/socket_broker.hpp"

#include "messages/error.hpp"

#include <caf/io/broker.hpp>
#include <caf/io/receive_policy.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <spdlog/spdlog.h>

#include <sys/socket.h>

namespace baton {

namespace {

// Bytes asked for per read of a log stream: several whole log chunks.
constexpr size_t stream_read_size
  = 4 * (defaults::log_chunk_size + wire::header_size);

// Bytes asked for per read before registration: CAF keeps a buffer of this
// size per connection, and idle or hostile connections should cost little.
constexpr size_t handshake_read_size = 4096;

void write_frame(socket_broker_ptr self, caf::io::connection_handle hdl,
                 const wire::message& msg) {
  wire::append(self->wr_buf(hdl), wire::encode(msg));
  self->flush(hdl);
}

// Closes a connection whose byte stream is broken, telling the peer why.
void drop(socket_broker_ptr self, caf::io::connection_handle hdl,
          const caf::error& err) {
  auto i = self->state.connections.find(hdl);
  if (i == self->state.connections.end())
    return;
  auto text = render(err);
  spdlog::warn("{}: closing connection {}: {}", self->state.name, hdl.id(),
               text);
  write_frame(self, hdl, wire::error_report{to_string(code_of(err)), text});
  self->send(i->second.session, atom::closed::value, text);
  self->state.connections.erase(i);
  self->close(hdl);
}

std::string describe_peer(caf::io::connection_handle hdl) {
  ucred cred;
  socklen_t len = sizeof(cred);
  if (::getsockopt(static_cast<int>(hdl.id()), SOL_SOCKET, SO_PEERCRED, &cred,
                   &len)
      != 0)
    return "an unknown peer";
  return "pid " + std::to_string(cred.pid) + " uid "
         + std::to_string(cred.uid);
}

} // namespace

socket_broker_actor::behavior_type
socket_broker(socket_broker_ptr self, int listen_fd, runner_actor runner,
              log_aggregator_actor aggregator, socket_broker_config config) {
  auto& st = self->state;
  st.config = config;
  st.runner = std::move(runner);
  st.aggregator = std::move(aggregator);
  self->add_doorman(listen_fd);
  return {
    [=](const caf::io::new_connection_msg& msg) {
      auto& st = self->state;
      auto hdl = msg.handle;
      if (st.connections.size() >= st.config.max_connections) {
        // Said once, not once per connection.
        if (st.refused++ == 0)
          spdlog::warn("{}: refusing connections beyond the limit of {}",
                       st.name, st.config.max_connections);
        write_frame(self, hdl,
                    wire::error_report{
                      to_string(ec::socket_error),
                      "the agent serves at most "
                        + std::to_string(st.config.max_connections)
                        + " connections at once"});
        self->close(hdl);
        return;
      }
      spdlog::debug("{}: connection {} from {}", st.name, hdl.id(),
                    describe_peer(hdl));
      auto session_hdl = self->spawn(session, hdl, peer_actor{self},
                                     st.runner, st.aggregator,
                                     st.config.session);
      st.connections.emplace(
        hdl, socket_broker_state::connection{
               wire::frame_decoder{st.config.max_frame_size}, session_hdl});
      self->configure_read(
        hdl, caf::io::receive_policy::at_most(handshake_read_size));
    },
    [=](caf::io::new_data_msg& msg) {
      auto i = self->state.connections.find(msg.handle);
      if (i == self->state.connections.end())
        return;
      auto& conn = i->second;
      auto& session = conn.session;
      if (!conn.decoder.consume(msg.buf.data(), msg.buf.size(),
                                [&](wire::frame&& frm) {
                                  self->send(session, std::move(frm));
                                }))
        drop(self, msg.handle, conn.decoder.error());
    },
    [=](const caf::io::connection_closed_msg& msg) {
      auto i = self->state.connections.find(msg.handle);
      if (i == self->state.connections.end())
        return;
      std::string why;
      if (auto err = i->second.decoder.finish()) {
        why = render(err);
        spdlog::warn("{}: connection {} closed: {}", self->state.name,
                     msg.handle.id(), why);
      }
      self->send(i->second.session, atom::closed::value, std::move(why));
      self->state.connections.erase(i);
    },
    [=](const caf::io::acceptor_closed_msg&) {
      spdlog::error("{}: the listening socket closed", self->state.name);
    },
    [=](atom::write, caf::io::connection_handle hdl, const wire::frame& frm) {
      if (self->state.connections.count(hdl) == 0)
        return;
      wire::append(self->wr_buf(hdl), frm);
      self->flush(hdl);
    },
    [=](atom::close, caf::io::connection_handle hdl) {
      if (self->state.connections.erase(hdl) > 0)
        self->close(hdl);
    },
    [=](atom::stream, caf::io::connection_handle hdl) {
      if (self->state.connections.count(hdl) > 0)
        self->configure_read(
          hdl, caf::io::receive_policy::at_most(stream_read_size));
    },
    [=](atom::stop) {
      for (auto& kvp : self->state.connections)
        self->send(kvp.second.session, atom::closed::value,
                   std::string{"the agent is shutting down"});
      self->state.connections.clear();
      self->close_all();
      self->quit();
    },
  };
}

} // namespace baton
