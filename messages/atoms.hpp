#pragma once

// Every atom of baton and the CAF type-ID block of every message type,
// declared once. `add_message_types` registers them with an actor system.

#include "messages/job.hpp"
#include "messages/wire.hpp"

#include <caf/type_id.hpp>

CAF_BEGIN_TYPE_ID_BLOCK(baton, caf::first_custom_type_id)

CAF_ADD_TYPE_ID(baton, (baton::run_state))
CAF_ADD_TYPE_ID(baton, (baton::container_state))
CAF_ADD_TYPE_ID(baton, (baton::dialect))
CAF_ADD_TYPE_ID(baton, (baton::deadline))
CAF_ADD_TYPE_ID(baton, (baton::log_mode))
CAF_ADD_TYPE_ID(baton, (baton::registration))
CAF_ADD_TYPE_ID(baton, (baton::step_settings))
CAF_ADD_TYPE_ID(baton, (baton::turn))
CAF_ADD_TYPE_ID(baton, (baton::step_exit))
CAF_ADD_TYPE_ID(baton, (baton::container_status))
CAF_ADD_TYPE_ID(baton, (baton::job_result))
CAF_ADD_TYPE_ID(baton, (baton::wire::frame_type))
CAF_ADD_TYPE_ID(baton, (baton::wire::frame))
CAF_ADD_TYPE_ID(baton, (std::vector<baton::wire::frame>))
CAF_ADD_TYPE_ID(baton, (baton::log_piece))
CAF_ADD_TYPE_ID(baton, (baton::log_batch))

// Job control.
CAF_ADD_ATOM(baton, baton::atom, register_, "register")
CAF_ADD_ATOM(baton, baton::atom, exit, "exit")
CAF_ADD_ATOM(baton, baton::atom, lost, "lost")
CAF_ADD_ATOM(baton, baton::atom, interrupt, "interrupt")
CAF_ADD_ATOM(baton, baton::atom, terminate, "terminate")
CAF_ADD_ATOM(baton, baton::atom, status, "status")
CAF_ADD_ATOM(baton, baton::atom, done, "done")
CAF_ADD_ATOM(baton, baton::atom, state, "state")
CAF_ADD_ATOM(baton, baton::atom, fail, "fail")
CAF_ADD_ATOM(baton, baton::atom, ok, "ok")
CAF_ADD_ATOM(baton, baton::atom, configure, "configure")
CAF_ADD_ATOM(baton, baton::atom, env, "env")
CAF_ADD_ATOM(baton, baton::atom, ready, "ready")

// The log path.
CAF_ADD_ATOM(baton, baton::atom, log, "log")
CAF_ADD_ATOM(baton, baton::atom, eof, "eof")
CAF_ADD_ATOM(baton, baton::atom, credit, "credit")
CAF_ADD_ATOM(baton, baton::atom, output, "output")
CAF_ADD_ATOM(baton, baton::atom, mode, "mode")
CAF_ADD_ATOM(baton, baton::atom, tail, "tail")

// Connections and timers.
CAF_ADD_ATOM(baton, baton::atom, write, "write")
CAF_ADD_ATOM(baton, baton::atom, close, "close")
CAF_ADD_ATOM(baton, baton::atom, closed, "closed")
CAF_ADD_ATOM(baton, baton::atom, received, "received")
CAF_ADD_ATOM(baton, baton::atom, stream, "stream")
CAF_ADD_ATOM(baton, baton::atom, tick, "tick")
CAF_ADD_ATOM(baton, baton::atom, stop, "stop")

// Signals and cancellation.
CAF_ADD_ATOM(baton, baton::atom, signal, "signal")
CAF_ADD_ATOM(baton, baton::atom, grace, "grace")

CAF_END_TYPE_ID_BLOCK(baton)

namespace caf {
class actor_system_config;
} // namespace caf

namespace baton {

/// Registers baton's message types with `cfg`.
void add_message_types(caf::actor_system_config& cfg);

} // namespace baton
