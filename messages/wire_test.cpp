#include "messages/wire.hpp"

#include "messages/error.hpp"
#include "messages/job.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

using namespace baton;
using namespace baton::wire;
using namespace std::string_literals;

namespace {

// -- helpers ------------------------------------------------------------------

// Checks that `err` has `code` and that its rendered message contains every
// string of `parts`.
testing::AssertionResult
has_error(const caf::error& err, ec code,
          std::initializer_list<std::string_view> parts = {}) {
  if (!err)
    return testing::AssertionFailure()
           << "no error, expected " << to_string(code);
  auto text = render(err);
  if (code_of(err) != code)
    return testing::AssertionFailure()
           << "got " << to_string(code_of(err)) << " (" << text
           << "), expected " << to_string(code);
  for (auto part : parts)
    if (text.find(part) == std::string::npos)
      return testing::AssertionFailure()
             << "message \"" << text << "\" does not contain \"" << part
             << "\"";
  return testing::AssertionSuccess() << text;
}

// Returns the error of decoding a frame of `type` with `body`, or no error if
// it decodes.
caf::error decode_error(frame_type type, std::string body) {
  auto result = decode(frame{type, std::move(body)});
  if (result)
    return {};
  return result.error();
}

// Returns the bytes of a header announcing `size` body bytes of `type`.
std::string header(uint32_t size, uint8_t type) {
  return {static_cast<char>((size >> 24) & 0xFF),
          static_cast<char>((size >> 16) & 0xFF),
          static_cast<char>((size >> 8) & 0xFF), static_cast<char>(size & 0xFF),
          static_cast<char>(type)};
}

void feed(frame_decoder& dec, std::string_view bytes) {
  dec.feed(bytes.data(), bytes.size());
}

// Sends `in` through encode, append, a frame decoder and decode.
void round_trip(const message& in, message& out) {
  auto f = encode(in);
  ASSERT_EQ(f.type, type_of(in));
  std::vector<char> buf;
  append(buf, f);
  ASSERT_EQ(buf.size(), header_size + f.body.size());
  frame_decoder dec;
  dec.feed(buf.data(), buf.size());
  frame got;
  ASSERT_TRUE(dec.next(got)) << render(dec.error());
  EXPECT_FALSE(dec.next(got));
  EXPECT_EQ(dec.buffered(), 0u);
  EXPECT_FALSE(dec.finish());
  ASSERT_EQ(got.type, f.type);
  ASSERT_EQ(got.body, f.body);
  auto result = decode(got);
  ASSERT_TRUE(result) << render(result.error());
  ASSERT_EQ(result->index(), in.index());
  out = std::move(*result);
}

// Round-trips `in` and returns the decoded message of the same type.
template <class T>
void round_trip(const T& in, T& out) {
  message msg;
  ASSERT_NO_FATAL_FAILURE(round_trip(message{in}, msg));
  out = std::get<T>(msg);
}

std::string random_bytes(std::mt19937& rng, size_t size) {
  std::uniform_int_distribution<int> byte{0, 255};
  std::string result(size, '\0');
  for (auto& c : result)
    c = static_cast<char>(byte(rng));
  return result;
}

// One frame of every type, with bodies worth splitting.
std::vector<frame> sample_frames() {
  std::mt19937 rng{7};
  return {
    encode(hello{1, "baton-bootstrap 0.1.0"}),
    encode(welcome{1, 1000}),
    encode(register_request{3}),
    encode(registered{{"A=1", "B=two", "EMPTY="}}),
    encode(state_update{run_state::start}),
    encode(log_data{"line one\n\0\xff\x1b[31mred\x1b[0m\n"s}),
    encode(log_data{random_bytes(rng, 3000)}),
    encode(credit{65536}),
    encode(heartbeat{}),
    encode(heartbeat{}),
    encode(exit_report{-1}),
    encode(exit_ack{}),
    encode(error_report{"bad_field", "field 'id' of register: missing"}),
    encode(settings_report{step_settings{true, false, {1, 3}}}),
    encode(log_at{1'796'166'463'123'456'789, "timed line\n"}),
  };
}

std::string stream_of(const std::vector<frame>& frames) {
  std::vector<char> buf;
  for (auto& f : frames)
    append(buf, f);
  return {buf.begin(), buf.end()};
}

// Feeds `bytes` in pieces whose sizes `next_size` picks, taking every frame
// as soon as it is complete.
template <class F>
std::vector<frame>
split_decode(frame_decoder& dec, const std::string& bytes, F next_size) {
  std::vector<frame> result;
  size_t pos = 0;
  while (pos < bytes.size()) {
    auto n = std::min(next_size(), bytes.size() - pos);
    dec.feed(bytes.data() + pos, n);
    pos += n;
    frame f;
    while (dec.next(f))
      result.push_back(std::move(f));
  }
  return result;
}

void expect_same_frames(const std::vector<frame>& got,
                        const std::vector<frame>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].type, want[i].type) << "frame " << i;
    EXPECT_EQ(got[i].body, want[i].body) << "frame " << i;
  }
}

} // namespace

// -- frame types --------------------------------------------------------------

