#include "messages/wire.hpp"

#include "messages/error.hpp"

#include <nlohmann/json.hpp>

#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace baton::wire {

using nlohmann::json;

const char* to_string(frame_type x) {
  switch (x) {
    case frame_type::hello: return "hello";
    case frame_type::welcome: return "welcome";
    case frame_type::register_: return "register";
    case frame_type::registered: return "registered";
    case frame_type::state: return "state";
    case frame_type::log: return "log";
    case frame_type::credit: return "credit";
    case frame_type::heartbeat: return "heartbeat";
    case frame_type::exit: return "exit";
    case frame_type::exit_ack: return "exit_ack";
    case frame_type::error: return "error";
    case frame_type::status: return "status";
    case frame_type::status_report: return "status_report";
    case frame_type::settings: return "settings";
    case frame_type::log_at: return "log_at";
    case frame_type::ready: return "ready";
  }
  return "unknown";
}

bool is_frame_type(uint8_t x) {
  return x >= static_cast<uint8_t>(frame_type::hello)
         && x <= static_cast<uint8_t>(last_frame_type);
}

void append(std::vector<char>& out, frame_type type, const char* data,
            size_t size) {
  auto n = static_cast<uint32_t>(size);
  char header[header_size] = {
    static_cast<char>((n >> 24) & 0xFF),
    static_cast<char>((n >> 16) & 0xFF),
    static_cast<char>((n >> 8) & 0xFF),
    static_cast<char>(n & 0xFF),
    static_cast<char>(type),
  };
  out.insert(out.end(), header, header + header_size);
  out.insert(out.end(), data, data + size);
}

void append(std::vector<char>& out, const frame& x) {
  append(out, x.type, x.body.data(), x.body.size());
}

// -- bodies -------------------------------------------------------------------

namespace {

// Nesting deeper than this is refused before it is built: no message needs
// more than two levels, and deep nesting is a cheap way to burn memory.
constexpr int max_json_depth = 4;

struct too_deep {};

// Parses a control body as a JSON object.
caf::expected<json> parse_object(const frame& x) {
  auto what = to_string(x.type);
  json j;
  try {
    j = json::parse(x.body, [](int depth, json::parse_event_t event, json&) {
      // A container's start reports the depth around it; it opens one
      // deeper, so an empty container at the limit counts too.
      auto opens = event == json::parse_event_t::object_start
                   || event == json::parse_event_t::array_start;
      if (depth + (opens ? 1 : 0) > max_json_depth)
        throw too_deep{};
      return true;
    });
  } catch (const too_deep&) {
    return make_error(ec::malformed_body,
                      std::string{what} + " body nests deeper than "
                        + std::to_string(max_json_depth) + " levels");
  } catch (const json::exception& e) {
    return make_error(ec::malformed_body,
                      std::string{what}
                        + " body is not valid JSON: " + e.what());
  }
  if (!j.is_object())
    return make_error(ec::malformed_body,
                      std::string{what} + " body must be a JSON object, got "
                        + j.type_name());
  return j;
}

caf::error bad_field(const frame& x, const char* field, std::string why) {
  return make_error(ec::bad_field, std::string{"field '"} + field + "' of "
                                     + to_string(x.type) + ": " + why);
}

caf::error require_empty(const frame& x) {
  if (!x.body.empty())
    return make_error(ec::malformed_body, std::string{to_string(x.type)}
                                            + " body must be empty, got "
                                            + std::to_string(x.body.size())
                                            + " bytes");
  return {};
}

// -- JSON values of the members: written, then read with the reason to
// refuse one (empty if none).

template <class T>
json json_of(const T& x) {
  return x;
}

json json_of(run_state x) {
  return to_string(x);
}

json json_of(const soft_fail_statuses& x) {
  if (x.settings.soft_fail_any)
    return true;
  return x.settings.soft_fail;
}

std::string expected(const char* what, const json& j) {
  return std::string{"expected "} + what + ", got " + j.type_name();
}

// An integer within the range of `T`.
template <class T>
std::string read_json(const json& j, T& out) {
  static_assert(std::is_integral_v<T>);
  int64_t lo = std::numeric_limits<T>::min();
  uint64_t hi = std::numeric_limits<T>::max();
  if (!j.is_number_integer())
    return expected("an integer", j);
  auto range = "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  if (j.is_number_unsigned()) {
    auto v = j.get<uint64_t>();
    if (v > hi)
      return std::to_string(v) + " is out of range " + range;
    out = static_cast<T>(v);
  } else {
    auto v = j.get<int64_t>();
    if (v < lo || (v >= 0 && static_cast<uint64_t>(v) > hi))
      return std::to_string(v) + " is out of range " + range;
    out = static_cast<T>(v);
  }
  return {};
}

std::string read_json(const json& j, bool& out) {
  if (!j.is_boolean())
    return expected("a boolean", j);
  out = j.get<bool>();
  return {};
}

std::string read_json(const json& j, std::string& out) {
  if (!j.is_string())
    return expected("a string", j);
  out = j.get<std::string>();
  return {};
}

