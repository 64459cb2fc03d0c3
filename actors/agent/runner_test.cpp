#include "actors/agent/runner.hpp"

#include "actors/agent/cancellation_watcher.hpp"
#include "actors/agent/log_aggregator.hpp"
#include "actors/test_fixture.hpp"
#include "job/outcome.hpp"
#include "messages/error.hpp"

#include <nlohmann/json.hpp>

#include <chrono>

using namespace std::chrono_literals;
using namespace baton;
using baton::testing::fake_session;
using baton::testing::fake_session_state;

namespace {

class runner_test : public baton::testing::actor_fixture {
protected:
  runner_actor make_runner(uint32_t containers,
                           caf::timespan start_timeout = caf::timespan{0}) {
    runner_config config;
    config.containers = containers;
    config.env = {"BUILDKITE_JOB_ID=42", "FOO=bar"};
    config.start_timeout = start_timeout;
    return spawn(runner, config, log_aggregator_actor{});
  }

  /// Registers a fake session as container `id` with step settings.
  auto connect(const runner_actor& r, int32_t id, step_settings settings) {
    auto s = spawn(fake_session);
    registration reg{id, dialect::baton};
    reg.settings = std::move(settings);
    auto rep = request<std::vector<std::string>, std::string, turn>(
      r, atom::register_::value, reg, container_actor{s});
    return std::make_pair(s, rep);
  }

  /// An always-step's settings.
  static step_settings always() {
    step_settings x;
    x.always = true;
    return x;
  }

  /// Soft failures on these statuses (none: on any).
  static step_settings soft_fail(std::vector<int32_t> statuses = {}) {
    step_settings x;
    x.soft_fail_any = statuses.empty();
    x.soft_fail = std::move(statuses);
    return x;
  }

  auto exit(const runner_actor& r, int32_t id, step_exit x) {
    return request<atom::ok>(r, atom::exit::value, id, std::move(x));
  }

  /// Every turn pushed to `s`.
  std::vector<turn> turns(const session_actor& s) {
    return state_of<fake_session_state>(s).turns;
  }

  /// Registers a fake session as container `id`.
  auto connect(const runner_actor& r, int32_t id) {
    auto s = spawn(fake_session);
    auto rep = request<std::vector<std::string>, std::string, turn>(
      r, atom::register_::value, registration{id, dialect::baton},
      container_actor{s});
    return std::make_pair(s, rep);
  }

  auto exit(const runner_actor& r, int32_t id, int32_t status) {
    return request<atom::ok>(r, atom::exit::value, id,
                             step_exit{status, false, {}});
  }

  job_result status(const runner_actor& r) {
    return request<job_result>(r, atom::status::value)->get();
  }

  /// Every state pushed to `s` so far, the registration reply's first.
  std::vector<run_state> states(const session_actor& s) {
    return state_of<fake_session_state>(s).states;
  }

  run_state last_state(const session_actor& s) {
    auto xs = states(s);
    EXPECT_FALSE(xs.empty());
    return xs.empty() ? run_state::wait : xs.back();
  }
};

} // namespace

TEST_F(runner_test, ordered_clients_start_only_after_the_previous_exits) {
  auto r = make_runner(3);
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, r0] = connect(r, 0);
  auto [s1, r1] = connect(r, 1);
  auto [s2, r2] = connect(r, 2);
  EXPECT_EQ(std::get<2>(*r0->value).state, run_state::start);
  EXPECT_EQ(std::get<2>(*r1->value).state, run_state::wait);
  EXPECT_EQ(std::get<2>(*r2->value).state, run_state::wait);
  EXPECT_EQ(r0->get(),
            (std::vector<std::string>{"BUILDKITE_JOB_ID=42", "FOO=bar"}));
  EXPECT_TRUE(states(s1).empty());
  // Container 0 exits: container 1 is pushed its turn, container 2 is not.
  EXPECT_TRUE(exit(r, 0, 0)->answered());
  EXPECT_EQ(states(s1), std::vector<run_state>{run_state::start});
  EXPECT_TRUE(states(s2).empty());
  EXPECT_FALSE(done->answered());
  exit(r, 1, 0);
  EXPECT_EQ(states(s2), std::vector<run_state>{run_state::start});
  EXPECT_FALSE(done->answered());
  exit(r, 2, 0);
  ASSERT_TRUE(done->answered());
  auto& result = done->get();
  EXPECT_EQ(result.status, 0);
  EXPECT_TRUE(result.done);
  EXPECT_TRUE(result.started);
  EXPECT_FALSE(result.interrupted);
  EXPECT_FALSE(result.terminated);
  EXPECT_EQ(result.reason, "every container exited");
}

TEST_F(runner_test, a_late_registration_learns_its_turn_already_came) {
  auto r = make_runner(2);
  connect(r, 0);
  exit(r, 0, 0);
  auto [s1, r1] = connect(r, 1);
  EXPECT_EQ(std::get<2>(*r1->value).state, run_state::start);
}

TEST_F(runner_test, job_counts_as_started_at_the_first_registration) {
  auto r = make_runner(2);
  EXPECT_FALSE(status(r).started);
  connect(r, 1);
  EXPECT_TRUE(status(r).started);
  EXPECT_EQ(status(r).reason, "running");
}

TEST_F(runner_test, a_lost_client_terminates_the_job) {
  auto r = make_runner(2);
  auto done = request<job_result>(r, atom::done::value);
  connect(r, 0);
  auto [s1, r1] = connect(r, 1);
  caf::anon_send(r, atom::lost::value, int32_t{0},
                 std::string{"connection closed before its exit status"});
  run();
  ASSERT_TRUE(done->answered());
  auto& result = done->get();
  EXPECT_EQ(result.status, defaults::lost_status);
  EXPECT_TRUE(result.terminated);
  EXPECT_EQ(result.containers[0].state, container_state::lost);
  EXPECT_EQ(result.reason, "container 0 (container-0) lost: connection closed "
                           "before its exit status");
  // The waiting container is not an always-step: it is skipped.
  EXPECT_EQ(last_state(s1), run_state::skip);
  EXPECT_EQ(result.containers[1].state, container_state::skipped);
}

TEST_F(runner_test,
       a_container_lost_after_an_interrupt_lets_the_others_finish) {
  auto r = make_runner(2);
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, r0] = connect(r, 0);
  connect(r, 1);
  caf::anon_send(r, atom::interrupt::value);
  run();
  // A stock client told to interrupt before its turn leaves without an
  // exit status: container 0, still handling its cancel signal, goes on.
  caf::anon_send(r, atom::lost::value, int32_t{1},
                 std::string{"connection closed before its exit status"});
  run();
  EXPECT_FALSE(done->answered());
  EXPECT_EQ(last_state(s0), run_state::interrupt);
  exit(r, 0, 143);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 143);
  EXPECT_FALSE(done->get().terminated);
}

TEST_F(runner_test, duplicate_id_is_refused_and_the_first_keeps_working) {
  auto r = make_runner(2);
  auto [first, ok] = connect(r, 0);
  auto [second, dup] = connect(r, 0);
  ASSERT_TRUE(ok->value.has_value());
  EXPECT_EQ(code_of(dup->error), ec::duplicate_container);
  EXPECT_EQ(render(dup->error), "client id 0 already registered");
  EXPECT_TRUE(exit(r, 0, 0)->value.has_value());
  EXPECT_EQ(status(r).containers[0].state, container_state::exited);
}

TEST_F(runner_test, out_of_range_ids_are_refused) {
  auto r = make_runner(2);
  auto [s2, too_big] = connect(r, 2);
  EXPECT_EQ(code_of(too_big->error), ec::unrecognized_container);
  EXPECT_EQ(render(too_big->error), "unrecognized client id 2 (this job has "
                                    "containers 0 to 1)");
  auto [sm, negative] = connect(r, -1);
  EXPECT_EQ(code_of(negative->error), ec::unrecognized_container);
  EXPECT_FALSE(status(r).started);
}

TEST_F(runner_test, exit_statuses_one_then_zero_give_aggregate_one) {
  auto r = make_runner(2);
  connect(r, 0);
  connect(r, 1);
  exit(r, 0, 1);
  // Reference order: the scan stops at the first non-zero exit.
  auto result = status(r);
  EXPECT_EQ(result.status, 1);
  EXPECT_TRUE(result.terminated);
  EXPECT_EQ(result.reason, "container 0 (container-0) exited with status 1");
}