TEST(wire, frame_type_names) {
  EXPECT_STREQ(to_string(frame_type::hello), "hello");
  EXPECT_STREQ(to_string(frame_type::register_), "register");
  EXPECT_STREQ(to_string(frame_type::exit_ack), "exit_ack");
  EXPECT_STREQ(to_string(frame_type::error), "error");
  EXPECT_STREQ(to_string(frame_type::status), "status");
  EXPECT_STREQ(to_string(frame_type::status_report), "status_report");
  EXPECT_STREQ(to_string(frame_type::settings), "settings");
  EXPECT_STREQ(to_string(frame_type::log_at), "log_at");
  EXPECT_STREQ(to_string(frame_type::ready), "ready");
  EXPECT_FALSE(is_frame_type(0));
  for (uint8_t i = 1; i <= 16; ++i)
    EXPECT_TRUE(is_frame_type(i)) << int{i};
  EXPECT_FALSE(is_frame_type(17));
  EXPECT_FALSE(is_frame_type(255));
}

TEST(wire, append_writes_big_endian_length_and_type) {
  std::vector<char> buf;
  std::string body(0x010203, 'x');
  append(buf, frame_type::log, body.data(), body.size());
  ASSERT_EQ(buf.size(), header_size + body.size());
  EXPECT_EQ(std::string(buf.begin(), buf.begin() + header_size),
            header(0x010203, 6));
  buf.clear();
  append(buf, frame{frame_type::heartbeat, {}});
  EXPECT_EQ(std::string(buf.begin(), buf.end()), header(0, 8));
}

// -- round trips --------------------------------------------------------------

TEST(wire, round_trip_hello) {
  for (auto version : {0u, 1u, std::numeric_limits<uint32_t>::max()}) {
    hello out;
    ASSERT_NO_FATAL_FAILURE(
      round_trip(hello{version, "baton-bootstrap 0.1.0 \xc3\xa9"}, out));
    EXPECT_EQ(out.version, version);
    EXPECT_EQ(out.peer, "baton-bootstrap 0.1.0 \xc3\xa9");
  }
  hello out{7, "x"};
  ASSERT_NO_FATAL_FAILURE(round_trip(hello{1, ""}, out));
  EXPECT_EQ(out.version, 1u);
  EXPECT_EQ(out.peer, "");
}

TEST(wire, round_trip_hello_replaces_invalid_utf8) {
  hello out;
  ASSERT_NO_FATAL_FAILURE(round_trip(hello{1, "a\xff\xfe"
                                              "b\0c"s},
                                     out));
  EXPECT_EQ(out.peer, "a\xef\xbf\xbd\xef\xbf\xbd"
                      "b\0c"s);
}

TEST(wire, round_trip_welcome) {
  welcome out;
  ASSERT_NO_FATAL_FAILURE(round_trip(welcome{1, 1000}, out));
  EXPECT_EQ(out.version, 1u);
  EXPECT_EQ(out.heartbeat_ms, 1000u);
  auto max = std::numeric_limits<uint32_t>::max();
  ASSERT_NO_FATAL_FAILURE(round_trip(welcome{max, max}, out));
  EXPECT_EQ(out.version, max);
  EXPECT_EQ(out.heartbeat_ms, max);
}

TEST(wire, round_trip_register) {
  for (auto id : {0, 1, 41, -1, std::numeric_limits<int32_t>::min(),
                  std::numeric_limits<int32_t>::max()}) {
    register_request out{12345};
    ASSERT_NO_FATAL_FAILURE(round_trip(register_request{id}, out));
    EXPECT_EQ(out.id, id);
  }
}

TEST(wire, round_trip_registered) {
  std::vector<std::string> env{
    "PATH=/usr/bin:/bin",  "EMPTY=", "=", "", "UNICODE=\xc3\xa9\xe2\x82\xac",
    "QUOTES=\"a\" 'b' \\n"};
  registered out;
  ASSERT_NO_FATAL_FAILURE(round_trip(registered{env}, out));
  EXPECT_EQ(out.env, env);
  out.env = {"stale"};
  ASSERT_NO_FATAL_FAILURE(round_trip(registered{}, out));
  EXPECT_TRUE(out.env.empty());
}

TEST(wire, round_trip_state) {
  for (auto s : {run_state::wait, run_state::start, run_state::interrupt,
                 run_state::shutdown}) {
    state_update out{s == run_state::wait ? run_state::start : run_state::wait};
    ASSERT_NO_FATAL_FAILURE(round_trip(state_update{s}, out));
    EXPECT_EQ(out.state, s) << to_string(s);
  }
}

TEST(wire, round_trip_state_with_the_job_so_far) {
  state_update in{run_state::start, {"VERSION=1.2", "NOTES=a\nb"}, "failed", 3};
  state_update out;
  ASSERT_NO_FATAL_FAILURE(round_trip(in, out));
  EXPECT_EQ(out.state, run_state::start);
  EXPECT_EQ(out.env, in.env);
  EXPECT_EQ(out.job_result, "failed");
  EXPECT_EQ(out.job_status, 3);
  // A state without the job so far, as version 1 knows it, and a skip.
  EXPECT_EQ(encode(state_update{run_state::skip}).body, R"({"state":"skip"})");
}

