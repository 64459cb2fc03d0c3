#pragma once

#include <caf/expected.hpp>
#include <caf/timespan.hpp>

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

} // namespace baton
