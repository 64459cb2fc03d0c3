#include "actors/agent/session.hpp"

#include "actors/agent/log_aggregator.hpp"
#include "actors/agent/runner.hpp"
#include "actors/agent/session_fixture.hpp"
#include "messages/error.hpp"
#include "messages/rpc.hpp"

#include <chrono>

using namespace std::chrono_literals;
using namespace baton;
using baton::testing::fake_peer;
using baton::testing::fake_peer_state;

namespace {

/// A reply as a stock client sees it: the error, or the decoded body.
struct answer {
  uint64_t seq = 0;
  std::string error;
  gob::value body;
};

/// Stands in for a log aggregator that writes nothing until told to: the
/// job log of a slow sink. `(eof, -n)`, which no session sends, is the
/// test's cue to finish writing the oldest n chunks (a promise must be
/// delivered from inside its actor).
struct stalled_aggregator_state {
  static constexpr const char* name = "stalled-aggregator";
  std::vector<caf::typed_response_promise<uint64_t>> pending;
  std::vector<uint64_t> sizes;
  std::string written;
  size_t delivered = 0;
};

log_aggregator_actor::behavior_type stalled_aggregator(
  log_aggregator_actor::stateful_pointer<stalled_aggregator_state> self) {
  return {
    [](atom::log, int32_t, int64_t, const std::string&) -> uint64_t {
      ADD_FAILURE() << "sessions send batches";
      return 0;
    },
    [=](atom::log, int32_t, const log_batch& batch) {
      auto rp = self->make_response_promise<uint64_t>();
      auto& st = self->state;
      st.pending.push_back(rp);
      uint64_t n = 0;
      for (auto& piece : batch) {
        n += piece.bytes.size();
        st.written += piece.bytes;
      }
      st.sizes.push_back(n);
      return rp;
    },
    [](atom::log, const std::string&) { return atom::ok::value; },
    [=](atom::eof, int32_t id) {
      auto& st = self->state;
      for (; id < 0 && st.delivered < st.pending.size(); ++id, ++st.delivered)
        st.pending[st.delivered].deliver(st.sizes[st.delivered]);
      return atom::ok::value;
    },
    [](atom::env, const std::vector<std::string>&) {},
    [](atom::status) { return std::vector<uint64_t>{}; },
    [](atom::mode, int32_t, log_mode, const std::string&) {},
    [](atom::tail, int32_t, const std::string&) { return atom::ok::value; },
    [](atom::tick, int32_t, uint64_t) {},
  };
}

class rpc_session_test : public baton::testing::session_fixture {
protected:
  conn open() {
    conn c;
    c.peer = spawn(fake_peer);
    caf::io::connection_handle hdl;
    c.session = spawn(session, hdl, c.peer, the_runner, aggregator, config,
                      dialect::buildkite);
    run();
    return c;
  }

  void send_bytes(const conn& c, std::string bytes) {
    caf::anon_send(c.session, atom::received::value, std::move(bytes));
    run();
  }

  /// A connection past the HTTP CONNECT preamble.
  conn connected() {
    auto c = open();
    send_bytes(c, std::string{rpc::connect_request});
    EXPECT_EQ(peer_bytes(c), rpc::connected_response);
    *c.read = rpc::connected_response.size();
    return c;
  }

  /// Makes a call; returns its sequence number.
  uint64_t call(const conn& c, std::string_view method,
                const gob::type_ptr& type, const gob::value& arg) {
    auto seq = (*c.seq)++;
    std::string out;
    auto err = c.codec->append_call(out, method, seq, type, arg);
    EXPECT_FALSE(err) << render(err);
    send_bytes(c, std::move(out));
    return seq;
  }

  uint64_t call_int(const conn& c, std::string_view method, int64_t x) {
    return call(c, method, gob::int_type(), gob::value::integer(x));
  }

  uint64_t write_logs(const conn& c, std::string data) {
    return call(c, rpc::write_logs_method, rpc::logs_type(),
                rpc::to_value(rpc::logs{std::move(data)}));
  }