TEST(wire, round_trip_settings) {
  for (auto settings : {step_settings{}, step_settings{true, true, {}},
                        step_settings{false, false, {1, 3, 255}}}) {
    settings_report out;
    ASSERT_NO_FATAL_FAILURE(round_trip(settings_report{settings}, out));
    EXPECT_EQ(out.settings.always, settings.always);
    EXPECT_EQ(out.settings.soft_fail_any, settings.soft_fail_any);
    EXPECT_EQ(out.settings.soft_fail, settings.soft_fail);
  }
  step_settings service;
  service.service = true;
  service.log_to_job = true;
  EXPECT_EQ(encode(settings_report{service}).body,
            R"({"always":false,"service":true,"service_log":true})");
  settings_report out;
  ASSERT_NO_FATAL_FAILURE(round_trip(settings_report{service}, out));
  EXPECT_TRUE(out.settings.service);
  EXPECT_TRUE(out.settings.log_to_job);
  step_settings member;
  member.group = "checks";
  member.fail_fast = true;
  EXPECT_EQ(encode(settings_report{member}).body,
            R"({"always":false,"fail_fast":true,"group":"checks"})");
  ASSERT_NO_FATAL_FAILURE(round_trip(settings_report{member}, out));
  EXPECT_EQ(out.settings.group, "checks");
  EXPECT_TRUE(out.settings.fail_fast);
  EXPECT_TRUE(has_error(decode_error(frame_type::settings, R"({"group":3})"),
                        ec::bad_field,
                        {"field 'group' of settings: expected a string"}));
}

TEST(wire, round_trip_ready) {
  ready_report out;
  ASSERT_NO_FATAL_FAILURE(round_trip(ready_report{}, out));
  EXPECT_EQ(encode(ready_report{}).body, "");
  EXPECT_TRUE(has_error(decode_error(frame_type::ready, "{}"),
                        ec::malformed_body, {"ready body must be empty"}));
}

TEST(wire, bad_settings_are_refused) {
  EXPECT_TRUE(has_error(
    decode_error(frame_type::settings, R"({"always":"yes"})"), ec::bad_field,
    {"field 'always' of settings: expected a boolean, "
     "got string"}));
  EXPECT_TRUE(has_error(
    decode_error(frame_type::settings, R"({"soft_fail":[1,256]})"),
    ec::bad_field, {"expected exit statuses from 1 to 255, got 256"}));
  EXPECT_TRUE(has_error(
    decode_error(frame_type::settings, R"({"soft_fail":"1"})"), ec::bad_field,
    {"expected a boolean or an array of exit statuses"}));
}

TEST(wire, round_trip_log_at) {
  log_at in{1'796'166'463'123'456'789, "a\0\xff\n"s};
  auto f = encode(in);
  EXPECT_EQ(f.type, frame_type::log_at);
  ASSERT_EQ(f.body.size(), log_at_header_size + in.bytes.size());
  EXPECT_EQ(read_log_time(f.body.data()), in.read_ns);
  log_at out;
  ASSERT_NO_FATAL_FAILURE(round_trip(in, out));
  EXPECT_EQ(out.read_ns, in.read_ns);
  EXPECT_EQ(out.bytes, in.bytes);
  // A time and no bytes, or half a time: refused.
  EXPECT_TRUE(has_error(decode_error(frame_type::log_at, "12345678"),
                        ec::malformed_body,
                        {"log_at body must hold a time and at least one "
                         "byte, got 8 bytes"}));
}

TEST(wire, round_trip_exit_with_outputs) {
  exit_report in{143, true, {"VERSION=1.2", "NOTES=a\nb", "EMPTY="}};
  exit_report out;
  ASSERT_NO_FATAL_FAILURE(round_trip(in, out));
  EXPECT_EQ(out.status, 143);
  EXPECT_TRUE(out.timed_out);
  EXPECT_EQ(out.outputs, in.outputs);
  EXPECT_TRUE(has_error(decode_error(frame_type::exit,
                                     R"({"status":0,"outputs":["1A=x"]})"),
                        ec::bad_field,
                        {"field 'outputs' of exit: item 0: invalid variable "
                         "name '1A'"}));
  EXPECT_TRUE(has_error(decode_error(frame_type::exit,
                                     R"({"status":0,"outputs":["NOEQ"]})"),
                        ec::bad_field, {"item 0: expected KEY=VALUE"}));
}

TEST(wire, round_trip_log) {
  std::vector<std::string> bodies{
    "hello\n",
    "x",
    "\0"s,
    "a\0b\0\0c\n"s,
    "\xff\xfe",
    "\xc3",
    "\x1b[31mred\x1b[0m plain \x1b[1;32mbold green\x1b[0m\r\n",
  };
  for (auto& body : bodies) {
    log_data out;
    ASSERT_NO_FATAL_FAILURE(round_trip(log_data{body}, out));
    EXPECT_EQ(out.bytes, body);
  }
}

TEST(wire, round_trip_log_is_raw) {
  auto f = encode(log_data{"a\0\xff"s});
  EXPECT_EQ(f.type, frame_type::log);
  EXPECT_EQ(f.body, "a\0\xff"s);
}

TEST(wire, round_trip_log_max_size_random) {
  std::mt19937 rng{1234};
  auto body = random_bytes(rng, defaults::max_frame_size);
  ASSERT_EQ(body.size(), 1024u * 1024u);
  log_data out;
  ASSERT_NO_FATAL_FAILURE(round_trip(log_data{body}, out));
  EXPECT_TRUE(out.bytes == body);
}

