#pragma once

#include "actors/actors.hpp"
#include "job/line_merge.hpp"
#include "job/redactor.hpp"
#include "messages/defaults.hpp"
#include "os/log_sink.hpp"

#include <caf/stateful_actor.hpp>

#include <cstdint>
#include <deque>
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

/// One container's output on its way into the job log.
struct log_stream {
  log_mode mode = log_mode::direct;
  /// Secrets may be split across its chunks.
  redactor redact{{}};
  /// Stamps (with timestamped lines) and prefixes its lines, and in modes
  /// `lines` and `prefixed` holds back its partial line.
  line_merge merge{line_framer{false}, defaults::max_held_line};
  /// When its last chunk was read.
  int64_t last_read = 0;
  /// The last byte written of it did not end a line.
  bool line_open = false;
  /// In mode `tail`: its last whole lines, and the partial one.
  std::deque<std::string> tail;
  std::string tail_partial;
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
  std::vector<log_stream> streams;
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
///
/// A container's output is written as it comes (`log_mode::direct`), or
/// as whole lines, for containers that stream at once: each holds at most
/// one partial line, written when its newline comes, or as a line of its
/// own once it is 64 KiB long or 1 s old, or at its end (the newline added
/// is the only byte not the container's). A service's output may be only
/// kept, its last lines written if it fails (`tail`).
log_aggregator_actor::behavior_type log_aggregator(
  log_aggregator_actor::stateful_pointer<log_aggregator_state> self,
  log_sink_ptr sink, log_aggregator_config config);

} // namespace baton
