#include "actors/log_aggregator.hpp"

#include "messages/error.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <spdlog/spdlog.h>

namespace baton {

log_aggregator_actor::behavior_type
log_aggregator(log_aggregator_actor::stateful_pointer<log_aggregator_state> self,
               log_sink_ptr sink, uint32_t containers, runner_actor runner) {
  self->state.sink = std::move(sink);
  self->state.runner = std::move(runner);
  self->state.bytes.resize(containers);
  return {
    [=](atom::log, int32_t id,
        const std::string& chunk) -> caf::result<uint64_t> {
      auto& st = self->state;
      if (id < 0 || static_cast<size_t>(id) >= st.bytes.size())
        return make_error(ec::unrecognized_container,
                          "log bytes for unrecognized container "
                            + std::to_string(id));
      if (st.failure)
        return st.failure;
      if (auto err = st.sink->write(chunk.data(), chunk.size())) {
        st.failure = err;
        spdlog::error("{}: {}", st.name, render(err));
        self->send(st.runner, atom::terminate::value, render(err));
        return err;
      }
      st.bytes[static_cast<size_t>(id)] += chunk.size();
      return static_cast<uint64_t>(chunk.size());
    },
    [=](atom::eof, int32_t) -> caf::result<atom::ok> {
      return atom::ok::value;
    },
    [=](atom::status) { return self->state.bytes; },
  };
}

} // namespace baton