TEST_F(runner_test, nonzero_exit_means_later_containers_never_start) {
  auto r = make_runner(3);
  connect(r, 0);
  auto [s1, r1] = connect(r, 1);
  auto [s2, r2] = connect(r, 2);
  exit(r, 0, 0);
  exit(r, 1, 3);
  EXPECT_EQ(states(s2), std::vector<run_state>{run_state::skip});
  EXPECT_EQ(status(r).status, 3);
}

TEST_F(runner_test, exit_zero_then_terminate_gives_137) {
  auto r = make_runner(2);
  auto done = request<job_result>(r, atom::done::value);
  connect(r, 0);
  auto [s1, r1] = connect(r, 1);
  exit(r, 0, 0);
  caf::anon_send(r, atom::terminate::value, std::string{"stop"});
  run();
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, defaults::unreported_status);
  EXPECT_EQ(done->get().reason, "stop");
  EXPECT_EQ(states(s1),
            (std::vector<run_state>{run_state::start, run_state::shutdown}));
}

TEST_F(runner_test, interrupt_before_start_interrupts_the_waiting_client) {
  auto r = make_runner(2);
  connect(r, 0);
  auto [s1, r1] = connect(r, 1);
  caf::anon_send(r, atom::interrupt::value);
  run();
  EXPECT_EQ(states(s1), std::vector<run_state>{run_state::interrupt});
  EXPECT_TRUE(status(r).interrupted);
  EXPECT_FALSE(status(r).done);
  // A second interrupt changes nothing (idempotent).
  caf::anon_send(r, atom::interrupt::value);
  run();
  EXPECT_EQ(states(s1).size(), 1u);
}

TEST_F(runner_test, a_registration_after_interrupt_is_told_to_interrupt) {
  auto r = make_runner(2);
  connect(r, 0);
  caf::anon_send(r, atom::interrupt::value);
  run();
  auto [s1, r1] = connect(r, 1);
  EXPECT_EQ(std::get<2>(*r1->value).state, run_state::interrupt);
}

TEST_F(runner_test, an_interrupt_with_nothing_running_ends_the_job) {
  auto r = make_runner(2);
  caf::anon_send(r, atom::interrupt::value);
  run();
  auto result = status(r);
  EXPECT_TRUE(result.done);
  EXPECT_EQ(result.status, defaults::not_connected_status);
}

TEST_F(runner_test, failures_after_an_interrupt_wait_for_the_running_one) {
  auto r = make_runner(3);
  auto done = request<job_result>(r, atom::done::value);
  connect(r, 0);
  connect(r, 1);
  connect(r, 2);
  exit(r, 0, 0);
  caf::anon_send(r, atom::interrupt::value);
  run();
  // Container 2 never started and reports a failure; container 1 is still
  // handling its cancel signal and must get to finish.
  exit(r, 2, 1);
  EXPECT_FALSE(done->answered());
  EXPECT_FALSE(status(r).terminated);
  exit(r, 1, 143);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 143);
  EXPECT_EQ(done->get().reason, "job interrupted");
}

TEST_F(runner_test, terminate_before_start_shuts_the_waiting_client_down) {
  auto r = make_runner(2);
  connect(r, 0);
  auto [s1, r1] = connect(r, 1);
  caf::anon_send(r, atom::terminate::value, std::string{"stop"});
  run();
  EXPECT_EQ(states(s1), std::vector<run_state>{run_state::shutdown});
  caf::anon_send(r, atom::terminate::value, std::string{"again"});
  run();
  EXPECT_EQ(states(s1).size(), 1u);
  EXPECT_EQ(status(r).reason, "stop");
}

TEST_F(runner_test, interrupt_after_start_reaches_the_running_client) {
  auto r = make_runner(2);
  auto [s0, r0] = connect(r, 0);
  EXPECT_EQ(std::get<2>(*r0->value).state, run_state::start);
  caf::anon_send(r, atom::interrupt::value);
  run();
  EXPECT_EQ(states(s0), std::vector<run_state>{run_state::interrupt});
  // The interrupted command exits; container 1 connects late, is not an
  // always-step and gives up: nothing is left to wait for.
  auto done = request<job_result>(r, atom::done::value);
  EXPECT_FALSE(done->answered());
  exit(r, 0, 143);
  EXPECT_FALSE(done->answered());
  auto [s1, r1] = connect(r, 1);
  EXPECT_EQ(std::get<2>(*r1->value).state, run_state::interrupt);
  exit(r, 1, 1);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 143);
  EXPECT_TRUE(done->get().interrupted);
}

TEST_F(runner_test, terminate_after_start_reaches_the_client_status_137) {
  auto r = make_runner(1);
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, r0] = connect(r, 0);
  caf::anon_send(r, atom::terminate::value, std::string{"stop"});
  run();
  EXPECT_EQ(states(s0), std::vector<run_state>{run_state::shutdown});
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 137);
}

TEST_F(runner_test, start_timeout_fails_the_job) {
  auto r = make_runner(2, 5min);
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, r0] = connect(r, 0);
  advance(4min);
  EXPECT_FALSE(done->answered());
  advance(1min);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().reason,
            "timed out waiting 5m0s for all containers to connect: 1 "
            "(container-1) never connected");
  // Container 0 connected but never reported: reference order gives 137.
  EXPECT_EQ(done->get().status, 137);
  EXPECT_EQ(states(s0), std::vector<run_state>{run_state::shutdown});
}

TEST_F(runner_test, start_timeout_is_harmless_once_everyone_registered) {
  auto r = make_runner(1, 1s);
  connect(r, 0);
  advance(2s);
  EXPECT_FALSE(status(r).terminated);
}

TEST_F(runner_test, zero_start_timeout_disables_it) {
  auto r = make_runner(1);
  advance(24h);
  EXPECT_FALSE(status(r).terminated);
}

TEST_F(runner_test, never_connected_gives_minus_ten) {
  auto r = make_runner(2);
  connect(r, 0);
  exit(r, 0, 0);
  caf::anon_send(r, atom::terminate::value, std::string{"stop"});
  run();
  EXPECT_EQ(status(r).status, defaults::not_connected_status);
}

TEST_F(runner_test, lost_gives_minus_seven) {
  auto r = make_runner(2);
  connect(r, 0);
  exit(r, 0, 0);
  connect(r, 1);
  caf::anon_send(r, atom::lost::value, int32_t{1}, std::string{"gone"});
  run();
  auto result = status(r);
  EXPECT_EQ(result.status, defaults::lost_status);
  EXPECT_TRUE(result.done);
}

TEST_F(runner_test, exit_from_an_unregistered_container_is_refused) {
  auto r = make_runner(2);
  auto rep = exit(r, 1, 0);
  EXPECT_EQ(code_of(rep->error), ec::unexpected_message);
  EXPECT_EQ(status(r).containers[1].state, container_state::not_yet_connected);
}

TEST_F(runner_test, a_second_exit_is_refused_and_keeps_the_first_status) {
  auto r = make_runner(2);
  connect(r, 0);
  exit(r, 0, 0);
  auto rep = exit(r, 0, 5);
  EXPECT_EQ(code_of(rep->error), ec::unexpected_message);
  EXPECT_EQ(status(r).containers[0].exit_status, 0);
  EXPECT_FALSE(status(r).terminated);
}

TEST_F(runner_test, done_after_the_fact_answers_at_once) {
  auto r = make_runner(1);
  connect(r, 0);
  exit(r, 0, 0);
  auto done = request<job_result>(r, atom::done::value);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 0);
}

