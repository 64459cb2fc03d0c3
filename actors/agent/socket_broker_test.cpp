// The socket broker over a real Unix socket in a temporary directory, with
// the real runner, sessions and aggregator behind it. The peers are plain
// blocking sockets in the test thread; every wait has a deadline.

#include "actors/agent/socket_broker.hpp"

#include "actors/agent/log_aggregator.hpp"
#include "actors/agent/runner.hpp"
#include "actors/test_socket.hpp"
#include "messages/error.hpp"
#include "os/unix_socket.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace std::chrono_literals;
using namespace baton;

namespace {

/// A connection to the Unix socket at `path`.
int connect_to(const std::string& path) {
  auto fd = connect_unix(path);
  EXPECT_TRUE(fd) << render(fd.error());
  return fd ? *fd : -1;
}

/// A container's end of baton.sock.
class client : public baton::testing::frame_socket {
public:
  explicit client(const std::string& path) : frame_socket(connect_to(path)) {
    // Nothing else.
  }

  /// Handshake, registration and settings; returns the pushed state.
  run_state join(int32_t id) {
    send(wire::hello{defaults::protocol_version, "test"});
    expect<wire::welcome>();
    send(wire::register_request{id});
    expect<wire::registered>();
    expect<wire::credit>();
    send(wire::settings_report{});
    return expect<wire::state_update>().state;
  }
};

/// A stock client's end of buildkite.sock, connected.
class rpc_client : public baton::testing::test_socket {
public:
  explicit rpc_client(const std::string& path) : test_socket(connect_to(path)) {
    send_raw(rpc::connect_request);
    std::string preamble;
    EXPECT_TRUE(read_until(
      [&] {
        return rpc::check_connected(preamble).status
               != rpc::preamble_status::need_more;
      },
      [&](const char* data, size_t size) { preamble.append(data, size); }));
    auto result = rpc::check_connected(preamble);
    EXPECT_EQ(result.status, rpc::preamble_status::ok) << preamble;
    codec_.feed(preamble.data() + result.consumed,
                preamble.size() - result.consumed);
  }

  /// Calls `method` and waits for its reply.
  rpc::reply call(std::string_view method, const gob::type_ptr& type,
                  const gob::value& arg) {
    std::string out;
    auto seq = seq_++;
    EXPECT_FALSE(codec_.append_call(out, method, seq, type, arg));
    send_raw(out);
    rpc::reply rep;
    EXPECT_TRUE(read_until([&] { return codec_.next(rep); },
                           [&](const char* data, size_t size) {
                             codec_.feed(data, size);
                           }))
      << "no reply to " << method;
    EXPECT_EQ(rep.header.seq, seq);
    return rep;
  }

  rpc::reply call_int(std::string_view method, int64_t x) {
    return call(method, gob::int_type(), gob::value::integer(x));
  }

private:
  rpc::client_codec codec_;
  uint64_t seq_ = 0;
};

class socket_broker_test : public ::testing::Test {
protected:
  socket_broker_test() {
    spdlog::set_level(spdlog::level::off);
    char tmpl[] = "/tmp/baton-test-XXXXXX";
    dir = ::mkdtemp(tmpl);
    path = dir + "/baton.sock";
    rpc_path = dir + "/buildkite.sock";
  }