TEST(wire, round_trip_credit) {
  for (auto n : {uint64_t{0}, uint64_t{1}, uint64_t{65536}, uint64_t{1} << 32,
                 std::numeric_limits<uint64_t>::max()}) {
    credit out{42};
    ASSERT_NO_FATAL_FAILURE(round_trip(credit{n}, out));
    EXPECT_EQ(out.bytes, n);
  }
}

TEST(wire, round_trip_heartbeat) {
  EXPECT_EQ(encode(heartbeat{}).body, "");
  heartbeat out;
  ASSERT_NO_FATAL_FAILURE(round_trip(heartbeat{}, out));
}

TEST(wire, round_trip_exit) {
  for (auto status :
       {0, 1, 2, 127, 255, -1, -7, std::numeric_limits<int32_t>::min(),
        std::numeric_limits<int32_t>::max()}) {
    exit_report out{99};
    ASSERT_NO_FATAL_FAILURE(round_trip(exit_report{status}, out));
    EXPECT_EQ(out.status, status);
  }
}

TEST(wire, round_trip_exit_ack) {
  EXPECT_EQ(encode(exit_ack{}).body, "");
  exit_ack out;
  ASSERT_NO_FATAL_FAILURE(round_trip(exit_ack{}, out));
}

TEST(wire, round_trip_error) {
  error_report out;
  ASSERT_NO_FATAL_FAILURE(round_trip(
    error_report{"duplicate_container",
                 "container 3 already registered: \"x\"\n\t\\ \xc3\xa9"},
    out));
  EXPECT_EQ(out.code, "duplicate_container");
  EXPECT_EQ(out.message,
            "container 3 already registered: \"x\"\n\t\\ \xc3\xa9");
  ASSERT_NO_FATAL_FAILURE(round_trip(error_report{}, out));
  EXPECT_EQ(out.code, "");
  EXPECT_EQ(out.message, "");
}

// -- splitting ----------------------------------------------------------------

TEST(wire, split_one_byte_at_a_time) {
  auto frames = sample_frames();
  auto bytes = stream_of(frames);
  frame_decoder dec;
  auto got = split_decode(dec, bytes, [] { return size_t{1}; });
  expect_same_frames(got, frames);
  EXPECT_FALSE(dec.error());
  EXPECT_EQ(dec.buffered(), 0u);
  EXPECT_FALSE(dec.finish());
}

TEST(wire, split_random_sizes) {
  auto frames = sample_frames();
  auto bytes = stream_of(frames);
  std::mt19937 rng{42};
  for (int round = 0; round < 200; ++round) {
    // Small pieces in some rounds, large ones in others.
    std::uniform_int_distribution<size_t> size{0, round % 2 == 0 ? 16u : 4096u};
    frame_decoder dec;
    auto got = split_decode(dec, bytes, [&] { return size(rng); });
    ASSERT_NO_FATAL_FAILURE(expect_same_frames(got, frames))
      << "round " << round;
    EXPECT_EQ(dec.buffered(), 0u);
    EXPECT_FALSE(dec.finish());
  }
}

TEST(wire, split_whole_stream_at_once) {
  auto frames = sample_frames();
  auto bytes = stream_of(frames);
  frame_decoder dec;
  auto got = split_decode(dec, bytes, [&] { return bytes.size(); });
  expect_same_frames(got, frames);
}

TEST(wire, next_waits_for_a_complete_frame) {
  frame_decoder dec;
  frame f;
  EXPECT_FALSE(dec.next(f));
  feed(dec, header(3, 6));
  EXPECT_FALSE(dec.next(f));
  EXPECT_EQ(dec.buffered(), header_size);
  feed(dec, "ab");
  EXPECT_FALSE(dec.next(f));
  EXPECT_EQ(dec.buffered(), header_size + 2);
  feed(dec, "c");
  ASSERT_TRUE(dec.next(f));
  EXPECT_EQ(f.type, frame_type::log);
  EXPECT_EQ(f.body, "abc");
  EXPECT_EQ(dec.buffered(), 0u);
  EXPECT_FALSE(dec.next(f));
  EXPECT_FALSE(dec.error());
}

// -- frame size ---------------------------------------------------------------

TEST(wire, frame_at_max_size_is_accepted) {
  frame_decoder dec{64};
  EXPECT_EQ(dec.max_frame_size(), 64u);
  std::string body(64, 'z');
  feed(dec, header(64, 6) + body);
  frame f;
  ASSERT_TRUE(dec.next(f)) << render(dec.error());
  EXPECT_EQ(f.body, body);
  EXPECT_FALSE(dec.error());
}

TEST(wire, frame_over_max_size_fails_at_header) {
  frame_decoder dec{64};
  auto h = header(65, 6);
  frame f;
  // Nothing is decided before the whole header is in.
  for (size_t i = 0; i + 1 < header_size; ++i) {
    dec.feed(&h[i], 1);
    EXPECT_FALSE(dec.next(f));
    EXPECT_FALSE(dec.error());
  }
  dec.feed(&h[header_size - 1], 1);
  EXPECT_FALSE(dec.next(f));
  EXPECT_TRUE(has_error(dec.error(), ec::frame_too_large,
                        {"65", "64",
                         "frame of 65 bytes exceeds the maximum "
                         "of 64 bytes"}));
  EXPECT_TRUE(has_error(dec.finish(), ec::frame_too_large));
}

