#include "messages/wire.hpp"

#include "messages/error.hpp"

#include <nlohmann/json.hpp>

#include <limits>

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

// -- body encoding ------------------------------------------------------------

namespace {

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string body_of(const hello& x) {
  return dump({{"version", x.version}, {"peer", x.peer}});
}

std::string body_of(const welcome& x) {
  return dump({{"version", x.version}, {"heartbeat_ms", x.heartbeat_ms}});
}

std::string body_of(const register_request& x) {
  return dump({{"id", x.id}});
}

std::string body_of(const registered& x) {
  return dump({{"env", x.env}});
}

std::string body_of(const state_update& x) {
  json j = {{"state", to_string(x.state)}};
  // The job so far goes with a start only.
  if (!x.job_result.empty()) {
    j["env"] = x.env;
    j["job_result"] = x.job_result;
    j["job_status"] = x.job_status;
  }
  return dump(j);
}

std::string body_of(const settings_report& x) {
  json j = {{"always", x.settings.always}};
  if (x.settings.soft_fail_any)
    j["soft_fail"] = true;
  else if (!x.settings.soft_fail.empty())
    j["soft_fail"] = x.settings.soft_fail;
  return dump(j);
}

std::string body_of(const log_data& x) {
  return x.bytes;
}

std::string body_of(const log_at& x) {
  std::string out(log_at_header_size, '\0');
  write_log_time(out.data(), x.read_ns);
  return out + x.bytes;
}

std::string body_of(const credit& x) {
  return dump({{"bytes", x.bytes}});
}

std::string body_of(const heartbeat&) {
  return {};
}

std::string body_of(const exit_report& x) {
  json j = {{"status", x.status}};
  if (x.timed_out)
    j["timed_out"] = true;
  if (!x.outputs.empty())
    j["outputs"] = x.outputs;
  return dump(j);
}

std::string body_of(const exit_ack&) {
  return {};
}

std::string body_of(const error_report& x) {
  return dump({{"code", x.code}, {"message", x.message}});
}

std::string body_of(const status_request&) {
  return {};
}

std::string body_of(const status_report& x) {
  return x.json;
}

// -- body decoding ------------------------------------------------------------

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

// Reads an integer field within [lo, hi].
template <class T>
caf::error get_int(const frame& x, const json& j, const char* field, T& out,
                   int64_t lo = std::numeric_limits<T>::min(),
                   uint64_t hi = std::numeric_limits<T>::max()) {
  auto i = j.find(field);
  if (i == j.end())
    return bad_field(x, field, "missing");
  if (!i->is_number_integer())
    return bad_field(x, field,
                     std::string{"expected an integer, got "} + i->type_name());
  auto range = "[" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
  if (i->is_number_unsigned()) {
    auto v = i->get<uint64_t>();
    if (v > hi)
      return bad_field(x, field,
                       std::to_string(v) + " is out of range " + range);
    out = static_cast<T>(v);
  } else {
    auto v = i->get<int64_t>();
    if (v < lo || (v >= 0 && static_cast<uint64_t>(v) > hi))
      return bad_field(x, field,
                       std::to_string(v) + " is out of range " + range);
    out = static_cast<T>(v);
  }
  return {};
}

caf::error get_string(const frame& x, const json& j, const char* field,
                      std::string& out, bool required = true) {
  auto i = j.find(field);
  if (i == j.end())
    return required ? bad_field(x, field, "missing") : caf::error{};
  if (!i->is_string())
    return bad_field(x, field,
                     std::string{"expected a string, got "} + i->type_name());
  out = i->get<std::string>();
  return {};
}

// Reads an array of strings; `check` may refuse an item with a reason.
template <class Check>
caf::error get_strings(const frame& x, const json& j, const char* field,
                       std::vector<std::string>& out, bool required,
                       Check check) {
  auto i = j.find(field);
  if (i == j.end())
    return required ? bad_field(x, field, "missing") : caf::error{};
  if (!i->is_array())
    return bad_field(x, field,
                     std::string{"expected an array, got "} + i->type_name());
  out.reserve(i->size());
  for (auto& item : *i) {
    auto where = "item " + std::to_string(out.size()) + ": ";
    if (!item.is_string())
      return bad_field(x, field,
                       where + "expected a string, got " + item.type_name());
    auto text = item.get<std::string>();
    if (auto why = check(text); !why.empty())
      return bad_field(x, field, where + why);
    out.push_back(std::move(text));
  }
  return {};
}

caf::error get_strings(const frame& x, const json& j, const char* field,
                       std::vector<std::string>& out, bool required) {
  return get_strings(x, j, field, out, required,
                     [](const std::string&) { return std::string{}; });
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

caf::error get_bool(const frame& x, const json& j, const char* field,
                    bool& out) {
  auto i = j.find(field);
  if (i == j.end())
    return {};
  if (!i->is_boolean())
    return bad_field(x, field,
                     std::string{"expected a boolean, got "} + i->type_name());
  out = i->get<bool>();
  return {};
}

caf::error require_empty(const frame& x) {
  if (!x.body.empty())
    return make_error(ec::malformed_body, std::string{to_string(x.type)}
                                            + " body must be empty, got "
                                            + std::to_string(x.body.size())
                                            + " bytes");
  return {};
}

// Runs `fill` on the parsed object and returns the message it filled.
template <class T, class F>
caf::expected<message> decode_object(const frame& x, F fill) {
  auto j = parse_object(x);
  if (!j)
    return std::move(j.error());
  T result;
  if (auto err = fill(*j, result))
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
    case frame_type::hello:
      return decode_object<hello>(x, [&](const json& j, hello& m) {
        if (auto err = get_int(x, j, "version", m.version))
          return err;
        return get_string(x, j, "peer", m.peer, false);
      });
    case frame_type::welcome:
      return decode_object<welcome>(x, [&](const json& j, welcome& m) {
        if (auto err = get_int(x, j, "version", m.version))
          return err;
        return get_int(x, j, "heartbeat_ms", m.heartbeat_ms);
      });
    case frame_type::register_:
      return decode_object<register_request>(x, [&](const json& j,
                                                    register_request& m) {
        return get_int(x, j, "id", m.id);
      });
    case frame_type::registered:
      return decode_object<registered>(x, [&](const json& j, registered& m) {
        return get_strings(x, j, "env", m.env, true);
      });
    case frame_type::state:
      return decode_object<state_update>(x, [&](const json& j,
                                                state_update& m) {
        std::string name;
        if (auto err = get_string(x, j, "state", name))
          return err;
        if (!from_string(name, m.state))
          return bad_field(x, "state", "unknown state '" + name + "'");
        if (auto err = get_strings(x, j, "env", m.env, false, check_variable))
          return err;
        if (auto err = get_string(x, j, "job_result", m.job_result, false))
          return err;
        if (j.count("job_status") > 0)
          return get_int(x, j, "job_status", m.job_status);
        return caf::error{};
      });
    case frame_type::settings:
      return decode_object<settings_report>(x, [&](const json& j,
                                                   settings_report& m) {
        if (auto err = get_bool(x, j, "always", m.settings.always))
          return err;
        auto i = j.find("soft_fail");
        if (i == j.end() || i->is_boolean()) {
          m.settings.soft_fail_any = i != j.end() && i->get<bool>();
          return caf::error{};
        }
        if (!i->is_array())
          return bad_field(x, "soft_fail",
                           std::string{"expected a boolean or an array of "
                                       "exit statuses, got "}
                             + i->type_name());
        for (auto& item : *i) {
          if (!item.is_number_integer() || item.get<int64_t>() < 1
              || item.get<int64_t>() > 255)
            return bad_field(x, "soft_fail",
                             "expected exit statuses from 1 to 255, got "
                               + item.dump());
          m.settings.soft_fail.push_back(item.get<int32_t>());
        }
        return caf::error{};
      });
    case frame_type::log_at: {
      if (x.body.size() <= log_at_header_size)
        return make_error(ec::malformed_body,
                          "log_at body must hold a time and at least one "
                          "byte, got "
                            + std::to_string(x.body.size()) + " bytes");
      log_at m;
      m.read_ns = read_log_time(x.body.data());
      m.bytes = x.body.substr(log_at_header_size);
      return message{std::move(m)};
    }
    case frame_type::log:
      if (x.body.empty())
        return make_error(ec::malformed_body, "log body must not be empty");
      return message{log_data{x.body}};
    case frame_type::credit:
      return decode_object<credit>(x, [&](const json& j, credit& m) {
        return get_int(x, j, "bytes", m.bytes);
      });
    case frame_type::heartbeat:
      if (auto err = require_empty(x))
        return err;
      return message{heartbeat{}};
    case frame_type::exit:
      return decode_object<exit_report>(x, [&](const json& j, exit_report& m) {
        if (auto err = get_int(x, j, "status", m.status))
          return err;
        if (auto err = get_bool(x, j, "timed_out", m.timed_out))
          return err;
        return get_strings(x, j, "outputs", m.outputs, false, check_variable);
      });
    case frame_type::exit_ack:
      if (auto err = require_empty(x))
        return err;
      return message{exit_ack{}};
    case frame_type::error:
      return decode_object<error_report>(x, [&](const json& j,
                                                error_report& m) {
        if (auto err = get_string(x, j, "code", m.code))
          return err;
        return get_string(x, j, "message", m.message);
      });
    case frame_type::status:
      if (auto err = require_empty(x))
        return err;
      return message{status_request{}};
    case frame_type::status_report: {
      auto j = parse_object(x);
      if (!j)
        return std::move(j.error());
      return message{status_report{x.body}};
    }
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
