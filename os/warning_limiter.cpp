#include "os/warning_limiter.hpp"

#include "messages/duration.hpp"

#include <spdlog/spdlog.h>

namespace baton {

warning_limiter::warning_limiter(size_t burst, clock::duration interval,
                                 output out)
  : burst_(burst), interval_(interval),
    out_(out ? std::move(out)
             : [](const std::string& line) { spdlog::warn("{}", line); }) {
  // Nothing else: a kind's interval starts with its first warning.
}

void warning_limiter::warn(const kind& k, const std::string& line,
                           clock::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto [i, added] = windows_.try_emplace(
    key{std::string{k.source}, std::string{k.counted}}, window{now});
  auto& w = i->second;
  if (!added && now - w.start >= interval_) {
    summarize(i->first, w, interval_);
    w = window{now};
  }
  if (w.printed < burst_) {
    ++w.printed;
    out_(line);
  } else {
    ++w.held;
  }
}

void warning_limiter::flush(clock::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto i = windows_.begin(); i != windows_.end();) {
    if (now - i->second.start >= interval_) {
      summarize(i->first, i->second, interval_);
      i = windows_.erase(i);
    } else {
      ++i;
    }
  }
}

void warning_limiter::flush_all(clock::time_point now) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& [k, w] : windows_) {
    // The span so far, in whole seconds up: "in the last 4s".
    auto span = std::chrono::ceil<std::chrono::seconds>(
      std::min(now - w.start, interval_));
    summarize(k, w, std::max<clock::duration>(span, std::chrono::seconds{1}));
  }
  windows_.clear();
}

void warning_limiter::summarize(const key& k, const window& w,
                                clock::duration span) {
  if (w.held == 0)
    return;
  out_(k.first + ": " + with_thousands(w.held) + " more " + k.second
       + " in the last "
       + format_duration(std::chrono::duration_cast<caf::timespan>(span)));
}

void warn_through(warning_limiter* limiter, const warning_limiter::kind& k,
                  const std::string& line,
                  warning_limiter::clock::time_point now) {
  if (limiter != nullptr)
    limiter->warn(k, line, now);
  else
    spdlog::warn("{}", line);
}

std::string with_thousands(uint64_t n) {
  auto digits = std::to_string(n);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return out;
}

} // namespace baton