TEST(wire, frame_length_all_ones_fails) {
  frame_decoder dec{64};
  feed(dec, header(0xFFFFFFFF, 6));
  frame f;
  EXPECT_FALSE(dec.next(f));
  EXPECT_TRUE(
    has_error(dec.error(), ec::frame_too_large, {"4294967295", "64"}));
}

TEST(wire, default_max_size) {
  constexpr size_t max = 1024 * 1024;
  frame_decoder dec;
  EXPECT_EQ(dec.max_frame_size(), max);
  std::string body(max, '\x01');
  feed(dec, header(max, 6));
  feed(dec, body);
  frame f;
  ASSERT_TRUE(dec.next(f)) << render(dec.error());
  EXPECT_EQ(f.body.size(), max);
  feed(dec, header(max + 1, 6));
  EXPECT_FALSE(dec.next(f));
  EXPECT_TRUE(
    has_error(dec.error(), ec::frame_too_large, {"1048577", "1048576"}));
}

// -- unknown frame types ------------------------------------------------------

TEST(wire, unknown_frame_type_fails_at_header) {
  for (int type : {0, 17, 255}) {
    frame_decoder dec;
    // A body that is never needed: the header alone fails the stream.
    feed(dec, header(2, static_cast<uint8_t>(type)));
    frame f;
    EXPECT_FALSE(dec.next(f));
    EXPECT_TRUE(has_error(dec.error(), ec::unknown_frame_type,
                          {"unknown frame type " + std::to_string(type)}))
      << type;
  }
}

TEST(wire, decode_unknown_frame_type) {
  for (int type : {0, 17, 255}) {
    auto err = decode_error(static_cast<frame_type>(type), "{}");
    EXPECT_TRUE(has_error(err, ec::unknown_frame_type,
                          {"unknown frame type " + std::to_string(type)}));
  }
}

// -- truncation ---------------------------------------------------------------

TEST(wire, finish_on_empty_stream) {
  frame_decoder dec;
  EXPECT_FALSE(dec.finish());
}

TEST(wire, finish_on_consumed_stream) {
  frame_decoder dec;
  feed(dec, stream_of(sample_frames()));
  frame f;
  while (dec.next(f)) {
    // drain
  }
  EXPECT_FALSE(dec.error());
  EXPECT_FALSE(dec.finish());
}

TEST(wire, finish_inside_header) {
  frame_decoder dec;
  feed(dec, header(10, 6).substr(0, 3));
  frame f;
  EXPECT_FALSE(dec.next(f));
  EXPECT_FALSE(dec.error());
  EXPECT_TRUE(has_error(dec.finish(), ec::truncated_frame,
                        {"header", "got 3 of 5 bytes"}));
}

TEST(wire, finish_inside_body) {
  frame_decoder dec;
  feed(dec, stream_of({encode(heartbeat{})}) + header(10, 6) + "ab");
  frame f;
  ASSERT_TRUE(dec.next(f));
  EXPECT_FALSE(dec.next(f));
  EXPECT_FALSE(dec.error());
  EXPECT_TRUE(has_error(dec.finish(), ec::truncated_frame,
                        {"log frame", "got 2 of 10 body bytes"}));
}

TEST(wire, finish_after_bare_header) {
  frame_decoder dec;
  feed(dec, header(7, 9));
  frame f;
  EXPECT_FALSE(dec.next(f));
  EXPECT_TRUE(has_error(dec.finish(), ec::truncated_frame,
                        {"exit frame", "got 0 of 7 body bytes"}));
}

// -- failed streams -----------------------------------------------------------

TEST(wire, decoder_stays_failed) {
  frame_decoder dec{64};
  feed(dec, stream_of({encode(heartbeat{})}) + header(1, 17));
  frame f;
  ASSERT_TRUE(dec.next(f));
  EXPECT_FALSE(dec.next(f));
  auto err = dec.error();
  ASSERT_TRUE(has_error(err, ec::unknown_frame_type, {"17"}));
  auto buffered = dec.buffered();
  // A valid frame after the failure changes nothing.
  feed(dec, stream_of({encode(heartbeat{}), encode(register_request{1})}));
  EXPECT_EQ(dec.buffered(), buffered);
  EXPECT_FALSE(dec.next(f));
  EXPECT_FALSE(dec.next(f));
  EXPECT_EQ(dec.error(), err);
  EXPECT_EQ(dec.finish(), err);
}

// -- decode errors ------------------------------------------------------------

TEST(wire, decode_body_not_json) {
  for (auto body : {"", "{", "not json", "{\"id\": 1,}", "{'id': 1}",
                    "{\"id\": 1} trailing", "\xff\xfe"}) {
    EXPECT_TRUE(has_error(decode_error(frame_type::register_, body),
                          ec::malformed_body, {"register", "not valid JSON"}))
      << body;
  }
  // A string holding invalid UTF-8 is not JSON either.
  EXPECT_TRUE(has_error(decode_error(frame_type::hello,
                                     "{\"version\":1,\"peer\":\"\xff\"}"),
                        ec::malformed_body, {"hello"}));
}