TEST_F(runner_test, result_json_has_the_documented_shape) {
  auto r = make_runner(2);
  connect(r, 0);
  exit(r, 0, 0);
  connect(r, 1);
  exit(r, 1, 3);
  auto j = to_json(status(r));
  EXPECT_EQ(j["status"], 3);
  EXPECT_EQ(j["interrupted"], false);
  EXPECT_EQ(j["reason"], "container 1 (container-1) exited with status 3");
  ASSERT_EQ(j["containers"].size(), 2u);
  EXPECT_EQ(j["containers"][1]["id"], 1);
  EXPECT_EQ(j["containers"][1]["state"], "exited");
  EXPECT_EQ(j["containers"][1]["exit_status"], 3);
  EXPECT_EQ(j["containers"][1]["log_bytes"], 0);
  EXPECT_EQ(j["containers"][1]["name"], "container-1");
  EXPECT_EQ(j["containers"][1]["reason"], "failed");
  EXPECT_TRUE(j["containers"][1]["signal"].is_null());
  EXPECT_TRUE(j["containers"][1]["started_at"].is_string());
  EXPECT_TRUE(j["containers"][1]["finished_at"].is_string());
  EXPECT_EQ(j["containers"][1]["duration_ms"], 0);
  EXPECT_EQ(j["containers"][0]["reason"], "passed");
  EXPECT_EQ(j["duration_ms"], 0);
}

TEST(runner_config, validate_names_the_bad_value) {
  runner_config config;
  EXPECT_EQ(render(config.validate()),
            "the job needs at least one container, got 0");
  config.containers = 1;
  EXPECT_FALSE(config.validate());
}

// -- job steps ----------------------------------------------------------------

TEST_F(runner_test,
       a_failure_skips_the_steps_after_it_but_runs_an_always_step) {
  auto r = make_runner(4);
  auto done = request<job_result>(r, atom::done::value);
  connect(r, 0);
  auto [s1, r1] = connect(r, 1);
  auto [s2, r2] = connect(r, 2, always());
  auto [s3, r3] = connect(r, 3);
  exit(r, 0, 2);
  // Container 1 is skipped; the always-step starts knowing the job failed.
  EXPECT_EQ(states(s1), std::vector<run_state>{run_state::skip});
  ASSERT_EQ(turns(s2).size(), 1u);
  EXPECT_EQ(turns(s2)[0].state, run_state::start);
  EXPECT_EQ(turns(s2)[0].job_result, "failed");
  EXPECT_EQ(turns(s2)[0].job_status, 2);
  // Container 3 waits its turn after the always-step, then is skipped.
  EXPECT_TRUE(states(s3).empty());
  EXPECT_FALSE(done->answered());
  exit(r, 2, 0);
  EXPECT_EQ(states(s3), std::vector<run_state>{run_state::skip});
  ASSERT_TRUE(done->answered());
  auto& result = done->get();
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.result, "failed");
  EXPECT_EQ(result.containers[1].state, container_state::skipped);
  EXPECT_EQ(result.containers[2].exit_status, 0);
  EXPECT_TRUE(result.containers[2].always);
  EXPECT_EQ(result.reason, "container 0 (container-0) exited with status 2");
}

TEST_F(runner_test, an_always_step_that_connects_after_the_failure_still_runs) {
  auto r = make_runner(3);
  auto done = request<job_result>(r, atom::done::value);
  connect(r, 0);
  exit(r, 0, 1);
  // Containers 1 and 2 have not registered: either may be an always-step,
  // so the job waits for them (within the start timeout).
  EXPECT_FALSE(done->answered());
  auto [s2, r2] = connect(r, 2, always());
  EXPECT_EQ(std::get<2>(*r2->value).state, run_state::wait);
  auto [s1, r1] = connect(r, 1);
  EXPECT_EQ(std::get<2>(*r1->value).state, run_state::skip);
  EXPECT_EQ(states(s2), std::vector<run_state>{run_state::start});
  exit(r, 2, 0);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 1);
}

TEST_F(runner_test, a_lost_container_then_an_always_step) {
  auto r = make_runner(3);
  auto done = request<job_result>(r, atom::done::value);
  connect(r, 0);
  auto [s1, r1] = connect(r, 1);
  auto [s2, r2] = connect(r, 2, always());
  caf::anon_send(r, atom::lost::value, int32_t{0}, std::string{"gone"});
  run();
  EXPECT_EQ(states(s1), std::vector<run_state>{run_state::skip});
  EXPECT_EQ(states(s2), std::vector<run_state>{run_state::start});
  EXPECT_EQ(turns(s2)[0].job_status, defaults::lost_status);
  exit(r, 2, 0);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, defaults::lost_status);
  EXPECT_EQ(done->get().reason, "container 0 (container-0) lost: gone");
}

TEST_F(runner_test, a_waiting_container_lost_stops_the_running_step_first) {
  auto r = make_runner(3);
  auto [s0, r0] = connect(r, 0);
  connect(r, 1);
  auto [s2, r2] = connect(r, 2, always());
  caf::anon_send(r, atom::lost::value, int32_t{1}, std::string{"gone"});
  run();
  // Container 0 is not an always-step: it is stopped, and the always-step
  // waits until it finished (steps never overlap).
  EXPECT_EQ(states(s0), std::vector<run_state>{run_state::shutdown});
  EXPECT_TRUE(states(s2).empty());
  exit(r, 0, 143);
  EXPECT_EQ(states(s2), std::vector<run_state>{run_state::start});
}

TEST_F(runner_test, the_start_timeout_fails_the_job_but_runs_an_always_step) {
  auto r = make_runner(3, 1min);
  auto done = request<job_result>(r, atom::done::value);
  connect(r, 0);
  exit(r, 0, 0);
  auto [s2, r2] = connect(r, 2, always());
  // Container 1 never comes: its turn blocks container 2's until the
  // start timeout gives up on it.
  EXPECT_TRUE(states(s2).empty());
  advance(1min);
  EXPECT_EQ(states(s2), std::vector<run_state>{run_state::start});
  EXPECT_EQ(turns(s2)[0].job_result, "failed");
  exit(r, 2, 0);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, defaults::not_connected_status);
  EXPECT_EQ(done->get().reason,
            "timed out waiting 1m0s for all containers to connect: 1 "
            "(container-1) never connected");
}

TEST_F(runner_test,
       an_interrupt_waits_for_a_late_always_step_within_the_grace) {
  auto r = make_runner(2);
  auto watcher = spawn(cancellation_watcher, r, caf::timespan{15s});
  auto done = request<job_result>(r, atom::done::value);
  connect(r, 0);
  caf::anon_send(watcher, atom::signal::value, SIGTERM);
  run();
  exit(r, 0, 143);
  // Container 1 has not connected: it may be an always-step.
  EXPECT_FALSE(done->answered());
  advance(5s);
  auto [s1, r1] = connect(r, 1, always());
  EXPECT_EQ(std::get<2>(*r1->value).state, run_state::start);
  EXPECT_EQ(std::get<2>(*r1->value).job_result, "cancelled");
  exit(r, 1, 0);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 143);
}

TEST_F(runner_test, an_interrupt_gives_up_on_containers_past_the_grace) {
  auto r = make_runner(2);
  auto watcher = spawn(cancellation_watcher, r, caf::timespan{15s});
  auto done = request<job_result>(r, atom::done::value);
  connect(r, 0);
  caf::anon_send(watcher, atom::signal::value, SIGTERM);
  run();
  exit(r, 0, 143);
  advance(15s);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 143);
  EXPECT_EQ(done->get().containers[1].state,
            container_state::not_yet_connected);
}

TEST_F(runner_test, an_interrupt_then_always_steps_inside_and_past_the_grace) {
  auto r = make_runner(4);
  auto watcher = spawn(cancellation_watcher, r, caf::timespan{15s});
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, r0] = connect(r, 0);
  auto [s1, r1] = connect(r, 1);
  auto [s2, r2] = connect(r, 2, always());
  auto [s3, r3] = connect(r, 3, always());
  caf::anon_send(watcher, atom::signal::value, SIGTERM);
  run();
  // The running step is interrupted, the waiting one told to interrupt;
  // the always-steps wait for the running one.
  EXPECT_EQ(states(s0), std::vector<run_state>{run_state::interrupt});
  EXPECT_EQ(states(s1), std::vector<run_state>{run_state::interrupt});
  EXPECT_TRUE(states(s2).empty());
  advance(2s);
  exit(r, 1, 1); // Never ran: "job interrupted before starting".
  exit(r, 0, 143);
  // Inside the grace period: the first always-step runs, not interrupted.
  ASSERT_EQ(states(s2), std::vector<run_state>{run_state::start});
  EXPECT_EQ(turns(s2)[0].job_result, "cancelled");
  EXPECT_EQ(turns(s2)[0].job_status, 143);
  advance(3s);
  exit(r, 2, 0);
  EXPECT_EQ(states(s3), std::vector<run_state>{run_state::start});
  EXPECT_FALSE(done->answered());
  // Past the grace period: the job is terminated, the second always-step
  // shut down.
  advance(10s);
  EXPECT_EQ(states(s3),
            (std::vector<run_state>{run_state::start, run_state::shutdown}));
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 143);
  EXPECT_EQ(done->get().result, "cancelled");
  EXPECT_EQ(done->get().reason, "job interrupted");
}

