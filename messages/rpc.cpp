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

// -- gob types and values -----------------------------------------------------

namespace {

// How a member travels: its gob type ...

gob::type_ptr type_of(const field_ref<std::string>& x) {
  return x.holds_bytes ? gob::bytes_type() : gob::string_type();
}

gob::type_ptr type_of(const field_ref<uint64_t>&) {
  return gob::uint_type();
}

gob::type_ptr type_of(const field_ref<int64_t>&) {
  return gob::int_type();
}

gob::type_ptr type_of(const field_ref<std::vector<std::string>>&) {
  return string_slice_type();
}

// ... its value, moved out of the member ...

gob::value value_of(const field_ref<std::string>& x) {
  auto& text = x.value;
  return x.holds_bytes ? gob::value::bytes(std::move(text))
                       : gob::value::string(std::move(text));
}

gob::value value_of(const field_ref<uint64_t>& x) {
  return gob::value::unsigned_integer(x.value);
}

gob::value value_of(const field_ref<int64_t>& x) {
  return gob::value::integer(x.value);
}

gob::value value_of(const field_ref<std::vector<std::string>>& x) {
  std::vector<gob::value> items;
  items.reserve(x.value.size());
  for (auto& item : x.value)
    items.push_back(gob::value::string(std::move(item)));
  return gob::value::slice(std::move(items));
}

caf::error not_a(const std::string& what, gob::kind expected,
                 const gob::value& x, ec code = ec::unexpected_message) {
  return make_error(code, what + " must be a gob " + to_string(expected)
                            + ", got " + to_string(x.kind()));
}

// ... and reading it back from a value of its type's kind; `where` names
// the field for errors.

template <class Where>
caf::error read_value(const gob::value& x, std::string& out, Where) {
  out = x.text();
  return {};
}

template <class Where>
caf::error read_value(const gob::value& x, uint64_t& out, Where) {
  out = x.as_uint();
  return {};
}

template <class Where>
caf::error read_value(const gob::value& x, int64_t& out, Where) {
  out = x.as_int();
  return {};
}

template <class Where>
caf::error
read_value(const gob::value& x, std::vector<std::string>& out, Where where) {
  out.reserve(x.size());
  for (auto& item : x.items()) {
    if (item.kind() != gob::kind::string)
      return not_a("item " + std::to_string(out.size()) + " of " + where(),
                   gob::kind::string, item, ec::bad_field);
    out.push_back(item.text());
  }
  return {};
}

// Builds the gob struct type of a field list.
struct type_builder {
  gob::type_ptr type;

  template <class... Ts>
  bool operator()(const go_type& t, const field_ref<Ts>&... xs) {
    type = gob::struct_of(t.name, {{xs.name, type_of(xs)}...});
    return true;
  }
};

// Moves the members of a field list into a gob struct value, in the
// type's order.
struct value_builder {
  gob::value value = gob::value::structure({});

  template <class... Ts>
  bool operator()(const go_type&, const field_ref<Ts>&... xs) {
    (value.add_field(xs.name, value_of(xs)), ...);
    return true;
  }
};

// Reads a gob struct value into the members of a field list, up to the
// first field of the wrong kind.
struct value_reader {
  const gob::value& x;
  caf::error error;

  template <class... Ts>
  bool operator()(const go_type& t, const field_ref<Ts>&... xs) {
    if (x.kind() != gob::kind::structure) {
      error = not_a(t.what, gob::kind::structure, x);
      return false;
    }
    return (read(t, xs) && ...);
  }

  template <class T>
  bool read(const go_type& t, const field_ref<T>& f) {
    auto v = x.field(f.name);
    if (v == nullptr)
      return true;
    auto where = [&] {
      return std::string{"field '"} + f.name + "' of " + t.what;
    };
    auto kind = type_of(f)->kind;
    error = v->kind() != kind ? not_a(where(), kind, *v, ec::bad_field)
                              : read_value(*v, f.value, where);
    return !error;
  }
};

template <class T>
const gob::type_ptr& struct_type() {
  static const auto result = [] {
    T x;
    type_builder builder;
    inspect(builder, x);
    return builder.type;
  }();
  return result;
}

// Takes `x` by value: callers with a const one copy it, WriteLogs moves
// its (possibly large) chunk in.
template <class T>
gob::value struct_value(T x) {
  value_builder builder;
  inspect(builder, x);
  return std::move(builder.value);
}

// Leaves `out` as it was on failure.
template <class T>
caf::error read_struct(const gob::value& x, T& out) {
  T result;
  value_reader reader{x, {}};
  inspect(reader, result);
  if (reader.error)
    return std::move(reader.error);
  out = std::move(result);
  return {};
}

} // namespace

const gob::type_ptr& request_type() {
  return struct_type<request_header>();
}

const gob::type_ptr& response_type() {
  return struct_type<response_header>();
}

const gob::type_ptr& string_slice_type() {
  static const auto result = gob::slice_of(gob::string_type(), "[]string");
  return result;
}

const gob::type_ptr& register_response_type() {
  return struct_type<register_response>();
}

const gob::type_ptr& logs_type() {
  return struct_type<logs>();
}

const gob::type_ptr& exit_code_type() {
  return struct_type<exit_code>();
}

const gob::type_ptr& empty_type() {
  return struct_type<empty>();
}

const gob::type_ptr& invalid_request_type() {
  static const auto result = gob::struct_of("", {});
  return result;
}

gob::value to_value(const request_header& x) {
  return struct_value(x);
}

gob::value to_value(const response_header& x) {
  return struct_value(x);
}

gob::value to_value(const register_response& x) {
  return struct_value(x);
}

gob::value to_value(const logs& x) {
  return struct_value(x);
}

gob::value to_value(logs&& x) {
  return struct_value(std::move(x));
}

gob::value to_value(const exit_code& x) {
  return struct_value(x);
}

gob::value to_value(run_state x) {
  return gob::value::integer(static_cast<int64_t>(x));
}

gob::value to_value(empty x) {
  return struct_value(x);
}

caf::error from_value(const gob::value& x, request_header& out) {
  return read_struct(x, out);
}

caf::error from_value(const gob::value& x, response_header& out) {
  return read_struct(x, out);
}

caf::error from_value(const gob::value& x, register_response& out) {
  return read_struct(x, out);
}

caf::error from_value(const gob::value& x, logs& out) {
  return read_struct(x, out);
}

caf::error from_value(const gob::value& x, exit_code& out) {
  return read_struct(x, out);
}

caf::error from_value(const gob::value& x, run_state& out) {
  if (x.kind() != gob::kind::integer)
    return not_a("RunState", gob::kind::integer, x);
  out = static_cast<run_state>(x.as_int());
  return {};
}

caf::error from_value(const gob::value& x, empty& out) {
  return read_struct(x, out);
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