TEST(wire, decode_body_not_object) {
  for (auto body : {"[1]", "\"x\"", "1", "null", "true", "[]"}) {
    EXPECT_TRUE(has_error(decode_error(frame_type::register_, body),
                          ec::malformed_body, {"register", "JSON object"}))
      << body;
  }
  EXPECT_TRUE(has_error(decode_error(frame_type::credit, "[1]"),
                        ec::malformed_body,
                        {"credit body must be a JSON object, got array"}));
}

TEST(wire, decode_nesting) {
  // Four levels are fine; unknown fields are ignored.
  auto ok = decode(
    frame{frame_type::register_, R"({"id":1,"x":{"a":{"b":{"c":1}}}})"});
  ASSERT_TRUE(ok) << render(ok.error());
  EXPECT_EQ(std::get<register_request>(*ok).id, 1);
  ok = decode(frame{frame_type::register_, R"({"id":1,"x":[[[1]]]})"});
  ASSERT_TRUE(ok) << render(ok.error());
  // Five levels are not, empty or not.
  for (auto body :
       {R"({"id":1,"x":{"a":{"b":{"c":{"d":1}}}}})",
        R"({"id":1,"x":{"a":{"b":{"c":{}}}}})", R"({"id":1,"x":[[[[1]]]]})",
        R"({"id":1,"x":[[[[]]]]})", R"([[[[[]]]]])"}) {
    EXPECT_TRUE(has_error(decode_error(frame_type::register_, body),
                          ec::malformed_body,
                          {"register body nests deeper than 4 levels"}))
      << body;
  }
  // Very deep nesting is refused early, without exhausting the stack.
  std::string deep(100000, '[');
  EXPECT_TRUE(has_error(decode_error(frame_type::register_, deep),
                        ec::malformed_body, {"deeper than 4"}));
  deep = std::string(100000, '{');
  EXPECT_TRUE(
    has_error(decode_error(frame_type::register_, deep), ec::malformed_body));
}

TEST(wire, decode_missing_field) {
  struct item {
    frame_type type;
    const char* body;
    const char* message;
  };
  for (auto& x : {
         item{frame_type::register_, "{}", "field 'id' of register: missing"},
         item{frame_type::register_, R"({"ID":1})",
              "field 'id' of register: missing"},
         item{frame_type::hello, R"({"peer":"p"})",
              "field 'version' of hello: missing"},
         item{frame_type::welcome, R"({"version":1})",
              "field 'heartbeat_ms' of welcome: missing"},
         item{frame_type::welcome, R"({"heartbeat_ms":1})",
              "field 'version' of welcome: missing"},
         item{frame_type::registered, "{}",
              "field 'env' of registered: missing"},
         item{frame_type::state, "{}", "field 'state' of state: missing"},
         item{frame_type::credit, "{}", "field 'bytes' of credit: missing"},
         item{frame_type::exit, "{}", "field 'status' of exit: missing"},
         item{frame_type::error, R"({"message":"m"})",
              "field 'code' of error: missing"},
         item{frame_type::error, R"({"code":"c"})",
              "field 'message' of error: missing"},
       }) {
    EXPECT_TRUE(
      has_error(decode_error(x.type, x.body), ec::bad_field, {x.message}))
      << x.body;
  }
}

TEST(wire, decode_hello_peer_is_optional) {
  auto result = decode(frame{frame_type::hello, R"({"version":1})"});
  ASSERT_TRUE(result) << render(result.error());
  auto& x = std::get<hello>(*result);
  EXPECT_EQ(x.version, 1u);
  EXPECT_EQ(x.peer, "");
}

TEST(wire, decode_wrong_type) {
  struct item {
    frame_type type;
    const char* body;
    const char* message;
  };
  for (auto& x : {
         item{frame_type::register_, R"({"id":"1"})",
              "field 'id' of register: expected an integer, got string"},
         item{frame_type::register_, R"({"id":1.0})",
              "field 'id' of register: expected an integer, got number"},
         item{frame_type::register_, R"({"id":1.5})", "field 'id'"},
         item{frame_type::register_, R"({"id":null})", "got null"},
         item{frame_type::register_, R"({"id":true})", "got boolean"},
         item{frame_type::credit, R"({"bytes":[1]})",
              "field 'bytes' of credit: expected an integer, got array"},
         item{frame_type::hello, R"({"version":1,"peer":1})",
              "field 'peer' of hello: expected a string, got number"},
         item{frame_type::registered, R"({"env":"A=1"})",
              "field 'env' of registered: expected an array, got string"},
         item{frame_type::registered, R"({"env":["A=1",2]})",
              "field 'env' of registered: item 1: expected a string, got "
              "number"},
         item{frame_type::registered, R"({"env":[null]})", "item 0"},
         item{frame_type::state, R"({"state":"running"})",
              "field 'state' of state: unknown state 'running'"},
         item{frame_type::state, R"({"state":"START"})", "'START'"},
         item{frame_type::state, R"({"state":1})",
              "field 'state' of state: expected a string, got number"},
         item{frame_type::error, R"({"code":1,"message":"m"})",
              "field 'code' of error: expected a string"},
       }) {
    EXPECT_TRUE(
      has_error(decode_error(x.type, x.body), ec::bad_field, {x.message}))
      << x.body;
  }
}