TEST_F(runner_test, a_soft_fail_list_that_matches_lets_the_job_pass) {
  auto r = make_runner(2);
  auto done = request<job_result>(r, atom::done::value);
  connect(r, 0, soft_fail({1, 3}));
  auto [s1, r1] = connect(r, 1);
  exit(r, 0, 3);
  ASSERT_EQ(turns(s1).size(), 1u);
  EXPECT_EQ(turns(s1)[0].state, run_state::start);
  EXPECT_EQ(turns(s1)[0].job_result, "passed");
  EXPECT_EQ(turns(s1)[0].job_status, 0);
  exit(r, 1, 0);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 0);
  EXPECT_EQ(done->get().result, "passed");
  EXPECT_TRUE(done->get().containers[0].soft_failed);
  EXPECT_EQ(done->get().containers[0].exit_status, 3);
}

TEST_F(runner_test, a_soft_fail_list_that_does_not_match_fails_the_job) {
  auto r = make_runner(2);
  auto done = request<job_result>(r, atom::done::value);
  connect(r, 0, soft_fail({1, 3}));
  auto [s1, r1] = connect(r, 1);
  exit(r, 0, 2);
  EXPECT_EQ(states(s1), std::vector<run_state>{run_state::skip});
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 2);
  EXPECT_FALSE(done->get().containers[0].soft_failed);
}

TEST_F(runner_test, a_timeout_that_is_soft_failed) {
  auto r = make_runner(2);
  auto done = request<job_result>(r, atom::done::value);
  connect(r, 0, soft_fail());
  auto [s1, r1] = connect(r, 1);
  exit(r, 0, step_exit{143, true, {}});
  EXPECT_EQ(states(s1), std::vector<run_state>{run_state::start});
  exit(r, 1, 0);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 0);
  EXPECT_TRUE(done->get().containers[0].timed_out);
  EXPECT_TRUE(done->get().containers[0].soft_failed);
}

TEST_F(runner_test, a_timeout_that_is_not_soft_failed_fails_and_says_so) {
  auto r = make_runner(1);
  auto done = request<job_result>(r, atom::done::value);
  connect(r, 0);
  exit(r, 0, step_exit{137, true, {}});
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 137);
  EXPECT_EQ(done->get().reason, "container 0 (container-0) exited with status "
                                "137 (timed out)");
}

TEST_F(runner_test, outputs_reach_later_containers_and_not_earlier_ones) {
  auto r = make_runner(4);
  connect(r, 0);
  auto [s1, r1] = connect(r, 1);
  exit(r, 0, step_exit{0, false, {"VERSION=1.2.3", "DIGEST=sha256:abc"}});
  // Registered before: the outputs come with its start.
  ASSERT_EQ(turns(s1).size(), 1u);
  EXPECT_EQ(turns(s1)[0].env,
            (std::vector<std::string>{"VERSION=1.2.3", "DIGEST=sha256:abc"}));
  exit(r, 1, step_exit{0, false, {"VERSION=1.2.4"}});
  // Registered after: they are in its environment, in order, the later
  // value last; its start brings nothing new.
  auto [s2, r2] = connect(r, 2);
  EXPECT_EQ(std::get<0>(*r2->value),
            (std::vector<std::string>{"BUILDKITE_JOB_ID=42", "FOO=bar",
                                      "VERSION=1.2.3", "DIGEST=sha256:abc",
                                      "VERSION=1.2.4"}));
  EXPECT_EQ(std::get<2>(*r2->value).state, run_state::start);
  EXPECT_TRUE(std::get<2>(*r2->value).env.empty());
  auto result = status(r);
  EXPECT_EQ(result.containers[0].outputs,
            (std::vector<std::string>{"VERSION", "DIGEST"}));
  EXPECT_TRUE(result.containers[2].outputs.empty());
}

TEST_F(runner_test, an_always_step_failing_after_a_pass_fails_the_job) {
  auto r = make_runner(2);
  auto done = request<job_result>(r, atom::done::value);
  connect(r, 0);
  connect(r, 1, always());
  exit(r, 0, 0);
  exit(r, 1, 4);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 4);
  EXPECT_EQ(done->get().result, "failed");
}

TEST_F(runner_test, an_always_step_failing_after_a_failure_keeps_the_first) {
  auto r = make_runner(2);
  auto done = request<job_result>(r, atom::done::value);
  connect(r, 0);
  connect(r, 1, always());
  exit(r, 0, 3);
  exit(r, 1, 4);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 3);
  EXPECT_EQ(done->get().reason,
            "container 0 (container-0) exited with status 3");
  EXPECT_EQ(done->get().containers[1].exit_status, 4);
}

TEST_F(runner_test, a_turn_waits_for_the_settings_that_follow_a_registration) {
  auto r = make_runner(2);
  connect(r, 0);
  auto s1 = spawn(fake_session);
  registration reg{1, dialect::baton};
  reg.configured = false;
  auto rep = request<std::vector<std::string>, std::string, turn>(
    r, atom::register_::value, reg, container_actor{s1});
  exit(r, 0, 1);
  // The job failed, and container 1 may yet say it is an always-step.
  EXPECT_EQ(std::get<2>(*rep->value).state, run_state::wait);
  EXPECT_TRUE(states(s1).empty());
  EXPECT_FALSE(status(r).done);
  auto now = request<turn>(r, atom::configure::value, int32_t{1}, always());
  EXPECT_EQ(now->get().state, run_state::start);
  EXPECT_EQ(now->get().job_result, "failed");
  // Settings come once.
  auto again = request<turn>(r, atom::configure::value, int32_t{1}, always());
  EXPECT_EQ(code_of(again->error), ec::unexpected_message);
}

TEST_F(runner_test, a_redacted_output_stays_out_of_later_steps_logs) {
  auto sink = std::make_shared<memory_sink>();
  auto r = make_runner(2);
  auto agg = spawn(
    log_aggregator, sink,
    log_aggregator_config{2, {}, split_patterns(default_redacted_vars), false});
  connect(r, 0);
  auto [s1, r1] = connect(r, 1);
  // As a session does on an exit: the outputs to the aggregator first.
  std::vector<std::string> outputs{"PUBLISH_TOKEN=npm-abcdef123",
                                   "VERSION=1.2.3"};
  caf::anon_send(agg, atom::env::value, outputs);
  exit(r, 0, step_exit{0, false, outputs});
  EXPECT_EQ(turns(s1)[0].env, outputs);
  request<uint64_t>(agg, atom::log::value, int32_t{1}, int64_t{0},
                    std::string{"npm publish --token npm-abcdef123 1.2.3\n"});
  EXPECT_EQ(sink->data(), "npm publish --token [REDACTED] 1.2.3\n");
}

TEST_F(runner_test, each_step_ends_with_the_reason_its_report_gives) {
  auto r = make_runner(5);
  auto run = [&](int32_t id, step_settings settings, step_exit x) {
    connect(r, id, std::move(settings));
    exit(r, id, std::move(x));
  };
  step_exit segv{139};
  segv.signal = "SIGSEGV";
  run(0, always(), segv);
  step_exit oom{137};
  oom.signal = "SIGKILL";
  oom.oom_killed = true;
  oom.memory_limit = 64u << 20;
  run(1, always(), oom);
  step_exit late{143, true};
  late.signal = "SIGTERM";
  late.timeout_ms = 300;
  run(2, always(), late);
  auto soft = soft_fail();
  soft.always = true;
  run(3, soft, step_exit{139});
  run(4, always(), step_exit{0});
  auto result = status(r);
  ASSERT_TRUE(result.done);
  EXPECT_EQ(result.containers[0].reason, step_reason::signaled);
  EXPECT_EQ(result.containers[0].signal, "SIGSEGV");
  EXPECT_EQ(result.containers[1].reason, step_reason::oom_killed);
  EXPECT_EQ(result.containers[1].memory_limit, 64u << 20);
  EXPECT_EQ(result.containers[2].reason, step_reason::timed_out);
  EXPECT_EQ(result.containers[2].timeout_ms, 300);
  EXPECT_EQ(result.containers[3].reason, step_reason::soft_failed);
  EXPECT_EQ(result.containers[4].reason, step_reason::passed);
  // The first hard failure is the job's, and its reason names the signal.
  EXPECT_EQ(result.status, 139);
  EXPECT_EQ(result.reason,
            "container 0 (container-0) exited with status 139 (killed by "
            "SIGSEGV)");
  for (auto& c : result.containers)
    EXPECT_EQ(c.duration_ns, 0) << c.id; // Simulated time stands still.
}

