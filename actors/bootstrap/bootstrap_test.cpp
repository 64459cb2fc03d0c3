#include "actors/bootstrap/bootstrap.hpp"

#include "actors/test_fixture.hpp"
#include "messages/error.hpp"

#include <chrono>
#include <csignal>
#include <fstream>

#include <unistd.h>

using namespace std::chrono_literals;
using namespace baton;
using baton::testing::fake_peer;
using baton::testing::fake_peer_state;

namespace {

/// Records what the bootstrap asks of its command.
class fake_runner : public command_runner {
public:
  caf::error start(const command_spec& spec, bootstrap_actor) override {
    if (fail_with)
      return fail_with;
    started.push_back(spec);
    return {};
  }

  void grant(uint64_t bytes) override {
    granted += bytes;
  }

  void signal(int signo) override {
    signals.push_back(signo);
  }

  void stop_output() override {
    stopped = true;
  }

  std::vector<command_spec> started;
  std::vector<int> signals;
  uint64_t granted = 0;
  bool stopped = false;
  caf::error fail_with;
};

/// Records the readiness checks the bootstrap tries; the test answers.
class fake_probe : public ready_probe {
public:
  void try_once(const ready_check& check, const env_map&, caf::timespan,
                bootstrap_actor) override {
    tries.push_back(check);
  }

  std::vector<ready_check> tries;
};

/// The body of the output message the command runner sends: the time it
/// read the bytes, then the bytes.
std::string read_at(std::string bytes, int64_t ns = 0) {
  return wire::encode(wire::log_at{ns, std::move(bytes)}).body;
}

class bootstrap_test : public baton::testing::actor_fixture {
protected:
  bootstrap_test() {
    start({});
  }

  ~bootstrap_test() override {
    for (auto& spec : runner->started)
      if (auto env = to_env_map(spec.env); env.count("BATON_ENV") > 0)
        ::unlink(env["BATON_ENV"].c_str());
  }

  /// (Re)starts the bootstrap, with `env` added to its own environment.
  void start(const env_map& env) {
    peer = spawn(fake_peer);
    bootstrap_config config;
    config.container_id = 1;
    config.command = {"make", "test"};
    config.own_env = {{"PATH", "/container/bin"}, {"HOME", "/root"}};
    for (auto& [key, value] : env)
      config.own_env[key] = value;
    config.job_context_dir = "/ctx";
    config.bin_path = "/opt/baton/bin";
    config.scratch_dir = "/tmp";
    config.stdout_fd = -1;
    config.on_done = [this](int code) { exit_code = code; };
    config.ready_probe = probe;
    caf::io::connection_handle hdl;
    self = spawn(bootstrap, hdl, peer, runner, config);
    run();
  }

  void from_agent(const wire::message& msg) {
    caf::anon_send(self, wire::encode(msg));
    run();
  }

  /// Frames written so far, decoded.
  std::vector<wire::message> written() {
    std::vector<wire::message> result;
    for (auto& frm : state_of<fake_peer_state>(peer).frames)
      result.push_back(*wire::decode(frm));
    return result;
  }

  template <class T>
  std::vector<T> written_of() {
    std::vector<T> result;
    for (auto& msg : written())
      if (auto x = std::get_if<T>(&msg))
        result.push_back(*x);
    return result;
  }

  /// Handshake and registration, ending with `state`.
  void registered(run_state state) {
    from_agent(wire::welcome{defaults::protocol_version, 1000});
    from_agent(wire::registered{{"JOB=1", "PATH=/job/bin"}});
    from_agent(wire::credit{4096});
    from_agent(wire::state_update{state});
  }

  std::string logged() {
    std::string result;
    for (auto& x : written_of<wire::log_at>())
      result += x.bytes;
    return result;
  }

  /// The environment the command started with.
  env_map command_env() {
    EXPECT_EQ(runner->started.size(), 1u);
    return runner->started.empty() ? env_map{}
                                   : to_env_map(runner->started[0].env);
  }

  std::shared_ptr<fake_runner> runner = std::make_shared<fake_runner>();
  std::shared_ptr<fake_probe> probe = std::make_shared<fake_probe>();
  // The fake serves both dialects; the bootstrap writes frames only.
  session_peer_actor peer;
  bootstrap_actor self;
  std::optional<int> exit_code;
};

} // namespace

