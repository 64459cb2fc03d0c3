#include "actors/agent/cancellation_watcher.hpp"

#include "actors/agent/runner.hpp"
#include "actors/test_fixture.hpp"

#include <chrono>
#include <csignal>

using namespace std::chrono_literals;
using namespace baton;

namespace {

class cancellation_watcher_test : public baton::testing::actor_fixture {
protected:
  cancellation_watcher_test() {
    runner_config rc;
    rc.containers = 1;
    the_runner = spawn(runner, rc, log_aggregator_actor{});
    watcher = spawn(cancellation_watcher, the_runner, caf::timespan{15s});
  }

  job_result status() {
    return request<job_result>(the_runner, atom::status::value)->get();
  }

  void signal(int signo) {
    caf::anon_send(watcher, atom::signal::value, signo);
    run();
  }

  runner_actor the_runner;
  cancellation_watcher_actor watcher;
};

} // namespace

TEST_F(cancellation_watcher_test, first_signal_interrupts) {
  signal(SIGTERM);
  EXPECT_TRUE(status().interrupted);
  EXPECT_FALSE(status().terminated);
}

TEST_F(cancellation_watcher_test, second_signal_terminates) {
  signal(SIGTERM);
  signal(SIGINT);
  auto result = status();
  EXPECT_TRUE(result.terminated);
  EXPECT_TRUE(result.done);
}

TEST_F(cancellation_watcher_test, end_of_grace_period_terminates) {
  signal(SIGINT);
  advance(14s);
  EXPECT_FALSE(status().terminated);
  advance(1s);
  EXPECT_TRUE(status().terminated);
  // The reason says the job was interrupted first.
  EXPECT_EQ(status().reason, "job interrupted");
}

TEST_F(cancellation_watcher_test, no_signal_no_interrupt) {
  advance(1h);
  EXPECT_FALSE(status().interrupted);
}
