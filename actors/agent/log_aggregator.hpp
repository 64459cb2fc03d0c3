#pragma once

#include "actors/actors.hpp"
#include "job/redactor.hpp"
#include "job/steps.hpp"
#include "os/log_sink.hpp"

#include <caf/stateful_actor.hpp>

#include <cstdint>
#include <vector>

namespace baton {

struct log_aggregator_config {
  /// Number of containers; their ids are 0..containers-1.
  uint32_t containers = 0;
  /// Values to redact from the start.
  std::vector<std::string> secrets;
  /// The redaction patterns (BUILDKITE_REDACTED_VARS): the values of job
  /// variables added later whose names match are redacted too.
  std::vector<std::string> patterns;
  /// Start every line with the time it was read from its command.
  bool timestamp_lines = false;
};

struct log_aggregator_state {
  static constexpr const char* name = "log-aggregator";

  log_sink_ptr sink;
  std::vector<std::string> patterns;
  bool timestamp_lines = false;
  /// Bytes written per container.
  std::vector<uint64_t> bytes;
  /// Bytes of the agent's own lines (step lines, skips, the summary).
  uint64_t agent_bytes = 0;
  /// One redactor per container: secrets may be split across its chunks.
  std::vector<redactor> redactors;
  /// One per container, with timestamped lines: a line may be split too.
  std::vector<line_stamper> stampers;
  /// When each container's last chunk was read.
  std::vector<int64_t> last_read;
  /// Every secret known: the agent's own lines are redacted with them.
  std::vector<std::string> secrets;
  /// The last byte written ended a line (or nothing was written): an
  /// agent's line of its own starts on a line of its own.
  bool at_line_start = true;
  /// Reused for each chunk's redacted (and stamped) form.
  std::string out;
  std::string redacted;
  /// Set once the sink failed: later writes are refused.
  caf::error failure;
};

/// Spawns with `spawn(log_aggregator, sink, config)`. Writes each chunk (or
/// each batch of chunks that arrived together, with one write) to the sink
/// before replying, so a slow sink delays the grants that let a bootstrap
/// send more: the command slows down, nothing piles up. Once the sink
/// failed every write is refused with the reason (`log_sink_failed`),
/// which the writer reports to the runner. Every occurrence of a secret
/// becomes "[REDACTED]" (beyond the reference, which logs raw bytes); with
/// timestamped lines, each line then starts with the time it was read.
log_aggregator_actor::behavior_type log_aggregator(
  log_aggregator_actor::stateful_pointer<log_aggregator_state> self,
  log_sink_ptr sink, log_aggregator_config config);

} // namespace baton
