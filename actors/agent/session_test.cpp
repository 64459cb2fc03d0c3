#include "actors/agent/session.hpp"

#include "actors/agent/log_aggregator.hpp"
#include "actors/agent/runner.hpp"
#include "actors/agent/session_fixture.hpp"
#include "messages/error.hpp"

#include <nlohmann/json.hpp>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <string_view>

using namespace std::chrono_literals;
using namespace baton;
using baton::testing::fake_peer;
using baton::testing::fake_peer_state;

namespace {

class session_test : public baton::testing::session_fixture {
protected:
  session_test() {
    make_job(2, {"A=1"});
  }

  conn open() {
    auto peer = spawn(fake_peer);
    caf::io::connection_handle hdl;
    auto s = spawn(session, hdl, peer, the_runner, aggregator, config,
                   dialect::baton);
    run(); // Starts the session (and its handshake deadline) now.
    conn c;
    c.session = s;
    c.peer = peer;
    return c;
  }

  void send(const conn& c, const wire::message& msg) {
    caf::anon_send(c.session, wire::encode(msg));
    run();
  }

  /// Several messages arriving in one read, as the broker passes them on.
  void send_together(const conn& c, const std::vector<wire::message>& msgs) {
    std::vector<wire::frame> frames;
    for (auto& msg : msgs)
      frames.push_back(wire::encode(msg));
    caf::anon_send(c.session, std::move(frames));
    run();
  }

  void send_raw(const conn& c, wire::frame_type type, std::string body) {
    caf::anon_send(c.session, wire::frame{type, std::move(body)});
    run();
  }

  /// A connection past hello, register and (from version 2) its settings
  /// as container `id`.
  conn bound(int32_t id, uint32_t version = defaults::protocol_version,
             step_settings settings = {}) {
    auto c = open();
    send(c, wire::hello{version, "test"});
    send(c, wire::register_request{id});
    if (version >= 2)
      send(c, wire::settings_report{std::move(settings)});
    return c;
  }

  /// Every message the session wrote to its peer, decoded.
  std::vector<wire::message> written(const conn& c) {
    std::vector<wire::message> result;
    for (auto& frm : state_of<fake_peer_state>(c.peer).frames) {
      auto msg = wire::decode(frm);
      EXPECT_TRUE(msg) << render(msg.error());
      if (msg)
        result.push_back(std::move(*msg));
    }
    return result;
  }

  template <class T>
  std::vector<T> written_of(const conn& c) {
    std::vector<T> result;
    for (auto& msg : written(c))
      if (auto x = std::get_if<T>(&msg))
        result.push_back(*x);
    return result;
  }

  bool closed(const conn& c) {
    return state_of<fake_peer_state>(c.peer).closed;
  }

  /// The error the session reported before closing, if any.
  std::string error_code(const conn& c) {
    auto errors = written_of<wire::error_report>(c);
    return errors.empty() ? "" : errors.back().code;
  }
};

} // namespace

TEST_F(session_test, handshake_answers_with_a_welcome) {
  auto c = open();
  send(c, wire::hello{defaults::protocol_version, "test"});
  auto welcomes = written_of<wire::welcome>(c);
  ASSERT_EQ(welcomes.size(), 1u);
  EXPECT_EQ(welcomes[0].version, defaults::protocol_version);
  EXPECT_EQ(welcomes[0].heartbeat_ms, 1000u);
  EXPECT_FALSE(closed(c));
}

TEST_F(session_test, a_mismatched_version_is_refused_naming_both) {
  auto c = open();
  send(c, wire::hello{7, "future"});
  auto errors = written_of<wire::error_report>(c);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "protocol_mismatch");
  EXPECT_EQ(errors[0].message, "protocol version mismatch: the agent speaks "
                               "1 to 2, the peer speaks 7");
  EXPECT_TRUE(closed(c));
}

TEST_F(session_test, registration_sends_env_state_and_credit) {
  auto c = bound(0);
  auto msgs = written(c);
  ASSERT_EQ(msgs.size(), 4u);
  EXPECT_EQ(std::get<wire::registered>(msgs[1]).env,
            std::vector<std::string>{"A=1"});
  EXPECT_EQ(std::get<wire::credit>(msgs[2]).bytes, 4096u);
  EXPECT_EQ(std::get<wire::state_update>(msgs[3]).state, run_state::start);
  EXPECT_EQ(status().containers[0].state, container_state::connected);
}