// -- services -----------------------------------------------------------------

namespace {

class service_test : public runner_test {
protected:
  runner_actor make_job(uint32_t containers, std::vector<uint32_t> services,
                        bool known = true) {
    runner_config config;
    config.containers = containers;
    config.services = std::move(services);
    config.services_known = known;
    return spawn(runner, config, log_aggregator_actor{});
  }

  /// Registers container `id` as baton's version 2 does (the settings
  /// follow), then sends its settings; returns its session and the turn
  /// the settings were answered with.
  std::pair<session_actor, turn> join(const runner_actor& r, int32_t id,
                                      step_settings settings) {
    auto s = spawn(fake_session);
    registration reg{id, dialect::baton};
    reg.configured = false;
    auto rep = request<std::vector<std::string>, std::string, turn>(
      r, atom::register_::value, reg, container_actor{s});
    EXPECT_TRUE(rep->value.has_value()) << render(rep->error);
    auto now = request<turn>(r, atom::configure::value, id, settings);
    EXPECT_TRUE(now->value.has_value()) << render(now->error);
    return {s, now->value ? now->get() : turn{}};
  }

  static step_settings service() {
    step_settings x;
    x.service = true;
    return x;
  }

  void ready(const runner_actor& r, int32_t id) {
    caf::anon_send(r, atom::ready::value, id);
    run();
  }

  /// The command was stopped by the cancel signal.
  static step_exit stopped() {
    step_exit x{143};
    x.signal = "SIGTERM";
    return x;
  }
};

} // namespace

TEST_F(service_test, the_steps_wait_for_a_service_to_be_ready) {
  auto r = make_job(3, {0});
  auto done = request<job_result>(r, atom::done::value);
  // The first step connects first: the service it waits for has not.
  auto [s1, t1] = join(r, 1, {});
  EXPECT_EQ(t1.state, run_state::wait);
  auto [s0, t0] = join(r, 0, service());
  EXPECT_EQ(t0.state, run_state::start);
  EXPECT_TRUE(states(s1).empty());
  auto [s2, t2] = join(r, 2, {});
  EXPECT_EQ(status(r).containers[0].state, container_state::connected);
  ready(r, 0);
  EXPECT_EQ(states(s1), std::vector<run_state>{run_state::start});
  auto mid = status(r);
  EXPECT_EQ(mid.containers[0].state, container_state::ready);
  EXPECT_EQ(mid.containers[0].ready_after_ns, 0); // Simulated time.
  EXPECT_TRUE(mid.containers[0].service);
  exit(r, 1, 0);
  EXPECT_EQ(states(s2), std::vector<run_state>{run_state::start});
  // The service runs until the last step is done, then is told to stop.
  EXPECT_TRUE(states(s0).empty());
  exit(r, 2, 0);
  EXPECT_EQ(states(s0), std::vector<run_state>{run_state::shutdown});
  EXPECT_FALSE(done->answered());
  exit(r, 0, stopped());
  ASSERT_TRUE(done->answered());
  auto& result = done->get();
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.result, "passed");
  EXPECT_EQ(result.containers[0].state, container_state::stopped);
  EXPECT_EQ(result.containers[0].reason, step_reason::stopped);
  EXPECT_EQ(result.containers[0].exit_status, 143);
  auto json = to_json(result);
  EXPECT_EQ(json["containers"][0]["role"], "service");
  EXPECT_EQ(json["containers"][0]["ready_after_ms"], 0);
  EXPECT_EQ(json["containers"][1]["role"], "step");
  EXPECT_TRUE(json["containers"][1]["ready_after_ms"].is_null());
}

TEST_F(service_test, a_service_learnt_from_its_settings_has_no_turn) {
  // Without --services, container 0 says what it is when its settings come;
  // the step after it waits until then, then for its readiness.
  auto r = make_job(2, {}, false);
  auto [s1, t1] = join(r, 1, {});
  EXPECT_EQ(t1.state, run_state::wait);
  auto [s0, t0] = join(r, 0, service());
  EXPECT_EQ(t0.state, run_state::start);
  EXPECT_TRUE(states(s1).empty());
  ready(r, 0);
  EXPECT_EQ(states(s1), std::vector<run_state>{run_state::start});
}

TEST_F(service_test, a_service_registering_after_the_steps_would_start) {
  auto r = make_job(2, {1});
  auto [s0, t0] = join(r, 0, {});
  // Its turn would have come: the known service holds it.
  EXPECT_EQ(t0.state, run_state::wait);
  EXPECT_EQ(request<run_state>(r, atom::state::value, int32_t{0})->get(),
            run_state::wait);
  auto [s1, t1] = join(r, 1, service());
  EXPECT_EQ(t1.state, run_state::start);
  ready(r, 1);
  EXPECT_EQ(states(s0), std::vector<run_state>{run_state::start});
}

TEST_F(service_test, every_service_must_be_ready_the_slow_one_too) {
  auto r = make_job(3, {0, 1});
  auto [s2, t2] = join(r, 2, {});
  auto [s0, t0] = join(r, 0, service());
  auto [s1, t1] = join(r, 1, service());
  ready(r, 0);
  EXPECT_TRUE(states(s2).empty());
  ready(r, 1);
  EXPECT_EQ(states(s2), std::vector<run_state>{run_state::start});
  exit(r, 2, 0);
  EXPECT_EQ(last_state(s0), run_state::shutdown);
  EXPECT_EQ(last_state(s1), run_state::shutdown);
}

TEST_F(service_test, a_service_that_exits_early_fails_the_job) {
  auto r = make_job(3, {0});
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, service());
  auto [s1, t1] = join(r, 1, {});
  auto [s2, t2] = join(r, 2, {});
  ready(r, 0);
  EXPECT_EQ(last_state(s1), run_state::start);
  // During the first step: the step is stopped, the next one skipped.
  exit(r, 0, step_exit{3});
  EXPECT_EQ(last_state(s1), run_state::shutdown);
  EXPECT_EQ(last_state(s2), run_state::skip);
  // Nothing is left to run: the job is over, the stopped step cancelled.
  ASSERT_TRUE(done->answered());
  auto& result = done->get();
  EXPECT_EQ(result.status, 3);
  EXPECT_EQ(result.result, "failed");
  EXPECT_EQ(result.reason, "service 0 (container-0) exited with status 3 "
                           "before the steps finished");
  EXPECT_EQ(result.containers[0].state, container_state::exited);
  EXPECT_EQ(result.containers[0].reason, step_reason::failed);
  EXPECT_EQ(result.containers[1].reason, step_reason::cancelled);
  EXPECT_EQ(result.containers[2].reason, step_reason::skipped);
}

TEST_F(service_test, a_service_never_ready_fails_the_job_with_status_1) {
  auto r = make_job(2, {0});
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, service());
  auto [s1, t1] = join(r, 1, {});
  // Its bootstrap gave up after its BATON_READY_TIMEOUT and stopped it.
  step_exit late{143, true};
  late.signal = "SIGTERM";
  late.timeout_ms = 60000;
  exit(r, 0, late);
  EXPECT_EQ(last_state(s1), run_state::skip);
  ASSERT_TRUE(done->answered());
  auto& result = done->get();
  EXPECT_EQ(result.status, 1);
  EXPECT_EQ(result.reason, "service 0 (container-0) was not ready after 1m0s");
  EXPECT_EQ(outcome_text(result.containers[0]), "was not ready after 1m0s");
}

