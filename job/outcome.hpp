#pragma once

// How a step ended, in words: the reason the runner decides for each
// container, the step line the job log gets when a step ends, and the job
// summary at its end. docs/design.md lists the reasons.

#include "messages/job.hpp"

#include <cstdint>
#include <string>

namespace baton {

/// What a container's exit report says, and whether the job had told it to
/// stop (an interrupt, a terminate, another step's failure) by then.
struct exit_facts {
  int32_t status = 0;
  bool soft_failed = false;
  bool timed_out = false;
  bool oom_killed = false;
  /// The signal that killed the command, or empty.
  std::string signal;
  bool told_to_stop = false;
};

/// Why a step that reported its exit ended. The most specific cause wins:
/// the OOM killer, then the step's timeout, then the job's cancel, then a
/// signal, then the status (soft failures included).
step_reason reason_for_exit(const exit_facts& x);

/// How the job log names a container: "container 1 (build)", or a
/// service: "service 1 (db)".
std::string container_label(uint32_t id, const std::string& name,
                            bool service = false);

/// A "~~~" line of the agent's own about a container: `text`, which begins
/// with its label, begun with a capital ("service 1 (db) ready after 0.10s"
/// -> "~~~ Service 1 (db) ready after 0.10s\n").
std::string section_line(std::string text);

/// What became of a container's step, without its duration: "passed",
/// "failed with status 3", "was killed by SIGSEGV", "was lost: <why>"...;
/// empty while it runs.
std::string outcome_text(const container_status& c);

/// The job-log line when a container's step ended, with its duration when
/// it ran: "~~~ Container 1 (build) failed with status 3 after 2.41s\n".
std::string step_line(const container_status& c);

/// The summary at the end of the job log: "~~~ Job failed with status 3
/// after 4.10s", then one line per container (id, name, outcome, duration)
/// in aligned columns.
std::string job_summary(const job_result& x);

/// A memory size as "64 MiB", "1.5 GiB" or "1000 bytes".
std::string format_memory(uint64_t bytes);

} // namespace baton
