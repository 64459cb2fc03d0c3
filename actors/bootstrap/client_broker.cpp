#include "actors/bootstrap/client_broker.hpp"

#include "messages/error.hpp"

#include <caf/io/receive_policy.hpp>
#include <caf/send.hpp>

namespace baton {

namespace {

// True if `hdl` is the bootstrap's connection and it is still open.
bool is_open(client_broker_ptr self, caf::io::connection_handle hdl) {
  return self->state.open && hdl == self->state.hdl;
}

} // namespace

client_broker_impl::behavior_type client_broker(client_broker_ptr self, int fd,
                                                command_runner_ptr runner,
                                                bootstrap_config config) {
  auto hdl = self->add_scribe(fd);
  self->configure_read(hdl,
                       caf::io::receive_policy::at_most(bootstrap_read_size));
  auto& st = self->state;
  st.hdl = hdl;
  st.bootstrap = self->spawn(bootstrap, hdl, peer_actor{self},
                             std::move(runner), std::move(config));
  self->monitor(st.bootstrap);
  self->set_down_handler([=](const caf::down_msg&) { self->quit(); });
  return {
    [=](atom::write, caf::io::connection_handle hdl, const wire::frame& frm) {
      if (!is_open(self, hdl))
        return;
      wire::append(self->wr_buf(hdl), frm);
      self->flush(hdl);
    },
    [=](atom::close, caf::io::connection_handle hdl) {
      if (!is_open(self, hdl))
        return;
      self->state.open = false;
      self->close(hdl);
    },
    // The bootstrap receives only small frames.
    [](atom::stream, caf::io::connection_handle, bool) {},
    [=](atom::signal, int signo) {
      self->send(self->state.bootstrap, atom::signal::value, signo);
    },
    [=](caf::io::new_data_msg& msg) {
      auto& st = self->state;
      if (!st.decoder.consume(msg.buf.data(), msg.buf.size(),
                              [&](wire::frame&& frm) {
                                self->send(st.bootstrap, std::move(frm));
                              })) {
        auto& err = st.decoder.error();
        self->send(st.bootstrap, atom::closed::value,
                   "the agent sent a bad frame: " + render(err));
        st.open = false;
        self->close(msg.handle);
      }
    },
    [=](const caf::io::connection_closed_msg&) {
      auto& st = self->state;
      st.open = false;
      auto err = st.decoder.finish();
      self->send(st.bootstrap, atom::closed::value,
                 err ? render(err) : std::string{});
    },
  };
}

} // namespace baton