TEST_F(session_test, register_before_hello_is_refused) {
  auto c = open();
  send(c, wire::register_request{0});
  EXPECT_EQ(error_code(c), "unexpected_message");
  EXPECT_TRUE(closed(c));
  EXPECT_EQ(status().containers[0].state, container_state::not_yet_connected);
}

TEST_F(session_test, a_duplicate_registration_closes_only_that_connection) {
  auto first = bound(0);
  auto second = bound(0);
  auto errors = written_of<wire::error_report>(second);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].message, "client id 0 already registered");
  EXPECT_TRUE(closed(second));
  EXPECT_FALSE(closed(first));
  // The first keeps working: its exit is acknowledged.
  send(first, wire::exit_report{0});
  EXPECT_EQ(written_of<wire::exit_ack>(first).size(), 1u);
  EXPECT_EQ(status().containers[0].state, container_state::exited);
}

TEST_F(session_test, an_unknown_id_is_refused) {
  auto c = bound(5);
  auto errors = written_of<wire::error_report>(c);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].code, "unrecognized_container");
  EXPECT_TRUE(closed(c));
}

TEST_F(session_test, log_bytes_reach_the_sink_and_are_credited_back) {
  auto c = bound(0);
  send(c, wire::log_data{std::string{"hello\0world\n", 12}});
  EXPECT_EQ(sink->data(), std::string("hello\0world\n", 12));
  // Grants go back in batches of a quarter window (1024 bytes here).
  EXPECT_EQ(written_of<wire::credit>(c).size(), 1u);
  send(c, wire::log_data{std::string(1012, 'x')});
  auto credits = written_of<wire::credit>(c);
  ASSERT_EQ(credits.size(), 2u);
  EXPECT_EQ(credits[1].bytes, 1024u);
  // The whole window again: a full window's frame is taken.
  send(c, wire::log_data{std::string(4096, 'y')});
  EXPECT_FALSE(closed(c));
}

TEST_F(session_test, a_peer_that_used_its_whole_window_gets_credit) {
  auto c = bound(0);
  for (int i = 0; i < 4; ++i)
    send(c, wire::log_data{std::string(1024, 'x')});
  auto credits = written_of<wire::credit>(c);
  uint64_t granted = 0;
  for (size_t i = 1; i < credits.size(); ++i)
    granted += credits[i].bytes;
  EXPECT_EQ(granted, 4096u);
  EXPECT_FALSE(closed(c));
}

TEST_F(session_test, log_beyond_the_credit_is_refused) {
  auto c = bound(0);
  send(c, wire::log_data{std::string(4097, 'x')});
  EXPECT_EQ(error_code(c), "credit_exceeded");
  EXPECT_TRUE(only_lost_line()) << sink->data();
  EXPECT_EQ(status().containers[0].state, container_state::lost);
}

TEST_F(session_test, log_before_register_is_refused) {
  auto c = open();
  send(c, wire::hello{defaults::protocol_version, "test"});
  send(c, wire::log_data{"x"});
  EXPECT_EQ(error_code(c), "unexpected_message");
  EXPECT_TRUE(sink->data().empty());
}

TEST_F(session_test, exit_is_acknowledged_after_the_log_is_written) {
  auto c0 = bound(0);
  auto c1 = bound(1);
  send(c0, wire::log_data{"out"});
  send(c0, wire::exit_report{0});
  EXPECT_EQ(sink->data(),
            "out\n~~~ Container 0 (container-0) passed after 0.00s\n");
  EXPECT_EQ(written_of<wire::exit_ack>(c0).size(), 1u);
  // The turn passes: container 1 is pushed `start`.
  auto states = written_of<wire::state_update>(c1);
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[0].state, run_state::wait);
  EXPECT_EQ(states[1].state, run_state::start);
}

