#include "actors/agent/log_aggregator.hpp"

#include "messages/error.hpp"
#include "os/process.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <spdlog/spdlog.h>

namespace baton {

namespace {

using aggregator_ptr
  = log_aggregator_actor::stateful_pointer<log_aggregator_state>;

// Appends `redacted`, the next bytes of container `id` after redaction,
// read at `read_ns`, to `st.out`: stamping its lines if asked to.
void append_out(log_aggregator_state& st, size_t id,
                const std::string& redacted, int64_t read_ns) {
  if (st.timestamp_lines)
    st.stampers[id].process(redacted, read_ns, st.out);
  else
    st.out += redacted;
}

// Appends `bytes`, the next bytes of container `id` read at `read_ns`, to
// `st.out` in their final form: redacted, then stamped.
void append_piece(log_aggregator_state& st, size_t id, const std::string& bytes,
                  int64_t read_ns) {
  st.last_read[id] = read_ns;
  if (!st.timestamp_lines) {
    st.redactors[id].process(bytes, st.out);
    return;
  }
  st.redacted.clear();
  st.redactors[id].process(bytes, st.redacted);
  append_out(st, id, st.redacted, read_ns);
}

// The `id` of the agent's own lines, which count in no container's bytes.
constexpr size_t agent_lines = static_cast<size_t>(-1);

// Writes `st.out`, the next bytes of container `id` (or `agent_lines`), to
// the sink in one piece.
caf::error write_out(aggregator_ptr self, size_t id) {
  auto& st = self->state;
  if (st.failure)
    return st.failure;
  if (st.out.empty())
    return {};
  if (auto err = st.sink->write(st.out.data(), st.out.size())) {
    st.failure = err;
    spdlog::error("{}: {}", st.name, render(err));
    return err;
  }
  st.at_line_start = st.out.back() == '\n';
  if (id != agent_lines)
    st.bytes[id] += st.out.size();
  else
    st.agent_bytes += st.out.size();
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

// Renders the next bytes of container `id` into `st.out` with `append`
// (which returns the bytes received) and writes them with one write. The
// reply is the bytes received, which the session grants back whatever was
// held or replaced.
template <class Append>
caf::result<uint64_t>
write_log(aggregator_ptr self, int32_t id, Append append) {
  if (!valid(self, id))
    return unrecognized(id);
  auto& st = self->state;
  auto index = static_cast<size_t>(id);
  st.out.clear();
  auto received = append(st, index);
  if (auto err = write_out(self, index))
    return err;
  return received;
}

} // namespace

log_aggregator_actor::behavior_type
log_aggregator(aggregator_ptr self, log_sink_ptr sink,
               log_aggregator_config config) {
  auto& st = self->state;
  st.sink = std::move(sink);
  st.patterns = std::move(config.patterns);
  st.timestamp_lines = config.timestamp_lines;
  st.bytes.resize(config.containers);
  st.secrets = config.secrets;
  st.redactors.assign(config.containers, redactor{std::move(config.secrets)});
  st.stampers.resize(config.containers);
  st.last_read.resize(config.containers);
  return {
    [=](atom::log, int32_t id, int64_t read_ns, const std::string& chunk) {
      return write_log(self, id, [&](log_aggregator_state& st, size_t index) {
        append_piece(st, index, chunk, read_ns);
        return static_cast<uint64_t>(chunk.size());
      });
    },
    [=](atom::log, int32_t id, const log_batch& batch) {
      // The pieces of one read, written at once.
      return write_log(self, id, [&](log_aggregator_state& st, size_t index) {
        uint64_t received = 0;
        for (auto& piece : batch) {
          received += piece.bytes.size();
          append_piece(st, index, piece.bytes, piece.read_ns);
        }
        return received;
      });
    },
    [=](atom::log, const std::string& line) -> caf::result<atom::ok> {
      // Whole lines, redacted at once; a container's line left open is
      // closed first, so that a "~~~" line starts a line.
      auto& st = self->state;
      st.out.clear();
      if (!st.at_line_start)
        st.out += '\n';
      st.redacted.clear();
      redactor all{st.secrets};
      all.process(line, st.redacted);
      all.finish(st.redacted);
      if (st.timestamp_lines)
        line_stamper{}.process(st.redacted, wall_clock_ns(), st.out);
      else
        st.out += st.redacted;
      if (auto err = write_out(self, agent_lines))
        return err;
      return atom::ok::value;
    },
    [=](atom::eof, int32_t id) -> caf::result<atom::ok> {
      if (!valid(self, id))
        return unrecognized(id);
      auto& st = self->state;
      auto index = static_cast<size_t>(id);
      st.redacted.clear();
      st.redactors[index].finish(st.redacted);
      st.out.clear();
      append_out(st, index, st.redacted, st.last_read[index]);
      if (auto err = write_out(self, index))
        return err;
      return atom::ok::value;
    },
    [=](atom::env, const std::vector<std::string>& vars) {
      // A step passed these on: a secret among them is redacted from the
      // output of every container from now on.
      auto& st = self->state;
      auto added = secrets_of(to_env_map(vars), st.patterns);
      for (auto& secret : added) {
        for (auto& r : st.redactors)
          r.add(secret);
        st.secrets.push_back(secret);
      }
      if (!added.empty())
        spdlog::info("{}: redacting {} more secret values passed on by a "
                     "step",
                     st.name, added.size());
    },
    [=](atom::status) { return self->state.bytes; },
  };
}

} // namespace baton
