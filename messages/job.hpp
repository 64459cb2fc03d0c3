#pragma once

#include <caf/meta/type_name.hpp>

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>
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
  /// The job failed and this container is not an always-step: do not run
  /// the command (beyond the reference, which has no such state).
  skip,
};

/// Where the runner sees a container (reference: ClientState, plus
/// `skipped`).
enum class container_state : uint8_t {
  not_yet_connected,
  connected,
  exited,
  lost,
  /// Its turn came after a failure and it is not an always-step.
  skipped,
  /// A service whose readiness check passed: the steps may run.
  ready,
  /// A service the job stopped once its steps were done (or the job was
  /// terminated): whatever its command's status, it did its part.
  stopped,
};

/// A deadline of the bootstrap's command, each a delayed message the
/// bootstrap sends itself.
enum class deadline : uint8_t {
  /// The cancel signal timed out: send SIGKILL.
  cancel_signal,
  /// Even SIGKILL did not end the command within the cleanup timeout: give
  /// up on it.
  cleanup,
  /// The command exited but something still holds its output open: stop
  /// waiting for it.
  output_drain,
  /// The step ran past its BATON_TIMEOUT.
  step_timeout,
  /// A service's readiness check is due again.
  ready_retry,
  /// A service was not ready within its BATON_READY_TIMEOUT.
  ready_timeout,
};

/// The protocol a container speaks with the agent.
enum class dialect : uint8_t {
  /// baton's own framed protocol on baton.sock.
  baton,
  /// The reference's RPC (Go net/rpc and gob) on buildkite.sock.
  buildkite,
};

/// Why a container's step ended, as the result file's `reason` and the
/// step line in the job log say it. docs/design.md says how each is
/// decided.
enum class step_reason : uint8_t {
  /// Not ended yet (the result file says null).
  none,
  passed,
  failed,
  soft_failed,
  /// Killed by a signal it did not catch (the bootstrap saw it in waitpid).
  signaled,
  /// Killed by SIGKILL while its cgroup's OOM-kill counter rose.
  oom_killed,
  /// Ran past its BATON_TIMEOUT.
  timed_out,
  lost,
  never_connected,
  skipped,
  /// Told to stop (an interrupt, or another step's failure) before it
  /// ended.
  cancelled,
  /// A service stopped because the steps were done or the job terminated.
  stopped,
};

/// Where the job log puts a container's output.
enum class log_mode : uint8_t {
  /// Byte-exact, as it comes: a step running on its own.
  direct,
  /// Whole lines only, each prefixed "[<name>] ": a service streaming into
  /// the job log beside the steps (BATON_SERVICE_LOG=job), a member of a
  /// parallel group.
  prefixed,
  /// Whole lines only, without a prefix: a step running while prefixed
  /// containers stream beside it, so that lines are never mixed.
  lines,
  /// Not written: only the last lines are kept, for the job log to show if
  /// the container fails (a service without BATON_SERVICE_LOG=job).
  tail,
};

const char* to_string(run_state x);

/// The result file's names: "passed", "soft_failed", ...; "none" for none.
const char* to_string(step_reason x);

const char* to_string(container_state x);

const char* to_string(dialect x);

const char* to_string(deadline x);

const char* to_string(log_mode x);

/// Parses the names `to_string` produces; false if `str` is none of them.
bool from_string(const std::string& str, run_state& x);

/// Parses the names `to_string` produces; false if `str` is none of them.
bool from_string(const std::string& str, dialect& x);

/// How a container's step counts and when it runs, from its BATON_ALWAYS
/// and BATON_SOFT_FAIL (see job/steps.hpp). The defaults are the
/// reference's behaviour.
struct step_settings {
  /// The names of the members in the settings frame (wire.hpp). They live
  /// here, not in job/'s table of step settings, because the wire codec may
  /// not include job/; that table names its wire fields with these.
  static constexpr const char* always_field = "always";
  static constexpr const char* soft_fail_field = "soft_fail";
  static constexpr const char* service_field = "service";
  static constexpr const char* log_field = "service_log";
  static constexpr const char* group_field = "group";
  static constexpr const char* fail_fast_field = "fail_fast";

