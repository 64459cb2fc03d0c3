#pragma once

// What the session tests share: a job with a real runner and log aggregator
// writing to memory, and the sessions' configuration, on the deterministic
// test coordinator.

#include "actors/agent/log_aggregator.hpp"
#include "actors/agent/runner.hpp"
#include "actors/agent/session.hpp"
#include "actors/test_fixture.hpp"
#include "messages/rpc.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace baton::testing {

class session_fixture : public actor_fixture {
protected:
  session_fixture() {
    using namespace std::chrono_literals;
    make_job(2);
    config.lost_timeout = 30s;
    config.heartbeat_interval = 1s;
    config.log_window = 4096;
    config.handshake_timeout = 10s;
  }

  /// A new job of `containers`, replacing the one before.
  void make_job(uint32_t containers, std::vector<std::string> env = {},
                std::vector<std::string> secrets = {}) {
    runner_config rc;
    rc.containers = containers;
    rc.env = std::move(env);
    aggregator = spawn(
      log_aggregator, sink,
      log_aggregator_config{rc.containers, std::move(secrets), {}, false});
    the_runner = spawn(runner, rc, aggregator);
  }

  /// A connection: the session, the peer double recording what it wrote,
  /// and for the reference's dialect the client's own codec, which encodes
  /// calls and decodes what the session wrote.
  struct conn {
    session_actor session;
    session_peer_actor peer;
    std::shared_ptr<rpc::client_codec> codec
      = std::make_shared<rpc::client_codec>();
    /// Bytes of the session's output decoded so far.
    std::shared_ptr<size_t> read = std::make_shared<size_t>(0);
    /// The sequence number of the next call.
    std::shared_ptr<uint64_t> seq = std::make_shared<uint64_t>(0);
  };

  job_result status() {
    return request<job_result>(the_runner, atom::status::value)->get();
  }

  std::shared_ptr<memory_sink> sink = std::make_shared<memory_sink>();
  runner_actor the_runner;
  log_aggregator_actor aggregator;
  session_config config;
};

} // namespace baton::testing
