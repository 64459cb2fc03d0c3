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

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& w = fuzz::the_world();
  fuzz::job job{w};
  auto peer = w.sys.spawn(fuzz::null_peer);
  std::vector<session_actor> sessions;
  for (int i = 0; i < 2; ++i)
    sessions.push_back(w.sys.spawn(session, caf::io::connection_handle{}, peer,
                                   job.runner, job.aggregator, job.config,
                                   dialect::baton));
  w.run();
  // Input: records of [op][len][body...]. Bit 0 of op picks the session.
  // With bit 6 set the record is a close (bit 1 clear) or a time step of
  // 1 + len seconds (bit 1 set); else bits 1-4 are the frame type (0 for
  // ready, type 16) and the body its body, and with bit 5 set the frame
  // joins a batch for its session, sent as one message (as the broker sends
  // the frames of one read) before that session's next record.
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
    auto control = (op & 0x40) != 0;
    auto batched = (op & 0x20) != 0 && !control;
    if (!batched)
      flush(index);
    if (control && (op & 0x02) == 0) {
      caf::anon_send(s, atom::closed::value, std::string{});
    } else if (control) {
      w.sched.advance_time(std::chrono::seconds{1 + len});
    } else {
      auto kind = (op >> 1) & 0x0f;
      auto type = kind == 0 ? wire::frame_type::ready
                            : static_cast<wire::frame_type>(kind);
      // An upper bound for log_at frames, whose time header is not logged.
      if (type == wire::frame_type::log || type == wire::frame_type::log_at)
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
  job.check(log_sent);
  job.stop(w, sessions, peer);
  return 0;
}