TEST_F(bootstrap_test, says_hello_then_registers_after_the_welcome) {
  auto hellos = written_of<wire::hello>();
  ASSERT_EQ(hellos.size(), 1u);
  EXPECT_EQ(hellos[0].version, defaults::protocol_version);
  EXPECT_TRUE(written_of<wire::register_request>().empty());
  from_agent(wire::welcome{defaults::protocol_version, 1000});
  auto regs = written_of<wire::register_request>();
  ASSERT_EQ(regs.size(), 1u);
  EXPECT_EQ(regs[0].id, 1);
}

TEST_F(bootstrap_test, heartbeats_at_the_interval_the_agent_asked_for) {
  from_agent(wire::welcome{defaults::protocol_version, 1000});
  advance(1s);
  advance(1s);
  advance(1s);
  EXPECT_EQ(written_of<wire::heartbeat>().size(), 3u);
}

TEST_F(bootstrap_test, waits_for_its_turn_then_runs_with_the_merged_env) {
  from_agent(wire::welcome{defaults::protocol_version, 1000});
  from_agent(wire::registered{{"JOB=1", "PATH=/job/bin"}});
  from_agent(wire::credit{4096});
  from_agent(wire::state_update{run_state::wait});
  EXPECT_TRUE(runner->started.empty());
  from_agent(wire::state_update{run_state::start});
  ASSERT_EQ(runner->started.size(), 1u);
  auto& spec = runner->started[0];
  EXPECT_EQ(spec.argv, (std::vector<std::string>{"make", "test"}));
  EXPECT_TRUE(spec.pty);
  auto env = to_env_map(spec.env);
  EXPECT_EQ(env["JOB"], "1");
  EXPECT_EQ(env["PATH"], "/container/bin");
  EXPECT_EQ(env["BUILDKITE_BIN_PATH"], "/opt/baton/bin");
  // The header goes first, from the credit; the rest is the reader's, but
  // for a reserve for lines of the bootstrap's own.
  std::string header = "~~~ Running container 1: make test\n";
  EXPECT_EQ(logged(), header);
  EXPECT_EQ(runner->granted,
            4096 - header.size() - defaults::own_lines_reserve);
}

TEST_F(bootstrap_test, streams_output_and_reports_the_exit_status) {
  registered(run_state::start);
  caf::anon_send(self, atom::output::value, read_at("hello\n"));
  caf::anon_send(self, atom::exit::value, int32_t{3});
  run();
  EXPECT_TRUE(written_of<wire::exit_report>().empty()) << "output not done";
  caf::anon_send(self, atom::eof::value);
  run();
  auto exits = written_of<wire::exit_report>();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].status, 3);
  EXPECT_NE(logged().find("hello\n"), std::string::npos);
  EXPECT_FALSE(exit_code);
  from_agent(wire::exit_ack{});
  EXPECT_EQ(exit_code, 3);
  EXPECT_TRUE(state_of<fake_peer_state>(peer).closed);
}

TEST_F(bootstrap_test, the_report_says_how_the_command_ended) {
  registered(run_state::start);
  step_exit ended{137};
  ended.signal = "SIGKILL";
  ended.oom_killed = true;
  ended.memory_limit = 64u << 20;
  caf::anon_send(self, atom::exit::value, ended);
  caf::anon_send(self, atom::eof::value);
  run();
  auto exits = written_of<wire::exit_report>();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].status, 137);
  EXPECT_EQ(exits[0].signal, "SIGKILL");
  EXPECT_TRUE(exits[0].oom_killed);
  EXPECT_EQ(exits[0].memory_limit, 64u << 20);
  EXPECT_EQ(exits[0].timeout_ms, 0);
  // The container log shows the command's output and the header only.
  EXPECT_EQ(logged().find("OOM"), std::string::npos);
}

TEST_F(bootstrap_test, credit_while_running_goes_to_the_reader) {
  registered(run_state::start);
  auto before = runner->granted;
  from_agent(wire::credit{1000});
  EXPECT_EQ(runner->granted, before + 1000);
}

TEST_F(bootstrap_test, an_interrupt_before_the_turn_never_runs_the_command) {
  registered(run_state::wait);
  from_agent(wire::state_update{run_state::interrupt});
  EXPECT_TRUE(runner->started.empty());
  auto exits = written_of<wire::exit_report>();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].status, defaults::not_started_status);
  from_agent(wire::exit_ack{});
  EXPECT_EQ(exit_code, defaults::not_started_status);
}

