#include "messages/error.hpp"

#include <caf/atom.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>
#include <caf/to_string.hpp>

namespace baton {

namespace {

constexpr caf::atom_value category = caf::atom("baton");

} // namespace

const char* to_string(ec x) {
  switch (x) {
    case ec::none: return "none";
    case ec::truncated_frame: return "truncated_frame";
    case ec::frame_too_large: return "frame_too_large";
    case ec::unknown_frame_type: return "unknown_frame_type";
    case ec::malformed_body: return "malformed_body";
    case ec::bad_field: return "bad_field";
    case ec::protocol_mismatch: return "protocol_mismatch";
    case ec::unexpected_message: return "unexpected_message";
    case ec::unrecognized_container: return "unrecognized_container";
    case ec::duplicate_container: return "duplicate_container";
    case ec::credit_exceeded: return "credit_exceeded";
    case ec::heartbeat_timeout: return "heartbeat_timeout";
    case ec::handshake_timeout: return "handshake_timeout";
    case ec::interrupted_before_start: return "interrupted_before_start";
    case ec::system_error: return "system_error";
    case ec::invalid_argument: return "invalid_argument";
    case ec::log_sink_failed: return "log_sink_failed";
    case ec::socket_error: return "socket_error";
    case ec::job_over: return "job_over";
  }
  return "unknown";
}

caf::error make_error(ec code, std::string context) {
  return caf::error{static_cast<uint8_t>(code), category,
                    caf::make_message(std::move(context))};
}

caf::error make_error(ec code) {
  return caf::error{static_cast<uint8_t>(code), category};
}

ec code_of(const caf::error& err) {
  if (!err || err.category() != category)
    return ec::none;
  return static_cast<ec>(err.code());
}

std::string render(const caf::error& err) {
  if (!err)
    return "no error";
  if (err.category() == category) {
    if (err.context().match_elements<std::string>())
      return err.context().get_as<std::string>(0);
    return to_string(static_cast<ec>(err.code()));
  }
  if (err.category() == caf::atom("system"))
    return caf::to_string(static_cast<caf::sec>(err.code()));
  return caf::to_string(err);
}

} // namespace baton