  /// Runs even after a failure or an interrupt.
  bool always = false;
  /// Any non-zero status is a soft failure.
  bool soft_fail_any = false;
  /// These statuses are soft failures.
  std::vector<int32_t> soft_fail;
  /// Runs beside the steps, outside the turn order, until they are done
  /// (BATON_SERVICE).
  bool service = false;
  /// A service's output goes into the job log too (BATON_SERVICE_LOG=job).
  bool log_to_job = false;
  /// Runs at once beside the consecutive containers of the same group
  /// (BATON_GROUP); empty: a group of its own.
  std::string group{};
  /// The group's first hard failure cancels its running members
  /// (BATON_GROUP_FAIL_FAST).
  bool fail_fast = false;

  /// True if exiting with `status` is a soft failure.
  bool soft_fails(int32_t status) const;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, step_settings& x) {
  return f(caf::meta::type_name("step_settings"), x.always, x.soft_fail_any,
           x.soft_fail, x.service, x.log_to_job, x.group, x.fail_fast);
}

/// What a container says of itself when it registers.
struct registration {
  registration() = default;

  /// With its settings known: the reference's behaviour.
  registration(int32_t id, dialect protocol) : id(id), protocol(protocol) {
    // nop
  }

  int32_t id = 0;
  dialect protocol = dialect::baton;
  /// False: the settings follow once the bootstrap merged the job
  /// environment (baton's protocol from version 2); until then the
  /// container's turn waits.
  bool configured = true;
  step_settings settings;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, registration& x) {
  return f(caf::meta::type_name("registration"), x.id, x.protocol, x.configured,
           x.settings);
}

/// What the runner tells a container: its run state and, when its turn
/// starts, what its command needs to know of the job so far.
struct turn {
  run_state state = run_state::wait;
  /// With `start`: job variables added since the container registered
  /// (outputs of earlier steps), as KEY=VALUE, in the order they came.
  std::vector<std::string> env;
  /// With `start`: "passed", "failed" or "cancelled".
  std::string job_result;
  /// With `start`: the job's status so far.
  int32_t job_status = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, turn& x) {
  return f(caf::meta::type_name("turn"), x.state, x.env, x.job_result,
           x.job_status);
}

/// How a container's step ended, as its bootstrap reports it.
struct step_exit {
  step_exit() = default;

  explicit step_exit(int32_t status, bool timed_out = false,
                     std::vector<std::string> outputs = {})
    : status(status), timed_out(timed_out), outputs(std::move(outputs)) {
    // nop
  }

  /// The command's exit status (128+N if killed by signal N).
  int32_t status = 0;
  /// The command ran past its BATON_TIMEOUT and was cancelled.
  bool timed_out = false;
  /// What the command wrote to $BATON_ENV, as KEY=VALUE.
  std::vector<std::string> outputs;
  /// The signal that killed the command, such as "SIGSEGV"; empty if it
  /// exited (a command that exits 139 itself was not killed). Stock
  /// clients report only a status.
  std::string signal;
  /// Killed by SIGKILL while its cgroup's OOM-kill counter rose.
  bool oom_killed = false;
  /// Its cgroup's memory limit in bytes; 0 if unknown or none.
  uint64_t memory_limit = 0;
  /// With `timed_out`: its BATON_TIMEOUT, in milliseconds.
  int64_t timeout_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, step_exit& x) {
  return f(caf::meta::type_name("step_exit"), x.status, x.timed_out, x.outputs,
           x.signal, x.oom_killed, x.memory_limit, x.timeout_ms);
}

/// Output of one container as one read of its command returned it: the
/// bytes and when they were read (ns since the epoch, for timestamped
/// lines).
struct log_piece {
  int64_t read_ns = 0;
  std::string bytes;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, log_piece& x) {
  return f(caf::meta::type_name("log_piece"), x.read_ns, x.bytes);
}

/// Pieces of one container's output that arrived together, in order.
using log_batch = std::vector<log_piece>;

