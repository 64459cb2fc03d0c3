#pragma once

// Deterministic actor tests on CAF's test_coordinator with simulated time,
// without CAF's test DSL (it needs a CAF test runner; see Zeek Broker's
// tests for the same approach).

#include "actors/actor_state.hpp"
#include "actors/actors.hpp"
#include "messages/atoms.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace baton::testing {

struct test_config : caf::actor_system_config {
  test_config() {
    set("scheduler.policy", caf::atom("testing"));
    set("logger.verbosity", caf::atom("quiet"));
    baton::add_message_types(*this);
  }
};

/// The outcome of a request made by `actor_fixture::request`.
template <class... Rs>
struct reply {
  std::optional<std::tuple<Rs...>> value;
  caf::error error;

  bool answered() const {
    return value.has_value() || static_cast<bool>(error);
  }

  /// The first (often only) value; fails the test if there is none.
  const auto& get() const {
    EXPECT_TRUE(value.has_value())
      << "no value, error: " << caf::to_string(error);
    return std::get<0>(*value);
  }
};

/// Records what a session is told; stands in for sessions in runner tests.
struct fake_session_state {
  static constexpr const char* name = "fake-session";
  std::vector<run_state> states;
  std::vector<turn> turns;
};

inline session_actor::behavior_type
fake_session(session_actor::stateful_pointer<fake_session_state> self) {
  return {
    [](wire::frame&) {},
    [](std::vector<wire::frame>&) {},
    [](atom::received, std::string&) {},
    [](atom::closed, const std::string&) {},
    [=](atom::state, turn& x) {
      self->state.states.push_back(x.state);
      self->state.turns.push_back(std::move(x));
    },
    [](atom::tick) {},
  };
}

/// Records what a session writes; stands in for the socket broker.
struct fake_peer_state {
  static constexpr const char* name = "fake-peer";
  /// What a session of baton's dialect wrote.
  std::vector<wire::frame> frames;
  /// What a session of the reference's dialect wrote.
  std::string bytes;
  bool closed = false;
  /// The session asked for large reads (its container's turn).
  bool streaming = false;
};

inline session_peer_actor::behavior_type
fake_peer(session_peer_actor::stateful_pointer<fake_peer_state> self) {
  return {
    [=](atom::write, caf::io::connection_handle, wire::frame& frm) {
      self->state.frames.push_back(std::move(frm));
    },
    [=](atom::write, caf::io::connection_handle, const std::string& bytes) {
      self->state.bytes += bytes;
    },
    [=](atom::close, caf::io::connection_handle) { self->state.closed = true; },
    [=](atom::stream, caf::io::connection_handle, bool on) {
      self->state.streaming = on;
    },
  };
}

class actor_fixture : public ::testing::Test {
protected:
  actor_fixture()
    : sys(cfg),
      sched(dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler())) {
    spdlog::set_level(spdlog::level::off);
  }

  ~actor_fixture() override {
    for (auto& hdl : tracked_)
      caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
    run();
  }

  /// Spawns an actor that the fixture stops at the end of the test.
  template <class... Ts>
  auto spawn(Ts&&... xs) {
    auto hdl = sys.spawn(std::forward<Ts>(xs)...);
    tracked_.push_back(caf::actor_cast<caf::actor>(hdl));
    return hdl;
  }

  /// Runs every pending job, without advancing time.
  void run() {
    while (sched.has_job())
      sched.run();
  }

  /// Advances simulated time by `d`, running everything that becomes due.
  void advance(caf::timespan d) {
    sched.advance_time(d);
    run();
  }

  /// Sends a request from a probe actor, runs, and returns what came back
  /// (possibly nothing yet: the probe keeps waiting while time advances).
  template <class... Rs, class Handle, class... Ts>
  std::shared_ptr<reply<Rs...>> request(const Handle& hdl, Ts... xs) {
    auto out = std::make_shared<reply<Rs...>>();
    auto probe = sys.spawn([=](caf::event_based_actor* probe) {
      probe->request(hdl, caf::infinite, xs...)
        .then([=](Rs&... rs) { out->value = std::make_tuple(rs...); },
              [=](caf::error& err) { out->error = std::move(err); });
    });
    tracked_.push_back(probe);
    run();
    return out;
  }

  /// Reads the state of a stateful typed actor.
  template <class State, class Handle>
  State& state_of(const Handle& hdl) {
    return baton::testing::state_of<State>(hdl);
  }

  test_config cfg;
  caf::actor_system sys;
  caf::scheduler::test_coordinator& sched;

private:
  std::vector<caf::actor> tracked_;
};

} // namespace baton::testing
