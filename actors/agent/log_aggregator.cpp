#include "actors/agent/log_aggregator.hpp"

#include "messages/defaults.hpp"
#include "messages/error.hpp"
#include "os/process.hpp"

#include <caf/typed_event_based_actor.hpp>

#include <spdlog/spdlog.h>

namespace baton {

namespace {

using aggregator_ptr
  = log_aggregator_actor::stateful_pointer<log_aggregator_state>;

// Keeps `text`, the next redacted bytes of a container in mode `tail`: its
// last whole lines, and the partial one (cut at the length of a held line).
void keep_tail(log_stream& s, const std::string& text) {
  size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto end = nl == std::string::npos ? text.size() : nl;
    s.tail_partial.append(text, pos, end - pos);
    if (nl == std::string::npos
        && s.tail_partial.size() < defaults::max_held_line)
      return;
    s.tail.push_back(std::move(s.tail_partial));
    s.tail_partial.clear();
    if (s.tail.size() > defaults::service_tail_lines)
      s.tail.pop_front();
    pos = nl == std::string::npos ? text.size() : nl + 1;
  }
}

// Appends `redacted`, the next bytes of container `id` after redaction,
// read at `read_ns`, to `st.out` in its final form, as the stream's mode
// says. A line the merge begins to hold is released in a second unless it
// ended by then.
void place(aggregator_ptr self, size_t id, const std::string& redacted,
           int64_t read_ns) {
  auto& st = self->state;
  auto& s = st.streams[id];
  switch (s.mode) {
    case log_mode::direct:
      if (st.timestamp_lines)
        s.merge.framer().process(redacted, read_ns, st.out);
      else
        st.out += redacted;
      return;
    case log_mode::tail: keep_tail(s, redacted); return;
    case log_mode::lines:
    case log_mode::prefixed: break;
  }
  if (s.merge.append(redacted, read_ns, st.out))
    self->delayed_send(self, defaults::line_hold_timeout, atom::tick::value,
                       static_cast<int32_t>(id), s.merge.hold());
}

// Appends `bytes`, the next bytes of container `id` read at `read_ns`, to
// `st.out` in their final form: redacted, then framed.
void append_piece(aggregator_ptr self, size_t id, const std::string& bytes,
                  int64_t read_ns) {
  auto& st = self->state;
  auto& s = st.streams[id];
  s.last_read = read_ns;
  if (s.mode == log_mode::direct && !st.timestamp_lines) {
    s.redact.process(bytes, st.out);
    return;
  }
  st.redacted.clear();
  s.redact.process(bytes, st.redacted);
  place(self, id, st.redacted, read_ns);
}

// Appends the partial line container `id` holds to `st.out`, as a line of
// its own.
void release_held(log_aggregator_state& st, size_t id) {
  auto& s = st.streams[id];
  if (s.mode != log_mode::tail)
    s.merge.release(st.out);
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
  if (id != agent_lines) {
    st.bytes[id] += st.out.size();
    st.streams[id].line_open = !st.at_line_start;
  } else
    st.agent_bytes += st.out.size();
  return {};
}

// Writes `text`, whole lines of the agent's own, as every such line goes:
// redacted with every secret known, stamped with the time now if lines are,
// and begun on a line of its own (a container's line left open is closed
// first, so that a "~~~" line starts a line).
caf::error write_agent_lines(aggregator_ptr self, const std::string& text) {
  auto& st = self->state;
  st.out.clear();
  if (!st.at_line_start) {
    // The line left open ends here: its container goes on on a new line.
    st.out += '\n';
    for (auto& s : st.streams)
      if (s.line_open) {
        s.line_open = false;
        s.merge.framer().cut();
      }
  }
  st.redacted.clear();
  redactor all{st.secrets};
  all.process(text, st.redacted);
  all.finish(st.redacted);
  if (st.timestamp_lines)
    line_framer{}.process(st.redacted, wall_clock_ns(), st.out);
  else
    st.out += st.redacted;
  return write_out(self, agent_lines);
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
  auto received = append(index);
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
  st.streams.resize(config.containers);
  for (auto& s : st.streams) {
    s.redact = redactor{config.secrets};
    s.merge = line_merge{line_framer{config.timestamp_lines},
                         defaults::max_held_line};
  }
  return {
    [=](atom::log, int32_t id, int64_t read_ns, const std::string& chunk) {
      return write_log(self, id, [&](size_t index) {
        append_piece(self, index, chunk, read_ns);
        return static_cast<uint64_t>(chunk.size());
      });
    },
    [=](atom::log, int32_t id, const log_batch& batch) {
      // The pieces of one read, written at once.
      return write_log(self, id, [&](size_t index) {
        uint64_t received = 0;
        for (auto& piece : batch) {
          received += piece.bytes.size();
          append_piece(self, index, piece.bytes, piece.read_ns);
        }
        return received;
      });
    },
    [=](atom::log, const std::string& line) -> caf::result<atom::ok> {
      if (auto err = write_agent_lines(self, line))
        return err;
      return atom::ok::value;
    },
    [=](atom::eof, int32_t id) -> caf::result<atom::ok> {
      if (!valid(self, id))
        return unrecognized(id);
      auto& st = self->state;
      auto index = static_cast<size_t>(id);
      auto& s = st.streams[index];
      st.redacted.clear();
      s.redact.finish(st.redacted);
      st.out.clear();
      place(self, index, st.redacted, s.last_read);
      // The last partial line is written now, or kept among the last lines.
      release_held(st, index);
      if (s.mode == log_mode::tail && !s.tail_partial.empty())
        keep_tail(s, "\n");
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
        for (auto& s : st.streams)
          s.redact.add(secret);
        st.secrets.push_back(secret);
      }
      if (!added.empty())
        spdlog::info("{}: redacting {} more secret values passed on by a "
                     "step",
                     st.name, added.size());
    },
    [=](atom::status) { return self->state.bytes; },
    [=](atom::mode, int32_t id, log_mode mode, std::string& prefix) {
      if (!valid(self, id))
        return;
      auto& st = self->state;
      auto index = static_cast<size_t>(id);
      auto& s = st.streams[index];
      if (s.mode == mode)
        return;
      // A partial line held back goes out before the mode changes, and one
      // written as it came ends: whole lines may follow from others.
      st.out.clear();
      release_held(st, index);
      if (s.mode == log_mode::direct && s.line_open) {
        st.out += '\n';
        s.merge.framer().cut();
      }
      if (s.mode == log_mode::tail)
        s.tail_partial.clear();
      write_out(self, index);
      // Prefixed from its first byte on, a container's first line, its
      // header, stays a plain "~~~" section line.
      if (mode == log_mode::prefixed && st.bytes[index] == 0
          && s.merge.framer().at_line_start())
        s.merge.framer().plain_next_line();
      s.mode = mode;
      s.merge.framer().set_prefix(mode == log_mode::prefixed ? std::move(prefix)
                                                             : std::string{});
    },
    [=](atom::tail, int32_t id,
        const std::string& heading) -> caf::result<atom::ok> {
      if (!valid(self, id))
        return unrecognized(id);
      auto& st = self->state;
      auto& s = st.streams[static_cast<size_t>(id)];
      if (s.mode != log_mode::tail
          || (s.tail.empty() && s.tail_partial.empty()))
        return atom::ok::value;
      auto text = heading;
      for (auto& line : s.tail)
        text += line + '\n';
      if (!s.tail_partial.empty())
        text += s.tail_partial + '\n';
      s.tail.clear();
      s.tail_partial.clear();
      if (auto err = write_agent_lines(self, text))
        return err;
      return atom::ok::value;
    },
    [=](atom::tick, int32_t id, uint64_t hold) {
      // A partial line waited long enough: a line of its own.
      auto& st = self->state;
      if (!valid(self, id))
        return;
      auto index = static_cast<size_t>(id);
      if (st.streams[index].merge.hold() != hold)
        return;
      st.out.clear();
      release_held(st, index);
      write_out(self, index);
    },
  };
}

} // namespace baton
