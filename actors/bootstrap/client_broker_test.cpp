// The bootstrap's two brokers over a real socket pair: the test thread
// plays the agent (baton's frames) or a stock runner (the reference's
// net/rpc), the broker and the bootstrap actor run in a real actor system,
// and a recording command runner stands in for the command.

#include "actors/bootstrap/client_broker.hpp"
#include "actors/bootstrap/rpc_client_broker.hpp"

#include "actors/test_socket.hpp"
#include "messages/atoms.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>
#include <caf/send.hpp>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <future>
#include <mutex>
#include <string>

#include <sys/socket.h>

using namespace std::chrono_literals;
using namespace baton;
using baton::testing::frame_socket;
using baton::testing::rpc_server_socket;

namespace {

/// Records the command's start; the test plays its exit through the
/// bootstrap handle it was given.
class recording_runner : public command_runner {
public:
  caf::error start(const command_spec& spec, bootstrap_actor self) override {
    std::lock_guard<std::mutex> guard{mtx_};
    argv_ = spec.argv;
    started_.set_value(std::move(self));
    return {};
  }

  void grant(uint64_t) override {
    // Output credit: the command here writes nothing.
  }

  void signal(int signo) override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!signalled_) {
      signalled_ = true;
      signal_.set_value(signo);
    }
  }

  void stop_output() override {
    // No output to stop.
  }

  /// The bootstrap that started the command, once it did (or a null handle
  /// after the deadline).
  bootstrap_actor started() {
    if (started_future_.wait_for(10s) != std::future_status::ready)
      return {};
    return started_future_.get();
  }

  /// The first signal sent to the command (0 after the deadline).
  int first_signal() {
    if (signal_future_.wait_for(10s) != std::future_status::ready)
      return 0;
    return signal_future_.get();
  }

private:
  std::mutex mtx_;
  std::vector<std::string> argv_;
  bool signalled_ = false;
  std::promise<int> signal_;
  std::future<int> signal_future_ = signal_.get_future();
  std::promise<bootstrap_actor> started_;
  std::future<bootstrap_actor> started_future_ = started_.get_future();
};

class client_broker_test : public ::testing::Test {
protected:
  client_broker_test() {
    spdlog::set_level(spdlog::level::off);
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    bootstrap_fd = fds[0];
    agent_fd = fds[1];
  }

  bootstrap_config config() {
    bootstrap_config cfg;
    cfg.container_id = 0;
    cfg.command = {"make", "test"};
    cfg.own_env = {{"PATH", "/bin"}};
    cfg.job_context_dir = "/ctx";
    cfg.bin_path = "/opt/baton/bin";
    cfg.scratch_dir = "/tmp";
    cfg.stdout_fd = -1;
    cfg.on_done = [this](int code) { done.set_value(code); };
    return cfg;
  }

  /// The bootstrap's exit code, or nothing within the deadline.
  std::optional<int> exit_code() {
    if (done_future.wait_for(10s) != std::future_status::ready)
      return std::nullopt;
    return done_future.get();
  }

  baton::testing::broker_config cfg;
  caf::actor_system sys{cfg};
  int bootstrap_fd = -1;
  int agent_fd = -1;
  std::shared_ptr<recording_runner> runner
    = std::make_shared<recording_runner>();
  std::promise<int> done;
  std::future<int> done_future = done.get_future();
};

} // namespace

// -- baton's frames -----------------------------------------------------------

TEST_F(client_broker_test, frames_pass_both_ways_through_a_whole_step) {
  frame_socket agent{agent_fd};
  sys.middleman().spawn_broker(client_broker, bootstrap_fd, runner, config());
  EXPECT_EQ(agent.expect<wire::hello>().version, defaults::protocol_version);
  agent.send(wire::welcome{defaults::protocol_version, 1000});
  EXPECT_EQ(agent.expect<wire::register_request>().id, 0);
  agent.send(wire::registered{{"A=1"}});
  agent.send(wire::credit{defaults::log_window});
  agent.expect<wire::settings_report>();
  agent.send(wire::state_update{run_state::start});
  auto command = runner->started();
  ASSERT_TRUE(command);
  caf::anon_send(command, atom::eof::value);
  caf::anon_send(command, atom::exit::value, int32_t{0});
  // The header line comes first, then the status.
  auto msg = agent.receive();
  while (msg && !std::holds_alternative<wire::exit_report>(*msg))
    msg = agent.receive();
  ASSERT_TRUE(msg);
  EXPECT_EQ(std::get<wire::exit_report>(*msg).status, 0);
  agent.send(wire::exit_ack{});
  EXPECT_EQ(exit_code(), 0);
  EXPECT_TRUE(agent.expect_eof());
}

TEST_F(client_broker_test, a_bad_frame_from_the_agent_ends_the_bootstrap) {
  frame_socket agent{agent_fd};
  sys.middleman().spawn_broker(client_broker, bootstrap_fd, runner, config());
  agent.expect<wire::hello>();
  // "HTTP/1.0 405": what a reply meant for another connection looks like.
  agent.send_raw("HTTP/1.0 405 Method Not Allowed\n\n");
  EXPECT_EQ(exit_code(), defaults::not_started_status);
  EXPECT_TRUE(agent.expect_eof());
}