TEST_F(bootstrap_test, a_shutdown_before_the_turn_never_runs_the_command) {
  registered(run_state::shutdown);
  EXPECT_TRUE(runner->started.empty());
  EXPECT_EQ(written_of<wire::exit_report>().size(), 1u);
}

TEST_F(bootstrap_test, an_interrupt_escalates_from_the_signal_to_sigkill) {
  registered(run_state::start);
  from_agent(wire::state_update{run_state::interrupt});
  EXPECT_EQ(runner->signals, std::vector<int>{SIGTERM});
  advance(9s);
  EXPECT_EQ(runner->signals.size(), 1u);
  advance(1s);
  EXPECT_EQ(runner->signals, (std::vector<int>{SIGTERM, SIGKILL}));
  // Even SIGKILL did not end it: give up after the cleanup timeout.
  advance(5s);
  auto exits = written_of<wire::exit_report>();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].status, 128 + SIGKILL);
  EXPECT_TRUE(runner->stopped);
}

TEST_F(bootstrap_test, a_command_that_exits_in_time_is_not_killed) {
  registered(run_state::start);
  from_agent(wire::state_update{run_state::interrupt});
  caf::anon_send(self, atom::exit::value, int32_t{143});
  caf::anon_send(self, atom::eof::value);
  run();
  advance(30s);
  EXPECT_EQ(runner->signals, std::vector<int>{SIGTERM});
  EXPECT_EQ(written_of<wire::exit_report>()[0].status, 143);
}

TEST_F(bootstrap_test, the_cancel_signal_comes_from_the_job_environment) {
  from_agent(wire::welcome{defaults::protocol_version, 1000});
  from_agent(wire::registered{
    {"BUILDKITE_CANCEL_SIGNAL=SIGINT", "BUILDKITE_CANCEL_SIGNAL_TIMEOUT=2s"}});
  from_agent(wire::credit{4096});
  from_agent(wire::state_update{run_state::start});
  from_agent(wire::state_update{run_state::shutdown});
  EXPECT_EQ(runner->signals, std::vector<int>{SIGINT});
  advance(2s);
  EXPECT_EQ(runner->signals, (std::vector<int>{SIGINT, SIGKILL}));
}

TEST_F(bootstrap_test, losing_the_agent_while_running_cancels_the_command) {
  registered(run_state::start);
  caf::anon_send(self, atom::closed::value, std::string{});
  run();
  EXPECT_EQ(runner->signals, std::vector<int>{SIGTERM});
  caf::anon_send(self, atom::exit::value, int32_t{143});
  caf::anon_send(self, atom::eof::value);
  run();
  // Nobody to report to: the bootstrap ends with the command's status.
  EXPECT_EQ(exit_code, 143);
}

// The agent killed between the command's exit and its Exit frame's
// acknowledgement: the status was sent, nobody answers; the bootstrap ends
// with the command's status and signals nothing.
TEST_F(bootstrap_test,
       losing_the_agent_after_the_exit_report_keeps_the_status) {
  registered(run_state::start);
  caf::anon_send(self, atom::exit::value, int32_t{3});
  caf::anon_send(self, atom::eof::value);
  run();
  ASSERT_EQ(written_of<wire::exit_report>().size(), 1u);
  EXPECT_FALSE(exit_code);
  caf::anon_send(self, atom::closed::value, std::string{"gone"});
  run();
  EXPECT_EQ(exit_code, 3);
  EXPECT_TRUE(runner->signals.empty());
}

// Gone while the exited command's last output still drains: the output is
// not waited for, and no Exit frame goes to a closed connection.
TEST_F(bootstrap_test,
       losing_the_agent_while_the_output_drains_keeps_the_status) {
  registered(run_state::start);
  caf::anon_send(self, atom::exit::value, int32_t{4});
  run();
  caf::anon_send(self, atom::closed::value, std::string{"gone"});
  run();
  caf::anon_send(self, atom::eof::value);
  run();
  EXPECT_EQ(exit_code, 4);
  EXPECT_TRUE(written_of<wire::exit_report>().empty());
}

TEST_F(bootstrap_test, losing_the_agent_before_the_turn_fails) {
  registered(run_state::wait);
  caf::anon_send(self, atom::closed::value, std::string{"gone"});
  run();
  EXPECT_EQ(exit_code, defaults::not_started_status);
  EXPECT_TRUE(runner->started.empty());
}

