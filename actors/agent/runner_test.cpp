#include "actors/agent/runner.hpp"

#include "actors/test_fixture.hpp"
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
    return spawn(runner, config);
  }

  /// Registers a fake session as container `id`.
  auto connect(const runner_actor& r, int32_t id) {
    auto s = spawn(fake_session);
    auto rep = request<std::vector<std::string>, turn>(
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
  EXPECT_EQ(std::get<1>(*r0->value).state, run_state::start);
  EXPECT_EQ(std::get<1>(*r1->value).state, run_state::wait);
  EXPECT_EQ(std::get<1>(*r2->value).state, run_state::wait);
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
  EXPECT_EQ(std::get<1>(*r1->value).state, run_state::start);
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
  EXPECT_EQ(result.reason, "container 0 lost: connection closed before its "
                           "exit status");
  // The waiting container is not an always-step: it is skipped.
  EXPECT_EQ(last_state(s1), run_state::skip);
  EXPECT_EQ(result.containers[1].state, container_state::skipped);
}

TEST_F(runner_test, a_container_lost_after_an_interrupt_lets_the_others_finish) {
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
  EXPECT_EQ(result.reason, "container 0 exited with status 1");
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
  EXPECT_EQ(std::get<1>(*r1->value).state, run_state::interrupt);
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
  EXPECT_EQ(std::get<1>(*r0->value).state, run_state::start);
  caf::anon_send(r, atom::interrupt::value);
  run();
  EXPECT_EQ(states(s0), std::vector<run_state>{run_state::interrupt});
  // The interrupted command exits; container 1 never connected, so nothing
  // is left to wait for.
  auto done = request<job_result>(r, atom::done::value);
  EXPECT_FALSE(done->answered());
  exit(r, 0, 143);
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
            "timed out waiting 5m0s for all containers to connect");
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
  EXPECT_EQ(j["reason"], "container 1 exited with status 3");
  ASSERT_EQ(j["containers"].size(), 2u);
  EXPECT_EQ(j["containers"][1]["id"], 1);
  EXPECT_EQ(j["containers"][1]["state"], "exited");
  EXPECT_EQ(j["containers"][1]["exit_status"], 3);
  EXPECT_EQ(j["containers"][1]["log_bytes"], 0);
}

TEST(runner_config, validate_names_the_bad_value) {
  runner_config config;
  EXPECT_EQ(render(config.validate()),
            "the job needs at least one container, got 0");
  config.containers = 1;
  EXPECT_FALSE(config.validate());
}
