#include "messages/rpc.hpp"

#include "messages/error.hpp"

#include <cstdio>
#include <optional>
#include <type_traits>
#include <utility>

namespace baton::rpc {

// -- HTTP preamble ------------------------------------------------------------

namespace {

constexpr auto npos = std::string_view::npos;

// Shows untrusted bytes in a message: printable ASCII as is, the rest
// escaped, cut after `max` bytes.
std::string printable(std::string_view x, size_t max = 80) {
  std::string result;
  for (size_t i = 0; i < x.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(x[i]);
    if (c >= 0x20 && c < 0x7f) {
      result += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      result += buf;
    }
  }
  if (x.size() > max)
    result += "...";
  return result;
}

// The line at `pos` without its "\n" or "\r\n"; `next` gets the offset
// after it. False if the line is not complete yet.
bool line_at(std::string_view data, size_t pos, std::string_view& line,
             size_t& next) {
  auto eol = data.find('\n', pos);
  if (eol == npos)
    return false;
  line = data.substr(pos, eol - pos);
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  next = eol + 1;
  return true;
}

// The offset after the blank line that ends the header block starting
// with the line at 0, or npos if it has not arrived within the cap.
size_t header_end(std::string_view data) {
  auto window = data.substr(0, max_preamble_size);
  std::string_view line;
  size_t pos = 0;
  size_t next = 0;
  if (!line_at(window, pos, line, next))
    return npos;
  pos = next;
  while (line_at(window, pos, line, next)) {
    if (line.empty())
      return next;
    pos = next;
  }
  return npos;
}

preamble failed(ec code, std::string what) {
  preamble result;
  result.status = preamble_status::failed;
  result.error = make_error(code, std::move(what));
  return result;
}

// Incomplete, or failed if it can no longer complete within the cap.
preamble incomplete(std::string_view data, const char* what) {
  if (data.size() >= max_preamble_size)
    return failed(ec::frame_too_large,
                  std::string{what} + " exceeds "
                    + std::to_string(max_preamble_size)
                    + " bytes without ending in a blank line");
  return preamble{};
}

preamble rejected(std::string_view status, std::string_view body, bool nosniff,
                  std::string what) {
  preamble result;
  result.status = preamble_status::rejected;
  // Go's http.Error adds nosniff; rpc's 405 does not.
  result.response = http_response(status, body, nosniff);
  result.error = make_error(ec::unexpected_message, std::move(what));
  return result;
}

bool is_http1(std::string_view proto) {
  return proto == "HTTP/1.0" || proto == "HTTP/1.1";
}

} // namespace

std::string http_response(std::string_view status, std::string_view body,
                          bool nosniff) {
  std::string result = "HTTP/1.0 ";
  result += status;
  result += "\r\nContent-Type: text/plain; charset=utf-8\r\n";
  if (nosniff)
    result += "X-Content-Type-Options: nosniff\r\n";
  result += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  result += body;
  return result;
}

preamble parse_connect(std::string_view data) {
  std::string_view line;
  size_t next = 0;
  if (!line_at(data.substr(0, max_preamble_size), 0, line, next))
    return incomplete(data, "rpc request preamble");
  // "METHOD URI PROTO", cut at the first two spaces as Go does. Checked
  // before the header ends, so a peer speaking another protocol fails now.
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == npos ? npos : line.find(' ', sp1 + 1);
  if (sp2 == npos)
    return failed(ec::malformed_body, "malformed HTTP request line '"
                                        + printable(line)
                                        + "' in the rpc preamble");
  auto method = line.substr(0, sp1);
  auto uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
  auto proto = line.substr(sp2 + 1);
  if (!is_http1(proto))
    return failed(ec::malformed_body, "rpc preamble speaks '" + printable(proto)
                                        + "', expected HTTP/1.0 or HTTP/1.1");
  auto end = header_end(data);
  if (end == npos)
    return incomplete(data, "rpc request preamble");
  auto path = uri.substr(0, uri.find('?'));
  if (path != rpc_path)
    return rejected("404 Not Found", "404 page not found\n", true,
                    "rpc preamble asks for path '" + printable(path)
                      + "' instead of '" + std::string{rpc_path} + "'");
  if (method != "CONNECT")
    return rejected("405 Method Not Allowed", "405 must CONNECT\n", false,
                    "rpc preamble uses method '" + printable(method)
                      + "' instead of CONNECT");
  preamble result;
  result.status = preamble_status::ok;
  result.consumed = end;
  return result;
}

preamble check_connected(std::string_view data) {
  std::string_view line;
  size_t next = 0;
  if (!line_at(data.substr(0, max_preamble_size), 0, line, next))
    return incomplete(data, "rpc server's answer");
  // "PROTO STATUS", the status with leading spaces trimmed (reference:
  // http.ReadResponse, then a comparison of resp.Status).
  auto sp = line.find(' ');
  auto proto = line.substr(0, sp);
  if (sp == npos || proto.substr(0, 5) != "HTTP/")
    return failed(ec::malformed_body, "rpc server answered '" + printable(line)
                                        + "', which is no HTTP status line");
  auto status = line.substr(sp + 1);
  while (!status.empty() && status.front() == ' ')
    status.remove_prefix(1);
  if (status != connected_status)
    return failed(ec::unexpected_message,
                  "rpc server answered '" + printable(line) + "' instead of '"
                    + std::string{connected_status} + "'");
  auto end = header_end(data);
  if (end == npos)
    return incomplete(data, "rpc server's answer");
  preamble result;
  result.status = preamble_status::ok;
  result.consumed = end;
  return result;
}

// -- gob types ----------------------------------------------------------------

// Names are the reference's: Go sends them in each definition.

const gob::type_ptr& request_type() {
  static const auto result
    = gob::struct_of("Request", {{"ServiceMethod", gob::string_type()},
                                 {"Seq", gob::uint_type()}});
  return result;
}

const gob::type_ptr& response_type() {
  static const auto result
    = gob::struct_of("Response", {{"ServiceMethod", gob::string_type()},
                                  {"Seq", gob::uint_type()},
                                  {"Error", gob::string_type()}});
  return result;
}

const gob::type_ptr& string_slice_type() {
  static const auto result = gob::slice_of(gob::string_type(), "[]string");
  return result;
}

const gob::type_ptr& register_response_type() {
  static const auto result = gob::struct_of("RegisterResponse",
                                            {{"Env", string_slice_type()}});
  return result;
}

const gob::type_ptr& logs_type() {
  static const auto result = gob::struct_of("Logs",
                                            {{"Data", gob::bytes_type()}});
  return result;
}

const gob::type_ptr& exit_code_type() {
  static const auto result = gob::struct_of(
    "ExitCode", {{"ID", gob::int_type()}, {"ExitStatus", gob::int_type()}});
  return result;
}

const gob::type_ptr& empty_type() {
  static const auto result = gob::struct_of("Empty", {});
  return result;
}

const gob::type_ptr& invalid_request_type() {
  static const auto result = gob::struct_of("", {});
  return result;
}

// -- to_value -----------------------------------------------------------------

gob::value to_value(const request_header& x) {
  return gob::value::structure(
    {{"ServiceMethod", gob::value::string(x.service_method)},
     {"Seq", gob::value::unsigned_integer(x.seq)}});
}

gob::value to_value(const response_header& x) {
  return gob::value::structure(
    {{"ServiceMethod", gob::value::string(x.service_method)},
     {"Seq", gob::value::unsigned_integer(x.seq)},
     {"Error", gob::value::string(x.error)}});
}

gob::value to_value(const register_response& x) {
  std::vector<gob::value> env;
  env.reserve(x.env.size());
  for (auto& item : x.env)
    env.push_back(gob::value::string(item));
  return gob::value::structure({{"Env", gob::value::slice(std::move(env))}});
}

gob::value to_value(const logs& x) {
  return to_value(logs{x});
}

gob::value to_value(logs&& x) {
  // Not built from an initializer list, which would copy the data.
  auto result = gob::value::structure({});
  result.add_field("Data", gob::value::bytes(std::move(x.data)));
  return result;
}

gob::value to_value(const exit_code& x) {
  return gob::value::structure(
    {{"ID", gob::value::integer(x.id)},
     {"ExitStatus", gob::value::integer(x.exit_status)}});
}

gob::value to_value(run_state x) {
  return gob::value::integer(static_cast<int64_t>(x));
}

gob::value to_value(empty) {
  return gob::value::structure({});
}

// -- from_value ---------------------------------------------------------------

namespace {

caf::error not_a(const char* what, gob::kind expected, const gob::value& x) {
  return make_error(ec::unexpected_message,
                    std::string{what} + " must be a gob " + to_string(expected)
                      + ", got " + to_string(x.kind()));
}

// Reads field `name` of struct `x` into `out` if present and of kind `k`.
template <class T, class Get>
caf::error get_field(const char* what, const gob::value& x, const char* name,
                     gob::kind k, T& out, Get get) {
  auto f = x.field(name);
  if (f == nullptr)
    return {};
  if (f->kind() != k)
    return make_error(ec::bad_field, std::string{"field '"} + name + "' of "
                                       + what + " must be a gob " + to_string(k)
                                       + ", got " + to_string(f->kind()));
  out = get(*f);
  return {};
}

auto get_string = [](const gob::value& x) { return x.text(); };
auto get_uint = [](const gob::value& x) { return x.as_uint(); };
auto get_int = [](const gob::value& x) { return x.as_int(); };

} // namespace

caf::error from_value(const gob::value& x, request_header& out) {
  constexpr auto what = "the request header";
  if (x.kind() != gob::kind::structure)
    return not_a(what, gob::kind::structure, x);
  request_header result;
  if (auto err = get_field(what, x, "ServiceMethod", gob::kind::string,
                           result.service_method, get_string))
    return err;
  if (auto err = get_field(what, x, "Seq", gob::kind::unsigned_integer,
                           result.seq, get_uint))
    return err;
  out = std::move(result);
  return {};
}

caf::error from_value(const gob::value& x, response_header& out) {
  constexpr auto what = "the response header";
  if (x.kind() != gob::kind::structure)
    return not_a(what, gob::kind::structure, x);
  response_header result;
  if (auto err = get_field(what, x, "ServiceMethod", gob::kind::string,
                           result.service_method, get_string))
    return err;
  if (auto err = get_field(what, x, "Seq", gob::kind::unsigned_integer,
                           result.seq, get_uint))
    return err;
  if (auto err = get_field(what, x, "Error", gob::kind::string, result.error,
                           get_string))
    return err;
  out = std::move(result);
  return {};
}

caf::error from_value(const gob::value& x, register_response& out) {
  constexpr auto what = "RegisterResponse";
  if (x.kind() != gob::kind::structure)
    return not_a(what, gob::kind::structure, x);
  register_response result;
  if (auto env = x.field("Env")) {
    if (env->kind() != gob::kind::slice)
      return make_error(ec::bad_field,
                        std::string{"field 'Env' of RegisterResponse must be "
                                    "a gob slice, got "}
                          + to_string(env->kind()));
    result.env.reserve(env->size());
    for (auto& item : env->items()) {
      if (item.kind() != gob::kind::string)
        return make_error(ec::bad_field,
                          "item " + std::to_string(result.env.size())
                            + " of field 'Env' of RegisterResponse must be a"
                              " gob string, got "
                            + to_string(item.kind()));
      result.env.push_back(item.text());
    }
  }
  out = std::move(result);
  return {};
}

caf::error from_value(const gob::value& x, logs& out) {
  constexpr auto what = "Logs";
  if (x.kind() != gob::kind::structure)
    return not_a(what, gob::kind::structure, x);
  logs result;
  if (auto err = get_field(what, x, "Data", gob::kind::bytes, result.data,
                           get_string))
    return err;
  out = std::move(result);
  return {};
}

caf::error from_value(const gob::value& x, exit_code& out) {
  constexpr auto what = "ExitCode";
  if (x.kind() != gob::kind::structure)
    return not_a(what, gob::kind::structure, x);
  exit_code result;
  if (auto err = get_field(what, x, "ID", gob::kind::integer, result.id,
                           get_int))
    return err;
  if (auto err = get_field(what, x, "ExitStatus", gob::kind::integer,
                           result.exit_status, get_int))
    return err;
  out = result;
  return {};
}

caf::error from_value(const gob::value& x, run_state& out) {
  if (x.kind() != gob::kind::integer)
    return not_a("RunState", gob::kind::integer, x);
  out = static_cast<run_state>(x.as_int());
  return {};
}

caf::error from_value(const gob::value& x, empty&) {
  if (x.kind() != gob::kind::structure)
    return not_a("Empty", gob::kind::structure, x);
  return {};
}

caf::error from_value(const gob::value& x, int64_t& out) {
  if (x.kind() != gob::kind::integer)
    return not_a("the argument", gob::kind::integer, x);
  out = x.as_int();
  return {};
}

// -- codecs -------------------------------------------------------------------

namespace {

// Reads a header and then exactly one body, the way net/rpc pairs them.
template <class Header, class Out>
bool next_pair(gob::decoder& dec, std::optional<Header>& pending,
               caf::error& error, Out& out) {
  if (error)
    return false;
  gob::value x;
  while (dec.next(x)) {
    if (!pending) {
      Header header;
      if (auto err = from_value(x, header)) {
        error = std::move(err);
        return false;
      }
      pending = std::move(header);
      continue;
    }
    out.header = std::move(*pending);
    out.body = std::move(x);
    pending.reset();
    return true;
  }
  if (dec.error())
    error = dec.error();
  return false;
}

template <class Header>
caf::error finish_pair(const gob::decoder& dec,
                       const std::optional<Header>& pending,
                       const caf::error& error, const char* what) {
  if (error)
    return error;
  if (auto err = dec.finish())
    return err;
  if (pending)
    return make_error(ec::truncated_frame,
                      "stream ended after the header of " + std::string{what}
                        + " " + std::to_string(pending->seq) + " ("
                        + pending->service_method + ") without its body");
  return {};
}

// Appends a header, then a body. If the body does not fit, `out` is cut
// back and the header's definitions must not count as sent. Encoding the
// header changes the encoder only until its type has been sent, so only
// until then is there a copy to restore: later calls and replies (every
// WriteLogs one) copy none of the encoder's maps.
caf::error append_pair(gob::encoder& enc, std::string& out,
                       const gob::type_ptr& header_type,
                       const gob::value& header, const gob::type_ptr& body_type,
                       const gob::value& body) {
  std::optional<gob::encoder> saved;
  if (!enc.has_sent(header_type))
    saved = enc;
  auto old_size = out.size();
  auto err = enc.encode(out, header_type, header);
  if (!err)
    err = enc.encode(out, body_type, body);
  if (err) {
    out.resize(old_size);
    if (saved)
      enc = std::move(*saved);
  }
  return err;
}

} // namespace

template <class Decoded>
codec<Decoded>::codec(size_t max_message_size) : dec_(max_message_size) {
  // nop
}

template <class Decoded>
void codec<Decoded>::feed(const char* data, size_t size) {
  dec_.feed(data, size);
}

template <class Decoded>
bool codec<Decoded>::next(Decoded& out) {
  return next_pair(dec_, header_, error_, out);
}

template <class Decoded>
caf::error codec<Decoded>::finish() const {
  constexpr auto what = std::is_same_v<Decoded, call> ? "call" : "reply";
  return finish_pair(dec_, header_, error_, what);
}

template class codec<call>;
template class codec<reply>;

caf::error server_codec::append_reply(std::string& out,
                                      const response_header& header,
                                      const gob::type_ptr& reply_type,
                                      const gob::value& reply) {
  // Go's server replaces the body of a failed call with struct{}{}
  // (reference: net/rpc invalidRequest).
  auto failed = !header.error.empty();
  auto& body_type = failed ? invalid_request_type() : reply_type;
  auto empty_body = to_value(empty{});
  auto& body = failed ? empty_body : reply;
  return append_pair(encoder(), out, response_type(), to_value(header),
                     body_type, body);
}

caf::error client_codec::append_call(std::string& out, std::string_view method,
                                     uint64_t seq,
                                     const gob::type_ptr& arg_type,
                                     const gob::value& arg) {
  return append_pair(encoder(), out, request_type(),
                     to_value(request_header{std::string{method}, seq}),
                     arg_type, arg);
}

} // namespace baton::rpc