TEST_F(client_broker_test, a_close_inside_a_frame_ends_the_bootstrap) {
  frame_socket agent{agent_fd};
  sys.middleman().spawn_broker(client_broker, bootstrap_fd, runner, config());
  agent.expect<wire::hello>();
  agent.send_raw(std::string{"\0\0\0\x10\x02", 5});
  agent.close();
  EXPECT_EQ(exit_code(), defaults::not_started_status);
}

TEST_F(client_broker_test, losing_the_agent_mid_step_cancels_the_command) {
  frame_socket agent{agent_fd};
  sys.middleman().spawn_broker(client_broker, bootstrap_fd, runner, config());
  agent.expect<wire::hello>();
  agent.send(wire::welcome{defaults::protocol_version, 1000});
  agent.expect<wire::register_request>();
  agent.send(wire::registered{{}});
  agent.send(wire::credit{defaults::log_window});
  agent.expect<wire::settings_report>();
  agent.send(wire::state_update{run_state::start});
  auto command = runner->started();
  ASSERT_TRUE(command);
  agent.close();
  EXPECT_EQ(runner->first_signal(), SIGTERM);
  caf::anon_send(command, atom::eof::value);
  caf::anon_send(command, atom::exit::value, int32_t{143});
  EXPECT_EQ(exit_code(), 143);
}

// -- the reference's net/rpc --------------------------------------------------

TEST_F(client_broker_test, a_stock_runner_serves_a_whole_step) {
  rpc_server_socket runner_end{agent_fd};
  sys.middleman().spawn_broker(rpc_client_broker, bootstrap_fd, runner,
                               config());
  EXPECT_EQ(runner_end.read_connect(), rpc::connect_request);
  runner_end.send_raw(rpc::connected_response);
  auto reg = runner_end.next_call();
  ASSERT_TRUE(reg);
  EXPECT_EQ(reg->header.service_method, rpc::register_method);
  EXPECT_EQ(reg->body.as_int(), 0);
  runner_end.reply(*reg, rpc::register_response_type(),
                   rpc::to_value(rpc::register_response{{"A=1"}}));
  // The client polls Status until its turn.
  auto status = runner_end.next_call();
  ASSERT_TRUE(status);
  EXPECT_EQ(status->header.service_method, rpc::status_method);
  runner_end.reply(*status, gob::int_type(),
                   rpc::to_value(rpc::run_state::start));
  auto command = runner->started();
  ASSERT_TRUE(command);
  caf::anon_send(command, atom::eof::value);
  caf::anon_send(command, atom::exit::value, int32_t{3});
  // Status polls and the header's WriteLogs come and are answered, until
  // the Exit.
  std::optional<rpc::call> call;
  while ((call = runner_end.next_call())
         && call->header.service_method != rpc::exit_method) {
    if (call->header.service_method == rpc::status_method)
      runner_end.reply(*call, gob::int_type(),
                       rpc::to_value(rpc::run_state::start));
    else
      runner_end.reply(*call, rpc::empty_type(), rpc::to_value(rpc::empty{}));
  }
  ASSERT_TRUE(call);
  rpc::exit_code x;
  ASSERT_FALSE(rpc::from_value(call->body, x));
  EXPECT_EQ(x.id, 0);
  EXPECT_EQ(x.exit_status, 3);
  runner_end.reply(*call, rpc::empty_type(), rpc::to_value(rpc::empty{}));
  EXPECT_EQ(exit_code(), 3);
}

TEST_F(client_broker_test, a_refused_connect_ends_the_bootstrap) {
  rpc_server_socket runner_end{agent_fd};
  sys.middleman().spawn_broker(rpc_client_broker, bootstrap_fd, runner,
                               config());
  runner_end.read_connect();
  runner_end.send_raw("HTTP/1.0 404 Not Found\n\n");
  EXPECT_EQ(exit_code(), defaults::not_started_status);
}

TEST_F(client_broker_test, a_refused_registration_ends_the_bootstrap) {
  rpc_server_socket runner_end{agent_fd};
  sys.middleman().spawn_broker(rpc_client_broker, bootstrap_fd, runner,
                               config());
  runner_end.read_connect();
  runner_end.send_raw(rpc::connected_response);
  auto reg = runner_end.next_call();
  ASSERT_TRUE(reg);
  runner_end.reply(*reg, rpc::empty_type(), rpc::to_value(rpc::empty{}),
                   "client id 0 already registered");
  EXPECT_EQ(exit_code(), defaults::not_started_status);
}

TEST_F(client_broker_test, garbage_from_a_stock_runner_ends_the_bootstrap) {
  rpc_server_socket runner_end{agent_fd};
  sys.middleman().spawn_broker(rpc_client_broker, bootstrap_fd, runner,
                               config());
  runner_end.read_connect();
  // A gob byte count of 4 GiB: refused on its five bytes.
  runner_end.send_raw(std::string{rpc::connected_response}
                      + "\xfc\xff\xff\xff\xff");
  EXPECT_EQ(exit_code(), defaults::not_started_status);
}