/// One container as the job status and the result file show it.
struct container_status {
  uint32_t id = 0;
  /// Its Kubernetes container name (`--container-names`).
  std::string name;
  container_state state = container_state::not_yet_connected;
  /// Meaningful once the container registered.
  dialect protocol = dialect::baton;
  /// Meaningful only when `state == exited`.
  int32_t exit_status = 0;
  /// Bytes of this container's output written to the job log.
  uint64_t log_bytes = 0;
  /// Its failure did not fail the job (BATON_SOFT_FAIL).
  bool soft_failed = false;
  /// It ran past its BATON_TIMEOUT.
  bool timed_out = false;
  /// It is an always-step (BATON_ALWAYS).
  bool always = false;
  /// It is a service (BATON_SERVICE), known from its settings or the
  /// agent's `--services`.
  bool service = false;
  /// A service's time from its start to its readiness; negative if it was
  /// never ready.
  int64_t ready_after_ns = -1;
  /// The parallel group it runs in (BATON_GROUP); empty if none.
  std::string group{};
  /// The names (never the values) of the variables it passed on.
  std::vector<std::string> outputs;
  /// Why its step ended; `none` while it has not.
  step_reason reason = step_reason::none;
  /// The signal that killed its command ("SIGSEGV"), or empty.
  std::string signal;
  /// With `oom_killed`: its memory limit in bytes, 0 if unknown.
  uint64_t memory_limit = 0;
  /// With `timed_out`: its BATON_TIMEOUT in milliseconds.
  int64_t timeout_ms = 0;
  /// With `lost`: why.
  std::string lost_why;
  /// When its step started and ended (ns since the epoch); 0 if it did not.
  int64_t started_ns = 0;
  int64_t finished_ns = 0;
  /// How long its step took (by the agent's clock); negative if it did not
  /// run, or runs still.
  int64_t duration_ns = -1;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, container_status& x) {
  return f(caf::meta::type_name("container_status"), x.id, x.name, x.state,
           x.protocol, x.exit_status, x.log_bytes, x.soft_failed, x.timed_out,
           x.always, x.service, x.ready_after_ns, x.group, x.outputs, x.reason,
           x.signal, x.memory_limit, x.timeout_ms, x.lost_why, x.started_ns,
           x.finished_ns, x.duration_ns);
}

/// The job as a whole: a snapshot while it runs, the result once done.
struct job_result {
  /// The aggregate wait status (reference: Runner.WaitStatus).
  int32_t status = 0;
  /// "passed", "failed" or "cancelled" (or "running").
  std::string result = "running";
  /// At least one container has registered.
  bool started = false;
  /// The job was interrupted (cancelled).
  bool interrupted = false;
  /// The job was terminated (stopped for every step that is not an
  /// always-step), by failure or by request.
  bool terminated = false;
  /// Every container exited, was lost or skipped, or the job was
  /// terminated.
  bool done = false;
  /// Why the job ended (or "running").
  std::string reason;
  /// How long the job has run, or ran (by the agent's clock).
  int64_t duration_ns = 0;
  std::vector<container_status> containers;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, job_result& x) {
  return f(caf::meta::type_name("job_result"), x.status, x.result, x.started,
           x.interrupted, x.terminated, x.done, x.reason, x.duration_ns,
           x.containers);
}

/// Renders the result as the result file's JSON document:
/// `{"status", "result", "started", "done", "interrupted", "terminated",
/// "reason", "duration_ms", "containers": [{"id", "name", "state",
/// "role", "group", "protocol", "exit_status", "reason", "signal",
/// "started_at", "finished_at", "duration_ms", "ready_after_ms", "log_bytes",
/// "soft_failed", "timed_out", "always", "outputs"}]}`; `role` is "step" or
/// "service", `group` null unless it ran in a group, `ready_after_ms` null
/// unless a service was ready,
/// `exit_status` is null unless exited (or stopped),
/// `protocol` ("baton" or "buildkite") null until the container
/// registered, a container's `reason`, `signal`, times and duration null
/// until known. Times are RFC 3339 in UTC with milliseconds.
nlohmann::json to_json(const job_result& x);

/// True if `name` can name an environment variable: a letter or '_', then
/// letters, digits and '_'.
bool is_variable_name(std::string_view name);

/// Maps an aggregate wait status to a process exit status: 0-255 as is,
/// 255 for the negative ones (lost, never connected).
int exit_status_for(int32_t wait_status);

} // namespace baton
