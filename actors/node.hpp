#pragma once

// The processes baton runs as: each builds its actor system from parsed
// options and returns the process exit status.

#include "actors/cli.hpp"

#include <caf/actor_system_config.hpp>

namespace baton {

/// The actor system of a node: the io middleman, `workers` scheduler
/// threads of the work-sharing kind, baton's message types.
struct node_config : caf::actor_system_config {
  explicit node_config(size_t workers);
};

/// Sends diagnostics to stderr, each line naming the process; the level
/// comes from BATON_LOG_LEVEL (trace, debug, info, warn, error; default
/// info).
void setup_logging(const char* process);

/// Keeps freed log chunks in the heap (no trim, no mmap for chunk-sized
/// blocks): streaming then costs no page faults.
void tune_allocator();

/// One heap arena for every thread: a node's few threads hardly contend,
/// and each extra arena costs resident pages. Call it before the first
/// thread starts.
void use_one_arena();

/// The agent container node. Returns the aggregate status mapped to an exit
/// status: 0-255 as is, 255 for the negative ones.
int run_agent(const agent_options& options);

/// The checkout or command container node. Returns the command's status.
int run_bootstrap(const bootstrap_options& options);

/// A whole pod on this machine. Returns the agent's exit status.
int run_pod(const pod_options& options);

/// `baton status`: prints the job's status. Returns 0, or 1 if the agent
/// cannot be asked.
int run_status(const status_options& options);

/// Maps an aggregate wait status to a process exit status.
int exit_status_for(int32_t wait_status);

} // namespace baton