  uint64_t exit(const conn& c, int64_t id, int64_t status) {
    return call(c, rpc::exit_method, rpc::exit_code_type(),
                rpc::to_value(rpc::exit_code{id, status}));
  }

  const std::string& peer_bytes(const conn& c) {
    return state_of<fake_peer_state>(c.peer).bytes;
  }

  bool closed(const conn& c) {
    return state_of<fake_peer_state>(c.peer).closed;
  }

  /// The replies written since the last call of `replies`.
  std::vector<answer> replies(const conn& c) {
    auto& bytes = peer_bytes(c);
    c.codec->feed(bytes.data() + *c.read, bytes.size() - *c.read);
    *c.read = bytes.size();
    std::vector<answer> result;
    rpc::reply rep;
    while (c.codec->next(rep))
      result.push_back({rep.header.seq, rep.header.error, rep.body});
    EXPECT_FALSE(c.codec->error()) << render(c.codec->error());
    return result;
  }

  /// The one reply written since the last call of `replies`.
  answer reply(const conn& c) {
    auto xs = replies(c);
    EXPECT_EQ(xs.size(), 1u);
    return xs.empty() ? answer{} : xs.back();
  }

  int64_t int_of(const answer& x) {
    EXPECT_EQ(x.error, "");
    EXPECT_EQ(x.body.kind(), gob::kind::integer) << gob::to_string(x.body);
    return x.body.as_int();
  }
};

} // namespace

// The calls of the reference transcript's session B, against a
// two-container job: the same errors, word for word, and the same values.
TEST_F(rpc_session_test, answers_as_the_reference_does) {
  auto c = connected();
  call_int(c, rpc::register_method, 5);
  EXPECT_EQ(reply(c).error, "unrecognized client id: 5");
  call_int(c, rpc::register_method, -1);
  EXPECT_EQ(reply(c).error, "unrecognized client id: -1");
  call_int(c, rpc::register_method, 1);
  auto registered = reply(c);
  EXPECT_EQ(registered.error, "");
  rpc::register_response response;
  EXPECT_FALSE(rpc::from_value(registered.body, response));
  EXPECT_TRUE(response.env.empty());
  call_int(c, rpc::register_method, 1);
  EXPECT_EQ(reply(c).error, "client id 1 already registered");
  call_int(c, rpc::status_method, 1);
  EXPECT_EQ(int_of(reply(c)), 0); // Wait: container 0 has not exited.
  call_int(c, rpc::status_method, 0);
  EXPECT_EQ(int_of(reply(c)), 1); // Start: container 0 may always start.
  call_int(c, "Runner.Nope", 0);
  EXPECT_EQ(reply(c).error, "rpc: can't find method Runner.Nope");
  write_logs(c, "");
  EXPECT_EQ(reply(c).error, "");
  exit(c, 1, -7);
  EXPECT_EQ(reply(c).error, "");
  // The reference's job is done now. baton's waits for container 0 to
  // register, as it may be an always-step (BATON_ALWAYS); a stock client is
  // not one, and is skipped.
  auto c0 = connected();
  call_int(c0, rpc::register_method, 0);
  call_int(c, rpc::status_method, 1);
  EXPECT_EQ(reply(c).error, "connection is shut down");
  exit(c, 300, 0);
  EXPECT_EQ(reply(c).error, "unrecognized client id: 300");
  EXPECT_FALSE(closed(c));
  auto result = status();
  EXPECT_EQ(result.status, -7);
  EXPECT_EQ(result.containers[0].state, container_state::skipped);
  EXPECT_EQ(result.containers[1].state, container_state::exited);
  EXPECT_EQ(result.containers[1].exit_status, -7);
  EXPECT_EQ(result.containers[1].protocol, dialect::buildkite);
}

