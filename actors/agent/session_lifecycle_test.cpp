// A container's life on the agent is written once, for both dialects: the
// same scenarios, driven through baton's frames and the reference's
// net/rpc, must leave the runner with the same outcome.

#include "actors/agent/session.hpp"

#include "actors/agent/log_aggregator.hpp"
#include "actors/agent/runner.hpp"
#include "actors/agent/session_fixture.hpp"
#include "messages/error.hpp"
#include "messages/rpc.hpp"

#include <chrono>
#include <memory>
#include <string>

using namespace std::chrono_literals;
using namespace baton;
using baton::testing::fake_peer;
using baton::testing::fake_peer_state;

namespace {

class session_lifecycle_test : public baton::testing::session_fixture,
                               public ::testing::WithParamInterface<dialect> {
protected:
  bool baton() const {
    return GetParam() == dialect::baton;
  }

  /// A connection past its handshake (hello, or HTTP CONNECT).
  conn connect() {
    conn c;
    c.peer = spawn(fake_peer);
    c.session = spawn(session, caf::io::connection_handle{}, c.peer, the_runner,
                      aggregator, config, GetParam());
    run();
    if (baton())
      send(c, wire::hello{defaults::protocol_version, "test"});
    else
      send_bytes(c, std::string{rpc::connect_request});
    return c;
  }

  // Each `post` puts a message in the session's mailbox; `run` delivers.
  void post(const conn& c, const wire::message& msg) {
    caf::anon_send(c.session, wire::encode(msg));
  }

  void post(const conn& c, std::string bytes) {
    caf::anon_send(c.session, atom::received::value, std::move(bytes));
  }

  void post_call(const conn& c, std::string_view method,
                 const gob::type_ptr& type, const gob::value& arg) {
    std::string out;
    auto err = c.codec->append_call(out, method, (*c.seq)++, type, arg);
    ASSERT_FALSE(err) << render(err);
    post(c, std::move(out));
  }

  template <class Message>
  void send(const conn& c, const Message& msg) {
    post(c, msg);
    run();
  }

  void send_bytes(const conn& c, std::string bytes) {
    post(c, std::move(bytes));
    run();
  }

  void call(const conn& c, std::string_view method, const gob::type_ptr& type,
            const gob::value& arg) {
    post_call(c, method, type, arg);
    run();
  }

  /// Registers as container `id`, with its settings where they follow.
  void register_as(const conn& c, int32_t id) {
    if (baton()) {
      send(c, wire::register_request{id});
      send(c, wire::settings_report{});
    } else {
      call(c, rpc::register_method, gob::int_type(), gob::value::integer(id));
    }
  }

  conn registered(int32_t id) {
    auto c = connect();
    register_as(c, id);
    return c;
  }

  /// The sign of life: a heartbeat, or a Status poll.
  void heartbeat(const conn& c, int32_t id) {
    if (baton())
      send(c, wire::heartbeat{});
    else
      call(c, rpc::status_method, gob::int_type(), gob::value::integer(id));
  }

  void log(const conn& c, std::string bytes) {
    if (baton())
      send(c, wire::log_data{std::move(bytes)});
    else
      call(c, rpc::write_logs_method, rpc::logs_type(),
           rpc::to_value(rpc::logs{std::move(bytes)}));
  }

  void post_exit(const conn& c, int32_t id, int32_t status) {
    if (baton())
      post(c, wire::exit_report{status});
    else
      post_call(c, rpc::exit_method, rpc::exit_code_type(),
                rpc::to_value(rpc::exit_code{id, status}));
  }

  void exit(const conn& c, int32_t id, int32_t status) {
    post_exit(c, id, status);
    run();
  }

  /// The peer hangs up.
  void hang_up(const conn& c) {
    caf::anon_send(c.session, atom::closed::value, std::string{});
    run();
  }

  bool closed(const conn& c) {
    return state_of<fake_peer_state>(c.peer).closed;
  }

  container_status container(int32_t id) {
    return status().containers.at(static_cast<size_t>(id));
  }
};

} // namespace

TEST_P(session_lifecycle_test, a_peer_that_never_registers_is_closed) {
  auto c = connect();
  advance(9s);
  EXPECT_FALSE(closed(c));
  advance(1s);
  EXPECT_TRUE(closed(c));
  EXPECT_EQ(container(0).state, container_state::not_yet_connected);
}

TEST_P(session_lifecycle_test,
       the_handshake_deadline_spares_a_registered_peer) {
  auto c = registered(0);
  advance(10s);
  EXPECT_FALSE(closed(c));
  EXPECT_EQ(container(0).state, container_state::connected);
}

TEST_P(session_lifecycle_test, a_silent_container_is_lost) {
  auto c = registered(0);
  advance(20s);
  heartbeat(c, 0);
  advance(20s);
  // Heard 20 s ago: not yet.
  EXPECT_FALSE(closed(c));
  advance(10s);
  EXPECT_TRUE(closed(c));
  EXPECT_EQ(container(0).state, container_state::lost);
}

TEST_P(session_lifecycle_test, a_close_before_the_exit_loses_the_container) {
  auto c = registered(0);
  log(c, "partial\n");
  hang_up(c);
  EXPECT_EQ(container(0).state, container_state::lost);
  EXPECT_EQ(sink->data(), "partial\n~~~ Container 0 (container-0) was lost: "
                          "connection closed before its exit status\n");
}

TEST_P(session_lifecycle_test, the_exit_is_recorded_after_its_log) {
  auto c0 = registered(0);
  auto c1 = registered(1);
  log(c0, "out\n");
  exit(c0, 0, 3);
  // The log first; then, the step failed, the next is skipped.
  EXPECT_EQ(sink->data().substr(0, 4), "out\n");
  EXPECT_EQ(container(0).state, container_state::exited);
  EXPECT_EQ(container(0).exit_status, 3);
  // The acknowledged peer may linger up to the handshake timeout.
  advance(9s);
  EXPECT_FALSE(closed(c0));
  advance(1s);
  EXPECT_TRUE(closed(c0));
  EXPECT_EQ(container(0).state, container_state::exited);
  EXPECT_FALSE(closed(c1));
}

// Before, this container was reported lost: the close came while its log
// was still being written, before the exit reached the runner.
TEST_P(session_lifecycle_test, a_close_right_after_the_exit_keeps_the_status) {
  auto c = registered(0);
  log(c, "out\n");
  post_exit(c, 0, 5);
  caf::anon_send(c.session, atom::closed::value, std::string{});
  run();
  EXPECT_EQ(container(0).state, container_state::exited);
  EXPECT_EQ(container(0).exit_status, 5);
  EXPECT_EQ(sink->data(),
            "out\n~~~ Container 0 (container-0) failed with status 5 after "
            "0.00s\n");
}

TEST_P(session_lifecycle_test,
       a_duplicate_id_leaves_the_first_connection_bound) {
  auto first = registered(0);
  auto second = registered(0);
  EXPECT_FALSE(closed(first));
  EXPECT_EQ(container(0).state, container_state::connected);
  exit(first, 0, 0);
  EXPECT_EQ(container(0).state, container_state::exited);
  EXPECT_EQ(container(0).exit_status, 0);
}

INSTANTIATE_TEST_SUITE_P(both_dialects, session_lifecycle_test,
                         ::testing::Values(dialect::baton, dialect::buildkite),
                         [](const auto& info) {
                           return std::string{to_string(info.param)};
                         });
