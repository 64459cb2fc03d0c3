#include "messages/duration.hpp"

#include "messages/error.hpp"

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <limits>

namespace baton {

namespace {

caf::error invalid(std::string_view text, const char* why) {
  return make_error(ec::invalid_argument,
                    "invalid duration '" + std::string{text} + "': " + why);
}

// Returns the length of `unit` in nanoseconds, or 0 if unknown.
int64_t unit_ns(std::string_view unit) {
  if (unit == "ns")
    return 1;
  if (unit == "us" || unit == "\xc2\xb5s" || unit == "\xce\xbcs")
    return 1'000;
  if (unit == "ms")
    return 1'000'000;
  if (unit == "s")
    return 1'000'000'000;
  if (unit == "m")
    return 60'000'000'000;
  if (unit == "h")
    return 3'600'000'000'000;
  return 0;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

} // namespace

caf::expected<caf::timespan> parse_duration(std::string_view text) {
  if (text.empty())
    return invalid(text, "empty");
  if (text == "0")
    return caf::timespan{0};
  if (text.front() == '-')
    return invalid(text, "negative durations are not allowed");
  size_t pos = text.front() == '+' ? 1 : 0;
  if (pos == text.size())
    return invalid(text, "missing number");
  constexpr auto max = std::numeric_limits<int64_t>::max();
  int64_t total = 0;
  while (pos < text.size()) {
    // Integer part and optional fraction, kept as a decimal pair.
    int64_t whole = 0;
    int64_t frac = 0;
    int64_t frac_scale = 1;
    size_t digits = 0;
    for (; pos < text.size() && is_digit(text[pos]); ++pos, ++digits) {
      if (whole > (max - 9) / 10)
        return invalid(text, "overflows");
      whole = whole * 10 + (text[pos] - '0');
    }
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      for (; pos < text.size() && is_digit(text[pos]); ++pos, ++digits) {
        if (frac_scale <= max / 10) {
          frac = frac * 10 + (text[pos] - '0');
          frac_scale *= 10;
        }
      }
    }
    if (digits == 0)
      return invalid(text, "expected a number");
    auto unit_start = pos;
    while (pos < text.size() && !is_digit(text[pos]) && text[pos] != '.')
      ++pos;
    auto unit = text.substr(unit_start, pos - unit_start);
    if (unit.empty())
      return invalid(text, "missing unit (use ns, us, ms, s, m or h)");
    auto scale = unit_ns(unit);
    if (scale == 0)
      return invalid(text, "unknown unit (use ns, us, ms, s, m or h)");
    if (whole > max / scale)
      return invalid(text, "overflows");
    auto value = whole * scale;
    // The fraction, rounded down to whole nanoseconds.
    auto frac_ns = static_cast<int64_t>(static_cast<long double>(frac) * scale
                                        / frac_scale);
    if (value > max - frac_ns)
      return invalid(text, "overflows");
    value += frac_ns;
    if (total > max - value)
      return invalid(text, "overflows");
    total += value;
  }
  return caf::timespan{total};
}

namespace {

// Appends `v / 10^prec` with trailing zeros of the fraction dropped, as Go
// does ("1.5", "2").
void append_fixed(std::string& out, uint64_t v, int prec) {
  uint64_t scale = 1;
  for (int i = 0; i < prec; ++i)
    scale *= 10;
  out += std::to_string(v / scale);
  auto frac = v % scale;
  if (frac == 0)
    return;
  std::string digits(static_cast<size_t>(prec), '0');
  for (int i = prec - 1; i >= 0; --i, frac /= 10)
    digits[static_cast<size_t>(i)] = static_cast<char>('0' + frac % 10);
  while (!digits.empty() && digits.back() == '0')
    digits.pop_back();
  out += '.';
  out += digits;
}

} // namespace

std::string format_duration(caf::timespan d) {
  auto ns = d.count();
  if (ns == 0)
    return "0s";
  std::string out;
  uint64_t u = ns < 0 ? static_cast<uint64_t>(-(ns + 1)) + 1
                      : static_cast<uint64_t>(ns);
  if (ns < 0)
    out += '-';
  if (u < 1'000'000'000) {
    // Sub-second durations use the largest unit that keeps a whole number.
    if (u < 1'000) {
      out += std::to_string(u) + "ns";
    } else if (u < 1'000'000) {
      append_fixed(out, u, 3);
      out += "\xc2\xb5s";
    } else {
      append_fixed(out, u, 6);
      out += "ms";
    }
    return out;
  }
  auto hours = u / 3'600'000'000'000;
  u %= 3'600'000'000'000;
  auto minutes = u / 60'000'000'000;
  u %= 60'000'000'000;
  if (hours > 0)
    out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0)
    out += std::to_string(minutes) + "m";
  append_fixed(out, u, 9);
  out += "s";
  return out;
}

std::string format_seconds(int64_t ns) {
  if (ns < 0)
    ns = 0;
  // Rounded to the nearest hundredth.
  auto centis = (ns + 5'000'000) / 10'000'000;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%lld.%02llds",
                static_cast<long long>(centis / 100),
                static_cast<long long>(centis % 100));
  return buf;
}

std::string format_timestamp(int64_t ns) {
  auto secs = static_cast<time_t>(ns / 1'000'000'000);
  auto millis = static_cast<int>((ns / 1'000'000) % 1000);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, millis);
  return buf;
}

} // namespace baton
