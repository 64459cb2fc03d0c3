#include "messages/duration.hpp"

#include "messages/error.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

using namespace baton;
using namespace std::chrono_literals;

namespace {

constexpr int64_t max_ns = std::numeric_limits<int64_t>::max();
constexpr int64_t min_ns = std::numeric_limits<int64_t>::min();

// Parses `text` and returns its nanoseconds, or -1 after failing the test.
int64_t parse_ns(std::string_view text) {
  auto result = parse_duration(text);
  if (!result) {
    ADD_FAILURE() << "parse_duration(\"" << text
                  << "\") failed: " << render(result.error());
    return -1;
  }
  return result->count();
}

int64_t ns(caf::timespan d) {
  return d.count();
}

// Checks that parsing `text` fails with invalid_argument naming the text.
testing::AssertionResult rejects(std::string_view text) {
  auto result = parse_duration(text);
  if (result)
    return testing::AssertionFailure()
           << "\"" << text << "\" parsed as " << result->count() << "ns";
  auto& err = result.error();
  auto message = render(err);
  if (code_of(err) != ec::invalid_argument)
    return testing::AssertionFailure()
           << "\"" << text << "\": got " << to_string(code_of(err)) << " ("
           << message << ")";
  auto quoted = "'" + std::string{text} + "'";
  if (message.find(quoted) == std::string::npos)
    return testing::AssertionFailure()
           << "message \"" << message << "\" does not name " << quoted;
  return testing::AssertionSuccess() << message;
}

} // namespace

TEST(duration, parse) {
  EXPECT_EQ(parse_ns("0"), 0);
  EXPECT_EQ(parse_ns("150ms"), ns(150ms));
  EXPECT_EQ(parse_ns("30s"), ns(30s));
  EXPECT_EQ(parse_ns("5m"), ns(5min));
  EXPECT_EQ(parse_ns("1h30m"), ns(90min));
  EXPECT_EQ(parse_ns("1.5s"), ns(1500ms));
  EXPECT_EQ(parse_ns("2h45m30.5s"), ns(2h + 45min + 30s + 500ms));
  EXPECT_EQ(parse_ns("1us"), ns(1us));
  EXPECT_EQ(parse_ns("100ns"), ns(100ns));
}

TEST(duration, parse_more_forms) {
  EXPECT_EQ(parse_ns("0s"), 0);
  EXPECT_EQ(parse_ns("0.000s"), 0);
  EXPECT_EQ(parse_ns("+5s"), ns(5s));
  EXPECT_EQ(parse_ns(".5s"), ns(500ms));
  EXPECT_EQ(parse_ns("1.s"), ns(1s));
  EXPECT_EQ(parse_ns("1\xc2\xb5s"), ns(1us));
  EXPECT_EQ(parse_ns("1\xce\xbcs"), ns(1us));
  EXPECT_EQ(parse_ns("1.5us"), 1500);
  EXPECT_EQ(parse_ns("1m1s1ms1us1ns"), ns(1min + 1s + 1ms + 1us + 1ns));
  EXPECT_EQ(parse_ns("30s30s"), ns(1min));
  // Fractions finer than a nanosecond are dropped.
  EXPECT_EQ(parse_ns("1.9ns"), 1);
  EXPECT_EQ(parse_ns("0.1234567891s"), 123456789);
  // The largest duration there is.
  EXPECT_EQ(parse_ns("2562047h47m16.854775807s"), max_ns);
  EXPECT_EQ(parse_ns("9223372036.854775807s"), max_ns);
}

TEST(duration, parse_errors) {
  for (auto text :
       {"", "5", "-1s", "abc", "5x", "1..5s", "s", "9999999999h", "+", "-0",
        "1h ", " 1h", "1h-1m", ".s", "1S", "1hh", "5m30"}) {
    EXPECT_TRUE(rejects(text)) << "\"" << text << "\"";
  }
}

TEST(duration, parse_error_messages) {
  EXPECT_EQ(render(parse_duration("").error()), "invalid duration '': empty");
  EXPECT_EQ(render(parse_duration("-1s").error()),
            "invalid duration '-1s': negative durations are not allowed");
  EXPECT_EQ(render(parse_duration("5").error()),
            "invalid duration '5': missing unit (use ns, us, ms, s, m or h)");
  EXPECT_EQ(render(parse_duration("5x").error()),
            "invalid duration '5x': unknown unit (use ns, us, ms, s, m or h)");
  EXPECT_EQ(render(parse_duration("9999999999h").error()),
            "invalid duration '9999999999h': overflows");
}

