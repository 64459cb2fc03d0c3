// libFuzzer target: two sessions of a two-container job, driven by an
// arbitrary sequence of frames, single or in batches (and connection closes
// and time steps), on CAF's deterministic test coordinator. Checks after
// every input: no crash, the runner's view is consistent (only a connected
// container has a session, the registration count matches its states), and
// the job log holds no more than the log bytes sent.

#include "actors/agent/fuzz/fuzz_support.hpp"
#include "actors/agent/log_aggregator.hpp"
#include "actors/agent/runner.hpp"
#include "actors/agent/session.hpp"
#include "messages/atoms.hpp"

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

using namespace baton;

namespace {

struct null_peer_state {
  static constexpr const char* name = "null-peer";
};

peer_actor::behavior_type
null_peer(peer_actor::stateful_pointer<null_peer_state>) {
  return {
    [](atom::write, caf::io::connection_handle, wire::frame&) {},
    [](atom::close, caf::io::connection_handle) {},
    [](atom::stream, caf::io::connection_handle, bool) {},
  };
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& w = fuzz::the_world();
  runner_config rc;
  rc.containers = 2;
  rc.env = {"A=1"};
  rc.start_timeout = std::chrono::minutes{5};
  auto sink = std::make_shared<memory_sink>();
  auto agg = w.sys.spawn(log_aggregator, sink,
                         log_aggregator_config{rc.containers, {"s3cr3t-value"},
                                               {}, false});
  auto r = w.sys.spawn(runner, rc, agg);
  auto peer = w.sys.spawn(null_peer);
  session_config sc;
  sc.log_window = 4096;
  std::vector<session_actor> sessions;
  for (int i = 0; i < 2; ++i)
    sessions.push_back(w.sys.spawn(session, caf::io::connection_handle{},
                                   peer, r, agg, sc));
  w.run();
  // Input: records of [op][len][body...]; op picks the session, the frame
  // type, or a close or a time step. A frame whose op has bit 5 set joins a
  // batch for its session, sent as one message (as the broker sends the
  // frames of one read) before that session's next record.
  size_t log_sent = 0;
  std::vector<wire::frame> pending[2];
  auto flush = [&](size_t index) {
    auto& batch = pending[index];
    if (batch.empty())
      return;
    caf::anon_send(sessions[index], std::move(batch));
    batch = {};
    w.run();
  };
  size_t pos = 0;
  while (pos + 2 <= size) {
    auto op = data[pos];
    auto len = std::min<size_t>(data[pos + 1], size - pos - 2);
    std::string body{reinterpret_cast<const char*>(data + pos + 2), len};
    pos += 2 + len;
    auto index = static_cast<size_t>(op & 1);
    auto& s = sessions[index];
    auto kind = (op >> 1) % 16;
    auto batched = (op & 0x20) != 0 && kind < 14;
    if (!batched)
      flush(index);
    if (kind == 14) {
      caf::anon_send(s, atom::closed::value, std::string{});
    } else if (kind == 15) {
      w.sched.advance_time(std::chrono::seconds{1 + len});
    } else {
      auto type = static_cast<wire::frame_type>(kind == 0 ? 1 : kind);
      if (type == wire::frame_type::log)
        log_sent += body.size();
      if (batched) {
        pending[index].push_back(wire::frame{type, std::move(body)});
        continue;
      }
      caf::anon_send(s, wire::frame{type, std::move(body)});
    }
    w.run();
  }
  flush(0);
  flush(1);
  fuzz::check_runner_invariants(r);
  // Redaction only shrinks or keeps ("[REDACTED]" is shorter than the
  // secret); nothing appears that was not sent, but for the runner's lines.
  auto& log = sink->data();
  if (log.size() - fuzz::runner_lines_size(log) > log_sent)
    std::abort();
  for (auto& s : sessions)
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(agg, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(peer, caf::exit_reason::user_shutdown);
  w.run();
  // Drop timers that would fire into the next input.
  while (w.sched.has_pending_timeout())
    w.sched.trigger_timeouts();
  w.run();
  return 0;
}