// Frames of one read: the log runs go on as batches, in order with the
// frames between them, and the exit waits for all of it.
TEST_F(session_test, frames_that_arrive_together_keep_their_order) {
  auto c0 = bound(0);
  auto c1 = bound(1);
  send_together(c0,
                {wire::log_data{"a"}, wire::log_at{1, "b"}, wire::heartbeat{},
                 wire::log_data{"c"}, wire::exit_report{0}});
  EXPECT_EQ(sink->data(),
            "abc\n~~~ Container 0 (container-0) passed after 0.00s\n");
  EXPECT_EQ(written_of<wire::exit_ack>(c0).size(), 1u);
  // Three bytes: below the batch of a grant.
  EXPECT_EQ(written_of<wire::credit>(c0).size(), 1u);
  EXPECT_EQ(status().containers[0].state, container_state::exited);
  auto states = written_of<wire::state_update>(c1);
  ASSERT_FALSE(states.empty());
  EXPECT_EQ(states.back().state, run_state::start);
}

// The credit is checked over the whole batch, as if frame by frame.
TEST_F(session_test, a_batch_beyond_the_credit_is_refused) {
  auto c = bound(0);
  send_together(c, {wire::log_data{std::string(4000, 'x')},
                    wire::log_data{std::string(97, 'y')}});
  EXPECT_EQ(error_code(c), "credit_exceeded");
  EXPECT_TRUE(only_lost_line()) << sink->data();
  EXPECT_EQ(status().containers[0].state, container_state::lost);
}

// Log frames that arrive with the registration, before the session is
// bound, are refused as one at a time would be.
TEST_F(session_test, a_log_together_with_the_registration_is_refused) {
  auto c = open();
  send_together(c, {wire::hello{defaults::protocol_version, "test"},
                    wire::register_request{0}, wire::log_data{"x"}});
  EXPECT_EQ(error_code(c), "unexpected_message");
  EXPECT_TRUE(only_lost_line()) << sink->data();
}

// Only the connection whose turn it is reads in large pieces.
TEST_F(session_test, a_connection_streams_from_its_turn_to_its_exit) {
  auto streaming = [this](const conn& c) {
    return state_of<fake_peer_state>(c.peer).streaming;
  };
  auto c1 = bound(1);
  EXPECT_FALSE(streaming(c1)); // Waiting.
  auto c0 = bound(0);
  EXPECT_TRUE(streaming(c0));
  EXPECT_FALSE(streaming(c1));
  send(c0, wire::exit_report{0});
  EXPECT_FALSE(streaming(c0));
  EXPECT_TRUE(streaming(c1));
  send(c1, wire::exit_report{0});
  EXPECT_FALSE(streaming(c1));
}

TEST_F(session_test, a_peer_that_stays_after_its_exit_is_closed_later) {
  auto c = bound(0);
  // Off the handshake deadline's tick, which must not close it early.
  advance(5s);
  send(c, wire::exit_report{0});
  EXPECT_EQ(written_of<wire::exit_ack>(c).size(), 1u);
  advance(9s);
  EXPECT_FALSE(closed(c));
  advance(1s);
  EXPECT_TRUE(closed(c));
  // Not a loss: the status stays recorded.
  auto result = status();
  EXPECT_EQ(result.containers[0].state, container_state::exited);
  EXPECT_EQ(result.containers[0].exit_status, 0);
}

TEST_F(session_test, a_close_before_exit_marks_the_container_lost_at_once) {
  auto c = bound(0);
  // Container 1 is known not to be an always-step: nothing is left to run.
  auto c1 = bound(1);
  caf::anon_send(c.session, atom::closed::value, std::string{});
  run();
  auto result = status();
  EXPECT_EQ(result.containers[0].state, container_state::lost);
  EXPECT_EQ(result.status, defaults::lost_status);
  EXPECT_EQ(result.reason, "container 0 (container-0) lost: connection "
                           "closed before its exit status");
}

TEST_F(session_test, a_close_after_exit_is_not_a_loss) {
  auto c = bound(0);
  send(c, wire::exit_report{0});
  caf::anon_send(c.session, atom::closed::value, std::string{});
  run();
  EXPECT_EQ(status().containers[0].state, container_state::exited);
}

TEST_F(session_test, silence_beyond_the_lost_timeout_loses_the_container) {
  auto c = bound(0);
  advance(29s);
  EXPECT_EQ(status().containers[0].state, container_state::connected);
  advance(1s);
  EXPECT_EQ(status().containers[0].state, container_state::lost);
  EXPECT_EQ(error_code(c), "heartbeat_timeout");
  EXPECT_TRUE(closed(c));
}