TEST(wire, decode_out_of_range) {
  struct item {
    frame_type type;
    const char* body;
    const char* message;
  };
  for (auto& x : {
         item{frame_type::register_, R"({"id":2147483648})",
              "field 'id' of register: 2147483648 is out of range "
              "[-2147483648, 2147483647]"},
         item{frame_type::register_, R"({"id":-2147483649})",
              "field 'id' of register: -2147483649 is out of range"},
         item{frame_type::register_, R"({"id":18446744073709551615})",
              "18446744073709551615"},
         item{frame_type::credit, R"({"bytes":-1})",
              "field 'bytes' of credit: -1 is out of range "
              "[0, 18446744073709551615]"},
         item{frame_type::hello, R"({"version":-1})",
              "field 'version' of hello: -1 is out of range [0, 4294967295]"},
         item{frame_type::hello, R"({"version":4294967296})", "4294967296"},
         item{frame_type::welcome, R"({"version":1,"heartbeat_ms":-5})",
              "field 'heartbeat_ms' of welcome: -5"},
         item{frame_type::exit, R"({"status":2147483648})",
              "field 'status' of exit: 2147483648"},
       }) {
    EXPECT_TRUE(
      has_error(decode_error(x.type, x.body), ec::bad_field, {x.message}))
      << x.body;
  }
}

TEST(wire, decode_range_limits) {
  auto id_of = [](const char* body) {
    auto result = decode(frame{frame_type::register_, body});
    EXPECT_TRUE(result) << body << ": " << render(result.error());
    return result ? std::get<register_request>(*result).id : 0;
  };
  EXPECT_EQ(id_of(R"({"id":2147483647})"), 2147483647);
  EXPECT_EQ(id_of(R"({"id":-2147483648})"),
            std::numeric_limits<int32_t>::min());
  // Negative ids are valid on the wire; the runner refuses them later.
  EXPECT_EQ(id_of(R"({"id":-1})"), -1);
  EXPECT_EQ(id_of(R"({"id":-0})"), 0);
  auto result = decode(frame{frame_type::hello, R"({"version":4294967295})"});
  ASSERT_TRUE(result) << render(result.error());
  EXPECT_EQ(std::get<hello>(*result).version, 4294967295u);
}

TEST(wire, decode_empty_body_types) {
  EXPECT_TRUE(has_error(decode_error(frame_type::heartbeat, "{}"),
                        ec::malformed_body,
                        {"heartbeat body must be empty, got 2 bytes"}));
  EXPECT_TRUE(has_error(decode_error(frame_type::heartbeat, "\0"s),
                        ec::malformed_body, {"got 1 bytes"}));
  EXPECT_TRUE(has_error(decode_error(frame_type::exit_ack, "x"),
                        ec::malformed_body,
                        {"exit_ack body must be empty, got 1 bytes"}));
  EXPECT_TRUE(has_error(decode_error(frame_type::log, ""), ec::malformed_body,
                        {"log body must not be empty"}));
}

TEST(wire, decode_garbage_never_throws) {
  std::mt19937 rng{99};
  std::vector<std::string> bodies{"",
                                  "\0"s,
                                  "\xff\xfe\xfd",
                                  "{\"",
                                  "{\"id\":",
                                  "{\"id\":1e999}",
                                  "{\"id\":99999999999999999999999}",
                                  "[[[[[[[[[[",
                                  "\"\\ud800\"",
                                  "{\"env\":[\"\\u0000\"]}",
                                  random_bytes(rng, 1000)};
  for (auto& body : bodies) {
    for (uint8_t t = 0; t <= 16; ++t) {
      EXPECT_NO_THROW(
        static_cast<void>(decode(frame{static_cast<frame_type>(t), body})))
        << int{t};
    }
  }
}

// -- garbage ------------------------------------------------------------------