std::string read_json(const json& j, run_state& out) {
  std::string name;
  if (auto why = read_json(j, name); !why.empty())
    return why;
  if (!from_string(name, out))
    return "unknown state '" + name + "'";
  return {};
}

std::string read_json(const json& j, soft_fail_statuses& out) {
  if (j.is_boolean()) {
    out.settings.soft_fail_any = j.get<bool>();
    return {};
  }
  if (!j.is_array())
    return expected("a boolean or an array of exit statuses", j);
  for (auto& item : j) {
    if (!item.is_number_integer() || item.get<int64_t>() < 1
        || item.get<int64_t>() > 255)
      return "expected exit statuses from 1 to 255, got " + item.dump();
    out.settings.soft_fail.push_back(item.get<int32_t>());
  }
  return {};
}

// Job variables: KEY=VALUE with a valid name.
std::string check_variable(const std::string& entry) {
  auto eq = entry.find('=');
  if (eq == std::string::npos)
    return "expected KEY=VALUE";
  if (!is_variable_name(std::string_view{entry}.substr(0, eq)))
    return "invalid variable name '" + entry.substr(0, eq) + "'";
  return {};
}

// An array of strings, each of which `check` (if any) may refuse.
std::string read_json(const json& j, std::vector<std::string>& out,
                      std::string (*check)(const std::string&)) {
  if (!j.is_array())
    return expected("an array", j);
  out.reserve(j.size());
  for (auto& item : j) {
    auto where = "item " + std::to_string(out.size()) + ": ";
    if (!item.is_string())
      return where + expected("a string", item);
    auto text = item.get<std::string>();
    if (auto why = check ? check(text) : std::string{}; !why.empty())
      return where + why;
    out.push_back(std::move(text));
  }
  return {};
}

template <class T>
std::string read_field(const json& j, const field_ref<T>& x) {
  return read_json(j, x.value);
}

std::string read_field(const json& j,
                       const field_ref<std::vector<std::string>>& x) {
  return read_json(j, x.value, x.holds_variables ? check_variable : nullptr);
}

// Writes the fields of a message as a JSON object.
struct json_writer {
  json object = json::object();

  template <class... Ts>
  bool operator()(const field_ref<Ts>&... xs) {
    (write(xs), ...);
    return true;
  }

  template <class T>
  void write(const field_ref<T>& x) {
    if (!x.omitted)
      object[x.name] = json_of(x.value);
  }
};

// Reads the fields of a message from the JSON object in `frm`'s body, in
// their order, up to the first that fails.
struct json_reader {
  const frame& frm;
  const json& object;
  caf::error error;

  template <class... Ts>
  bool operator()(const field_ref<Ts>&... xs) {
    return (read(xs) && ...);
  }

  template <class T>
  bool read(const field_ref<T>& x) {
    auto i = object.find(x.name);
    std::string why;
    if (i == object.end())
      why = x.required ? "missing" : "";
    else
      why = read_field(*i, x);
    if (!why.empty())
      error = bad_field(frm, x.name, std::move(why));
    return !error;
  }
};

// A message without members has an empty body, one with members a JSON
// object of its fields; the overloads below carry raw bodies.
template <class T>
std::string body_of(const T& x) {
  if constexpr (std::is_empty_v<T>) {
    return {};
  } else {
    json_writer writer;
    // Writing only reads the members (so does CAF's to_string).
    inspect(writer, const_cast<T&>(x));
    return writer.object.dump(-1, ' ', false, json::error_handler_t::replace);
  }
}

std::string body_of(const log_data& x) {
  return x.bytes;
}

std::string body_of(const log_at& x) {
  std::string out(log_at_header_size, '\0');
  write_log_time(out.data(), x.read_ns);
  return out + x.bytes;
}

std::string body_of(const status_report& x) {
  return x.json;
}

template <class T>
caf::error read_body(const frame& x, T& out) {
  if constexpr (std::is_empty_v<T>) {
    return require_empty(x);
  } else {
    auto j = parse_object(x);
    if (!j)
      return std::move(j.error());
    json_reader reader{x, *j, {}};
    inspect(reader, out);
    return std::move(reader.error);
  }
}

caf::error read_body(const frame& x, log_data& out) {
  if (x.body.empty())
    return make_error(ec::malformed_body, "log body must not be empty");
  out.bytes = x.body;
  return {};
}

caf::error read_body(const frame& x, log_at& out) {
  if (x.body.size() <= log_at_header_size)
    return make_error(ec::malformed_body,
                      "log_at body must hold a time and at least one "
                      "byte, got "
                        + std::to_string(x.body.size()) + " bytes");
  out.read_ns = read_log_time(x.body.data());
  out.bytes = x.body.substr(log_at_header_size);
  return {};
}

// The body is kept as sent once it proves a JSON object.
caf::error read_body(const frame& x, status_report& out) {
  auto j = parse_object(x);
  if (!j)
    return std::move(j.error());
  out.json = x.body;
  return {};
}

template <class T>
caf::expected<message> decode_as(const frame& x) {
  T result;
  if (auto err = read_body(x, result))
    return err;
  return message{std::move(result)};
}

} // namespace

