// libFuzzer target: a gob decoder and the rpc codecs fed an arbitrary byte
// stream, whole and in arbitrary splits. Splits must not change what comes
// out; every value whose type can be encoded must re-encode, and
// re-encoding what that decodes to must give the same bytes again. The
// preamble parsers see the same bytes. Nothing may throw or crash.
//
// Input: byte 0 picks the split sizes; byte 1 picks the message limit (low
// nibble: 16 << n bytes, or the default for 0xf) and whether the stream
// starts with a preamble to strip first: the client's CONNECT (bit 0x10)
// or the server's answer (bit 0x20).

#include "messages/error.hpp"
#include "messages/gob.hpp"
#include "messages/gob_test_access.hpp"
#include "messages/rpc.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace baton;

namespace {

// Chunk sizes from a tiny linear congruential generator.
class splitter {
public:
  explicit splitter(uint8_t seed) : state_(seed) {
    // nop
  }

  size_t next(size_t left) {
    state_ = state_ * 1103515245u + 12345u;
    return std::min<size_t>(left, 1 + (state_ >> 16) % 97);
  }

private:
  unsigned state_;
};

struct decoded {
  std::vector<std::pair<int64_t, gob::value>> values;
  std::string error;
  std::string finish;
};

decoded decode(std::string_view bytes, size_t max, bool split, uint8_t seed) {
  decoded result;
  gob::decoder dec{max};
  splitter sizes{seed};
  for (size_t pos = 0; pos < bytes.size();) {
    auto n = split ? sizes.next(bytes.size() - pos) : bytes.size();
    dec.feed(bytes.data() + pos, n);
    pos += n;
    gob::value x;
    while (dec.next(x))
      result.values.emplace_back(dec.last_type_id(), std::move(x));
  }
  result.error = render(dec.error());
  result.finish = render(dec.finish());
  return result;
}

// Renders what a codec yields, headers and bodies, for comparison.
template <class Codec, class Item>
std::string
run_codec(std::string_view bytes, size_t max, bool split, uint8_t seed) {
  Codec codec{max};
  splitter sizes{seed};
  std::string result;
  for (size_t pos = 0; pos < bytes.size();) {
    auto n = split ? sizes.next(bytes.size() - pos) : bytes.size();
    codec.feed(bytes.data() + pos, n);
    pos += n;
    Item x;
    while (codec.next(x)) {
      result += x.header.service_method;
      result += '#' + std::to_string(x.header.seq) + ' ';
      result += to_string(x.body);
      result += '\n';
    }
  }
  result += render(codec.error()) + '\n' + render(codec.finish());
  return result;
}

// Encodes every value whose type the decoder can describe, in order.
std::string reencode(std::string_view bytes) {
  // The limit only has to admit what the first pass accepted.
  gob::decoder dec{size_t{1} << 30};
  dec.feed(bytes.data(), bytes.size());
  gob::encoder enc;
  std::string out;
  gob::value x;
  while (dec.next(x)) {
    auto t = gob::test_access::type_of(dec, dec.last_type_id());
    if (!t)
      continue; // Interfaces, GobEncoders, recursive types.
    if (auto err = enc.encode(out, *t, x))
      std::abort(); // A decoded value must fit the type it came with.
  }
  return out;
}

void check_preamble(std::string_view bytes) {
  for (auto parse : {rpc::parse_connect, rpc::check_connected}) {
    auto got = parse(bytes);
    switch (got.status) {
      case rpc::preamble_status::ok:
        if (got.consumed == 0 || got.consumed > bytes.size()
            || got.consumed > rpc::max_preamble_size)
          std::abort();
        // The preamble alone gives the same answer.
        if (parse(bytes.substr(0, got.consumed)).consumed != got.consumed)
          std::abort();
        break;
      case rpc::preamble_status::rejected:
        if (got.response.empty() || !got.error)
          std::abort();
        break;
      case rpc::preamble_status::failed:
        if (!got.error)
          std::abort();
        break;
      case rpc::preamble_status::need_more:
        if (bytes.size() >= rpc::max_preamble_size)
          std::abort();
        break;
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2)
    return 0;
  auto seed = data[0];
  auto flags = data[1];
  size_t max = (flags & 0x0f) == 0x0f ? gob::default_max_message_size
                                      : size_t{16} << (flags & 0x0f);
  std::string_view bytes{reinterpret_cast<const char*>(data + 2), size - 2};
  check_preamble(bytes);
  if (flags & 0x30) {
    auto got = (flags & 0x10) ? rpc::parse_connect(bytes)
                              : rpc::check_connected(bytes);
    if (got.status != rpc::preamble_status::ok)
      return 0;
    bytes.remove_prefix(got.consumed);
  }
  // The decoder: whole and split agree, values and errors alike.
  auto whole = decode(bytes, max, false, seed);
  auto split = decode(bytes, max, true, seed);
  if (whole.values != split.values || whole.error != split.error
      || whole.finish != split.finish)
    std::abort();
  // The codecs on the same bytes, as a server and as a client.
  using server = rpc::server_codec;
  using client = rpc::client_codec;
  if (run_codec<server, rpc::call>(bytes, max, false, seed)
      != run_codec<server, rpc::call>(bytes, max, true, seed))
    std::abort();
  if (run_codec<client, rpc::reply>(bytes, max, false, seed)
      != run_codec<client, rpc::reply>(bytes, max, true, seed))
    std::abort();
  // Re-encoding settles after one round: zero fields sent explicitly,
  // long numbers and the like become Go's form once, then stay.
  auto once = reencode(bytes);
  if (!once.empty() && reencode(once) != once)
    std::abort();
  return 0;
}
