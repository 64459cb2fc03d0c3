#pragma once

// The reference's RPC dialect: Go's net/rpc over an HTTP CONNECT preamble,
// each call and reply as two gob messages (a header, then a body). This
// file holds the preamble parsers, the reference's message types with
// their gob types and conversions, and the two codecs that sit on a gob
// decoder and encoder. Sockets and dispatch live elsewhere. Each struct's
// `inspect` names its fields once, as Go does; rpc.cpp builds its gob
// type, its value and the reading of a value from that one list.

#include "messages/field.hpp"
#include "messages/gob.hpp"

#include <caf/error.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace baton::rpc {

// -- HTTP preamble ------------------------------------------------------------

/// The path net/rpc serves (reference: rpc.DefaultRPCPath).
constexpr std::string_view rpc_path = "/_goRPC_";

/// What the client sends first.
constexpr std::string_view connect_request = "CONNECT /_goRPC_ HTTP/1.0\n\n";

/// The status the Go client insists on, word for word.
constexpr std::string_view connected_status = "200 Connected to Go RPC";

/// What the server answers before the gob streams start.
constexpr std::string_view connected_response
  = "HTTP/1.0 200 Connected to Go RPC\n\n";

/// Largest preamble (request or answer, through its blank line) accepted.
constexpr size_t max_preamble_size = 4096;

/// An HTTP/1.0 response with the plain-text `body`, as Go's net/http
/// writes it minus the Date header; `status` is e.g. "404 Not Found".
/// `nosniff` adds the X-Content-Type-Options header of Go's http.Error.
std::string http_response(std::string_view status, std::string_view body,
                          bool nosniff);

/// How far a preamble got.
enum class preamble_status : uint8_t {
  /// Incomplete: call again with more bytes.
  need_more,
  /// Accepted; the gob stream starts `consumed` bytes in.
  ok,
  /// A valid HTTP request the server refuses: send `response`, then close.
  rejected,
  /// Not an acceptable preamble at all: close.
  failed,
};

/// The outcome of parsing a preamble.
struct preamble {
  preamble_status status = preamble_status::need_more;
  /// ok: the preamble's length, header lines and blank line included.
  size_t consumed = 0;
  /// rejected: the complete HTTP/1.0 response (405 or 404) to send.
  std::string response;
  /// rejected or failed: what was wrong, for the log.
  caf::error error;
};

/// Server side: parses the CONNECT request at the start of `data`, all
/// bytes received so far. Lines may end in "\n" or "\r\n"; header lines
/// are skipped. As Go's mux does, a wrong path (404) wins over a wrong
/// method (405); a query string is ignored.
preamble parse_connect(std::string_view data);

/// Client side: checks the server's answer at the start of `data`, all
/// bytes received so far. Only the status text counts, as in Go's client.
preamble check_connected(std::string_view data);

// -- messages -----------------------------------------------------------------

/// The methods of the reference's Runner.
constexpr std::string_view register_method = "Runner.Register";
constexpr std::string_view status_method = "Runner.Status";
constexpr std::string_view write_logs_method = "Runner.WriteLogs";
constexpr std::string_view exit_method = "Runner.Exit";

/// The head of a field list: the Go name of the struct, which gob sends
/// in its definition, and what errors call a value of it. Field names
/// are the reference's too.
struct go_type {
  const char* name;
  const char* what = name;
};

/// Before each call's argument (reference: rpc.Request).
struct request_header {
  std::string service_method;
  uint64_t seq = 0;
};

template <class Inspector>
bool inspect(Inspector& f, request_header& x) {
  return f(go_type{"Request", "the request header"},
           field("ServiceMethod", x.service_method), field("Seq", x.seq));
}

/// Before each reply (reference: rpc.Response). A non-empty `error` means
/// the call failed; the body is then an empty struct to skip.
struct response_header {
  std::string service_method;
  uint64_t seq = 0;
  std::string error;
};

template <class Inspector>
bool inspect(Inspector& f, response_header& x) {
  return f(go_type{"Response", "the response header"},
           field("ServiceMethod", x.service_method), field("Seq", x.seq),
           field("Error", x.error));
}

/// Reply to Register: the job's environment as KEY=VALUE strings.
struct register_response {
  std::vector<std::string> env;
};

template <class Inspector>
bool inspect(Inspector& f, register_response& x) {
  return f(go_type{"RegisterResponse"}, field("Env", x.env));
}

/// Argument of WriteLogs: raw output bytes.
struct logs {
  std::string data;
};

template <class Inspector>
bool inspect(Inspector& f, logs& x) {
  return f(go_type{"Logs"}, field("Data", x.data).bytes());
}

/// Argument of Exit.
struct exit_code {
  int64_t id = 0;
  int64_t exit_status = 0;
};