// The reference client's flow of session A: register, poll, log, exit.
TEST_F(rpc_session_test, a_stock_client_runs_a_one_container_job) {
  make_job(1, {"FOO=bar", "BUILDKITE_PTY=false"});
  auto c = connected();
  call_int(c, rpc::register_method, 0);
  rpc::register_response response;
  EXPECT_FALSE(rpc::from_value(reply(c).body, response));
  EXPECT_EQ(response.env,
            (std::vector<std::string>{"FOO=bar", "BUILDKITE_PTY=false"}));
  EXPECT_TRUE(state_of<fake_peer_state>(c.peer).streaming);
  call_int(c, rpc::status_method, 0);
  EXPECT_EQ(int_of(reply(c)), 1);
  write_logs(c, "hello\n");
  EXPECT_EQ(reply(c).error, "");
  exit(c, 0, 0);
  EXPECT_EQ(reply(c).error, "");
  EXPECT_EQ(sink->data(),
            "hello\n~~~ Container 0 (container-0) passed after 0.00s\n");
  call_int(c, rpc::status_method, 0);
  EXPECT_EQ(reply(c).error, "connection is shut down");
  auto result = status();
  EXPECT_TRUE(result.done);
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.containers[0].protocol, dialect::buildkite);
}

TEST_F(rpc_session_test, status_follows_the_pushed_state) {
  auto c0 = connected();
  auto c1 = connected();
  call_int(c0, rpc::register_method, 0);
  call_int(c1, rpc::register_method, 1);
  replies(c0);
  replies(c1);
  call_int(c1, rpc::status_method, 1);
  EXPECT_EQ(int_of(reply(c1)), 0);
  // Only the connection whose turn it is reads in large pieces.
  EXPECT_TRUE(state_of<fake_peer_state>(c0.peer).streaming);
  EXPECT_FALSE(state_of<fake_peer_state>(c1.peer).streaming);
  exit(c0, 0, 0);
  // Pushed by the runner on container 0's exit, answered from the session.
  EXPECT_FALSE(state_of<fake_peer_state>(c0.peer).streaming);
  EXPECT_TRUE(state_of<fake_peer_state>(c1.peer).streaming);
  call_int(c1, rpc::status_method, 1);
  EXPECT_EQ(int_of(reply(c1)), 1);
  anon_send(the_runner, atom::interrupt::value);
  run();
  call_int(c1, rpc::status_method, 1);
  EXPECT_EQ(int_of(reply(c1)), 2);
  anon_send(the_runner, atom::terminate::value, std::string{"stop"});
  run();
  call_int(c1, rpc::status_method, 1);
  EXPECT_EQ(reply(c1).error, "connection is shut down");
}

TEST_F(rpc_session_test, other_methods_and_services_get_gos_errors) {
  auto c = connected();
  call_int(c, "Runner.Nope", 0);
  EXPECT_EQ(reply(c).error, "rpc: can't find method Runner.Nope");
  call_int(c, "Agent.Register", 0);
  EXPECT_EQ(reply(c).error, "rpc: can't find service Agent.Register");
  call_int(c, "Register", 0);
  EXPECT_EQ(reply(c).error, "rpc: service/method request ill-formed: "
                            "Register");
  EXPECT_FALSE(closed(c));
}

TEST_F(rpc_session_test,
       a_body_of_the_wrong_type_is_refused_and_the_connection_goes_on) {
  auto c = connected();
  call(c, rpc::register_method, gob::string_type(), gob::value::string("0"));
  auto x = reply(c);
  EXPECT_NE(x.error.find("Runner.Register"), std::string::npos) << x.error;
  call(c, rpc::write_logs_method, gob::int_type(), gob::value::integer(3));
  EXPECT_NE(reply(c).error, "");
  call_int(c, rpc::register_method, 0);
  EXPECT_EQ(reply(c).error, "");
  EXPECT_FALSE(closed(c));
}