  ~socket_broker_test() override {
    if (broker)
      caf::anon_send(broker, atom::stop::value);
    caf::anon_send_exit(the_runner, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(aggregator, caf::exit_reason::user_shutdown);
    sys.await_all_actors_done();
    std::string cmd = "rm -rf '" + dir + "'";
    EXPECT_EQ(std::system(cmd.c_str()), 0);
  }

  void start(uint32_t containers, size_t max_frame_size = 1024) {
    runner_config rc;
    rc.containers = containers;
    rc.env = {"A=1"};
    rc.summary = false;
    aggregator = sys.spawn(log_aggregator, sink,
                           log_aggregator_config{containers, {}, {}, false});
    the_runner = sys.spawn(runner, rc, aggregator);
    auto fd = listen_unix(path);
    ASSERT_TRUE(fd) << render(fd.error());
    auto rpc_fd = listen_unix(rpc_path);
    ASSERT_TRUE(rpc_fd) << render(rpc_fd.error());
    socket_broker_config config;
    config.max_frame_size = max_frame_size;
    broker = sys.middleman().spawn_broker(socket_broker, *fd, *rpc_fd,
                                          the_runner, aggregator, config);
  }

  /// The job log once the aggregator has written everything sent to it
  /// (its answer to a status request comes after every earlier write).
  std::string log() {
    caf::scoped_actor self{sys};
    self->request(aggregator, 10s, atom::status::value)
      .receive([](std::vector<uint64_t>&) {},
               [](caf::error& err) { ADD_FAILURE() << render(err); });
    // Real time passes between a start and an exit: the step lines'
    // durations are written as 0.00s.
    static const std::regex after{R"((~~~ [^\n]* after )\d+\.\d\ds\n)"};
    return std::regex_replace(sink->data(), after, "$010.00s\n");
  }

  /// The broker's account: connections served and the receive buffer
  /// bytes they hold.
  std::pair<uint64_t, uint64_t> buffers() {
    caf::scoped_actor self{sys};
    std::pair<uint64_t, uint64_t> result;
    self->request(broker, 10s, atom::status::value)
      .receive(
        [&](uint64_t connections, uint64_t bytes, uint64_t) {
          result = {connections, bytes};
        },
        [](caf::error& err) { ADD_FAILURE() << render(err); });
    return result;
  }

  /// Messages the broker dropped for not coming from their connection's
  /// own session.
  uint64_t stale() {
    caf::scoped_actor self{sys};
    uint64_t result = 0;
    self->request(broker, 10s, atom::status::value)
      .receive([&](uint64_t, uint64_t, uint64_t dropped) { result = dropped; },
               [](caf::error& err) { ADD_FAILURE() << render(err); });
    return result;
  }

  /// Plays a session whose connection is gone: writes and closes for every
  /// handle that may be live, sent by an actor that owns none of them.
  /// Returns how many messages it sent.
  uint64_t send_as_stale_session(int max_id) {
    caf::scoped_actor stale_session{sys};
    uint64_t sent = 0;
    for (int id = 0; id <= max_id; ++id) {
      auto hdl = caf::io::connection_handle::from_int(id);
      stale_session->send(broker, atom::write::value, hdl,
                          wire::encode(wire::error_report{"x", "stale"}));
      stale_session->send(broker, atom::write::value, hdl,
                          std::string{"HTTP/1.0 405 Method Not Allowed\n\n"});
      stale_session->send(broker, atom::stream::value, hdl, true);
      stale_session->send(broker, atom::close::value, hdl);
      sent += 4;
    }
    return sent;
  }

  /// The broker's account once it serves `n` connections (10 s at most).
  std::pair<uint64_t, uint64_t> buffers_at(uint64_t n) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    auto account = buffers();
    while (account.first != n && std::chrono::steady_clock::now() < deadline)
      account = buffers();
    return account;
  }

  job_result wait_done() {
    caf::scoped_actor self{sys};
    job_result result;
    self->request(the_runner, 10s, atom::done::value)
      .receive([&](job_result& x) { result = std::move(x); },
               [&](caf::error& err) { ADD_FAILURE() << render(err); });
    return result;
  }

  baton::testing::broker_config cfg;
  caf::actor_system sys{cfg};
  std::string dir;
  std::string path;
  std::string rpc_path;
  std::shared_ptr<memory_sink> sink = std::make_shared<memory_sink>();
  runner_actor the_runner;
  log_aggregator_actor aggregator;
  socket_broker_actor broker;
};

} // namespace

TEST_F(socket_broker_test, a_client_runs_through_the_whole_protocol) {
  start(1);
  client c{path};
  EXPECT_EQ(c.join(0), run_state::start);
  c.send(wire::log_data{std::string{"out\0put\n", 8}});
  c.send(wire::heartbeat{});
  c.send(wire::exit_report{0});
  c.expect<wire::exit_ack>();
  auto result = wait_done();
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(log(), std::string("out\0put\n", 8)
                     + "~~~ Container 0 (container-0) passed after 0.00s\n");
}