void write_log_time(char* body, int64_t ns) {
  auto t = static_cast<uint64_t>(ns);
  for (size_t i = 0; i < log_at_header_size; ++i)
    body[i]
      = static_cast<char>((t >> (8 * (log_at_header_size - 1 - i))) & 0xFF);
}

int64_t read_log_time(const char* body) {
  uint64_t t = 0;
  for (size_t i = 0; i < log_at_header_size; ++i)
    t = (t << 8) | static_cast<unsigned char>(body[i]);
  return static_cast<int64_t>(t);
}

frame encode(const message& x) {
  return std::visit(
    [](const auto& msg) {
      return frame{std::decay_t<decltype(msg)>::type, body_of(msg)};
    },
    x);
}

frame_type type_of(const message& x) {
  return std::visit(
    [](const auto& msg) { return std::decay_t<decltype(msg)>::type; }, x);
}

caf::expected<message> decode(const frame& x) {
  switch (x.type) {
    case frame_type::hello: return decode_as<hello>(x);
    case frame_type::welcome: return decode_as<welcome>(x);
    case frame_type::register_: return decode_as<register_request>(x);
    case frame_type::registered: return decode_as<registered>(x);
    case frame_type::state: return decode_as<state_update>(x);
    case frame_type::log: return decode_as<log_data>(x);
    case frame_type::credit: return decode_as<credit>(x);
    case frame_type::heartbeat: return decode_as<heartbeat>(x);
    case frame_type::exit: return decode_as<exit_report>(x);
    case frame_type::exit_ack: return decode_as<exit_ack>(x);
    case frame_type::error: return decode_as<error_report>(x);
    case frame_type::status: return decode_as<status_request>(x);
    case frame_type::status_report: return decode_as<status_report>(x);
    case frame_type::settings: return decode_as<settings_report>(x);
    case frame_type::log_at: return decode_as<log_at>(x);
    case frame_type::ready: return decode_as<ready_report>(x);
  }
  return make_error(ec::unknown_frame_type,
                    "unknown frame type "
                      + std::to_string(static_cast<unsigned>(x.type)));
}

// -- frame_decoder ------------------------------------------------------------

namespace {

// Reads the 32-bit big-endian body length at the start of a header.
uint64_t body_length(const char* header) {
  auto p = reinterpret_cast<const unsigned char*>(header);
  return (uint64_t{p[0]} << 24) | (uint64_t{p[1]} << 16) | (uint64_t{p[2]} << 8)
         | uint64_t{p[3]};
}

} // namespace

frame_decoder::frame_decoder(size_t max_frame_size)
  : max_frame_size_(max_frame_size) {
  // nop
}

void frame_decoder::feed(const char* data, size_t size) {
  if (error_)
    return;
  // Drop consumed bytes before growing, so the buffer holds at most one
  // partial frame plus what just arrived.
  if (pos_ > 0 && (pos_ == buf_.size() || pos_ >= buf_.size() / 2)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(data, size);
}

size_t frame_decoder::length_of(const char* header) {
  return static_cast<size_t>(body_length(header));
}

caf::error frame_decoder::check_header(const char* header) const {
  auto type = static_cast<uint8_t>(header[4]);
  if (!is_frame_type(type))
    return make_error(
      ec::unknown_frame_type,
      "unknown frame type " + std::to_string(type) + " (expected 1 to "
        + std::to_string(static_cast<int>(last_frame_type)) + ")");
  auto len = body_length(header);
  if (len > max_frame_size_)
    return make_error(ec::frame_too_large, "frame of " + std::to_string(len)
                                             + " bytes exceeds the maximum of "
                                             + std::to_string(max_frame_size_)
                                             + " bytes");
  return {};
}

size_t frame_decoder::pending_frame_size() const {
  if (buffered() < header_size)
    return 0;
  return header_size + length_of(buf_.data() + pos_);
}

bool frame_decoder::next(frame& out) {
  if (error_)
    return false;
  auto avail = buf_.size() - pos_;
  if (avail < header_size)
    return false;
  auto p = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
  auto len = body_length(buf_.data() + pos_);
  if (auto err = check_header(buf_.data() + pos_)) {
    error_ = std::move(err);
    return false;
  }
  if (avail < header_size + len)
    return false;
  out.type = static_cast<frame_type>(p[4]);
  out.body.assign(buf_, pos_ + header_size, len);
  pos_ += header_size + len;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  }
  return true;
}

caf::error frame_decoder::finish() const {
  if (error_)
    return error_;
  auto avail = buf_.size() - pos_;
  if (avail == 0)
    return {};
  if (avail < header_size)
    return make_error(ec::truncated_frame,
                      "stream ended inside a frame header: got "
                        + std::to_string(avail) + " of "
                        + std::to_string(header_size) + " bytes");
  auto p = reinterpret_cast<const unsigned char*>(buf_.data() + pos_);
  auto len = body_length(buf_.data() + pos_);
  return make_error(ec::truncated_frame,
                    "stream ended inside a "
                      + std::string{to_string(static_cast<frame_type>(p[4]))}
                      + " frame: got " + std::to_string(avail - header_size)
                      + " of " + std::to_string(len) + " body bytes");
}

} // namespace baton::wire
