#pragma once

#include "messages/defaults.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace baton {

/// Holds back a flood of like warnings about peers. A peer stuck in a loop
/// (or a port scanner on the socket) would otherwise write a line per
/// connection to the agent's stderr, which on Kubernetes is the container
/// log on the node's disk.
///
/// Each kind prints its first `burst` warnings of an interval as they come;
/// the rest are counted, and once the interval is over one line names the
/// kind and the count:
///
///     socket-broker: 1,204 more connections refused for malformed frames
///     in the last 10s
///
/// Only warnings about connections that are not (yet) a container's go
/// through here. Warnings about the job itself (a container lost, the job
/// log failing) never do.
///
/// Callers pass the time (their actor clock's `now()`), so tests run on
/// simulated time. Sessions on any thread share one limiter.
class warning_limiter {
public:
  using clock = std::chrono::steady_clock;
  /// Where the printed lines go (spdlog's warning level by default).
  using output = std::function<void(const std::string&)>;

  /// What is counted. The summary reads "<source>: N more <counted> in the
  /// last <interval>", so `counted` is a plural noun phrase.
  struct kind {
    std::string_view source;
    std::string_view counted;
  };

  explicit warning_limiter(size_t burst = defaults::peer_warning_burst,
                           clock::duration interval
                           = defaults::peer_warning_interval,
                           output out = {});

  /// Prints `line`, or counts it if its kind has printed `burst` lines in
  /// its current interval.
  void warn(const kind& k, const std::string& line, clock::time_point now);

  /// Prints the summary of every kind whose interval is over at `now`.
  void flush(clock::time_point now);

  /// Prints every summary still pending, intervals over or not (at exit).
  void flush_all(clock::time_point now);

  clock::duration interval() const {
    return interval_;
  }

private:
  struct window {
    clock::time_point start;
    size_t printed = 0;
    uint64_t held = 0;
  };

  using key = std::pair<std::string, std::string>;

  void summarize(const key& k, const window& w, clock::duration span);

  const size_t burst_;
  const clock::duration interval_;
  const output out_;
  std::mutex mtx_;
  std::map<key, window> windows_;
};

/// Warns through `limiter`, or prints at once where there is none (tests
/// that do not ask for one).
void warn_through(warning_limiter* limiter, const warning_limiter::kind& k,
                  const std::string& line,
                  warning_limiter::clock::time_point now);

/// `n` with a comma between each group of three digits: "1,204".
std::string with_thousands(uint64_t n);

} // namespace baton