TEST_F(session_test, heartbeats_keep_the_container_alive) {
  auto c = bound(0);
  for (int i = 0; i < 10; ++i) {
    advance(20s);
    send(c, wire::heartbeat{});
  }
  EXPECT_EQ(status().containers[0].state, container_state::connected);
  advance(30s);
  EXPECT_EQ(status().containers[0].state, container_state::lost);
}

TEST_F(session_test, a_malformed_body_closes_the_connection) {
  auto c = bound(0);
  send_raw(c, wire::frame_type::exit, "{not json");
  EXPECT_EQ(error_code(c), "malformed_body");
  EXPECT_TRUE(closed(c));
  EXPECT_EQ(status().containers[0].state, container_state::lost);
}

TEST_F(session_test, a_frame_only_the_agent_sends_is_refused) {
  auto c = open();
  send(c, wire::hello{defaults::protocol_version, "test"});
  send(c, wire::welcome{1, 1000});
  EXPECT_EQ(error_code(c), "unexpected_message");
}

TEST_F(session_test, a_second_hello_is_refused) {
  auto c = open();
  send(c, wire::hello{defaults::protocol_version, "test"});
  send(c, wire::hello{defaults::protocol_version, "test"});
  EXPECT_EQ(error_code(c), "unexpected_message");
}

TEST_F(session_test, exit_before_register_is_refused) {
  auto c = open();
  send(c, wire::hello{defaults::protocol_version, "test"});
  send(c, wire::exit_report{0});
  EXPECT_EQ(error_code(c), "unexpected_message");
  EXPECT_EQ(status().containers[0].state, container_state::not_yet_connected);
}

TEST_F(session_test, pushed_states_reach_the_peer) {
  auto c = bound(1);
  caf::anon_send(the_runner, atom::interrupt::value);
  run();
  auto states = written_of<wire::state_update>(c);
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[1].state, run_state::interrupt);
}

TEST_F(session_test, version_1_gets_its_state_at_registration) {
  auto c = bound(0, 1);
  auto welcomes = written_of<wire::welcome>(c);
  ASSERT_EQ(welcomes.size(), 1u);
  EXPECT_EQ(welcomes[0].version, 1u);
  auto states = written_of<wire::state_update>(c);
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].state, run_state::start);
  // Version 1 knows nothing of the job so far.
  EXPECT_EQ(states[0].job_result, "");
}

TEST_F(session_test, version_2_waits_for_its_settings) {
  auto c = open();
  send(c, wire::hello{2, "test"});
  send(c, wire::register_request{0});
  // Registered, credited, but no state until the settings come.
  EXPECT_TRUE(written_of<wire::state_update>(c).empty());
  send(c, wire::settings_report{step_settings{true, false, {3}}});
  auto states = written_of<wire::state_update>(c);
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].state, run_state::start);
  EXPECT_EQ(states[0].job_result, "passed");
  EXPECT_EQ(states[0].job_status, 0);
  EXPECT_TRUE(status().containers[0].always);
  // Settings are sent once.
  send(c, wire::settings_report{});
  EXPECT_EQ(error_code(c), "unexpected_message");
}

TEST_F(session_test, a_skip_reaches_version_1_as_a_shutdown) {
  auto c0 = bound(0);
  auto v1 = bound(1, 1);
  send(c0, wire::exit_report{3});
  auto states = written_of<wire::state_update>(v1);
  ASSERT_EQ(states.size(), 2u);
  EXPECT_EQ(states[1].state, run_state::shutdown);
  EXPECT_EQ(status().containers[1].state, container_state::skipped);
}

