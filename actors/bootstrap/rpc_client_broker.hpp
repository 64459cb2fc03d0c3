#pragma once

#include "actors/actors.hpp"
#include "actors/bootstrap/bootstrap.hpp"
#include "messages/rpc.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/timespan.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace baton {

/// How often a bootstrap polls a stock runner's Status: the reference's
/// client polls every 1 s, which makes each hand-off wait 0.5 s on
/// average; 100 ms makes them 10x faster for a trivial load on the runner.
constexpr caf::timespan rpc_status_poll = std::chrono::milliseconds{100};

struct rpc_client_broker_state {
  static constexpr const char* name = "rpc-client-broker";

  /// What a call in flight was for.
  enum class call_kind : uint8_t { register_, status, write_logs, exit };

  struct pending_call {
    call_kind kind;
    /// WriteLogs: the bytes it carries, granted back once answered.
    uint64_t bytes = 0;
  };

  bootstrap_actor bootstrap;
  caf::io::connection_handle hdl;
  int32_t id = -1;
  /// Waiting for the server's "200 Connected to Go RPC".
  bool connecting = true;
  /// Bytes of the server's answer received so far.
  std::string preamble;
  rpc::client_codec codec;
  uint64_t next_seq = 0;
  std::map<uint64_t, pending_call> calls;
  /// Registered with the runner: Status polls run.
  bool registered = false;
  bool status_in_flight = false;
  /// The run state last passed on to the bootstrap.
  std::optional<run_state> last_state;
  /// At most one WriteLogs call is in flight: the stock server answers each
  /// call in a goroutine of its own, so a second could overtake the first.
  bool logs_in_flight = false;
  /// Output that arrived while a WriteLogs call was in flight: the next
  /// call sends it all at once.
  std::string pending_logs;
  /// The exit status the bootstrap reported, sent once the logs are out.
  std::optional<int32_t> exit_status;
  bool exit_sent = false;
  bool done = false;
};

using rpc_client_broker_ptr
  = caf::stateful_actor<rpc_client_broker_state, rpc_client_broker_impl>*;

/// Spawns with `middleman().spawn_broker(rpc_client_broker, fd, runner,
/// config)`, where `fd` is connected to a stock runner's buildkite.sock.
/// Spawns the bootstrap actor for that connection and quits when it does.
rpc_client_broker_impl::behavior_type
rpc_client_broker(rpc_client_broker_ptr self, int fd, command_runner_ptr runner,
                  bootstrap_config config);

} // namespace baton