TEST_F(rpc_session_test, logs_and_exits_belong_to_the_connection_registered) {
  auto c = connected();
  write_logs(c, "orphan\n");
  EXPECT_EQ(reply(c).error, "WriteLogs before Register: no client id is "
                            "registered on this connection");
  exit(c, 0, 0);
  EXPECT_EQ(reply(c).error, "client id 0 is not registered on this "
                            "connection");
  call_int(c, rpc::register_method, 0);
  replies(c);
  call_int(c, rpc::register_method, 1);
  EXPECT_EQ(reply(c).error, "this connection already registered client id "
                            "0; connect again to register client id 1");
  exit(c, 1, 0);
  EXPECT_EQ(reply(c).error, "client id 1 is not registered on this "
                            "connection");
  exit(c, 0, 0);
  EXPECT_EQ(reply(c).error, "");
  exit(c, 0, 0);
  EXPECT_EQ(reply(c).error, "client id 0 already reported its exit status");
  write_logs(c, "late\n");
  EXPECT_EQ(reply(c).error, "WriteLogs after Exit on this connection");
  EXPECT_EQ(sink->data(), "~~~ Container 0 (container-0) passed after 0.00s\n");
}

TEST_F(rpc_session_test, a_wrong_method_or_path_gets_gos_http_errors) {
  auto get = open();
  send_bytes(get, "GET /_goRPC_ HTTP/1.0\r\nHost: x\r\n\r\n");
  EXPECT_EQ(peer_bytes(get).rfind("HTTP/1.0 405", 0), 0u) << peer_bytes(get);
  EXPECT_NE(peer_bytes(get).find("405 must CONNECT\n"), std::string::npos);
  EXPECT_TRUE(closed(get));
  auto path = open();
  send_bytes(path, "CONNECT /elsewhere HTTP/1.0\n\n");
  EXPECT_EQ(peer_bytes(path).rfind("HTTP/1.0 404", 0), 0u);
  EXPECT_TRUE(closed(path));
  auto garbage = open();
  send_bytes(garbage, std::string(5000, 'x'));
  EXPECT_EQ(peer_bytes(garbage), "");
  EXPECT_TRUE(closed(garbage));
}

TEST_F(rpc_session_test, the_preamble_and_calls_may_arrive_in_any_split) {
  auto c = open();
  std::string bytes{rpc::connect_request};
  rpc::client_codec codec;
  codec.append_call(bytes, rpc::register_method, 0, gob::int_type(),
                    gob::value::integer(0));
  codec.append_call(bytes, rpc::status_method, 1, gob::int_type(),
                    gob::value::integer(0));
  for (auto byte : bytes)
    send_bytes(c, std::string(1, byte));
  *c.read = rpc::connected_response.size();
  auto xs = replies(c);
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[0].seq, 0u);
  EXPECT_EQ(xs[0].error, "");
  EXPECT_EQ(xs[1].seq, 1u);
  EXPECT_EQ(int_of(xs[1]), 1);
}

TEST_F(rpc_session_test, malformed_gob_closes_only_that_connection) {
  auto bad = connected();
  auto good = connected();
  send_bytes(bad, std::string("\x05\x04\x00\x00\x00\x00", 6));
  EXPECT_TRUE(closed(bad));
  call_int(good, rpc::register_method, 0);
  EXPECT_EQ(reply(good).error, "");
  EXPECT_FALSE(closed(good));
}

TEST_F(rpc_session_test, a_closed_connection_before_exit_is_lost_at_once) {
  make_job(1, {});
  auto c = connected();
  call_int(c, rpc::register_method, 0);
  anon_send(c.session, atom::closed::value, std::string{});
  run();
  auto result = status();
  EXPECT_EQ(result.containers[0].state, container_state::lost);
  EXPECT_TRUE(result.done);
  EXPECT_EQ(result.status, -7);
}

