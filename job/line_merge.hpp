#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace baton {

/// Starts every line of one container's output with what the job log puts
/// there: the time it was read from the command (`--timestamp-lines`), then
/// a prefix ("[db] ", for lines merged beside others). A line split across
/// chunks gets one stamp, the time of the chunk it began in.
class line_framer {
public:
  explicit line_framer(bool stamp = true) : stamp_(stamp) {
    // nop
  }

  /// The prefix of every line begun from now on.
  void set_prefix(std::string prefix) {
    prefix_ = std::move(prefix);
  }

  /// Appends `text`, read at `read_ns`, to `out`, the stamp and a space
  /// and the prefix before the start of every line.
  void process(const std::string& text, int64_t read_ns, std::string& out);

  /// True if the next byte begins a line.
  bool at_line_start() const noexcept {
    return at_line_start_;
  }

  /// The line in progress ends here: the caller added the newline.
  void cut() noexcept {
    at_line_start_ = true;
  }

  /// The next line begun gets its stamp but not the prefix: a step's
  /// header, which names it already and stays a "~~~" section line.
  void plain_next_line() noexcept {
    plain_ = true;
  }

private:
  bool stamp_;
  bool plain_ = false;
  std::string prefix_;
  bool at_line_start_ = true;
};

/// One container's whole-line merge, for containers whose output goes into
/// the job log at once (a parallel group, a service beside the steps):
/// only whole lines leave it, each framed. It holds at most one partial
/// line, which leaves as a line of its own with a newline added once it is
/// `max_line` long, or when the caller releases it (its hold timed out, the
/// stream ended, the mode changed). With the prefixes and the added
/// newlines taken away, what leaves is exactly what came in.
class line_merge {
public:
  explicit line_merge(line_framer framer, size_t max_line)
    : framer_(std::move(framer)), max_line_(max_line) {
    // nop
  }

  line_framer& framer() noexcept {
    return framer_;
  }

  /// Appends the whole lines of `text`, read at `read_ns`, to `out`, after
  /// the line held so far; keeps the partial one. Returns true if a new line
  /// is held now (none was, or the one held ended in `text`): its release
  /// is due when its hold times out.
  bool append(const std::string& text, int64_t read_ns, std::string& out);

  /// Appends the partial line held, if any, to `out` as a line of its own.
  /// Returns true if there was one.
  bool release(std::string& out);

  /// The partial line held, in its final form.
  const std::string& held() const noexcept {
    return held_;
  }

  /// Numbers the holds: a timeout meant for an older one finds it gone.
  uint64_t hold() const noexcept {
    return hold_;
  }

private:
  line_framer framer_;
  size_t max_line_;
  std::string held_;
  uint64_t hold_ = 0;
};

} // namespace baton
