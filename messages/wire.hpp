#pragma once

// The wire protocol between `baton bootstrap` and `baton agent`: frames on a
// Unix stream socket. See docs/protocol.md for the layout and the rules of
// who sends what when. Each message struct below carries its frame type
// and, in the `inspect` beside it, its fields as its JSON body names them:
// wire.cpp encodes and decodes every body from that one list, so the two
// directions cannot drift apart. Only `frame` travels between actors; its
// `inspect` is CAF's.

#include "messages/defaults.hpp"
#include "messages/field.hpp"
#include "messages/job.hpp"

#include <caf/error.hpp>
#include <caf/expected.hpp>
#include <caf/meta/type_name.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace baton::wire {

/// The byte after a frame's length: what its body holds.
enum class frame_type : uint8_t {
  hello = 1,
  welcome = 2,
  register_ = 3,
  registered = 4,
  state = 5,
  log = 6,
  credit = 7,
  heartbeat = 8,
  exit = 9,
  exit_ack = 10,
  error = 11,
  status = 12,
  status_report = 13,
  settings = 14,
  log_at = 15,
  ready = 16,
};

/// The highest frame type.
constexpr auto last_frame_type = frame_type::ready;

/// Returns the protocol name of `x` ("hello", "register", ...).
const char* to_string(frame_type x);

/// True if `x` is the value of some `frame_type`.
bool is_frame_type(uint8_t x);

/// Bytes before a frame's body: a 32-bit big-endian body length and the type.
constexpr size_t header_size = 5;

/// One frame: its type and its body, raw bytes that may hold anything.
struct frame {
  frame_type type = frame_type::heartbeat;
  std::string body;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, frame& x) {
  return f(caf::meta::type_name("frame"), x.type, x.body);
}

/// Appends `x` with its header to `out`.
void append(std::vector<char>& out, const frame& x);

/// Appends a frame of `type` whose body is `data[0..size)` to `out`.
void append(std::vector<char>& out, frame_type type, const char* data,
            size_t size);

// -- messages -----------------------------------------------------------------

/// bootstrap -> agent, first frame: the protocol version the peer speaks.
struct hello {
  static constexpr auto type = frame_type::hello;
  uint32_t version = defaults::protocol_version;
  /// Free text naming the peer, e.g. "baton-bootstrap 0.1.0".
  std::string peer;
};

template <class Inspector>
bool inspect(Inspector& f, hello& x) {
  return f(field("version", x.version), field("peer", x.peer).optional());
}

/// agent -> bootstrap: the handshake is accepted.
struct welcome {
  static constexpr auto type = frame_type::welcome;
  uint32_t version = defaults::protocol_version;
  /// How often the bootstrap must send a heartbeat.
  uint32_t heartbeat_ms = 0;
};

template <class Inspector>
bool inspect(Inspector& f, welcome& x) {
  return f(field("version", x.version), field("heartbeat_ms", x.heartbeat_ms));
}

/// bootstrap -> agent: bind this connection to container `id`.
struct register_request {
  static constexpr auto type = frame_type::register_;
  int32_t id = 0;
};

template <class Inspector>
bool inspect(Inspector& f, register_request& x) {
  return f(field("id", x.id));
}

/// agent -> bootstrap: registration accepted; the job environment.
struct registered {
  static constexpr auto type = frame_type::registered;

  registered() = default;

  registered(std::vector<std::string> env, std::string name = {})
    : env(std::move(env)), name(std::move(name)) {
    // nop
  }

  /// `KEY=VALUE` strings.
  std::vector<std::string> env;
  /// The container's name, for its header line; absent from older agents.
  std::string name;
};

template <class Inspector>
bool inspect(Inspector& f, registered& x) {
  return f(field("env", x.env), field("name", x.name).optional());
}

/// bootstrap -> agent (version 2), after `registered`: the step's
/// settings, read from the environment once merged.
struct settings_report {
  static constexpr auto type = frame_type::settings;
  step_settings settings;
};

/// Two members of step settings that travel as one field, "soft_fail":
/// `true` for any non-zero status, else the statuses.
struct soft_fail_statuses {
  step_settings& settings;
};

