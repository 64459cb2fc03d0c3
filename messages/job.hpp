#pragma once

#include <caf/meta/type_name.hpp>

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace baton {

/// What a container should do now, as the runner tells it.
enum class run_state : uint8_t {
  /// Not its turn yet.
  wait,
  /// Its turn: run the command.
  start,
  /// The job is cancelled: interrupt the command (or never start it).
  interrupt,
  /// The job is over: stop now.
  shutdown,
};

/// Where the runner sees a container (reference: ClientState).
enum class container_state : uint8_t {
  not_yet_connected,
  connected,
  exited,
  lost,
};

/// The protocol a container speaks with the agent.
enum class dialect : uint8_t {
  /// baton's own framed protocol on baton.sock.
  baton,
  /// The reference's RPC (Go net/rpc and gob) on buildkite.sock.
  buildkite,
};

const char* to_string(run_state x);

const char* to_string(dialect x);

const char* to_string(container_state x);

/// Parses the names `to_string` produces; false if `str` is none of them.
bool from_string(const std::string& str, run_state& x);

/// What a container says of itself when it registers.
struct registration {
  int32_t id = 0;
  dialect protocol = dialect::baton;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, registration& x) {
  return f(caf::meta::type_name("registration"), x.id, x.protocol);
}

/// One container as the job status and the result file show it.
struct container_status {
  uint32_t id = 0;
  container_state state = container_state::not_yet_connected;
  /// Meaningful once the container registered.
  dialect protocol = dialect::baton;
  /// Meaningful only when `state == exited`.
  int32_t exit_status = 0;
  /// Bytes of this container's output written to the job log.
  uint64_t log_bytes = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, container_status& x) {
  return f(caf::meta::type_name("container_status"), x.id, x.state,
           x.protocol, x.exit_status, x.log_bytes);
}

/// The job as a whole: a snapshot while it runs, the result once done.
struct job_result {
  /// The aggregate wait status (reference: Runner.WaitStatus).
  int32_t status = 0;
  /// At least one container has registered.
  bool started = false;
  /// The job was interrupted (cancelled).
  bool interrupted = false;
  /// The job was terminated (stopped now), by failure or by request.
  bool terminated = false;
  /// Every container exited or was lost, or the job was terminated.
  bool done = false;
  /// Why the job ended (or "running").
  std::string reason;
  std::vector<container_status> containers;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_result& x) {
  return f(caf::meta::type_name("job_result"), x.status, x.started,
           x.interrupted, x.terminated, x.done, x.reason, x.containers);
}

/// Renders the result as the result file's JSON document:
/// `{"status", "started", "done", "interrupted", "terminated", "reason",
/// "containers": [{"id", "state", "protocol", "exit_status",
/// "log_bytes"}]}`; `exit_status` is null unless exited, `protocol`
/// ("baton" or "buildkite") null until the container registered.
nlohmann::json to_json(const job_result& x);

/// Maps an aggregate wait status to a process exit status: 0-255 as is,
/// 255 for the negative ones (lost, never connected).
int exit_status_for(int32_t wait_status);

} // namespace baton
