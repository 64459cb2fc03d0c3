#pragma once

// What both session fuzz targets share: an actor system on CAF's
// deterministic test coordinator, and what must hold of the runner's state
// after any input.

#include "actors/actor_state.hpp"
#include "actors/agent/log_aggregator.hpp"
#include "actors/agent/runner.hpp"
#include "actors/agent/session.hpp"
#include "messages/atoms.hpp"
#include "os/log_sink.hpp"
#include "os/warning_limiter.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

namespace baton::fuzz {

struct fuzz_config : caf::actor_system_config {
  fuzz_config() {
    set("scheduler.policy", caf::atom("testing"));
    set("logger.verbosity", caf::atom("quiet"));
    baton::add_message_types(*this);
  }
};

struct world {
  fuzz_config cfg;
  caf::actor_system sys{cfg};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());

  world() {
    spdlog::set_level(spdlog::level::off);
  }

  /// Runs every message due, up to a bound (a loop of messages the input
  /// set off must not hang the fuzzer).
  void run() {
    for (int i = 0; i < 100000 && sched.has_job(); ++i)
      sched.run_once();
  }
};

/// Stands in for the socket broker: whatever a session writes goes nowhere.
struct null_peer_state {
  static constexpr const char* name = "null-peer";
};

inline session_peer_actor::behavior_type
null_peer(session_peer_actor::stateful_pointer<null_peer_state>) {
  return {
    [](atom::write, caf::io::connection_handle, wire::frame&) {},
    [](atom::write, caf::io::connection_handle, const std::string&) {},
    [](atom::close, caf::io::connection_handle) {},
    [](atom::stream, caf::io::connection_handle, bool) {},
  };
}

/// One world for the whole process, never destroyed: tearing an actor
/// system down among other static destructors at exit crashes inside CAF,
/// and the process ends anyway.
inline world& the_world() {
  static auto w = new world;
  return *w;
}

inline void check_runner_invariants(const runner_actor& r) {
  auto& st = testing::state_of<runner_state>(r);
  // A container that registered is connected (or ready), exited, stopped or
  // lost; a skipped one may or may not have registered before its turn was
  // passed over.
  uint32_t surely_registered = 0;
  uint32_t maybe_registered = 0;
  for (auto& c : st.containers) {
    auto attached = c.state == container_state::connected
                    || c.state == container_state::ready;
    if (attached || c.state == container_state::exited
        || c.state == container_state::stopped
        || c.state == container_state::lost)
      ++surely_registered;
    if (c.state != container_state::not_yet_connected)
      ++maybe_registered;
    // A connected container has a session; a skipped one may keep its
    // session (the runner tells it it is skipped through it); no other has.
    if (attached && !c.session)
      std::abort();
    if (c.session && !attached && c.state != container_state::skipped)
      std::abort();
    if (attached && st.finished(c))
      std::abort();
    // Only a service is ever ready or stopped.
    if ((c.state == container_state::ready
         || c.state == container_state::stopped)
        && !c.service)
      std::abort();
  }
  if (st.registered < surely_registered || st.registered > maybe_registered)
    std::abort();
  // Steps run one at a time, but for the members of one parallel group.
  const container_record* running = nullptr;
  for (size_t id = 0; id < st.containers.size(); ++id) {
    auto& c = st.containers[id];
    if (c.service || !c.started || st.finished(c))
      continue;
    if (running != nullptr
        && (!st.member(id) || running->settings.group != c.settings.group))
      std::abort();
    running = &c;
  }
}

/// One input's job: two containers, a runner, and an aggregator that
/// redacts a secret into memory; sessions get a 4 KiB log window and a
/// warning limiter.
struct job {
  std::shared_ptr<memory_sink> sink = std::make_shared<memory_sink>();
  log_aggregator_actor aggregator;
  runner_actor runner;
  session_config config;

  explicit job(world& w) {
    runner_config rc;
    rc.containers = 2;
    rc.env = {"A=1"};
    rc.start_timeout = std::chrono::minutes{5};
    aggregator = w.sys.spawn(
      log_aggregator, sink,
      log_aggregator_config{rc.containers, {"s3cr3t-value"}, {}, false});
    runner = w.sys.spawn(baton::runner, rc, aggregator);
    config.log_window = 4096;
    // Peers' warnings take the agent's path (held back after the first
    // two of a kind, on simulated time), printed nowhere.
    config.peer_warnings = std::make_shared<warning_limiter>(
      2, std::chrono::seconds{10}, [](const std::string&) {});
  }

  /// Aborts unless the runner's state is consistent and the job log holds
  /// no more than the `log_sent` bytes sent (redaction only shrinks or
  /// keeps: "[REDACTED]" is shorter than the secret), but for the agent's
  /// own lines and, for the members of a group, a prefix ("[container-1] ")
  /// and an added newline per line.
  void check(size_t log_sent) const {
    check_runner_invariants(runner);
    auto& agg = testing::state_of<log_aggregator_state>(aggregator);
    auto& log = sink->data();
    auto lines = static_cast<size_t>(std::count(log.begin(), log.end(), '\n'));
    if (log.size() - agg.agent_bytes > log_sent + (lines + 1) * 15)
      std::abort();
  }

  /// Stops the job, its `sessions` and their `peer`, and drops the timers
  /// that would fire into the next input.
  template <class Sessions, class Peer>
  void stop(world& w, const Sessions& sessions, const Peer& peer) const {
    for (auto& s : sessions)
      caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(runner, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(aggregator, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(peer, caf::exit_reason::user_shutdown);
    w.run();
    while (w.sched.has_pending_timeout())
      w.sched.trigger_timeouts();
    w.run();
  }
};

} // namespace baton::fuzz
