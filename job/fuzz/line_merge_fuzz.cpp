// libFuzzer target: the whole-line merge of several containers streaming at
// once (a parallel group, a service beside the steps), fed arbitrary bytes
// in arbitrary chunks, interleaved with the releases a hold timeout, the
// end of a stream or a mode change makes. Whatever the input:
// - each member holds less than one line limit;
// - the job log holds whole lines only, each begun with one member's
//   prefix (after its stamp, with timestamped lines);
// - each member's lines, prefixes taken away, are exactly its bytes with
//   newlines added: at most one per release and one per chunk (a line cut
//   at the limit).

#include "job/line_merge.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

[[noreturn]] void broken(const char* what) {
  __builtin_printf("line merge invariant broken: %s\n", what);
  std::abort();
}

// True if `merged` is `original` with newlines added; `added` counts them.
bool same_but_added_newlines(const std::string& merged,
                             const std::string& original, size_t& added) {
  added = 0;
  size_t j = 0;
  for (char c : merged) {
    if (j < original.size() && c == original[j])
      ++j;
    else if (c == '\n')
      ++added;
    else
      return false;
  }
  return j == original.size();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace baton;
  if (size < 2)
    return 0;
  // The first byte: how many members (1 to 8) and whether lines are
  // stamped; the second: the line limit, small enough to be reached.
  size_t members = 1 + data[0] % 8;
  bool stamp = (data[0] / 8) % 2 == 1;
  size_t max_line = 12 + data[1] % 64;
  std::vector<line_merge> merges;
  std::vector<std::string> prefixes;
  for (size_t k = 0; k < members; ++k) {
    merges.emplace_back(line_framer{stamp}, max_line);
    prefixes.push_back("[m" + std::to_string(k) + "] ");
    merges.back().framer().set_prefix(prefixes.back());
  }
  std::vector<std::string> wrote(members);
  std::vector<size_t> releases(members);
  std::vector<size_t> appends(members);
  std::string log;
  std::string out;
  size_t pos = 2;
  int64_t now = 0;
  // Each op: a byte that picks the member and what it does, then for a
  // chunk a length byte and that many bytes.
  while (pos < size) {
    auto op = data[pos++];
    auto k = op % members;
    now += 1'000'000;
    out.clear();
    if ((op / members) % 4 == 3) {
      releases[k] += merges[k].release(out) ? 1 : 0;
    } else {
      if (pos >= size)
        break;
      size_t wanted = data[pos++] % 64;
      auto n = std::min(wanted, size - pos);
      std::string chunk{reinterpret_cast<const char*>(data + pos), n};
      pos += n;
      wrote[k] += chunk;
      appends[k] += n > 0 ? 1 : 0;
      merges[k].append(chunk, now, out);
    }
    if (merges[k].held().size() >= max_line)
      broken("a member holds a whole line limit or more");
    if (!out.empty() && out.back() != '\n')
      broken("a partial line left the merge");
    log += out;
  }
  // The streams end: what each holds goes out as a line of its own.
  for (size_t k = 0; k < members; ++k) {
    out.clear();
    releases[k] += merges[k].release(out) ? 1 : 0;
    log += out;
  }
  // Split the log back into the members' bytes.
  std::vector<std::string> merged(members);
  size_t stamp_size = stamp ? 25 : 0; // "1970-01-01T00:00:00.000Z "
  for (size_t at = 0; at < log.size();) {
    auto nl = log.find('\n', at);
    if (nl == std::string::npos)
      broken("the log ends inside a line");
    auto body = at + stamp_size;
    if (body > nl || (stamp && log[body - 1] != ' '))
      broken("a line without its stamp");
    size_t k = 0;
    while (k < members
           && log.compare(body, prefixes[k].size(), prefixes[k]) != 0)
      ++k;
    if (k == members)
      broken("a line without a member's prefix");
    auto text = body + prefixes[k].size();
    merged[k].append(log, text, nl + 1 - text);
    at = nl + 1;
  }
  for (size_t k = 0; k < members; ++k) {
    size_t added = 0;
    if (!same_but_added_newlines(merged[k], wrote[k], added))
      broken("a member's bytes changed");
    // Each release adds one newline at most, each chunk one (its line cut
    // at the limit).
    if (added > releases[k] + appends[k])
      broken("more newlines added than releases and cuts explain");
  }
  return 0;
}
