#pragma once

#include <caf/expected.hpp>
#include <caf/timespan.hpp>

#include <cstdint>

#include <string>
#include <string_view>

namespace baton {

/// Parses a duration in Go's syntax: a sequence of decimal numbers, each
/// with an optional fraction and a unit ("ns", "us", "ms", "s", "m", "h"),
/// e.g. "150ms", "1.5s" or "1h30m". A bare "0" is zero.
caf::expected<caf::timespan> parse_duration(std::string_view text);

/// Formats a duration as Go's time.Duration.String does: "5m0s", "1.5s",
/// "150ms", "0s".
std::string format_duration(caf::timespan d);

/// Formats a duration in seconds with two decimals, as the step lines and
/// the job summary do: "2.41s", "0.00s".
std::string format_seconds(int64_t ns);

/// Formats a time (ns since the epoch) as RFC 3339 in UTC with
/// milliseconds: "2026-12-01T23:07:43.123Z".
std::string format_timestamp(int64_t ns);

} // namespace baton