TEST_F(socket_broker_test, both_dialects_take_turns_in_one_job) {
  start(2);
  rpc_client stock{rpc_path};
  client c{path};
  auto reg = stock.call_int(rpc::register_method, 1);
  EXPECT_EQ(reg.header.error, "");
  EXPECT_EQ(stock.call_int(rpc::status_method, 1).body.as_int(), 0);
  EXPECT_EQ(c.join(0), run_state::start);
  c.send(wire::log_data{"zero\n"});
  c.send(wire::exit_report{0});
  c.expect<wire::exit_ack>();
  EXPECT_EQ(stock.call_int(rpc::status_method, 1).body.as_int(), 1);
  auto logs = stock.call(rpc::write_logs_method, rpc::logs_type(),
                         rpc::to_value(rpc::logs{"one\n"}));
  EXPECT_EQ(logs.header.error, "");
  auto exit = stock.call(rpc::exit_method, rpc::exit_code_type(),
                         rpc::to_value(rpc::exit_code{1, 0}));
  EXPECT_EQ(exit.header.error, "");
  auto result = wait_done();
  EXPECT_EQ(result.status, 0);
  EXPECT_EQ(result.containers[0].protocol, dialect::baton);
  EXPECT_EQ(result.containers[1].protocol, dialect::buildkite);
  EXPECT_EQ(log(), "zero\n~~~ Container 0 (container-0) passed after 0.00s\n"
                   "one\n~~~ Container 1 (container-1) passed after 0.00s\n");
}

TEST_F(socket_broker_test, two_clients_at_once_take_turns) {
  start(2);
  client c0{path};
  client c1{path};
  EXPECT_EQ(c1.join(1), run_state::wait);
  EXPECT_EQ(c0.join(0), run_state::start);
  c0.send(wire::exit_report{0});
  c0.expect<wire::exit_ack>();
  // Pushed, not polled: the state arrives without c1 asking.
  EXPECT_EQ(c1.expect<wire::state_update>().state, run_state::start);
  c1.send(wire::exit_report{0});
  c1.expect<wire::exit_ack>();
  EXPECT_EQ(wait_done().status, 0);
}

// Containers run one at a time, so however many wait, one connection
// streams: only it reads in large pieces.
TEST_F(socket_broker_test, waiting_connections_hold_small_buffers) {
  constexpr uint64_t waiting = 200;
  constexpr auto small = socket_broker_state::small_read_size;
  constexpr auto large = socket_broker_state::stream_read_size;
  start(waiting + 1);
  std::vector<std::unique_ptr<client>> clients;
  for (uint64_t id = 1; id <= waiting; ++id) {
    clients.push_back(std::make_unique<client>(path));
    ASSERT_EQ(clients.back()->join(static_cast<int32_t>(id)), run_state::wait);
  }
  EXPECT_EQ(buffers(), std::make_pair(waiting, waiting * small));
  // Container 0 streams; the others keep waiting on small buffers.
  client first{path};
  EXPECT_EQ(first.join(0), run_state::start);
  first.send(wire::log_data{std::string(1000, 'x')});
  EXPECT_EQ(buffers(), std::make_pair(waiting + 1, waiting * small + large));
  first.send(wire::exit_report{0});
  first.expect<wire::exit_ack>();
  first.close();
  // Container 1's turn: it streams now, and container 0's buffer went
  // with its connection.
  EXPECT_EQ(clients[0]->expect<wire::state_update>().state, run_state::start);
  EXPECT_EQ(buffers_at(waiting),
            std::make_pair(waiting, (waiting - 1) * small + large));
  // The job fails as the connections go (which container is lost first
  // decides the status); every buffer goes with its connection.
  clients.clear();
  EXPECT_NE(wait_done().status, 0);
  EXPECT_EQ(buffers_at(0), std::make_pair(uint64_t{0}, uint64_t{0}));
}