TEST(duration, parse_overflow) {
  // Past the largest duration by one nanosecond, in every way of getting
  // there: the whole part, the fraction, the sum.
  for (auto text :
       {"9223372036854775808ns", "2562048h", "9223372036.854775808s",
        "2562047.9h", "2562047h47m16.854775808s", "2562047h47m17s",
        "9223372036854775807ns1ns", "99999999999999999999ns"}) {
    EXPECT_TRUE(rejects(text)) << text;
    auto result = parse_duration(text);
    if (!result) {
      EXPECT_NE(render(result.error()).find("overflows"), std::string::npos)
        << render(result.error());
    }
  }
}

TEST(duration, format) {
  EXPECT_EQ(format_duration(0s), "0s");
  EXPECT_EQ(format_duration(5min), "5m0s");
  EXPECT_EQ(format_duration(1500ms), "1.5s");
  EXPECT_EQ(format_duration(150ms), "150ms");
  EXPECT_EQ(format_duration(90min), "1h30m0s");
  EXPECT_EQ(format_duration(30s), "30s");
  EXPECT_EQ(format_duration(100ns), "100ns");
  EXPECT_EQ(format_duration(1500ns), "1.5\xc2\xb5s");
}

TEST(duration, format_like_go) {
  // Expected strings are Go's time.Duration.String() of the same values.
  EXPECT_EQ(format_duration(1ns), "1ns");
  EXPECT_EQ(format_duration(999ns), "999ns");
  EXPECT_EQ(format_duration(1us), "1\xc2\xb5s");
  EXPECT_EQ(format_duration(1001ns), "1.001\xc2\xb5s");
  EXPECT_EQ(format_duration(1ms), "1ms");
  EXPECT_EQ(format_duration(1234567ns), "1.234567ms");
  EXPECT_EQ(format_duration(999999999ns), "999.999999ms");
  EXPECT_EQ(format_duration(1s), "1s");
  EXPECT_EQ(format_duration(1s + 1ns), "1.000000001s");
  EXPECT_EQ(format_duration(61s), "1m1s");
  EXPECT_EQ(format_duration(1h), "1h0m0s");
  EXPECT_EQ(format_duration(2h + 45min + 30s + 500ms), "2h45m30.5s");
  EXPECT_EQ(format_duration(100h), "100h0m0s");
  EXPECT_EQ(format_duration(-1500ms), "-1.5s");
  EXPECT_EQ(format_duration(-1ns), "-1ns");
  EXPECT_EQ(format_duration(caf::timespan{max_ns}), "2562047h47m16.854775807s");
  EXPECT_EQ(format_duration(caf::timespan{min_ns}),
            "-2562047h47m16.854775808s");
}

TEST(duration, round_trip) {
  for (auto d :
       {caf::timespan{0}, caf::timespan{1ns}, caf::timespan{999ns},
        caf::timespan{1500ns}, caf::timespan{1ms}, caf::timespan{150ms},
        caf::timespan{1500ms}, caf::timespan{30s}, caf::timespan{5min},
        caf::timespan{90min}, caf::timespan{1h + 1ns},
        caf::timespan{2h + 45min + 30s + 500ms}, caf::timespan{max_ns}}) {
    auto text = format_duration(d);
    EXPECT_EQ(parse_ns(text), d.count()) << text;
  }
}

TEST(duration, timestamps_are_rfc3339_utc_with_milliseconds) {
  // 2026-12-01T23:07:43.123456789Z
  int64_t ns = 1'796'166'463'123'456'789;
  EXPECT_EQ(format_timestamp(ns), "2026-12-01T23:07:43.123Z");
  EXPECT_EQ(format_timestamp(0), "1970-01-01T00:00:00.000Z");
}

TEST(duration, seconds_have_two_decimals_rounded) {
  EXPECT_EQ(format_seconds(2'414'000'000), "2.41s");
  EXPECT_EQ(format_seconds(2'415'000'000), "2.42s");
  EXPECT_EQ(format_seconds(4'100'000'000), "4.10s");
  EXPECT_EQ(format_seconds(0), "0.00s");
  EXPECT_EQ(format_seconds(-5), "0.00s");
  EXPECT_EQ(format_seconds(3'600'000'000'000), "3600.00s");
}