TEST_F(bootstrap_test, signals_to_the_bootstrap_are_swallowed) {
  registered(run_state::start);
  caf::anon_send(self, atom::signal::value, SIGTERM);
  caf::anon_send(self, atom::signal::value, SIGQUIT);
  run();
  EXPECT_TRUE(runner->signals.empty());
  EXPECT_FALSE(exit_code);
}

TEST_F(bootstrap_test, a_command_that_cannot_run_reports_127) {
  runner->fail_with = make_error(ec::system_error,
                                 "cannot run 'make': No such file or "
                                 "directory");
  registered(run_state::start);
  EXPECT_NE(logged().find("baton: cannot run 'make': No such file or "
                          "directory\n"),
            std::string::npos);
  auto exits = written_of<wire::exit_report>();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].status, defaults::cannot_execute_status);
}

TEST_F(bootstrap_test, output_held_open_after_exit_is_not_waited_for) {
  registered(run_state::start);
  caf::anon_send(self, atom::exit::value, int32_t{0});
  run();
  EXPECT_TRUE(written_of<wire::exit_report>().empty());
  advance(defaults::output_drain_timeout);
  EXPECT_TRUE(runner->stopped);
  ASSERT_EQ(written_of<wire::exit_report>().size(), 1u);
  // Output that still trickles in after the report goes nowhere.
  auto frames = written().size();
  caf::anon_send(self, atom::output::value, read_at("late"));
  run();
  EXPECT_EQ(written().size(), frames);
}

TEST_F(bootstrap_test, nothing_to_run_fails_before_the_turn) {
  // No command after -- and no BUILDKITE_COMMAND.
  auto peer2 = spawn(fake_peer);
  bootstrap_config config;
  config.container_id = 0;
  config.stdout_fd = -1;
  std::optional<int> code;
  config.on_done = [&code](int x) { code = x; };
  caf::io::connection_handle hdl;
  auto b = spawn(bootstrap, hdl, peer2, runner, config);
  run();
  caf::anon_send(b,
                 wire::encode(wire::welcome{defaults::protocol_version, 1000}));
  caf::anon_send(b, wire::encode(wire::registered{{}}));
  run();
  auto& frames = state_of<fake_peer_state>(peer2).frames;
  ASSERT_FALSE(frames.empty());
  auto last = wire::decode(frames.back());
  ASSERT_TRUE(std::holds_alternative<wire::exit_report>(*last));
  EXPECT_EQ(std::get<wire::exit_report>(*last).status,
            defaults::not_started_status);
}

// -- job steps ----------------------------------------------------------------

TEST_F(bootstrap_test, sends_its_settings_once_the_environment_is_merged) {
  start({{"BATON_ALWAYS", "true"}, {"BATON_SOFT_FAIL", "false"}});
  from_agent(wire::welcome{defaults::protocol_version, 1000});
  // The job's value of BATON_SOFT_FAIL wins in the merge, as for any name
  // the container does not own.
  from_agent(wire::registered{{"BATON_SOFT_FAIL=1,3"}});
  auto settings = written_of<wire::settings_report>();
  ASSERT_EQ(settings.size(), 1u);
  EXPECT_TRUE(settings[0].settings.always);
  EXPECT_EQ(settings[0].settings.soft_fail, (std::vector<int32_t>{1, 3}));
}

TEST_F(bootstrap_test, its_start_brings_the_job_so_far) {
  from_agent(wire::welcome{defaults::protocol_version, 1000});
  from_agent(wire::registered{{"JOB=1"}});
  from_agent(wire::credit{4096});
  // Outputs of earlier steps; a protected name stays the container's.
  from_agent(wire::state_update{
    run_state::start, {"VERSION=1.2.3", "PATH=/evil", "JOB=2"}, "failed", 3});
  auto env = command_env();
  EXPECT_EQ(env["VERSION"], "1.2.3");
  EXPECT_EQ(env["JOB"], "2");
  EXPECT_EQ(env["PATH"], "/container/bin");
  EXPECT_EQ(env["BATON_JOB_RESULT"], "failed");
  EXPECT_EQ(env["BATON_JOB_STATUS"], "3");
  EXPECT_EQ(env["BATON_ENV"].rfind("/tmp/baton-env-", 0), 0u);
}