template <class Inspector>
bool inspect(Inspector& f, settings_report& x) {
  auto& s = x.settings;
  soft_fail_statuses soft_fail{s};
  return f(
    field(step_settings::always_field, s.always).optional(),
    field(step_settings::soft_fail_field, soft_fail)
      .omit_if(!s.soft_fail_any && s.soft_fail.empty()),
    field(step_settings::service_field, s.service).omit_if(!s.service),
    field(step_settings::log_field, s.log_to_job).omit_if(!s.log_to_job),
    field(step_settings::group_field, s.group).omit_if(s.group.empty()),
    field(step_settings::fail_fast_field, s.fail_fast).omit_if(!s.fail_fast));
}

/// bootstrap -> agent, from a service only: its readiness check passed (or
/// it has none and its command started). Empty body.
struct ready_report {
  static constexpr auto type = frame_type::ready;
};

/// agent -> bootstrap, pushed on every change: what to do now. With
/// `start` (version 2): what the command needs to know of the job so far.
struct state_update {
  static constexpr auto type = frame_type::state;

  state_update() = default;

  explicit state_update(run_state state) : state(state) {
    // nop
  }

  state_update(run_state state, std::vector<std::string> env,
               std::string job_result, int32_t job_status)
    : state(state), env(std::move(env)), job_result(std::move(job_result)),
      job_status(job_status) {
    // nop
  }

  run_state state = run_state::wait;
  /// Job variables added since the container registered (`KEY=VALUE`).
  std::vector<std::string> env;
  /// "passed", "failed" or "cancelled"; empty before version 2.
  std::string job_result;
  int32_t job_status = 0;
};

template <class Inspector>
bool inspect(Inspector& f, state_update& x) {
  // The job so far goes with a start only: the one state with a result.
  auto no_job = x.job_result.empty();
  return f(field("state", x.state),
           field("env", x.env).omit_if(no_job).variables(),
           field("job_result", x.job_result).omit_if(no_job),
           field("job_status", x.job_status).omit_if(no_job));
}

/// bootstrap -> agent: command output, raw bytes (never empty).
struct log_data {
  static constexpr auto type = frame_type::log;
  std::string bytes;
};

/// bootstrap -> agent (version 2): command output and when it was read
/// from the command. The body is the time, ns since the epoch as 8
/// big-endian bytes, then the raw bytes (never empty).
struct log_at {
  static constexpr auto type = frame_type::log_at;
  int64_t read_ns = 0;
  std::string bytes;
};

/// The bytes before the output in a `log_at` body.
constexpr size_t log_at_header_size = 8;

/// The time at the start of a `log_at` body (at least 8 bytes).
int64_t read_log_time(const char* body);

/// Writes `ns` as the time at the start of a `log_at` body.
void write_log_time(char* body, int64_t ns);

/// agent -> bootstrap: the bootstrap may send `bytes` more log bytes.
struct credit {
  static constexpr auto type = frame_type::credit;
  uint64_t bytes = 0;
};

template <class Inspector>
bool inspect(Inspector& f, credit& x) {
  return f(field("bytes", x.bytes));
}

/// bootstrap -> agent: still alive. Empty body.
struct heartbeat {
  static constexpr auto type = frame_type::heartbeat;
};

/// bootstrap -> agent, last frame: the command's exit status; with
/// version 2 also whether it timed out and the variables it passes on.
struct exit_report {
  static constexpr auto type = frame_type::exit;

  exit_report() = default;

  explicit exit_report(int32_t status) : status(status) {
    // nop
  }

  exit_report(int32_t status, bool timed_out, std::vector<std::string> outputs)
    : status(status), timed_out(timed_out), outputs(std::move(outputs)) {
    // nop
  }

  int32_t status = 0;
  bool timed_out = false;
  /// `KEY=VALUE` lines the command wrote to $BATON_ENV.
  std::vector<std::string> outputs;
  /// How the command ended beyond its status (see `step_exit`).
  std::string signal;
  bool oom_killed = false;
  uint64_t memory_limit = 0;
  int64_t timeout_ms = 0;
};

template <class Inspector>
bool inspect(Inspector& f, exit_report& x) {
  return f(field("status", x.status),
           field("timed_out", x.timed_out).omit_if(!x.timed_out),
           field("outputs", x.outputs).omit_if(x.outputs.empty()).variables(),
           field("signal", x.signal).omit_if(x.signal.empty()),
           field("oom_killed", x.oom_killed).omit_if(!x.oom_killed),
           field("memory_limit", x.memory_limit).omit_if(x.memory_limit == 0),
           field("timeout_ms", x.timeout_ms).omit_if(x.timeout_ms == 0));
}

