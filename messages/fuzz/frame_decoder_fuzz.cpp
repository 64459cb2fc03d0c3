// libFuzzer target: the frame decoder fed an arbitrary byte stream in
// arbitrary splits, both ways (feed/next and consume), and every frame it
// yields decoded. Both ways must agree; nothing may throw or crash.

#include "messages/wire.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2)
    return 0;
  // The first byte picks the split sizes, the second the frame limit.
  auto split_seed = data[0];
  size_t max_frame = 16u << (data[1] % 16);
  const char* bytes = reinterpret_cast<const char*>(data + 2);
  size -= 2;
  baton::wire::frame_decoder by_feed{max_frame};
  baton::wire::frame_decoder by_consume{max_frame};
  std::vector<baton::wire::frame> fed;
  std::vector<baton::wire::frame> consumed;
  size_t pos = 0;
  unsigned step = split_seed;
  while (pos < size) {
    step = step * 1103515245u + 12345u;
    auto n = std::min<size_t>(size - pos, 1 + (step >> 16) % 97);
    by_feed.feed(bytes + pos, n);
    baton::wire::frame frm;
    while (by_feed.next(frm))
      fed.push_back(frm);
    by_consume.consume(bytes + pos, n, [&](baton::wire::frame&& f) {
      consumed.push_back(std::move(f));
    });
    pos += n;
  }
  if (fed.size() != consumed.size())
    std::abort();
  for (size_t i = 0; i < fed.size(); ++i) {
    if (fed[i].type != consumed[i].type || fed[i].body != consumed[i].body)
      std::abort();
    auto msg = baton::wire::decode(fed[i]);
    if (msg) {
      // What decodes re-encodes to a frame of the same type.
      if (baton::wire::encode(*msg).type != fed[i].type)
        std::abort();
    }
  }
  if (static_cast<bool>(by_feed.error())
      != static_cast<bool>(by_consume.error()))
    std::abort();
  static_cast<void>(by_feed.finish());
  return 0;
}