TEST_F(bootstrap_test, a_skipped_step_never_runs) {
  registered(run_state::skip);
  EXPECT_TRUE(runner->started.empty());
  // The agent writes the job log's line; the bootstrap's goes to its own
  // output.
  EXPECT_EQ(logged(), "");
  // The runner decided: no exit report, and the bootstrap is done.
  EXPECT_TRUE(written_of<wire::exit_report>().empty());
  EXPECT_EQ(exit_code, defaults::skipped_status);
  EXPECT_TRUE(state_of<fake_peer_state>(peer).closed);
}

TEST_F(bootstrap_test, bad_settings_fail_the_step_at_its_turn) {
  start({{"BATON_TIMEOUT", "soon"}});
  registered(run_state::start);
  EXPECT_TRUE(runner->started.empty());
  EXPECT_NE(logged().find("baton: invalid BATON_TIMEOUT='soon': expected a "
                          "duration such as 90s, 10m or 1h30m; the command "
                          "does not run\n"),
            std::string::npos)
    << logged();
  auto exits = written_of<wire::exit_report>();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].status, defaults::invalid_settings_status);
}

TEST_F(bootstrap_test, a_step_past_its_timeout_is_cancelled) {
  start({{"BATON_TIMEOUT", "30s"}, {"BUILDKITE_CANCEL_SIGNAL_TIMEOUT", "2s"}});
  registered(run_state::start);
  advance(29s);
  EXPECT_TRUE(runner->signals.empty());
  advance(1s);
  EXPECT_EQ(runner->signals, std::vector<int>{SIGTERM});
  EXPECT_NE(logged().find("baton: the command ran past its BATON_TIMEOUT of "
                          "30s; sending TERM, then SIGKILL after 2s\n"),
            std::string::npos)
    << logged();
  advance(2s);
  EXPECT_EQ(runner->signals, (std::vector<int>{SIGTERM, SIGKILL}));
  caf::anon_send(self, atom::exit::value, int32_t{137});
  caf::anon_send(self, atom::eof::value);
  run();
  auto exits = written_of<wire::exit_report>();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].status, 137);
  EXPECT_TRUE(exits[0].timed_out);
  EXPECT_EQ(exits[0].timeout_ms, 30000);
}

TEST_F(bootstrap_test, a_step_within_its_timeout_is_not_touched) {
  start({{"BATON_TIMEOUT", "30s"}});
  registered(run_state::start);
  caf::anon_send(self, atom::exit::value, int32_t{0});
  caf::anon_send(self, atom::eof::value);
  run();
  advance(60s);
  EXPECT_TRUE(runner->signals.empty());
  auto exits = written_of<wire::exit_report>();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_FALSE(exits[0].timed_out);
}

TEST_F(bootstrap_test,
       what_the_command_writes_to_baton_env_goes_with_its_exit) {
  registered(run_state::start);
  auto path = command_env()["BATON_ENV"];
  std::ofstream{path} << "VERSION=1.2.3\nNOTES<<EOF\na\nb\nEOF\n";
  caf::anon_send(self, atom::exit::value, int32_t{0});
  caf::anon_send(self, atom::eof::value);
  run();
  auto exits = written_of<wire::exit_report>();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].status, 0);
  EXPECT_EQ(exits[0].outputs,
            (std::vector<std::string>{"VERSION=1.2.3", "NOTES=a\nb"}));
  // The file is gone once read.
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

TEST_F(bootstrap_test, a_bad_baton_env_fails_the_step_and_says_where) {
  registered(run_state::start);
  std::ofstream{command_env()["BATON_ENV"]} << "GOOD=1\nbad line\n";
  caf::anon_send(self, atom::exit::value, int32_t{0});
  caf::anon_send(self, atom::eof::value);
  run();
  EXPECT_NE(logged().find("baton: $BATON_ENV line 2: expected KEY=VALUE or "
                          "KEY<<DELIMITER\n"),
            std::string::npos)
    << logged();
  auto exits = written_of<wire::exit_report>();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].status, 1);
  EXPECT_TRUE(exits[0].outputs.empty());
}

// -- services -----------------------------------------------------------------