// CAF's connection handle is the socket's descriptor number: once a
// connection closes, the next one gets its number. A session still
// answering the old connection must not reach the new one.
TEST_F(socket_broker_test, a_reused_handle_takes_nothing_from_the_old_session) {
  start(1);
  {
    client old_peer{path};
    old_peer.send(wire::hello{defaults::protocol_version, "test"});
    old_peer.expect<wire::welcome>();
  }
  buffers_at(0);
  // The kernel hands out the lowest free descriptors, so the new
  // connection's accepted socket takes the number the old one had.
  client peer{path};
  buffers_at(1);
  auto sent = send_as_stale_session(255);
  // The broker handles its mailbox in order: the status reply comes after
  // every stale message was dropped.
  EXPECT_EQ(stale(), sent);
  EXPECT_EQ(buffers().first, 1u);
  // The connection is open and received nothing of the stale session's:
  // its first frame is the welcome.
  EXPECT_EQ(peer.join(0), run_state::start);
  peer.send(wire::exit_report{0});
  peer.expect<wire::exit_ack>();
  EXPECT_EQ(wait_done().status, 0);
}

TEST_F(socket_broker_test, a_refusal_after_the_peer_left_reaches_no_one_else) {
  start(1);
  // A refused request whose peer hangs up at once: its session's 405 and
  // close come after the connection is gone.
  for (int i = 0; i < 20; ++i) {
    auto fd = connect_unix(rpc_path);
    ASSERT_TRUE(fd) << render(fd.error());
    std::string bad{"GET /_goRPC_ HTTP/1.0\n\n"};
    ASSERT_EQ(::write(*fd, bad.data(), bad.size()),
              static_cast<ssize_t>(bad.size()));
    ::close(*fd);
  }
  rpc_client peer{rpc_path};
  buffers_at(1);
  auto before = stale();
  auto sent = send_as_stale_session(255);
  // The refused sessions' own late replies may be counted too.
  EXPECT_GE(stale() - before, sent);
  EXPECT_EQ(buffers().first, 1u);
  // The connection is open and its first reply is its own.
  auto rep = peer.call_int(rpc::register_method, 0);
  EXPECT_EQ(rep.header.error, "");
}

TEST_F(socket_broker_test, a_malformed_frame_closes_only_that_connection) {
  start(1);
  client good{path};
  EXPECT_EQ(good.join(0), run_state::start);
  client bad{path};
  bad.send_raw(std::string{"\x00\x00\x00\x02\x2a", 5} + "{}");
  auto err = bad.expect<wire::error_report>();
  EXPECT_EQ(err.code, "unknown_frame_type");
  EXPECT_EQ(err.message, "unknown frame type 42 (expected 1 to 16)");
  EXPECT_TRUE(bad.expect_eof());
  good.send(wire::log_data{"still here"});
  good.send(wire::exit_report{0});
  good.expect<wire::exit_ack>();
  EXPECT_EQ(wait_done().status, 0);
  EXPECT_EQ(log(), "still here\n"
                   "~~~ Container 0 (container-0) passed after 0.00s\n");
}

// Many frames in one write reach the session together and the job log in
// order; a malformed frame after them in the same write drops the
// connection only after the good ones were passed on.
TEST_F(socket_broker_test, frames_in_one_write_arrive_in_order) {
  start(2);
  client c0{path};
  EXPECT_EQ(c0.join(0), run_state::start);
  std::vector<char> buf;
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    auto line = "line " + std::to_string(i) + "\n";
    expected += line;
    wire::append(buf, wire::encode(wire::log_data{line}));
  }
  wire::append(buf, wire::encode(wire::exit_report{0}));
  c0.send_raw(std::string{buf.begin(), buf.end()});
  c0.expect<wire::exit_ack>();
  expected += "~~~ Container 0 (container-0) passed after 0.00s\n";
  EXPECT_EQ(log(), expected);
  client c1{path};
  EXPECT_EQ(c1.join(1), run_state::start);
  buf.clear();
  wire::append(buf, wire::encode(wire::log_data{"kept"}));
  c1.send_raw(std::string{buf.begin(), buf.end()}
              + std::string{"\x00\x00\x00\x02\x2a", 5} + "{}");
  EXPECT_EQ(c1.expect<wire::error_report>().code, "unknown_frame_type");
  EXPECT_TRUE(c1.expect_eof());
  EXPECT_EQ(wait_done().containers[1].state, container_state::lost);
  EXPECT_EQ(log(), expected
                     + "kept\n~~~ Container 1 (container-1) was lost: unknown "
                       "frame type 42 (expected 1 to 16)\n");
}