TEST_F(service_test, a_service_that_crashes_before_ready_gives_its_status) {
  auto r = make_job(2, {0});
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, service());
  auto [s1, t1] = join(r, 1, {});
  exit(r, 0, step_exit{2});
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 2);
  EXPECT_EQ(done->get().reason, "service 0 (container-0) exited with status 2 "
                                "before the steps finished");
  // A service that exits 0 too early fails the job with status 1.
  auto r2 = make_job(2, {0});
  auto done2 = request<job_result>(r2, atom::done::value);
  join(r2, 0, service());
  join(r2, 1, {});
  ready(r2, 0);
  exit(r2, 0, step_exit{0});
  ASSERT_TRUE(done2->answered());
  EXPECT_EQ(done2->get().status, 1);
  EXPECT_EQ(done2->get().result, "failed");
}

TEST_F(service_test, a_service_failing_during_an_always_step_lets_it_finish) {
  auto r = make_job(3, {0});
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, service());
  auto [s1, t1] = join(r, 1, {});
  auto [s2, t2] = join(r, 2, always());
  ready(r, 0);
  exit(r, 1, 5);
  // The step failed; the always-step runs beside the service.
  EXPECT_EQ(last_state(s2), run_state::start);
  exit(r, 0, step_exit{7});
  // The always-step goes on; the job's status stays the first failure.
  EXPECT_EQ(last_state(s2), run_state::start);
  EXPECT_FALSE(done->answered());
  exit(r, 2, 0);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 5);
  EXPECT_EQ(done->get().reason, "container 1 (container-1) exited with "
                                "status 5");
}

TEST_F(service_test, an_interrupt_keeps_the_services_up_for_always_steps) {
  auto r = make_job(3, {0});
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, service());
  auto [s1, t1] = join(r, 1, {});
  auto [s2, t2] = join(r, 2, always());
  ready(r, 0);
  caf::anon_send(r, atom::interrupt::value);
  run();
  EXPECT_EQ(last_state(s1), run_state::interrupt);
  EXPECT_TRUE(states(s0).empty());
  exit(r, 1, stopped());
  EXPECT_EQ(last_state(s2), run_state::start);
  EXPECT_TRUE(states(s0).empty());
  exit(r, 2, 0);
  EXPECT_EQ(last_state(s0), run_state::shutdown);
  exit(r, 0, stopped());
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().result, "cancelled");
  EXPECT_EQ(done->get().containers[0].reason, step_reason::stopped);
}

TEST_F(service_test, a_failed_job_waits_for_its_services_to_stop) {
  auto r = make_job(2, {1});
  auto done = request<job_result>(r, atom::done::value);
  auto [s1, t1] = join(r, 1, service());
  auto [s0, t0] = join(r, 0, {});
  ready(r, 1);
  exit(r, 0, 2);
  // Nothing is left to run: terminated, but done once the service stopped.
  EXPECT_EQ(last_state(s1), run_state::shutdown);
  EXPECT_FALSE(done->answered());
  exit(r, 1, stopped());
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 2);
  EXPECT_EQ(done->get().containers[1].state, container_state::stopped);
}

TEST_F(service_test, the_services_stop_after_the_always_steps) {
  auto r = make_job(3, {0});
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, service());
  auto [s1, t1] = join(r, 1, {});
  auto [s2, t2] = join(r, 2, always());
  ready(r, 0);
  exit(r, 1, 4);
  // The step failed: the always-step runs, the service stays up for it.
  EXPECT_EQ(last_state(s2), run_state::start);
  EXPECT_TRUE(states(s0).empty());
  exit(r, 2, 0);
  EXPECT_EQ(last_state(s0), run_state::shutdown);
  EXPECT_FALSE(done->answered());
  exit(r, 0, stopped());
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 4);
  EXPECT_EQ(done->get().containers[0].reason, step_reason::stopped);
}

TEST_F(service_test, a_terminate_from_outside_does_not_wait) {
  auto r = make_job(2, {1});
  auto done = request<job_result>(r, atom::done::value);
  auto [s1, t1] = join(r, 1, service());
  auto [s0, t0] = join(r, 0, {});
  ready(r, 1);
  caf::anon_send(r, atom::terminate::value, std::string{"grace period over"});
  run();
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(last_state(s1), run_state::shutdown);
  EXPECT_EQ(done->get().containers[1].reason, step_reason::stopped);
  // Its exit report, after the job was done, is still taken.
  EXPECT_TRUE(exit(r, 1, stopped())->value.has_value());
}

TEST_F(service_test, a_lost_service_fails_the_job) {
  auto r = make_job(2, {0});
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, service());
  auto [s1, t1] = join(r, 1, {});
  ready(r, 0);
  caf::anon_send(r, atom::lost::value, int32_t{0}, std::string{"no heartbeat"});
  run();
  EXPECT_EQ(last_state(s1), run_state::shutdown);
  exit(r, 1, stopped());
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, defaults::lost_status);
  EXPECT_EQ(done->get().reason, "service 0 (container-0) was lost: no "
                                "heartbeat");
}

TEST_F(service_test, roles_that_disagree_with_services_are_refused) {
  auto r = make_job(2, {1});
  auto s = spawn(fake_session);
  registration reg{0, dialect::baton};
  reg.configured = false;
  request<std::vector<std::string>, std::string, turn>(
    r, atom::register_::value, reg, container_actor{s});
  auto claims = request<turn>(r, atom::configure::value, int32_t{0}, service());
  EXPECT_EQ(render(claims->error),
            "container 0 (container-0) says BATON_SERVICE=true, but the "
            "agent's --services does not list it");
  auto s1 = spawn(fake_session);
  registration reg1{1, dialect::baton};
  reg1.configured = false;
  request<std::vector<std::string>, std::string, turn>(
    r, atom::register_::value, reg1, container_actor{s1});
  auto denies = request<turn>(r, atom::configure::value, int32_t{1},
                              step_settings{});
  EXPECT_EQ(render(denies->error),
            "service 1 (container-1) is a service by the agent's --services, "
            "but does not say BATON_SERVICE=true");
  // A stock client cannot be a service.
  auto r2 = make_job(2, {1});
  auto [stock, rep] = connect(r2, 1);
  (void)stock;
  EXPECT_NE(render(rep->error).find("which has no services"), std::string::npos)
    << render(rep->error);
}

TEST_F(service_test, a_ready_of_a_step_is_ignored) {
  auto r = make_job(2, {1});
  auto [s0, t0] = join(r, 0, {});
  ready(r, 0);
  EXPECT_EQ(status(r).containers[0].state, container_state::connected);
}

TEST(runner_config, services_are_checked) {
  runner_config config;
  config.containers = 2;
  config.services = {2};
  EXPECT_EQ(render(config.validate()),
            "service id 2 is out of range: this job has containers 0 to 1");
  config.services = {1, 1};
  EXPECT_EQ(render(config.validate()), "service id 1 appears twice");
  config.services = {0, 1};
  EXPECT_EQ(render(config.validate()),
            "every container is a service: the job needs a step");
}

// -- parallel groups ----------------------------------------------------------

namespace {

class group_test : public service_test {
protected:
  runner_actor make_job(uint32_t containers) {
    return service_test::make_job(containers, {}, true);
  }

  /// A member of `group`.
  static step_settings in(std::string group, bool fail_fast = false,
                          bool always = false) {
    step_settings x;
    x.group = std::move(group);
    x.fail_fast = fail_fast;
    x.always = always;
    return x;
  }

  /// Registers container `id` (version 2) and returns its session with the
  /// registration's environment; the settings are sent with `configure`.
  std::pair<session_actor, std::vector<std::string>>
  register_only(const runner_actor& r, int32_t id) {
    auto s = spawn(fake_session);
    registration reg{id, dialect::baton};
    reg.configured = false;
    auto rep = request<std::vector<std::string>, std::string, turn>(
      r, atom::register_::value, reg, container_actor{s});
    EXPECT_TRUE(rep->value.has_value()) << render(rep->error);
    return {s,
            rep->value ? std::get<0>(*rep->value) : std::vector<std::string>{}};
  }

  auto configure(const runner_actor& r, int32_t id, step_settings settings) {
    return request<turn>(r, atom::configure::value, id, std::move(settings));
  }