TEST_F(rpc_session_test, status_polls_are_the_heartbeat) {
  make_job(1, {});
  auto polling = connected();
  call_int(polling, rpc::register_method, 0);
  for (int i = 0; i < 40; ++i) {
    advance(1s);
    call_int(polling, rpc::status_method, 0);
  }
  EXPECT_EQ(status().containers[0].state, container_state::connected);
  EXPECT_FALSE(closed(polling));
  // Logs do not count: the reference hears only Status calls.
  make_job(1, {});
  auto logging = connected();
  call_int(logging, rpc::register_method, 0);
  for (int i = 0; i < 4; ++i) {
    advance(10s);
    write_logs(logging, "x");
  }
  EXPECT_EQ(status().containers[0].state, container_state::lost);
  EXPECT_TRUE(closed(logging));
}

TEST_F(rpc_session_test, a_connection_that_never_registers_is_closed) {
  auto c = connected();
  call_int(c, rpc::status_method, 0);
  advance(10s);
  EXPECT_TRUE(closed(c));
}

TEST_F(rpc_session_test, output_is_redacted_like_any_other) {
  make_job(1, {}, {"hunter2-secret"});
  auto c = connected();
  call_int(c, rpc::register_method, 0);
  write_logs(c, "the password is hunter2-");
  write_logs(c, "secret, see?\n");
  exit(c, 0, 0);
  EXPECT_EQ(sink->data(), "the password is [REDACTED], see?\n"
                          "~~~ Container 0 (container-0) passed after 0.00s\n");
}

TEST_F(rpc_session_test, a_slow_job_log_holds_the_replies_back) {
  auto stalled = spawn(stalled_aggregator);
  aggregator = stalled;
  auto c = connected();
  call_int(c, rpc::register_method, 0);
  replies(c);
  // Within the window (4 KiB): answered at once.
  auto first = write_logs(c, std::string(3000, 'a'));
  EXPECT_EQ(reply(c).seq, first);
  auto second = write_logs(c, std::string(3000, 'b'));
  EXPECT_EQ(reply(c).seq, second);
  // The window is full: held, and not passed on yet.
  write_logs(c, std::string(100, 'c'));
  EXPECT_TRUE(replies(c).empty());
  auto& agg = state_of<stalled_aggregator_state>(stalled);
  EXPECT_EQ(agg.sizes.size(), 2u);
  // The job log catches up: the held call goes out, in order.
  anon_send(stalled, atom::eof::value, int32_t{-1});
  run();
  EXPECT_EQ(replies(c).size(), 1u);
  EXPECT_EQ(agg.written, std::string(3000, 'a') + std::string(3000, 'b')
                           + std::string(100, 'c'));
}

TEST_F(rpc_session_test, a_peer_that_does_not_wait_for_replies_is_closed) {
  auto stalled = spawn(stalled_aggregator);
  aggregator = stalled;
  auto c = connected();
  call_int(c, rpc::register_method, 0);
  write_logs(c, std::string(5000, 'a'));
  std::string chunk(512 * 1024, 'b');
  for (int i = 0; i < 5 && !closed(c); ++i)
    write_logs(c, chunk);
  EXPECT_TRUE(closed(c));
  EXPECT_EQ(status().containers[0].state, container_state::lost);
}

TEST_F(rpc_session_test, an_exit_waits_for_the_held_logs) {
  auto stalled = spawn(stalled_aggregator);
  aggregator = stalled;
  auto c = connected();
  call_int(c, rpc::register_method, 0);
  replies(c);
  write_logs(c, std::string(5000, 'a'));
  write_logs(c, "last words\n");
  auto seq = exit(c, 0, 0);
  // Neither the held logs nor the exit went on yet.
  auto xs = replies(c);
  ASSERT_EQ(xs.size(), 1u);
  EXPECT_EQ(status().containers[0].state, container_state::connected);
  anon_send(stalled, atom::eof::value, int32_t{-1});
  run();
  xs = replies(c);
  ASSERT_EQ(xs.size(), 2u);
  EXPECT_EQ(xs[1].seq, seq);
  EXPECT_EQ(status().containers[0].state, container_state::exited);
}
