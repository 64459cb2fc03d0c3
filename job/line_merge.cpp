#include "job/line_merge.hpp"

#include "messages/duration.hpp"

namespace baton {

void line_framer::process(const std::string& text, int64_t read_ns,
                          std::string& out) {
  if (text.empty())
    return;
  std::string stamp;
  if (stamp_)
    stamp = format_timestamp(read_ns) + " ";
  size_t pos = 0;
  while (pos < text.size()) {
    if (at_line_start_) {
      out += stamp;
      if (!plain_)
        out += prefix_;
      plain_ = false;
    }
    auto nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      out.append(text, pos, std::string::npos);
      at_line_start_ = false;
      return;
    }
    out.append(text, pos, nl + 1 - pos);
    at_line_start_ = true;
    pos = nl + 1;
  }
}

bool line_merge::append(const std::string& text, int64_t read_ns,
                        std::string& out) {
  if (text.empty())
    return false;
  auto was_held = !held_.empty();
  auto base = out.size();
  out += held_;
  held_.clear();
  framer_.process(text, read_ns, out);
  auto nl = out.rfind('\n');
  auto partial = nl == std::string::npos || nl < base ? base : nl + 1;
  if (out.size() - partial >= max_line_) {
    out += '\n';
    framer_.cut();
    return false;
  }
  held_.assign(out, partial, std::string::npos);
  out.resize(partial);
  if (held_.empty() || (was_held && partial == base))
    return false;
  ++hold_;
  return true;
}

bool line_merge::release(std::string& out) {
  if (held_.empty())
    return false;
  out += held_;
  out += '\n';
  held_.clear();
  framer_.cut();
  return true;
}

} // namespace baton