TEST_F(bootstrap_test, a_service_without_a_check_is_ready_once_started) {
  start({{"BATON_SERVICE", "true"}});
  registered(run_state::start);
  ASSERT_EQ(runner->started.size(), 1u);
  EXPECT_EQ(written_of<wire::ready_report>().size(), 1u);
  auto settings = written_of<wire::settings_report>();
  ASSERT_EQ(settings.size(), 1u);
  EXPECT_TRUE(settings[0].settings.service);
}

TEST_F(bootstrap_test, a_service_is_ready_when_its_check_passes) {
  start({{"BATON_SERVICE", "true"}, {"BATON_READY", "tcp:5432"}});
  registered(run_state::start);
  ASSERT_EQ(probe->tries.size(), 1u);
  EXPECT_EQ(probe->tries[0].host, "127.0.0.1");
  EXPECT_EQ(probe->tries[0].port, 5432);
  caf::anon_send(self, atom::ready::value, std::string{"refused"});
  run();
  // Again after 100 ms, then backing off: 200 ms, 400 ms.
  advance(99ms);
  EXPECT_EQ(probe->tries.size(), 1u);
  advance(1ms);
  EXPECT_EQ(probe->tries.size(), 2u);
  caf::anon_send(self, atom::ready::value, std::string{"refused"});
  run();
  advance(199ms);
  EXPECT_EQ(probe->tries.size(), 2u);
  advance(1ms);
  EXPECT_EQ(probe->tries.size(), 3u);
  EXPECT_TRUE(written_of<wire::ready_report>().empty());
  caf::anon_send(self, atom::ready::value, std::string{});
  run();
  EXPECT_EQ(written_of<wire::ready_report>().size(), 1u);
  // Ready, it is never stopped for its readiness timeout.
  advance(120s);
  EXPECT_TRUE(runner->signals.empty());
}

TEST_F(bootstrap_test, a_service_not_ready_in_time_is_stopped_and_says_so) {
  start({{"BATON_SERVICE", "true"},
         {"BATON_READY", "test -f /ready"},
         {"BATON_READY_TIMEOUT", "2s"}});
  registered(run_state::start);
  ASSERT_EQ(probe->tries.size(), 1u);
  EXPECT_EQ(probe->tries[0].command, "test -f /ready");
  caf::anon_send(self, atom::ready::value,
                 std::string{"the check exited with status 1"});
  run();
  advance(2s);
  EXPECT_EQ(runner->signals, std::vector<int>{SIGTERM});
  EXPECT_NE(logged().find("baton: the service was not ready after 2s (the "
                          "check exited with status 1); stopping it\n"),
            std::string::npos)
    << logged();
  caf::anon_send(self, atom::exit::value, int32_t{143});
  caf::anon_send(self, atom::eof::value);
  run();
  auto exits = written_of<wire::exit_report>();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_TRUE(exits[0].timed_out);
  EXPECT_EQ(exits[0].timeout_ms, 2000);
  from_agent(wire::exit_ack{});
  EXPECT_EQ(exit_code, 143);
}

TEST_F(bootstrap_test, a_stopped_service_exits_0_whatever_its_status) {
  start({{"BATON_SERVICE", "true"}});
  registered(run_state::start);
  from_agent(wire::state_update{run_state::shutdown});
  EXPECT_EQ(runner->signals, std::vector<int>{SIGTERM});
  caf::anon_send(self, atom::exit::value, int32_t{143});
  caf::anon_send(self, atom::eof::value);
  run();
  auto exits = written_of<wire::exit_report>();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].status, 143);
  from_agent(wire::exit_ack{});
  EXPECT_EQ(exit_code, 0);
}

TEST_F(bootstrap_test, a_service_stopped_before_it_started_exits_0) {
  start({{"BATON_SERVICE", "true"}});
  registered(run_state::shutdown);
  EXPECT_TRUE(runner->started.empty());
  auto exits = written_of<wire::exit_report>();
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_EQ(exits[0].status, 0);
  from_agent(wire::exit_ack{});
  EXPECT_EQ(exit_code, 0);
}

TEST_F(bootstrap_test, service_settings_without_a_service_are_refused) {
  start({{"BATON_READY", "tcp:80"}});
  registered(run_state::start);
  EXPECT_TRUE(runner->started.empty());
  EXPECT_NE(logged().find("BATON_READY='tcp:80' is for services only: set "
                          "BATON_SERVICE=true, or unset it"),
            std::string::npos)
    << logged();
}
