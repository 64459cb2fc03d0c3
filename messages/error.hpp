#pragma once

#include <caf/error.hpp>
#include <caf/make_message.hpp>

#include <cstdint>
#include <string>

namespace baton {

/// Every error baton reports. Each error carries a human-readable context
/// string that names the offending thing and value.
enum class ec : uint8_t {
  /// Not an error.
  none = 0,
  /// The byte stream ended inside a frame.
  truncated_frame,
  /// A frame header announced a body over the maximum frame size.
  frame_too_large,
  /// A frame header carried a type byte no message has.
  unknown_frame_type,
  /// A frame body is not what its type requires (e.g. not JSON).
  malformed_body,
  /// A field of a message body is missing, of the wrong type or out of range.
  bad_field,
  /// The peer speaks another protocol version.
  protocol_mismatch,
  /// A message arrived that is not allowed in the connection's current state.
  unexpected_message,
  /// A container id outside [0, N).
  unrecognized_container,
  /// A container id that already registered.
  duplicate_container,
  /// The peer sent more log bytes than it was granted.
  credit_exceeded,
  /// A connected container went silent for longer than the lost timeout.
  heartbeat_timeout,
  /// A connection did not register within the handshake timeout.
  handshake_timeout,
  /// The job is interrupted or shut down before the container's turn came.
  interrupted_before_start,
  /// A system call failed; the context names the call and the path.
  system_error,
  /// A command-line option or configuration value is invalid.
  invalid_argument,
  /// The job log cannot be written.
  log_sink_failed,
  /// The Unix socket cannot be created, bound or connected.
  socket_error,
  /// The job ended before this container connected: the agent left its
  /// marker in the job context directory.
  job_over,
};

/// Returns the name of `x`, e.g. "frame_too_large".
const char* to_string(ec x);

/// Makes a CAF error in baton's category with a context string.
caf::error make_error(ec code, std::string context);

/// Makes a CAF error in baton's category without context.
caf::error make_error(ec code);

/// Returns the code of `err` if it is in baton's category, else `ec::none`.
ec code_of(const caf::error& err);

/// Renders any CAF error for a user: baton errors render as their context
/// string alone, others as CAF renders them.
std::string render(const caf::error& err);

} // namespace baton
