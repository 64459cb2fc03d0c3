#pragma once

#include "actors/actors.hpp"
#include "job/redactor.hpp"
#include "os/log_sink.hpp"

#include <caf/stateful_actor.hpp>

#include <cstdint>
#include <vector>

namespace baton {

struct log_aggregator_state {
  static constexpr const char* name = "log-aggregator";

  log_sink_ptr sink;
  /// Told to terminate the job when the sink fails.
  runner_actor runner;
  /// Bytes written per container.
  std::vector<uint64_t> bytes;
  /// One redactor per container: secrets may be split across its chunks.
  std::vector<redactor> redactors;
  /// Reused for each chunk's redacted form.
  std::string out;
  /// Set once the sink failed: later writes are refused.
  caf::error failure;
};

/// Spawns with `spawn(log_aggregator, sink, containers, runner, secrets)`.
/// Writes each chunk to the sink before replying, so a slow sink delays the
/// grants that let a bootstrap send more: the command slows down, nothing
/// piles up. Every occurrence of a secret becomes "[REDACTED]" (beyond the
/// reference, which logs raw bytes).
log_aggregator_actor::behavior_type
log_aggregator(log_aggregator_actor::stateful_pointer<log_aggregator_state> self,
               log_sink_ptr sink, uint32_t containers, runner_actor runner,
               std::vector<std::string> secrets);

} // namespace baton