TEST_F(session_test, timed_log_frames_carry_their_time_to_the_job_log) {
  make_job(log_aggregator_config{2, {}, {}, true});
  auto c = bound(0);
  send(c, wire::log_at{1'000'000'000, "first\nsecond"});
  send(c, wire::log_at{2'000'000'000, " line\n"});
  send(c, wire::exit_report{0});
  // The agent's step line is stamped too, with the wall clock's time.
  static const std::regex expected{
    "1970-01-01T00:00:01.000Z first\n"
    "1970-01-01T00:00:01.000Z second line\n"
    "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z "
    "~~~ Container 0 \\(container-0\\) passed after 0\\.00s\n"};
  EXPECT_TRUE(std::regex_match(sink->data(), expected)) << sink->data();
}

TEST_F(session_test, outputs_reach_later_containers_and_redaction) {
  make_job(log_aggregator_config{2, {}, split_patterns("*_TOKEN"), false});
  auto c0 = bound(0);
  auto c1 = bound(1);
  send(c0, wire::exit_report{
             0, false, {"VERSION=1.2.3", "DEPLOY_TOKEN=tok-123456"}});
  // Container 1 registered earlier: the outputs come with its start.
  auto starts = written_of<wire::state_update>(c1);
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_EQ(starts[1].state, run_state::start);
  EXPECT_EQ(starts[1].env, (std::vector<std::string>{
                             "VERSION=1.2.3", "DEPLOY_TOKEN=tok-123456"}));
  send(c1, wire::log_at{0, "deploying with tok-123456\n"});
  send(c1, wire::exit_report{0});
  EXPECT_EQ(sink->data(), "~~~ Container 0 (container-0) passed after 0.00s\n"
                          "deploying with [REDACTED]\n"
                          "~~~ Container 1 (container-1) passed after 0.00s\n");
  auto result = status();
  EXPECT_EQ(result.containers[0].outputs,
            (std::vector<std::string>{"VERSION", "DEPLOY_TOKEN"}));
}

TEST_F(session_test, a_failing_job_log_terminates_the_job_with_the_reason) {
  aggregator = spawn(log_aggregator, std::make_shared<memory_sink>(10),
                     log_aggregator_config{2, {}, {}, false});
  auto c = bound(0);
  send(c, wire::log_at{0, "more than ten bytes"});
  EXPECT_EQ(error_code(c), "log_sink_failed");
  EXPECT_TRUE(closed(c));
  auto result = status();
  EXPECT_TRUE(result.done);
  EXPECT_TRUE(result.terminated);
  EXPECT_EQ(result.reason, "cannot write the job log to memory: no space "
                           "left (10 bytes)");
}

TEST_F(session_test, a_peer_error_closes_the_connection) {
  auto c = bound(0);
  send(c, wire::error_report{"system_error", "bye"});
  EXPECT_TRUE(closed(c));
  EXPECT_EQ(status().containers[0].state, container_state::lost);
}

TEST(session_config, validate_names_the_bad_value) {
  session_config config;
  config.heartbeat_interval = 40s;
  EXPECT_EQ(render(config.validate()),
            "heartbeat interval must be positive and below the lost timeout "
            "(30s), got 40s");
}

TEST_F(session_test, a_close_while_registering_leaves_no_ghost) {
  auto c = open();
  send(c, wire::hello{defaults::protocol_version, "test"});
  // The register goes out; the connection closes before the answer.
  caf::anon_send(c.session, wire::encode(wire::register_request{0}));
  caf::anon_send(c.session, atom::closed::value, std::string{});
  run();
  EXPECT_EQ(status().containers[0].state, container_state::lost);
}

TEST_F(session_test, a_failed_job_log_closes_the_connection_with_the_reason) {
  sink = std::make_shared<memory_sink>(3);
  aggregator = spawn(log_aggregator, sink,
                     log_aggregator_config{2, {}, {}, false});
  auto c = bound(0);
  send(c, wire::log_data{"too long"});
  EXPECT_EQ(error_code(c), "log_sink_failed");
  EXPECT_TRUE(closed(c));
  EXPECT_TRUE(status().terminated);
}

TEST_F(session_test, a_status_request_gets_the_job_and_the_log_bytes) {
  auto c0 = bound(0);
  send(c0, wire::log_data{"12345"});
  auto c = open();
  send(c, wire::hello{defaults::protocol_version, "status"});
  send(c, wire::status_request{});
  auto reports = written_of<wire::status_report>(c);
  ASSERT_EQ(reports.size(), 1u);
  auto j = nlohmann::json::parse(reports[0].json);
  EXPECT_EQ(j["started"], true);
  EXPECT_EQ(j["done"], false);
  EXPECT_EQ(j["containers"][0]["state"], "connected");
  EXPECT_EQ(j["containers"][0]["log_bytes"], 5);
  EXPECT_EQ(j["containers"][1]["state"], "not_yet_connected");
  EXPECT_TRUE(closed(c));
  // Asking changes nothing.
  EXPECT_FALSE(closed(c0));
  EXPECT_EQ(status().containers[1].state, container_state::not_yet_connected);
}

TEST_F(session_test, a_peer_that_never_speaks_is_closed_after_the_deadline) {
  auto c = open();
  advance(9s);
  EXPECT_FALSE(closed(c));
  advance(1s);
  EXPECT_EQ(error_code(c), "handshake_timeout");
  EXPECT_EQ(written_of<wire::error_report>(c)[0].message,
            "no registration within 10s");
  EXPECT_TRUE(closed(c));
}

TEST_F(session_test, a_peer_that_says_hello_but_never_registers_is_closed) {
  auto c = open();
  send(c, wire::hello{defaults::protocol_version, "test"});
  advance(10s);
  EXPECT_EQ(error_code(c), "handshake_timeout");
}

TEST_F(session_test, the_handshake_deadline_spares_a_registered_peer) {
  auto c = bound(0);
  for (int i = 0; i < 5; ++i) {
    advance(5s);
    send(c, wire::heartbeat{});
  }
  EXPECT_FALSE(closed(c));
  EXPECT_EQ(status().containers[0].state, container_state::connected);
}

namespace {

/// Captures what spdlog prints while it lives; the fixture silences it.
class captured_log {
public:
  captured_log()
    : old_(spdlog::default_logger()),
      logger_(std::make_shared<spdlog::logger>(
        "captured", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_))) {
    logger_->set_pattern("%v");
    logger_->set_level(spdlog::level::warn);
    spdlog::set_default_logger(logger_);
  }

  ~captured_log() {
    spdlog::set_default_logger(old_);
  }

  /// The lines printed so far that contain `part`.
  size_t count(std::string_view part) const {
    std::istringstream in{out_.str()};
    size_t n = 0;
    for (std::string line; std::getline(in, line);)
      n += line.find(part) != std::string::npos ? 1 : 0;
    return n;
  }

  std::string text() const {
    return out_.str();
  }

private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> old_;
  std::shared_ptr<spdlog::logger> logger_;
};

} // namespace

TEST_F(session_test,
       a_flood_of_peer_warnings_is_summed_up_but_job_ones_are_not) {
  captured_log log;
  config.peer_warnings = std::make_shared<warning_limiter>(1, 10s);
  // Six peers that never register: one warning, five held back.
  for (int i = 0; i < 6; ++i)
    open();
  advance(10s);
  EXPECT_EQ(log.count("no registration within 10s"), 1u) << log.text();
  // A peer's malformed frame uses up that kind's one warning.
  auto stray = open();
  send(stray, wire::hello{defaults::protocol_version, "stray"});
  send_raw(stray, wire::frame_type::heartbeat, "not json");
  send_raw(open(), wire::frame_type::hello, "not json");
  // The timeout's warning and the stray's.
  EXPECT_EQ(log.count("closing the connection"), 2u) << log.text();
  // The containers' own failures are about the job: every one is printed,
  // of whatever kind.
  auto c0 = bound(0);
  auto c1 = bound(1);
  send_raw(c0, wire::frame_type::heartbeat, "not json");
  caf::anon_send(c1.session, atom::closed::value, std::string{});
  run();
  EXPECT_EQ(log.count("(container 0): closing the connection"), 1u)
    << log.text();
  EXPECT_EQ(log.count("(container 1): connection closed before the exit "
                      "status"),
            1u)
    << log.text();
  advance(10s);
  config.peer_warnings->flush(sys.clock().now());
  EXPECT_EQ(log.count("session: 5 more connections closed for not "
                      "registering in time in the last 10s"),
            1u)
    << log.text();
  EXPECT_EQ(log.count("session: 1 more connections refused for malformed "
                      "frames in the last 10s"),
            1u)
    << log.text();
}

// The job is over when the agent stops: a session still bound then (its
// exit being acknowledged, a skipped container's) is no news.
TEST_F(session_test, the_agent_stopping_is_not_warned_about) {
  captured_log log;
  auto c0 = bound(0);
  auto c1 = bound(1);
  send(c0, wire::exit_report{0});
  caf::anon_send(c0.session, atom::closed::value, std::string{agent_stopping});
  run();
  EXPECT_EQ(log.text(), "");
  // A peer that goes away on its own is still worth a warning.
  caf::anon_send(c1.session, atom::closed::value, std::string{});
  run();
  EXPECT_EQ(log.count("(container 1): connection closed before the exit "
                      "status: closed by the peer"),
            1u)
    << log.text();
}
