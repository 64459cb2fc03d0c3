// libFuzzer target: two RPC sessions (the reference's dialect) of a
// two-container job, driven by arbitrary bytes on their connections (and
// connection closes and time steps), on CAF's deterministic test
// coordinator. Checks after every input: no crash, the runner's view is
// consistent (only a connected container has a session, the registration
// count matches its states), and the job log holds no more than the WriteLogs
// bytes sent.

#include "actors/agent/fuzz/fuzz_support.hpp"
#include "actors/agent/log_aggregator.hpp"
#include "actors/agent/runner.hpp"
#include "actors/agent/session.hpp"
#include "messages/atoms.hpp"
#include "messages/rpc.hpp"

#include <caf/actor_cast.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>

using namespace baton;

namespace {

// Counts the WriteLogs bytes a connection's stream carries, decoding it as
// the session does (after the preamble).
struct log_counter {
  std::string preamble;
  bool connected = false;
  rpc::server_codec codec;
  size_t bytes = 0;

  void feed(const std::string& chunk) {
    if (!connected) {
      preamble += chunk;
      auto result = rpc::parse_connect(preamble);
      if (result.status != rpc::preamble_status::ok)
        return;
      connected = true;
      codec.feed(preamble.data() + result.consumed,
                 preamble.size() - result.consumed);
    } else {
      codec.feed(chunk.data(), chunk.size());
    }
    rpc::call call;
    while (codec.next(call)) {
      rpc::logs logs;
      if (call.header.service_method == rpc::write_logs_method
          && !rpc::from_value(call.body, logs))
        bytes += logs.data.size();
    }
  }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& w = fuzz::the_world();
  fuzz::job job{w};
  auto peer = w.sys.spawn(fuzz::null_peer);
  std::vector<session_actor> sessions;
  for (int i = 0; i < 2; ++i)
    sessions.push_back(w.sys.spawn(session, caf::io::connection_handle{}, peer,
                                   job.runner, job.aggregator, job.config,
                                   dialect::buildkite));
  w.run();
  // Input: records of [op][len][bytes...]; op picks the session, and bytes
  // on its connection, or a close, or a time step.
  log_counter counters[2];
  size_t pos = 0;
  while (pos + 2 <= size) {
    auto op = data[pos];
    auto len = std::min<size_t>(data[pos + 1], size - pos - 2);
    std::string bytes{reinterpret_cast<const char*>(data + pos + 2), len};
    pos += 2 + len;
    auto index = op & 1;
    auto kind = (op >> 1) % 8;
    if (kind == 6) {
      caf::anon_send(sessions[index], atom::closed::value, std::string{});
    } else if (kind == 7) {
      w.sched.advance_time(std::chrono::seconds{1 + len});
    } else {
      counters[index].feed(bytes);
      caf::anon_send(sessions[index], atom::received::value, std::move(bytes));
    }
    w.run();
  }
  job.check(counters[0].bytes + counters[1].bytes);
  job.stop(w, sessions, peer);
  return 0;
}