TEST(wire, garbage_streams) {
  std::mt19937 rng{2024};
  std::uniform_int_distribution<int> coin{0, 3};
  std::uniform_int_distribution<int> type{0, 16};
  std::uniform_int_distribution<uint32_t> small_len{0, 64};
  std::uniform_int_distribution<size_t> piece{0, 40};
  std::uniform_int_distribution<size_t> noise_len{0, 200};
  // Text that looks like message bodies, to reach past the JSON parser.
  const std::vector<std::string> bodies{
    R"({"version":1,"peer":"p"})",
    R"({"version":1,"heartbeat_ms":9})",
    R"({"id":-1})",
    R"({"id":"1"})",
    R"({"env":["A=1",2]})",
    R"({"env":[]})",
    R"({"state":"start"})",
    R"({"state":"nope"})",
    R"({"bytes":18446744073709551615})",
    R"({"status":-2147483649})",
    R"({"code":"c","message":"m"})",
    R"([[[[[1]]]]])",
    "",
    "x",
  };
  std::uniform_int_distribution<size_t> pick{0, bodies.size() - 1};
  auto random_type = [&] { return static_cast<uint8_t>(type(rng)); };
  // A stream of plausible frames, frames with one byte flipped, random
  // headers and noise.
  auto make_stream = [&] {
    std::string bytes;
    auto parts = 1 + coin(rng);
    for (int i = 0; i < parts; ++i) {
      switch (coin(rng)) {
        case 0: bytes += random_bytes(rng, noise_len(rng)); break;
        case 1: {
          auto& body = bodies[pick(rng)];
          bytes += header(static_cast<uint32_t>(body.size()), random_type());
          bytes += body;
          break;
        }
        case 2: {
          auto size = small_len(rng);
          bytes += header(small_len(rng), random_type());
          bytes += random_bytes(rng, size);
          break;
        }
        default: {
          auto body = bodies[pick(rng)];
          if (!body.empty()) {
            std::uniform_int_distribution<size_t> at{0, body.size() - 1};
            body[at(rng)] ^= 0x20;
          }
          bytes += header(static_cast<uint32_t>(body.size()), random_type());
          bytes += body;
          break;
        }
      }
    }
    return bytes;
  };
  size_t frames = 0;
  size_t decoded = 0;
  auto run = [&] {
    for (int round = 0; round < 10000; ++round) {
      auto bytes = make_stream();
      frame_decoder dec{4096};
      auto got = split_decode(dec, bytes, [&] { return piece(rng); });
      for (auto& f : got) {
        ++frames;
        EXPECT_LE(f.body.size(), 4096u);
        EXPECT_TRUE(is_frame_type(static_cast<uint8_t>(f.type)));
        auto msg = decode(f);
        if (!msg) {
          auto code = code_of(msg.error());
          EXPECT_TRUE(code == ec::malformed_body || code == ec::bad_field)
            << render(msg.error());
          continue;
        }
        ++decoded;
        // Whatever decodes encodes again, to the same message type.
        auto again = decode(encode(*msg));
        ASSERT_TRUE(again) << render(again.error());
        EXPECT_EQ(again->index(), msg->index());
      }
      if (auto& err = dec.error()) {
        auto code = code_of(err);
        EXPECT_TRUE(code == ec::unknown_frame_type
                    || code == ec::frame_too_large)
          << render(err);
      }
      auto end = dec.finish();
      EXPECT_TRUE(code_of(end) == ec::none
                  || code_of(end) == ec::truncated_frame || end == dec.error())
        << render(end);
    }
  };
  EXPECT_NO_THROW(run());
  // The generator reaches past the framing into decoding.
  EXPECT_GT(frames, 1000u);
  EXPECT_GT(decoded, 100u);
}

TEST(wire, round_trip_status) {
  status_request out_request;
  ASSERT_NO_FATAL_FAILURE(round_trip(status_request{}, out_request));
  status_report out;
  ASSERT_NO_FATAL_FAILURE(round_trip(status_report{R"({"status":0})"}, out));
  EXPECT_EQ(out.json, R"({"status":0})");
  auto err = decode_error(frame_type::status_report, "[1]");
  EXPECT_TRUE(has_error(err, ec::malformed_body, {"status_report"}));
  err = decode_error(frame_type::status, "x");
  EXPECT_TRUE(has_error(err, ec::malformed_body, {"status"}));
}

TEST(wire, consume_matches_feed_and_next_in_any_split) {
  std::mt19937 rng{5};
  std::string stream;
  std::vector<frame> expected;
  for (int i = 0; i < 50; ++i) {
    auto frm = i % 3 == 0 ? encode(log_data{random_bytes(rng, 3000)})
                          : encode(credit{static_cast<uint64_t>(i)});
    expected.push_back(frm);
    stream += stream_of({frm});
  }
  for (int round = 0; round < 100; ++round) {
    frame_decoder dec;
    std::vector<frame> got;
    size_t pos = 0;
    while (pos < stream.size()) {
      auto n = std::min<size_t>(stream.size() - pos, rng() % 7000);
      ASSERT_TRUE(dec.consume(stream.data() + pos, n,
                              [&](frame&& f) { got.push_back(std::move(f)); }));
      pos += n;
    }
    ASSERT_EQ(got.size(), expected.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].type, expected[i].type);
      EXPECT_EQ(got[i].body, expected[i].body);
    }
    EXPECT_EQ(dec.buffered(), 0u);
  }
}

TEST(wire, consume_fails_on_a_bad_header_in_any_position) {
  auto good = stream_of({encode(heartbeat{})});
  for (size_t split = 0; split <= good.size() + 5; ++split) {
    frame_decoder dec{64};
    auto stream = good + header(65, 6);
    int frames = 0;
    auto count = [&](frame&&) { ++frames; };
    auto first = std::min(split, stream.size());
    auto ok = dec.consume(stream.data(), first, count)
              && dec.consume(stream.data() + first, stream.size() - first,
                             count);
    EXPECT_FALSE(ok) << split;
    EXPECT_EQ(frames, 1) << split;
    EXPECT_TRUE(has_error(dec.error(), ec::frame_too_large, {"65"}));
  }
}

TEST(wire, consume_stays_failed) {
  // Found by the fuzzer: after a failure, later bytes made frames again.
  frame_decoder dec{64};
  EXPECT_FALSE(dec.consume(header(65, 6).data(), 5, [](frame&&) {}));
  auto good = stream_of({encode(heartbeat{})});
  int frames = 0;
  EXPECT_FALSE(
    dec.consume(good.data(), good.size(), [&](frame&&) { ++frames; }));
  EXPECT_EQ(frames, 0);
}
