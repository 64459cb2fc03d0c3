#pragma once

// What the session tests share: a job with a real runner and log aggregator
// writing to memory, and the sessions' configuration, on the deterministic
// test coordinator.

#include "actors/agent/log_aggregator.hpp"
#include "actors/agent/runner.hpp"
#include "actors/agent/session.hpp"
#include "actors/test_fixture.hpp"
#include "messages/rpc.hpp"

#include <algorithm>
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
    make_job(log_aggregator_config{containers, std::move(secrets), {}, false},
             std::move(env));
  }

  /// A new job whose job log is written as `log` says.
  void make_job(log_aggregator_config log, std::vector<std::string> env = {}) {
    runner_config rc;
    rc.containers = log.containers;
    rc.env = std::move(env);
    // The runner's tests cover the summary; here it would only pad logs.
    rc.summary = false;
    aggregator = spawn(log_aggregator, sink, std::move(log));
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

  /// The bytes of container `id`'s own output in the job log.
  uint64_t logged(size_t id) {
    auto bytes
      = request<std::vector<uint64_t>>(aggregator, atom::status::value)->get();
    return bytes.at(id);
  }

  /// Whether the job log holds only the agent's line saying container 0
  /// was lost, and none of its output.
  bool only_lost_line() {
    return logged(0) == 0
           && sink->data().rfind("~~~ Container 0 (container-0) was lost: ", 0)
                == 0
           && std::count(sink->data().begin(), sink->data().end(), '\n') == 1;
  }

  job_result status() {
    return request<job_result>(the_runner, atom::status::value)->get();
  }

  std::shared_ptr<memory_sink> sink = std::make_shared<memory_sink>();
  runner_actor the_runner;
  log_aggregator_actor aggregator;
  session_config config;
};

} // namespace baton::testing