  /// Registers a stock client (the reference's protocol: no settings) as
  /// container `id`.
  void register_stock(const runner_actor& r, int32_t id) {
    auto stock = spawn(fake_session);
    request<std::vector<std::string>, std::string, turn>(
      r, atom::register_::value, registration{id, dialect::buildkite},
      container_actor{stock});
  }

  using states_t = std::vector<run_state>;
  using strings = std::vector<std::string>;
};

} // namespace

TEST_F(group_test, members_start_together_and_the_next_waits_for_all) {
  auto r = make_job(5);
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, {});
  auto [s1, t1] = join(r, 1, in("checks"));
  auto [s2, t2] = join(r, 2, in("checks"));
  auto [s3, t3] = join(r, 3, in("checks"));
  auto [s4, t4] = join(r, 4, {});
  EXPECT_EQ(t0.state, run_state::start);
  for (auto& t : {t1, t2, t3, t4})
    EXPECT_EQ(t.state, run_state::wait);
  exit(r, 0, 0);
  // The group's turn: every member at once, the step after it waits.
  for (auto& s : {s1, s2, s3})
    EXPECT_EQ(states(s), states_t{run_state::start});
  EXPECT_TRUE(states(s4).empty());
  auto mid = status(r);
  EXPECT_EQ(mid.containers[1].state, container_state::connected);
  EXPECT_NE(mid.containers[2].started_ns, 0);
  EXPECT_NE(mid.containers[3].started_ns, 0);
  exit(r, 2, 0);
  exit(r, 1, 0);
  EXPECT_TRUE(states(s4).empty());
  exit(r, 3, 0);
  EXPECT_EQ(states(s4), states_t{run_state::start});
  exit(r, 4, 0);
  ASSERT_TRUE(done->answered());
  auto json = to_json(done->get());
  EXPECT_TRUE(json["containers"][0]["group"].is_null());
  for (auto id : {1, 2, 3})
    EXPECT_EQ(json["containers"][id]["group"], "checks");
  EXPECT_TRUE(json["containers"][4]["group"].is_null());
  EXPECT_EQ(done->get().status, 0);
}

TEST_F(group_test, a_member_registering_late_starts_as_it_comes) {
  auto r = make_job(3);
  auto [s0, t0] = join(r, 0, in("g"));
  EXPECT_EQ(t0.state, run_state::start);
  // The step after the group waits for the member not connected yet: it
  // may be one.
  auto [s2, t2] = join(r, 2, {});
  EXPECT_EQ(t2.state, run_state::wait);
  auto [s1, t1] = join(r, 1, in("g"));
  EXPECT_EQ(t1.state, run_state::start);
  exit(r, 0, 0);
  EXPECT_TRUE(states(s2).empty());
  exit(r, 1, 0);
  EXPECT_EQ(states(s2), states_t{run_state::start});
}

TEST_F(group_test, consecutive_members_of_different_groups_take_turns) {
  auto r = make_job(4);
  auto [s0, t0] = join(r, 0, in("a"));
  auto [s1, t1] = join(r, 1, in("a"));
  auto [s2, t2] = join(r, 2, in("b"));
  auto [s3, t3] = join(r, 3, in("b"));
  EXPECT_EQ(t0.state, run_state::start);
  EXPECT_EQ(t1.state, run_state::start);
  EXPECT_EQ(t2.state, run_state::wait);
  exit(r, 0, 0);
  exit(r, 1, 0);
  EXPECT_EQ(states(s2), states_t{run_state::start});
  EXPECT_EQ(states(s3), states_t{run_state::start});
}

TEST_F(group_test, members_apart_are_refused_and_fail_the_job) {
  auto r = make_job(3);
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, in("g"));
  auto [s1, t1] = join(r, 1, {});
  register_only(r, 2);
  auto refused = configure(r, 2, in("g"));
  ASSERT_FALSE(refused->value.has_value());
  auto why = "container 2 (container-2) is in group \"g\" with container 0 "
             "(container-0), but container 1 (container-1) between them is "
             "not: a group's members must be consecutive";
  EXPECT_EQ(render(refused->error), why);
  EXPECT_EQ(code_of(refused->error), ec::invalid_argument);
  // The job fails with it: the running member is told to stop and
  // awaited, then the next step is skipped.
  EXPECT_EQ(states(s0), states_t{run_state::shutdown});
  EXPECT_FALSE(done->answered());
  exit(r, 0, stopped());
  EXPECT_EQ(last_state(s1), run_state::skip);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().reason, why);
  EXPECT_NE(done->get().status, 0);
}

TEST_F(group_test, members_found_apart_later_fail_the_job_too) {
  auto r = make_job(3);
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, in("g"));
  // Container 1 has not said what it is: container 2 may be a member.
  auto [s2, t2] = join(r, 2, in("g"));
  EXPECT_EQ(t2.state, run_state::wait);
  // It says it is not: the member after it is apart.
  auto [s1, t1] = join(r, 1, {});
  EXPECT_EQ(t1.state, run_state::wait);
  EXPECT_EQ(states(s0), states_t{run_state::shutdown});
  exit(r, 0, stopped());
  EXPECT_EQ(last_state(s1), run_state::skip);
  EXPECT_EQ(last_state(s2), run_state::skip);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().reason,
            "container 2 (container-2) is in group \"g\" with container 0 "
            "(container-0), but container 1 (container-1) between them is "
            "not: a group's members must be consecutive");
}

TEST_F(group_test, a_failure_lets_the_siblings_run_on) {
  auto r = make_job(4);
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, in("g"));
  auto [s1, t1] = join(r, 1, in("g"));
  auto [s2, t2] = join(r, 2, {});
  auto [s3, t3] = join(r, 3, always());
  exit(r, 1, 3);
  // Its sibling is told nothing: it runs to its end.
  EXPECT_TRUE(states(s0).empty());
  EXPECT_TRUE(states(s2).empty());
  EXPECT_FALSE(done->answered());
  exit(r, 0, 2);
  // Then the steps after the group are skipped, but for always-steps.
  EXPECT_EQ(states(s2), states_t{run_state::skip});
  EXPECT_EQ(states(s3), states_t{run_state::start});
  exit(r, 3, 0);
  ASSERT_TRUE(done->answered());
  auto& result = done->get();
  // The first hard failure in id order, though it came second.
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.reason, "container 1 (container-1) exited with status 3");
  EXPECT_EQ(result.containers[0].reason, step_reason::failed);
  EXPECT_EQ(result.containers[2].state, container_state::skipped);
}

TEST_F(group_test, a_member_registering_after_a_sibling_failed_still_runs) {
  auto r = make_job(3);
  auto [s0, t0] = join(r, 0, in("g"));
  exit(r, 0, 1);
  // Container 1 may be a member: the job waits to know.
  EXPECT_EQ(status(r).reason, "running");
  auto [s1, t1] = join(r, 1, in("g"));
  EXPECT_EQ(t1.state, run_state::start);
  auto [s2, t2] = join(r, 2, {});
  EXPECT_EQ(t2.state, run_state::wait);
  exit(r, 1, 0);
  EXPECT_EQ(last_state(s2), run_state::skip);
}

TEST_F(group_test, fail_fast_cancels_the_running_siblings) {
  auto r = make_job(4);
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, in("g", true));
  auto [s1, t1] = join(r, 1, in("g"));
  auto [s3, t3] = join(r, 3, always());
  exit(r, 1, 3);
  EXPECT_EQ(states(s0), states_t{run_state::shutdown});
  // A member not connected yet does not run.
  auto [s2, t2] = join(r, 2, in("g"));
  EXPECT_EQ(t2.state, run_state::skip);
  EXPECT_TRUE(states(s3).empty());
  exit(r, 0, stopped());
  EXPECT_EQ(states(s3), states_t{run_state::start});
  exit(r, 3, 0);
  ASSERT_TRUE(done->answered());
  auto& result = done->get();
  EXPECT_EQ(result.status, 3);
  EXPECT_EQ(result.containers[0].reason, step_reason::cancelled);
  EXPECT_EQ(result.containers[2].state, container_state::skipped);
}

