#include "actors/agent/log_aggregator.hpp"

#include "messages/error.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <spdlog/spdlog.h>

namespace baton {

namespace {

using aggregator_ptr
  = log_aggregator_actor::stateful_pointer<log_aggregator_state>;

// Writes the redacted bytes in `st.out` for container `id`.
caf::error write_out(aggregator_ptr self, size_t id) {
  auto& st = self->state;
  if (st.failure)
    return st.failure;
  if (st.out.empty())
    return {};
  if (auto err = st.sink->write(st.out.data(), st.out.size())) {
    st.failure = err;
    spdlog::error("{}: {}", st.name, render(err));
    self->send(st.runner, atom::terminate::value, render(err));
    return err;
  }
  st.bytes[id] += st.out.size();
  return {};
}

bool valid(aggregator_ptr self, int32_t id) {
  return id >= 0 && static_cast<size_t>(id) < self->state.bytes.size();
}

caf::error unrecognized(int32_t id) {
  return make_error(ec::unrecognized_container,
                    "log bytes for unrecognized container "
                      + std::to_string(id));
}

} // namespace

log_aggregator_actor::behavior_type
log_aggregator(aggregator_ptr self, log_sink_ptr sink, uint32_t containers,
               runner_actor runner, std::vector<std::string> secrets) {
  auto& st = self->state;
  st.sink = std::move(sink);
  st.runner = std::move(runner);
  st.bytes.resize(containers);
  st.redactors.assign(containers, redactor{std::move(secrets)});
  return {
    [=](atom::log, int32_t id,
        const std::string& chunk) -> caf::result<uint64_t> {
      if (!valid(self, id))
        return unrecognized(id);
      auto& st = self->state;
      st.out.clear();
      st.redactors[static_cast<size_t>(id)].process(chunk, st.out);
      if (auto err = write_out(self, static_cast<size_t>(id)))
        return err;
      // The bytes received are granted back, whatever was held or replaced.
      return static_cast<uint64_t>(chunk.size());
    },
    [=](atom::eof, int32_t id) -> caf::result<atom::ok> {
      if (!valid(self, id))
        return unrecognized(id);
      auto& st = self->state;
      st.out.clear();
      st.redactors[static_cast<size_t>(id)].finish(st.out);
      if (auto err = write_out(self, static_cast<size_t>(id)))
        return err;
      return atom::ok::value;
    },
    [=](atom::status) { return self->state.bytes; },
  };
}

} // namespace baton