TEST_F(socket_broker_test, an_oversized_frame_is_refused_before_its_body) {
  start(1, 1024);
  client c{path};
  c.send_raw(std::string{"\x00\x00\x04\x01\x06", 5});
  auto err = c.expect<wire::error_report>();
  EXPECT_EQ(err.code, "frame_too_large");
  EXPECT_EQ(err.message,
            "frame of 1025 bytes exceeds the maximum of 1024 bytes");
  EXPECT_TRUE(c.expect_eof());
}

TEST_F(socket_broker_test, a_dropped_connection_is_lost_at_once) {
  start(2);
  client c0{path};
  client c1{path};
  c0.join(0);
  c1.join(1);
  c0.send(wire::log_data{"partial"});
  c0.close();
  // No lost timeout passes: the close alone ends the job.
  auto result = wait_done();
  EXPECT_EQ(result.status, defaults::lost_status);
  EXPECT_EQ(result.containers[0].state, container_state::lost);
  // Container 1 is not an always-step: it is skipped, which the job log
  // says in its place.
  EXPECT_EQ(c1.expect<wire::state_update>().state, run_state::skip);
  EXPECT_EQ(log(), "partial\n~~~ Container 0 (container-0) was lost: "
                   "connection closed before its exit status\n"
                   "~~~ Skipping container 1 (container-1): an earlier step "
                   "failed (BATON_ALWAYS=true would run it anyway)\n"
                   "~~~ Container 1 (container-1) was skipped\n");
}

TEST_F(socket_broker_test, a_truncated_frame_is_reported_on_close) {
  start(1);
  client c{path};
  c.join(0);
  c.send_raw(std::string{"\x00\x00\x00\x10\x06", 5} + "abc");
  c.close();
  auto result = wait_done();
  EXPECT_EQ(result.containers[0].state, container_state::lost);
  EXPECT_EQ(result.reason, "container 0 (container-0) lost: stream ended "
                           "inside a log frame: got 3 of 16 body bytes");
}

TEST_F(socket_broker_test, the_socket_is_connectable_by_every_uid) {
  start(1);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0777u);
}

TEST_F(socket_broker_test, a_live_socket_is_not_stolen) {
  start(1);
  auto second = listen_unix(path);
  ASSERT_FALSE(second);
  EXPECT_EQ(render(second.error()),
            "another agent is already listening on '" + path + "'");
}

TEST(unix_socket, a_stale_socket_is_replaced) {
  char tmpl[] = "/tmp/baton-test-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  auto path = dir + "/baton.sock";
  auto first = listen_unix(path);
  ASSERT_TRUE(first);
  ::close(*first); // The agent died; its socket file stays.
  auto second = listen_unix(path);
  ASSERT_TRUE(second) << render(second.error());
  auto fd = connect_unix(path);
  EXPECT_TRUE(fd);
  ::close(*fd);
  ::close(*second);
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

TEST(unix_socket, errors_name_the_path) {
  std::string long_path = "/tmp/" + std::string(200, 'x') + "/baton.sock";
  auto fd = listen_unix(long_path);
  ASSERT_FALSE(fd);
  EXPECT_EQ(code_of(fd.error()), ec::socket_error);
  EXPECT_NE(render(fd.error()).find("is too long: 216 bytes, at most 107"),
            std::string::npos)
    << render(fd.error());
  fd = listen_unix("/nonexistent-dir/baton.sock");
  ASSERT_FALSE(fd);
  EXPECT_EQ(render(fd.error()),
            "cannot create the socket '/nonexistent-dir/baton.sock': "
            "directory '/nonexistent-dir': No such file or directory");
  fd = listen_unix("/etc/hostname");
  ASSERT_FALSE(fd);
  EXPECT_EQ(render(fd.error()),
            "'/etc/hostname' exists and is not a socket; refusing to replace "
            "it");
}