/// agent -> bootstrap: the exit status is recorded and the container's log
/// is written. Empty body.
struct exit_ack {
  static constexpr auto type = frame_type::exit_ack;
};

/// Either way: the sender refuses something and closes the connection.
struct error_report {
  static constexpr auto type = frame_type::error;
  /// The name of a `baton::ec` code, e.g. "duplicate_container".
  std::string code;
  /// A sentence for a human that names the problem and the value.
  std::string message;
};

template <class Inspector>
bool inspect(Inspector& f, error_report& x) {
  return f(field("code", x.code), field("message", x.message));
}

/// client -> agent, instead of a register: asks for the job's status.
/// Empty body.
struct status_request {
  static constexpr auto type = frame_type::status;
};

/// agent -> client: the job's status, then the agent closes. The body is
/// the JSON object of the result file (see `to_json(job_result)`).
struct status_report {
  static constexpr auto type = frame_type::status_report;
  std::string json;
};

/// Any decoded message.
using message
  = std::variant<hello, welcome, register_request, registered, state_update,
                 log_data, credit, heartbeat, exit_report, exit_ack,
                 error_report, status_request, status_report, settings_report,
                 log_at, ready_report>;

/// Encodes a message as a frame. Never throws: text that is not valid UTF-8
/// is carried with U+FFFD in place of the invalid bytes (log bytes are raw
/// and carried as they are).
frame encode(const message& x);

/// Decodes a frame's body. Errors: `malformed_body` for a body that is not
/// what its type requires, `bad_field` for a missing field, a field of the
/// wrong type or out of range. Never throws.
caf::expected<message> decode(const frame& x);

/// Returns the frame type of `x`.
frame_type type_of(const message& x);

// -- incremental decoding -----------------------------------------------------

/// Splits a byte stream into frames. Accepts bytes in any split, one at a
/// time included. After the first error it stays failed.
class frame_decoder {
public:
  explicit frame_decoder(size_t max_frame_size = defaults::max_frame_size);

  /// Appends received bytes.
  void feed(const char* data, size_t size);

  /// Moves the next complete frame into `out` and returns true, or returns
  /// false when more bytes are needed or the stream failed (see `error`).
  /// A header with an unknown type or an oversized length fails the stream
  /// as soon as its five bytes are in, without waiting for the body.
  bool next(frame& out);

  /// The error that failed the stream, if any.
  const caf::error& error() const noexcept {
    return error_;
  }

  /// Splits `data[0..size)` into frames and calls `f(frame&&)` for each,
  /// like `feed` followed by `next` until it fails, but without first
  /// copying the bytes of complete frames into the buffer. Returns false if
  /// the stream failed (see `error`).
  template <class F>
  bool consume(const char* data, size_t size, F&& f) {
    if (error_)
      return false; // Failed streams stay failed.
    frame frm;
    // Bytes of a frame begun earlier complete the buffered part first.
    while (size > 0 && buffered() > 0) {
      auto want = pending_frame_size();
      auto take = want > buffered() ? std::min(size, want - buffered())
                                    : size_t{0};
      if (want == 0) // Header incomplete: take what completes it.
        take = std::min(size, header_size - buffered());
      feed(data, take);
      data += take;
      size -= take;
      while (next(frm))
        f(std::move(frm));
      if (error_)
        return false;
    }
    while (size >= header_size) {
      if (auto err = check_header(data)) {
        error_ = std::move(err);
        return false;
      }
      auto total = header_size + length_of(data);
      if (size < total)
        break;
      frm.type = static_cast<frame_type>(static_cast<uint8_t>(data[4]));
      frm.body.assign(data + header_size, total - header_size);
      f(std::move(frm));
      data += total;
      size -= total;
    }
    feed(data, size);
    return !error_;
  }

  /// To call when the stream ends: an error if it ended inside a frame.
  caf::error finish() const;

  /// Bytes received but not yet returned as frames.
  size_t buffered() const noexcept {
    return buf_.size() - pos_;
  }

  size_t max_frame_size() const noexcept {
    return max_frame_size_;
  }

private:
  /// The full size of the buffered frame once its header is in, else 0.
  size_t pending_frame_size() const;

  /// An error if the header at `p` has an unknown type or a length over
  /// the maximum.
  caf::error check_header(const char* p) const;

  static size_t length_of(const char* header);

  size_t max_frame_size_;
  std::string buf_;
  size_t pos_ = 0;
  caf::error error_;
};

} // namespace baton::wire