template <class Inspector>
bool inspect(Inspector& f, exit_code& x) {
  return f(go_type{"ExitCode"}, field("ID", x.id),
           field("ExitStatus", x.exit_status));
}

/// Reply to Status, a gob int (reference: RunState). Go sends any int, so
/// values outside these three may arrive.
enum class run_state : int64_t {
  wait = 0,
  start = 1,
  interrupt = 2,
};

/// Reply to WriteLogs and Exit.
struct empty {};

template <class Inspector>
bool inspect(Inspector& f, empty&) {
  return f(go_type{"Empty"});
}

// The gob types of the structs above, each built once from its field list.

const gob::type_ptr& request_type();
const gob::type_ptr& response_type();

/// []string, the type of RegisterResponse.Env.
const gob::type_ptr& string_slice_type();

const gob::type_ptr& register_response_type();
const gob::type_ptr& logs_type();
const gob::type_ptr& exit_code_type();
const gob::type_ptr& empty_type();

/// struct{}{}: the body Go's server sends after an error header.
const gob::type_ptr& invalid_request_type();

gob::value to_value(const request_header& x);
gob::value to_value(const response_header& x);
gob::value to_value(const register_response& x);
gob::value to_value(const logs& x);
/// Moves the data in: a log chunk may be large.
gob::value to_value(logs&& x);
gob::value to_value(const exit_code& x);
gob::value to_value(run_state x);
gob::value to_value(empty x);

// Conversions from decoded values. Absent fields are zero (gob omits them)
// and unknown fields are ignored, as in Go. A value of the wrong kind as a
// whole fails with `unexpected_message`; a field of the wrong kind with
// `bad_field` (Go refuses int for uint and back, and so do these).

caf::error from_value(const gob::value& x, request_header& out);
caf::error from_value(const gob::value& x, response_header& out);
caf::error from_value(const gob::value& x, register_response& out);
caf::error from_value(const gob::value& x, logs& out);
caf::error from_value(const gob::value& x, exit_code& out);
caf::error from_value(const gob::value& x, run_state& out);
/// Any struct is an acceptable Empty.
caf::error from_value(const gob::value& x, empty& out);
/// A bare int: the argument of Register and Status.
caf::error from_value(const gob::value& x, int64_t& out);

// -- codecs -------------------------------------------------------------------

/// A decoded call: its header and its argument.
struct call {
  request_header header;
  gob::value body;
};

/// A decoded reply: its header and its body. Replies may come in any
/// order; match them to calls by `header.seq`.
struct reply {
  response_header header;
  gob::value body;
};

/// What both ends share: a decoder pairing each header with its body into
/// a `Decoded` (call or reply), and the encoder of the other direction.
template <class Decoded>
class codec {
public:
  explicit codec(size_t max_message_size = gob::default_max_message_size);

  /// Appends bytes received after the preamble.
  void feed(const char* data, size_t size);

  /// Moves the next complete call or reply into `out` and returns true, or
  /// returns false when more bytes are needed or the stream failed (see
  /// `error`).
  bool next(Decoded& out);

  /// The error that failed the stream, if any.
  const caf::error& error() const noexcept {
    return error_;
  }

  /// To call when the stream ends: an error if it ended inside a call or
  /// reply.
  caf::error finish() const;

  /// Bytes received but not yet consumed.
  size_t buffered() const noexcept {
    return dec_.buffered();
  }

  /// The encoder of replies (server) or calls (client), e.g. to pre-assign
  /// type ids in tests.
  gob::encoder& encoder() noexcept {
    return enc_;
  }

private:
  gob::decoder dec_;
  gob::encoder enc_;
  // A header whose body has not arrived yet.
  std::optional<decltype(Decoded::header)> header_;
  caf::error error_;
};

// Defined in rpc.cpp for these two only.
extern template class codec<call>;
extern template class codec<reply>;

/// The server's end: decodes calls, encodes replies.
class server_codec : public codec<call> {
public:
  using codec::codec;

  /// Appends the reply to a call to `out`: a header, then `reply` of
  /// `reply_type`, or Go's empty struct if `header.error` is not empty.
  /// Fails with `bad_field` if `reply` does not fit its type, leaving
  /// `out` unchanged.
  caf::error append_reply(std::string& out, const response_header& header,
                          const gob::type_ptr& reply_type,
                          const gob::value& reply);
};

/// The client's end: encodes calls, decodes replies.
class client_codec : public codec<reply> {
public:
  using codec::codec;

  /// Appends a call to `out`: a header, then `arg` of `arg_type`. Fails
  /// with `bad_field` if `arg` does not fit its type, leaving `out`
  /// unchanged.
  caf::error append_call(std::string& out, std::string_view method,
                         uint64_t seq, const gob::type_ptr& arg_type,
                         const gob::value& arg);
};

} // namespace baton::rpc