TEST_F(group_test, a_sibling_gone_after_fail_fast_does_not_count) {
  auto r = make_job(2);
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, in("g", true));
  auto [s1, t1] = join(r, 1, in("g"));
  exit(r, 0, 4);
  EXPECT_EQ(states(s1), states_t{run_state::shutdown});
  // Told to stop, it went away without an exit status.
  caf::anon_send(r, atom::lost::value, int32_t{1},
                 std::string{"its session ended"});
  run();
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 4);
  EXPECT_EQ(done->get().containers[1].reason, step_reason::cancelled);
}

TEST_F(group_test, fail_fast_waits_for_the_cancelled_sibling_to_end) {
  auto r = make_job(3);
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, in("g"));
  auto [s1, t1] = join(r, 1, in("g", true));
  auto [s2, t2] = join(r, 2, {});
  // The higher id fails; the lower one still runs, and is awaited.
  exit(r, 1, 3);
  EXPECT_EQ(states(s0), states_t{run_state::shutdown});
  EXPECT_TRUE(states(s2).empty());
  EXPECT_FALSE(done->answered());
  exit(r, 0, stopped());
  EXPECT_EQ(last_state(s2), run_state::skip);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 3);
  EXPECT_EQ(done->get().result, "failed");
  EXPECT_EQ(done->get().containers[0].reason, step_reason::cancelled);
}

TEST_F(group_test, a_cancelled_sibling_interrupted_later_still_does_not_count) {
  auto r = make_job(3);
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, in("g", true));
  auto [s1, t1] = join(r, 1, in("g"));
  auto [s2, t2] = join(r, 2, always());
  exit(r, 1, 3);
  caf::anon_send(r, atom::interrupt::value);
  run();
  EXPECT_EQ(states(s0), (states_t{run_state::shutdown, run_state::interrupt}));
  exit(r, 0, stopped());
  exit(r, 2, 0);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 3);
}

TEST_F(group_test, a_member_saying_fail_fast_late_stops_its_siblings) {
  auto r = make_job(3);
  auto [s0, t0] = join(r, 0, in("g"));
  auto [s1, t1] = join(r, 1, in("g"));
  exit(r, 0, 1);
  // The group ran on; now its last member says it fails fast.
  EXPECT_TRUE(states(s1).empty());
  auto [s2, t2] = join(r, 2, in("g", true));
  EXPECT_EQ(t2.state, run_state::skip);
  EXPECT_EQ(states(s1), states_t{run_state::shutdown});
}

TEST_F(group_test, a_split_group_fails_the_job_even_if_the_rest_passes) {
  auto r = make_job(4);
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, in("g"));
  register_only(r, 2);
  EXPECT_EQ(configure(r, 2, in("g"))->get().state, run_state::wait);
  auto [s3, t3] = join(r, 3, always());
  // Container 1 comes last and splits the group.
  auto [s1, t1] = join(r, 1, {});
  EXPECT_EQ(states(s0), states_t{run_state::shutdown});
  exit(r, 0, stopped());
  EXPECT_EQ(states(s3), states_t{run_state::start});
  EXPECT_EQ(turns(s3)[0].job_result, "failed");
  EXPECT_EQ(turns(s3)[0].job_status, 143);
  exit(r, 3, 0);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().result, "failed");
  EXPECT_EQ(done->get().status, 143);
}

TEST_F(group_test, a_split_with_no_step_failing_gives_status_2) {
  auto r = make_job(4);
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, always());
  auto [s1, t1] = join(r, 1, in("g"));
  register_only(r, 3);
  EXPECT_EQ(configure(r, 3, in("g"))->get().state, run_state::wait);
  // A stock client comes last, between the members.
  register_stock(r, 2);
  // The always-step runs on; nothing else runs.
  EXPECT_TRUE(states(s0).empty());
  exit(r, 0, 0);
  ASSERT_TRUE(done->answered());
  auto& result = done->get();
  EXPECT_EQ(result.status, 2);
  EXPECT_EQ(result.result, "failed");
  EXPECT_EQ(result.containers[1].state, container_state::skipped);
  EXPECT_NE(result.reason.find("a group's members must be consecutive"),
            std::string::npos);
}

TEST_F(group_test, an_always_member_runs_after_an_earlier_failure) {
  auto r = make_job(3);
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, {});
  auto [s1, t1] = join(r, 1, in("g", false, true));
  auto [s2, t2] = join(r, 2, in("g"));
  exit(r, 0, 1);
  EXPECT_EQ(states(s1), states_t{run_state::start});
  EXPECT_EQ(states(s2), states_t{run_state::skip});
  exit(r, 1, 0);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().status, 1);
}

TEST_F(group_test, outputs_reach_the_steps_after_the_group_in_id_order) {
  auto r = make_job(4);
  auto [s0, t0] = join(r, 0, {});
  auto [s1, t1] = join(r, 1, in("g"));
  auto [s2, t2] = join(r, 2, in("g"));
  auto [s3, t3] = join(r, 3, {});
  exit(r, 0, step_exit{0, false, {"BASE=0"}});
  EXPECT_EQ(turns(s1)[0].env, strings{"BASE=0"});
  EXPECT_EQ(turns(s2)[0].env, strings{"BASE=0"});
  // The higher id exits first; its values still win.
  exit(r, 2, step_exit{0, false, {"X=2", "Y=2"}});
  exit(r, 1, step_exit{0, false, {"X=1", "Z=1"}});
  ASSERT_EQ(turns(s3).size(), 1u);
  EXPECT_EQ(turns(s3)[0].env, (strings{"BASE=0", "X=1", "Z=1", "X=2", "Y=2"}));
  EXPECT_EQ(status(r).containers[2].outputs, (strings{"X", "Y"}));
}

TEST_F(group_test, siblings_never_see_each_others_outputs) {
  auto r = make_job(3);
  auto [s0, t0] = join(r, 0, in("g"));
  exit(r, 0, step_exit{0, false, {"X=0"}});
  // Registered after its sibling exited: neither its environment nor its
  // start has X.
  auto [s1, env1] = register_only(r, 1);
  EXPECT_EQ(std::count(env1.begin(), env1.end(), "X=0"), 0);
  auto t1 = configure(r, 1, in("g"));
  ASSERT_TRUE(t1->value.has_value());
  EXPECT_EQ(t1->get().state, run_state::start);
  EXPECT_TRUE(t1->get().env.empty());
  // The step after the group registered while it ran: both come with its
  // start.
  auto [s2, env2] = register_only(r, 2);
  EXPECT_EQ(std::count(env2.begin(), env2.end(), "X=0"), 0);
  EXPECT_EQ(configure(r, 2, {})->get().state, run_state::wait);
  exit(r, 1, step_exit{0, false, {"X=1"}});
  EXPECT_EQ(turns(s2)[0].env, (strings{"X=0", "X=1"}));
}

TEST_F(group_test, an_interrupt_while_a_group_runs_reaches_every_member) {
  auto r = make_job(3);
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, in("g"));
  auto [s1, t1] = join(r, 1, in("g"));
  auto [s2, t2] = join(r, 2, always());
  caf::anon_send(r, atom::interrupt::value);
  run();
  EXPECT_EQ(states(s0), states_t{run_state::interrupt});
  EXPECT_EQ(states(s1), states_t{run_state::interrupt});
  EXPECT_TRUE(states(s2).empty());
  exit(r, 0, stopped());
  EXPECT_TRUE(states(s2).empty());
  exit(r, 1, stopped());
  EXPECT_EQ(states(s2), states_t{run_state::start});
  exit(r, 2, 0);
  ASSERT_TRUE(done->answered());
  EXPECT_EQ(done->get().result, "cancelled");
  EXPECT_EQ(done->get().containers[0].reason, step_reason::cancelled);
}

TEST_F(group_test, a_stock_client_is_never_a_member_but_splits_a_group) {
  auto r = make_job(3);
  auto done = request<job_result>(r, atom::done::value);
  auto [s0, t0] = join(r, 0, in("g"));
  register_only(r, 2);
  EXPECT_EQ(configure(r, 2, in("g"))->get().state, run_state::wait);
  register_stock(r, 1);
  exit(r, 0, stopped());
  EXPECT_EQ(status(r).containers[1].state, container_state::skipped);
  ASSERT_TRUE(done->answered());
  EXPECT_NE(done->get().reason.find("a group's members must be consecutive"),
            std::string::npos);
}
