#include "messages/gob.hpp"

#include "messages/error.hpp"
#include "messages/gob_test_access.hpp"
#include "messages/rpc.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace baton::gob {

// Lets GoogleTest show values in failures.
void PrintTo(const value& x, std::ostream* os) {
  *os << to_string(x);
}

} // namespace baton::gob

using namespace baton;
using gob::test_access;
using gob::value;

namespace {

// -- vectors ------------------------------------------------------------------

// The reference transcript (shared/reference/buildkite-rpc-wire.txt), one
// gob message per entry, copied verbatim. Session A is the reference
// client's flow, session B raw calls with error replies.

// Session A, client to server.
const std::vector<std::string_view> a_client = {
  "2f ff 81 03 01 01 07 52 65 71 75 65 73 74 01 ff 82 00 01 02 01 0d 53 65 72 "
  "76 69 63 65 4d 65 74 68 6f 64 01 0c 00 01 03 53 65 71 01 06 00 00 00",
  "14 ff 82 01 0f 52 75 6e 6e 65 72 2e 52 65 67 69 73 74 65 72 00",
  "03 04 00 00",
  "14 ff 82 01 0d 52 75 6e 6e 65 72 2e 53 74 61 74 75 73 01 01 00",
  "03 04 00 00",
  "17 ff 82 01 10 52 75 6e 6e 65 72 2e 57 72 69 74 65 4c 6f 67 73 01 02 00",
  "1b ff 89 03 01 01 04 4c 6f 67 73 01 ff 8a 00 01 01 01 04 44 61 74 61 01 0a "
  "00 00 00",
  "0b ff 8a 01 06 68 65 6c 6c 6f 0a 00",
  "12 ff 82 01 0b 52 75 6e 6e 65 72 2e 45 78 69 74 01 03 00",
  "2c ff 8d 03 01 01 08 45 78 69 74 43 6f 64 65 01 ff 8e 00 01 02 01 02 49 44 "
  "01 04 00 01 0a 45 78 69 74 53 74 61 74 75 73 01 04 00 00 00",
  "03 ff 8e 00",
  "14 ff 82 01 0d 52 75 6e 6e 65 72 2e 53 74 61 74 75 73 01 04 00",
  "03 04 00 00",
};

// Session A, server to client.
const std::vector<std::string_view> a_server = {
  "3a ff 83 03 01 01 08 52 65 73 70 6f 6e 73 65 01 ff 84 00 01 03 01 0d 53 65 "
  "72 76 69 63 65 4d 65 74 68 6f 64 01 0c 00 01 03 53 65 71 01 06 00 01 05 45 "
  "72 72 6f 72 01 0c 00 00 00",
  "14 ff 84 01 0f 52 75 6e 6e 65 72 2e 52 65 67 69 73 74 65 72 00",
  "27 ff 85 03 01 01 10 52 65 67 69 73 74 65 72 52 65 73 70 6f 6e 73 65 01 ff "
  "86 00 01 01 01 03 45 6e 76 01 ff 88 00 00 00",
  "16 ff 87 02 01 01 08 5b 5d 73 74 72 69 6e 67 01 ff 88 00 01 0c 00 00",
  "21 ff 86 01 02 07 46 4f 4f 3d 62 61 72 13 42 55 49 4c 44 4b 49 54 45 5f 50 "
  "54 59 3d 66 61 6c 73 65 00",
  "14 ff 84 01 0d 52 75 6e 6e 65 72 2e 53 74 61 74 75 73 01 01 00",
  "03 04 00 02",
  "17 ff 84 01 10 52 75 6e 6e 65 72 2e 57 72 69 74 65 4c 6f 67 73 01 02 00",
  "11 ff 8b 03 01 01 05 45 6d 70 74 79 01 ff 8c 00 00 00",
  "03 ff 8c 00",
  "12 ff 84 01 0b 52 75 6e 6e 65 72 2e 45 78 69 74 01 03 00",
  "03 ff 8c 00",
  "2d ff 84 01 0d 52 75 6e 6e 65 72 2e 53 74 61 74 75 73 01 04 01 17 63 6f 6e "
  "6e 65 63 74 69 6f 6e 20 69 73 20 73 68 75 74 20 64 6f 77 6e 00",
  "0a ff 8f 03 01 02 ff 90 00 00 00",
  "03 ff 90 00",
};

// Session B, client to server.
const std::vector<std::string_view> b_client = {
  "2f ff 81 03 01 01 07 52 65 71 75 65 73 74 01 ff 82 00 01 02 01 0d 53 65 72 "
  "76 69 63 65 4d 65 74 68 6f 64 01 0c 00 01 03 53 65 71 01 06 00 00 00",
  "14 ff 82 01 0f 52 75 6e 6e 65 72 2e 52 65 67 69 73 74 65 72 00",
  "03 04 00 0a",
  "16 ff 82 01 0f 52 75 6e 6e 65 72 2e 52 65 67 69 73 74 65 72 01 01 00",
  "03 04 00 01",
  "16 ff 82 01 0f 52 75 6e 6e 65 72 2e 52 65 67 69 73 74 65 72 01 02 00",
  "03 04 00 02",
  "16 ff 82 01 0f 52 75 6e 6e 65 72 2e 52 65 67 69 73 74 65 72 01 03 00",
  "03 04 00 02",
  "14 ff 82 01 0d 52 75 6e 6e 65 72 2e 53 74 61 74 75 73 01 04 00",
  "03 04 00 02",
  "14 ff 82 01 0d 52 75 6e 6e 65 72 2e 53 74 61 74 75 73 01 05 00",
  "03 04 00 00",
  "12 ff 82 01 0b 52 75 6e 6e 65 72 2e 4e 6f 70 65 01 06 00",
  "03 04 00 00",
  "17 ff 82 01 10 52 75 6e 6e 65 72 2e 57 72 69 74 65 4c 6f 67 73 01 07 00",
  "1b ff 89 03 01 01 04 4c 6f 67 73 01 ff 8a 00 01 01 01 04 44 61 74 61 01 0a "
  "00 00 00",
  "03 ff 8a 00",
  "12 ff 82 01 0b 52 75 6e 6e 65 72 2e 45 78 69 74 01 08 00",
  "2c ff 8d 03 01 01 08 45 78 69 74 43 6f 64 65 01 ff 8e 00 01 02 01 02 49 44 "
  "01 04 00 01 0a 45 78 69 74 53 74 61 74 75 73 01 04 00 00 00",
  "07 ff 8e 01 02 01 0d 00",
  "14 ff 82 01 0d 52 75 6e 6e 65 72 2e 53 74 61 74 75 73 01 09 00",
  "03 04 00 02",
  "12 ff 82 01 0b 52 75 6e 6e 65 72 2e 45 78 69 74 01 0a 00",
  "07 ff 8e 01 fe 02 58 00",
};

// Session B, server to client.
const std::vector<std::string_view> b_server = {
  "3a ff 83 03 01 01 08 52 65 73 70 6f 6e 73 65 01 ff 84 00 01 03 01 0d 53 65 "
  "72 76 69 63 65 4d 65 74 68 6f 64 01 0c 00 01 03 53 65 71 01 06 00 01 05 45 "
  "72 72 6f 72 01 0c 00 00 00",
  "2f ff 84 01 0f 52 75 6e 6e 65 72 2e 52 65 67 69 73 74 65 72 02 19 75 6e 72 "
  "65 63 6f 67 6e 69 7a 65 64 20 63 6c 69 65 6e 74 20 69 64 3a 20 35 00",
  "0a ff 8f 03 01 02 ff 90 00 00 00",
  "03 ff 90 00",
  "32 ff 84 01 0f 52 75 6e 6e 65 72 2e 52 65 67 69 73 74 65 72 01 01 01 1a 75 "
  "6e 72 65 63 6f 67 6e 69 7a 65 64 20 63 6c 69 65 6e 74 20 69 64 3a 20 2d 31 "
  "00",
  "03 ff 90 00",
  "16 ff 84 01 0f 52 75 6e 6e 65 72 2e 52 65 67 69 73 74 65 72 01 02 00",
  "27 ff 85 03 01 01 10 52 65 67 69 73 74 65 72 52 65 73 70 6f 6e 73 65 01 ff "
  "86 00 01 01 01 03 45 6e 76 01 ff 88 00 00 00",
  "16 ff 87 02 01 01 08 5b 5d 73 74 72 69 6e 67 01 ff 88 00 01 0c 00 00",
  "03 ff 86 00",
  "36 ff 84 01 0f 52 75 6e 6e 65 72 2e 52 65 67 69 73 74 65 72 01 03 01 1e 63 "
  "6c 69 65 6e 74 20 69 64 20 31 20 61 6c 72 65 61 64 79 20 72 65 67 69 73 74 "
  "65 72 65 64 00",
  "03 ff 90 00",
  "14 ff 84 01 0d 52 75 6e 6e 65 72 2e 53 74 61 74 75 73 01 04 00",
  "03 04 00 00",
  "14 ff 84 01 0d 52 75 6e 6e 65 72 2e 53 74 61 74 75 73 01 05 00",
  "03 04 00 02",
  "36 ff 84 01 0b 52 75 6e 6e 65 72 2e 4e 6f 70 65 01 06 01 22 72 70 63 3a 20 "
  "63 61 6e 27 74 20 66 69 6e 64 20 6d 65 74 68 6f 64 20 52 75 6e 6e 65 72 2e "
  "4e 6f 70 65 00",
  "03 ff 90 00",
  "17 ff 84 01 10 52 75 6e 6e 65 72 2e 57 72 69 74 65 4c 6f 67 73 01 07 00",
  "11 ff 8b 03 01 01 05 45 6d 70 74 79 01 ff 8c 00 00 00",
  "03 ff 8c 00",
  "12 ff 84 01 0b 52 75 6e 6e 65 72 2e 45 78 69 74 01 08 00",
  "03 ff 8c 00",
  "2d ff 84 01 0d 52 75 6e 6e 65 72 2e 53 74 61 74 75 73 01 09 01 17 63 6f 6e "
  "6e 65 63 74 69 6f 6e 20 69 73 20 73 68 75 74 20 64 6f 77 6e 00",
  "03 ff 90 00",
  "2f ff 84 01 0b 52 75 6e 6e 65 72 2e 45 78 69 74 01 0a 01 1b 75 6e 72 65 63 "
  "6f 67 6e 69 7a 65 64 20 63 6c 69 65 6e 74 20 69 64 3a 20 33 30 30 00",
  "03 ff 90 00",
};
// Produced by Go 1.19's encoding/gob (each a whole stream, ids from 65):
//   type Inner struct { A int; B string }
//   type ExitCode struct { ID, Extra int; Name string; In Inner;
//     List []string; M map[string]int; ExitStatus int; F float64;
//     C complex128; B bool; U uint; Raw []byte; Arr [2]int; Z Inner;
//     Nest []Inner }
//   ExitCode{ID: 1, Extra: 42, Name: "x", In: Inner{3, "y"},
//     List: {"p", "q"}, M: {"k": 9}, ExitStatus: -7, F: 17, C: 1-2i,
//     B: true, U: 300, Raw: {0, 1}, Arr: {5, 0}, Nest: {{A: 1}, {}}}

// ExitCode with extra fields of every kind (Go 1.19, see the test).
constexpr std::string_view go_unknown_fields
  = "ff 92 ff 81 03 01 01 08 45 78 69 74 43 6f 64 65 01 ff 82 00 01 0f 01 02 "
    "49 "
    "44 01 04 00 01 05 45 78 74 72 61 01 04 00 01 04 4e 61 6d 65 01 0c 00 01 "
    "02 "
    "49 6e 01 ff 84 00 01 04 4c 69 73 74 01 ff 86 00 01 01 4d 01 ff 88 00 01 "
    "0a "
    "45 78 69 74 53 74 61 74 75 73 01 04 00 01 01 46 01 08 00 01 01 43 01 0e "
    "00 "
    "01 01 42 01 02 00 01 01 55 01 06 00 01 03 52 61 77 01 0a 00 01 03 41 72 "
    "72 "
    "01 ff 8a 00 01 01 5a 01 ff 84 00 01 04 4e 65 73 74 01 ff 8c 00 00 00 1f "
    "ff "
    "83 03 01 01 05 49 6e 6e 65 72 01 ff 84 00 01 02 01 01 41 01 04 00 01 01 "
    "42 "
    "01 0c 00 00 00 16 ff 85 02 01 01 08 5b 5d 73 74 72 69 6e 67 01 ff 86 00 "
    "01 "
    "0c 00 00 1e ff 87 04 01 01 0e 6d 61 70 5b 73 74 72 69 6e 67 5d 69 6e 74 "
    "01 "
    "ff 88 00 01 0c 01 04 00 00 16 ff 89 01 01 01 06 5b 32 5d 69 6e 74 01 ff "
    "8a "
    "00 01 04 01 04 00 00 1b ff 8b 02 01 01 0c 5b 5d 6d 61 69 6e 2e 49 6e 6e "
    "65 "
    "72 01 ff 8c 00 01 ff 84 00 00 3e ff 82 01 02 01 54 01 01 78 01 01 06 01 "
    "01 "
    "79 00 01 02 01 70 01 71 01 01 01 6b 12 01 0d 01 fe 31 40 01 fe f0 3f ff "
    "c0 "
    "01 01 01 fe 01 2c 01 02 00 01 01 02 0a 00 01 00 01 02 01 02 00 00 00";

// WithIface{ID int; Any interface{}; After string} x4, the first with a
// concrete type not yet sent, so Go defines it inline.
constexpr std::string_view go_iface_inline
  = "30 ff 8f 03 01 01 09 57 69 74 68 49 66 61 63 65 01 ff 90 00 01 03 01 02 "
    "49 "
    "44 01 04 00 01 03 41 6e 79 01 10 00 01 05 41 66 74 65 72 01 0c 00 00 00 "
    "2f "
    "ff 90 01 02 01 0a 6d 61 69 6e 2e 49 6e 6e 65 72 ff 83 03 01 01 05 49 6e "
    "6e "
    "65 72 01 ff 84 00 01 02 01 01 41 01 04 00 01 01 42 01 0c 00 00 00 0a ff "
    "84 "
    "03 01 04 00 01 01 7a 00 1a ff 90 01 04 01 0a 6d 61 69 6e 2e 49 6e 6e 65 "
    "72 "
    "ff 84 03 01 06 00 01 01 77 00 08 ff 90 01 06 02 01 6e 00 0e ff 90 01 08 "
    "01 "
    "03 69 6e 74 04 02 00 0e 00";

// Inner{A: 1}, then WithIface values whose concrete types are known.
constexpr std::string_view go_iface_known
  = "1f ff 83 03 01 01 05 49 6e 6e 65 72 01 ff 84 00 01 02 01 01 41 01 04 00 "
    "01 "
    "01 42 01 0c 00 00 00 05 ff 84 01 02 00 30 ff 8f 03 01 01 09 57 69 74 68 "
    "49 "
    "66 61 63 65 01 ff 90 00 01 03 01 02 49 44 01 04 00 01 03 41 6e 79 01 10 "
    "00 "
    "01 05 41 66 74 65 72 01 0c 00 00 00 1a ff 90 01 04 01 0a 6d 61 69 6e 2e "
    "49 "
    "6e 6e 65 72 ff 84 03 01 06 00 01 01 77 00 08 ff 90 01 06 02 01 6e 00 0e "
    "ff "
    "90 01 08 01 03 69 6e 74 04 02 00 0e 00";

// WithTime{ID int; T time.Time}: T is a GobEncoder.
constexpr std::string_view go_time = "24 ff 91 03 01 01 08 57 69 74 68 54 69 "
                                     "6d 65 01 ff 92 00 01 02 01 02 49 44 "
                                     "01 04 00 01 01 54 01 ff 94 00 00 00 10 "
                                     "ff 93 05 01 01 04 54 69 6d 65 01 ff "
                                     "94 00 00 00 16 ff 92 01 02 01 0f 01 00 "
                                     "00 00 0e dd 25 74 25 00 00 00 00 ff "
                                     "ff 00";

// map[string]int{"a": 1}
constexpr std::string_view go_map = "1e ff 87 04 01 01 0e 6d 61 70 5b 73 74 72 "
                                    "69 6e 67 5d 69 6e 74 01 ff 88 00 "
                                    "01 0c 01 04 00 00 07 ff 88 00 01 01 61 02";

// [3]int{1, 0, -1}
constexpr std::string_view go_array
  = "0e ff 8d 01 01 02 ff 8e 00 01 04 01 06 00 00 07 ff 8e 00 03 02 00 01";

// complex(3, 0.25)
constexpr std::string_view go_complex = "08 0e 00 fe 08 40 fe d0 3f";

// true
constexpr std::string_view go_bool = "03 02 00 01";

// "h\u00e9llo"
constexpr std::string_view go_string = "09 0c 00 06 68 c3 a9 6c 6c 6f";

// []byte("hi")
constexpr std::string_view go_bytes = "05 0a 00 02 68 69";

// Singletons as Go encodes them.
const std::vector<std::pair<int64_t, std::string_view>> go_ints = {
  {0, "03 04 00 00"},
  {127, "04 04 00 ff fe"},
  {128, "05 04 00 fe 01 00"},
  {255, "05 04 00 fe 01 fe"},
  {256, "05 04 00 fe 02 00"},
  {-1, "03 04 00 01"},
  {std::numeric_limits<int64_t>::min(), "0b 04 00 f8 ff ff ff ff ff ff ff ff"},
  {std::numeric_limits<int64_t>::max(), "0b 04 00 f8 ff ff ff ff ff ff ff fe"},
};

const std::vector<std::pair<uint64_t, std::string_view>> go_uints = {
  {0u, "03 06 00 00"},
  {127u, "03 06 00 7f"},
  {128u, "04 06 00 ff 80"},
  {255u, "04 06 00 ff ff"},
  {256u, "05 06 00 fe 01 00"},
  {std::numeric_limits<uint64_t>::max(), "0b 06 00 f8 ff ff ff ff ff ff ff ff"},
};

const std::vector<std::pair<double, std::string_view>> go_floats = {
  {0.0, "03 08 00 00"},
  {17.0, "05 08 00 fe 31 40"},
  {-0.5, "05 08 00 fe e0 bf"},
  {1e+300, "0b 08 00 f8 9c 75 00 88 3c e4 37 7e"},
  {-std::numeric_limits<double>::infinity(), "05 08 00 fe f0 ff"},
};
// -- helpers ------------------------------------------------------------------

// Checks that `err` has `code` and that its rendered message contains every
// string of `parts`.
testing::AssertionResult
has_error(const caf::error& err, ec code,
          std::initializer_list<std::string_view> parts = {}) {
  if (!err)
    return testing::AssertionFailure()
           << "no error, expected " << to_string(code);
  auto text = render(err);
  if (code_of(err) != code)
    return testing::AssertionFailure()
           << "got " << to_string(code_of(err)) << " (" << text
           << "), expected " << to_string(code);
  for (auto part : parts)
    if (text.find(part) == std::string::npos)
      return testing::AssertionFailure()
             << "message \"" << text << "\" does not contain \"" << part
             << "\"";
  return testing::AssertionSuccess() << text;
}

// "2f ff 81" -> the bytes.
std::string unhex(std::string_view text) {
  std::string result;
  int digits = 0;
  unsigned byte = 0;
  for (auto c : text) {
    unsigned nibble;
    if (c >= '0' && c <= '9')
      nibble = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f')
      nibble = static_cast<unsigned>(c - 'a' + 10);
    else
      continue; // Spaces.
    byte = (byte << 4) | nibble;
    if (++digits == 2) {
      result += static_cast<char>(byte);
      digits = 0;
      byte = 0;
    }
  }
  return result;
}

// The bytes -> "2f ff 81", for readable failures.
std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string result;
  for (unsigned char c : bytes) {
    if (!result.empty())
      result += ' ';
    result += digits[c >> 4];
    result += digits[c & 0xF];
  }
  return result;
}

// A whole stream from its messages.
std::string join(const std::vector<std::string_view>& messages) {
  std::string result;
  for (auto m : messages)
    result += unhex(m);
  return result;
}

// A message: the byte count, then `payload`.
std::string framed(const std::string& payload) {
  std::string result;
  gob::append_uint(result, payload.size());
  return result + payload;
}

// A message: the byte count, then `payload` given in hex.
std::string msg(std::string_view payload) {
  return framed(unhex(payload));
}

void feed(gob::decoder& dec, std::string_view bytes) {
  dec.feed(bytes.data(), bytes.size());
}

// What a decoder made of a stream.
struct decoded {
  std::vector<int64_t> ids;
  std::vector<value> values;
  caf::error error;
  caf::error finish;
};

// Feeds `bytes` in chunks of the sizes `next_size()` picks.
template <class NextSize>
decoded decode_split(std::string_view bytes, NextSize next_size,
                     size_t max = gob::default_max_message_size) {
  decoded result;
  gob::decoder dec{max};
  size_t pos = 0;
  while (pos < bytes.size()) {
    auto n = std::min(bytes.size() - pos, next_size());
    dec.feed(bytes.data() + pos, n);
    pos += n;
    value x;
    while (dec.next(x)) {
      result.ids.push_back(dec.last_type_id());
      result.values.push_back(std::move(x));
    }
  }
  result.error = dec.error();
  result.finish = dec.finish();
  return result;
}

decoded decode_whole(std::string_view bytes,
                     size_t max = gob::default_max_message_size) {
  return decode_split(
    bytes, [&] { return bytes.size(); }, max);
}

// Decodes `bytes` whole and returns the one error it fails with.
caf::error decode_error(std::string_view bytes,
                        size_t max = gob::default_max_message_size) {
  auto result = decode_whole(bytes, max);
  return result.error ? result.error : result.finish;
}

// Re-encodes a decoded stream with the types and ids it defined, as a Go
// encoder numbering its types alike would send it.
std::string reencode(std::string_view bytes) {
  gob::decoder dec;
  feed(dec, bytes);
  gob::encoder enc;
  std::string out;
  value x;
  while (dec.next(x)) {
    // Types defined so far keep their ids; assign_id skips known ones.
    for (int64_t id = gob::first_user_id; id < 200; ++id)
      if (auto t = test_access::type_of(dec, id))
        test_access::assign_id(enc, *t, id);
    auto t = test_access::type_of(dec, dec.last_type_id());
    if (!t) {
      ADD_FAILURE() << render(t.error());
      return {};
    }
    if (auto err = enc.encode(out, *t, x)) {
      ADD_FAILURE() << render(err);
      return {};
    }
  }
  EXPECT_FALSE(dec.error()) << render(dec.error());
  return out;
}

// A server codec that numbers its types as the transcript's server did.
rpc::server_codec transcript_server() {
  rpc::server_codec result;
  auto& enc = result.encoder();
  EXPECT_TRUE(test_access::assign_id(enc, rpc::response_type(), 66));
  EXPECT_TRUE(test_access::assign_id(enc, rpc::register_response_type(), 67));
  EXPECT_TRUE(test_access::assign_id(enc, rpc::string_slice_type(), 68));
  EXPECT_TRUE(test_access::assign_id(enc, rpc::empty_type(), 70));
  EXPECT_TRUE(test_access::assign_id(enc, rpc::invalid_request_type(), 72));
  return result;
}

// A client codec that numbers its types as the transcript's client did.
rpc::client_codec transcript_client() {
  rpc::client_codec result;
  auto& enc = result.encoder();
  EXPECT_TRUE(test_access::assign_id(enc, rpc::request_type(), 65));
  EXPECT_TRUE(test_access::assign_id(enc, rpc::logs_type(), 69));
  EXPECT_TRUE(test_access::assign_id(enc, rpc::exit_code_type(), 71));
  return result;
}

std::vector<rpc::call> calls_of(std::string_view bytes) {
  rpc::server_codec codec;
  codec.feed(bytes.data(), bytes.size());
  std::vector<rpc::call> result;
  rpc::call c;
  while (codec.next(c))
    result.push_back(std::move(c));
  EXPECT_FALSE(codec.error()) << render(codec.error());
  EXPECT_FALSE(codec.finish()) << render(codec.finish());
  return result;
}

std::vector<rpc::reply> replies_of(std::string_view bytes) {
  rpc::client_codec codec;
  codec.feed(bytes.data(), bytes.size());
  std::vector<rpc::reply> result;
  rpc::reply r;
  while (codec.next(r))
    result.push_back(std::move(r));
  EXPECT_FALSE(codec.error()) << render(codec.error());
  EXPECT_FALSE(codec.finish()) << render(codec.finish());
  return result;
}

// One call as the tests expect it: method, seq and the body rendered.
struct expected_call {
  std::string_view method;
  uint64_t seq;
  std::string_view body;
};

struct expected_reply {
  std::string_view method;
  uint64_t seq;
  std::string_view error;
  std::string_view body;
};

void check_calls(std::string_view bytes,
                 const std::vector<expected_call>& want) {
  auto got = calls_of(bytes);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("call " + std::to_string(i));
    EXPECT_EQ(got[i].header.service_method, want[i].method);
    EXPECT_EQ(got[i].header.seq, want[i].seq);
    EXPECT_EQ(to_string(got[i].body), want[i].body);
  }
}

void check_replies(std::string_view bytes,
                   const std::vector<expected_reply>& want) {
  auto got = replies_of(bytes);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("reply " + std::to_string(i));
    EXPECT_EQ(got[i].header.service_method, want[i].method);
    EXPECT_EQ(got[i].header.seq, want[i].seq);
    EXPECT_EQ(got[i].header.error, want[i].error);
    EXPECT_EQ(to_string(got[i].body), want[i].body);
  }
}

// Session A as the reference client sent it.
const std::vector<expected_call> a_calls = {
  {"Runner.Register", 0, "0"},
  {"Runner.Status", 1, "0"},
  {"Runner.WriteLogs", 2, "{Data: b\"hello\\n\"}"},
  {"Runner.Exit", 3, "{}"},
  {"Runner.Status", 4, "0"},
};

const std::vector<expected_reply> a_replies = {
  {"Runner.Register", 0, "", "{Env: [\"FOO=bar\" \"BUILDKITE_PTY=false\"]}"},
  {"Runner.Status", 1, "", "1"},
  {"Runner.WriteLogs", 2, "", "{}"},
  {"Runner.Exit", 3, "", "{}"},
  {"Runner.Status", 4, "connection is shut down", "{}"},
};

const std::vector<expected_call> b_calls = {
  {"Runner.Register", 0, "5"},
  {"Runner.Register", 1, "-1"},
  {"Runner.Register", 2, "1"},
  {"Runner.Register", 3, "1"},
  {"Runner.Status", 4, "1"},
  {"Runner.Status", 5, "0"},
  {"Runner.Nope", 6, "0"},
  {"Runner.WriteLogs", 7, "{}"},
  {"Runner.Exit", 8, "{ID: 1, ExitStatus: -7}"},
  {"Runner.Status", 9, "1"},
  {"Runner.Exit", 10, "{ID: 300}"},
};

const std::vector<expected_reply> b_replies = {
  {"Runner.Register", 0, "unrecognized client id: 5", "{}"},
  {"Runner.Register", 1, "unrecognized client id: -1", "{}"},
  {"Runner.Register", 2, "", "{}"},
  {"Runner.Register", 3, "client id 1 already registered", "{}"},
  {"Runner.Status", 4, "", "0"},
  {"Runner.Status", 5, "", "1"},
  {"Runner.Nope", 6, "rpc: can't find method Runner.Nope", "{}"},
  {"Runner.WriteLogs", 7, "", "{}"},
  {"Runner.Exit", 8, "", "{}"},
  {"Runner.Status", 9, "connection is shut down", "{}"},
  {"Runner.Exit", 10, "unrecognized client id: 300", "{}"},
};

// The four streams by name, for the tests that take them all.
const std::vector<std::pair<const char*, std::string>> transcript_streams = {
  {"a_client", join(a_client)},
  {"a_server", join(a_server)},
  {"b_client", join(b_client)},
  {"b_server", join(b_server)},
};

} // namespace

// -- the transcript: decoding -------------------------------------------------

TEST(gob_transcript, session_a_calls_decode) {
  check_calls(join(a_client), a_calls);
}

TEST(gob_transcript, session_a_replies_decode) {
  check_replies(join(a_server), a_replies);
}

TEST(gob_transcript, session_b_calls_decode) {
  check_calls(join(b_client), b_calls);
}

TEST(gob_transcript, session_b_replies_decode) {
  check_replies(join(b_server), b_replies);
}

TEST(gob_transcript, messages_decode_to_the_reference_types) {
  auto calls = calls_of(join(b_client));
  ASSERT_EQ(calls.size(), 11u);
  int64_t id = 0;
  ASSERT_FALSE(rpc::from_value(calls[0].body, id));
  EXPECT_EQ(id, 5); // Register(5)
  ASSERT_FALSE(rpc::from_value(calls[1].body, id));
  EXPECT_EQ(id, -1);
  rpc::exit_code code;
  ASSERT_FALSE(rpc::from_value(calls[8].body, code));
  EXPECT_EQ(code.id, 1);
  EXPECT_EQ(code.exit_status, -7);
  // Exit{300, 0}: 300 travels as fe 02 58 (600, zig-zag), 0 is omitted.
  EXPECT_NE(join(b_client).find(unhex("07 ff 8e 01 fe 02 58 00")),
            std::string::npos);
  ASSERT_FALSE(rpc::from_value(calls[10].body, code));
  EXPECT_EQ(code.id, 300);
  EXPECT_EQ(code.exit_status, 0);
  rpc::logs logs;
  ASSERT_FALSE(rpc::from_value(calls[7].body, logs));
  EXPECT_EQ(logs.data, "");
  auto a = calls_of(join(a_client));
  ASSERT_FALSE(rpc::from_value(a[2].body, logs));
  EXPECT_EQ(logs.data, "hello\n");
  rpc::empty e;
  EXPECT_FALSE(rpc::from_value(a[3].body, e));
}

TEST(gob_transcript, replies_decode_to_the_reference_types) {
  auto a = replies_of(join(a_server));
  ASSERT_EQ(a.size(), 5u);
  rpc::register_response reg;
  ASSERT_FALSE(rpc::from_value(a[0].body, reg));
  EXPECT_EQ(reg.env,
            (std::vector<std::string>{"FOO=bar", "BUILDKITE_PTY=false"}));
  rpc::run_state state = rpc::run_state::wait;
  ASSERT_FALSE(rpc::from_value(a[1].body, state));
  EXPECT_EQ(state, rpc::run_state::start);
  EXPECT_EQ(a[4].header.error, "connection is shut down");
  auto b = replies_of(join(b_server));
  ASSERT_EQ(b.size(), 11u);
  EXPECT_EQ(b[0].header.error, "unrecognized client id: 5");
  ASSERT_FALSE(rpc::from_value(b[2].body, reg));
  EXPECT_TRUE(reg.env.empty());
  ASSERT_FALSE(rpc::from_value(b[4].body, state));
  EXPECT_EQ(state, rpc::run_state::wait);
}

TEST(gob_transcript, every_message_is_one_definition_or_one_value) {
  for (auto* lines : {&a_client, &a_server, &b_client, &b_server}) {
    gob::decoder dec;
    for (auto line : *lines) {
      auto m = unhex(line);
      feed(dec, m);
      value x;
      auto got = dec.next(x);
      ASSERT_FALSE(dec.error()) << render(dec.error());
      EXPECT_EQ(dec.buffered(), 0u) << line;
      // The type id after the count is odd (negative) for a definition;
      // ids here take one byte, or two after an ff length byte.
      auto first = static_cast<unsigned char>(m[1]);
      auto last = first < 0x80 ? first : static_cast<unsigned char>(m[2]);
      EXPECT_EQ(got, (last & 1) == 0) << line;
    }
    EXPECT_FALSE(dec.finish());
  }
}

// -- the transcript: encoding -------------------------------------------------

TEST(gob_transcript, session_a_calls_reencode_byte_exactly) {
  auto codec = transcript_client();
  std::string out;
  auto int_arg = [](int64_t x) { return value::integer(x); };
  ASSERT_FALSE(codec.append_call(out, rpc::register_method, 0, gob::int_type(),
                                 int_arg(0)));
  ASSERT_FALSE(
    codec.append_call(out, rpc::status_method, 1, gob::int_type(), int_arg(0)));
  ASSERT_FALSE(codec.append_call(out, rpc::write_logs_method, 2,
                                 rpc::logs_type(),
                                 rpc::to_value(rpc::logs{"hello\n"})));
  ASSERT_FALSE(codec.append_call(out, rpc::exit_method, 3,
                                 rpc::exit_code_type(),
                                 rpc::to_value(rpc::exit_code{0, 0})));
  ASSERT_FALSE(
    codec.append_call(out, rpc::status_method, 4, gob::int_type(), int_arg(0)));
  EXPECT_EQ(hex(out), hex(join(a_client)));
}

TEST(gob_transcript, session_a_replies_reencode_byte_exactly) {
  auto codec = transcript_server();
  std::string out;
  auto reply = [&](std::string_view method, uint64_t seq,
                   std::string_view error, const gob::type_ptr& t,
                   const value& body) {
    auto err = codec.append_reply(
      out, rpc::response_header{std::string{method}, seq, std::string{error}},
      t, body);
    ASSERT_FALSE(err) << render(err);
  };
  reply(
    rpc::register_method, 0, "", rpc::register_response_type(),
    rpc::to_value(rpc::register_response{{"FOO=bar", "BUILDKITE_PTY=false"}}));
  reply(rpc::status_method, 1, "", gob::int_type(),
        rpc::to_value(rpc::run_state::start));
  reply(rpc::write_logs_method, 2, "", rpc::empty_type(),
        rpc::to_value(rpc::empty{}));
  reply(rpc::exit_method, 3, "", rpc::empty_type(),
        rpc::to_value(rpc::empty{}));
  // The reply value is ignored for a failed call: Go sends struct{}{}.
  reply(rpc::status_method, 4, "connection is shut down", gob::int_type(),
        value::integer(1));
  EXPECT_EQ(hex(out), hex(join(a_server)));
}

TEST(gob_transcript, session_b_calls_reencode_byte_exactly) {
  auto codec = transcript_client();
  std::string out;
  for (auto& c : calls_of(join(b_client))) {
    // Bodies as the reference types, converted and back.
    value body;
    gob::type_ptr t;
    if (c.header.service_method == rpc::write_logs_method) {
      rpc::logs x;
      ASSERT_FALSE(rpc::from_value(c.body, x));
      t = rpc::logs_type();
      body = rpc::to_value(x);
    } else if (c.header.service_method == rpc::exit_method) {
      rpc::exit_code x;
      ASSERT_FALSE(rpc::from_value(c.body, x));
      t = rpc::exit_code_type();
      body = rpc::to_value(x);
    } else {
      int64_t x = 0;
      ASSERT_FALSE(rpc::from_value(c.body, x));
      t = gob::int_type();
      body = value::integer(x);
    }
    ASSERT_FALSE(
      codec.append_call(out, c.header.service_method, c.header.seq, t, body));
  }
  EXPECT_EQ(hex(out), hex(join(b_client)));
}

TEST(gob_transcript, session_b_replies_reencode_byte_exactly) {
  auto codec = transcript_server();
  std::string out;
  for (auto& r : replies_of(join(b_server))) {
    gob::type_ptr t = rpc::empty_type();
    value body = rpc::to_value(rpc::empty{});
    if (r.header.service_method == rpc::register_method) {
      rpc::register_response x;
      if (r.header.error.empty()) {
        ASSERT_FALSE(rpc::from_value(r.body, x));
      }
      t = rpc::register_response_type();
      body = rpc::to_value(x);
    } else if (r.header.service_method == rpc::status_method) {
      rpc::run_state x = rpc::run_state::wait;
      if (r.header.error.empty()) {
        ASSERT_FALSE(rpc::from_value(r.body, x));
      }
      t = gob::int_type();
      body = rpc::to_value(x);
    }
    ASSERT_FALSE(codec.append_reply(out, r.header, t, body));
  }
  EXPECT_EQ(hex(out), hex(join(b_server)));
}

TEST(gob_transcript, streams_reencode_byte_exactly_from_their_own_types) {
  // Without the rpc types: the decoder's view of each definition is enough
  // to produce the same bytes again.
  for (auto& [name, bytes] : transcript_streams) {
    SCOPED_TRACE(name);
    EXPECT_EQ(hex(reencode(bytes)), hex(bytes));
  }
}

TEST(gob_transcript, streams_decode_in_every_split) {
  std::mt19937 rng{42};
  for (auto& [name, bytes] : transcript_streams) {
    SCOPED_TRACE(name);
    auto whole = decode_whole(bytes);
    ASSERT_FALSE(whole.error) << render(whole.error);
    ASSERT_FALSE(whole.finish) << render(whole.finish);
    auto bytewise = decode_split(bytes, [] { return size_t{1}; });
    EXPECT_EQ(bytewise.values, whole.values);
    EXPECT_EQ(bytewise.ids, whole.ids);
    EXPECT_FALSE(bytewise.error);
    EXPECT_FALSE(bytewise.finish);
    for (int round = 0; round < 50; ++round) {
      std::uniform_int_distribution<size_t> size{
        1, static_cast<size_t>(1 + (round % 7) * 10)};
      auto split = decode_split(bytes, [&] { return size(rng); });
      EXPECT_EQ(split.values, whole.values);
      EXPECT_EQ(split.ids, whole.ids);
      EXPECT_FALSE(split.error);
      EXPECT_FALSE(split.finish);
    }
    // Every cut in two, the way a socket might deliver it.
    for (size_t cut = 0; cut <= bytes.size(); ++cut) {
      bool first = true;
      auto two = decode_split(bytes, [&] {
        auto n = first ? std::max<size_t>(cut, 1) : bytes.size();
        first = false;
        return n;
      });
      EXPECT_EQ(two.values, whole.values) << "cut at " << cut;
    }
  }
}

TEST(gob_transcript, codecs_read_in_every_split) {
  // The codecs pair headers with bodies across any split.
  std::mt19937 rng{7};
  for (auto& [name, bytes] : transcript_streams) {
    SCOPED_TRACE(name);
    bool server = name[2] == 'c'; // a_client, b_client: the server reads.
    for (int round = 0; round < 30; ++round) {
      std::uniform_int_distribution<size_t> size{1, round == 0 ? 1u : 64u};
      size_t count = 0;
      rpc::server_codec s;
      rpc::client_codec c;
      for (size_t pos = 0; pos < bytes.size();) {
        auto n = std::min(bytes.size() - pos, size(rng));
        if (server) {
          s.feed(bytes.data() + pos, n);
          rpc::call x;
          while (s.next(x))
            ++count;
        } else {
          c.feed(bytes.data() + pos, n);
          rpc::reply x;
          while (c.next(x))
            ++count;
        }
        pos += n;
      }
      EXPECT_EQ(count, name[0] == 'a' ? 5u : 11u);
      EXPECT_FALSE(server ? s.finish() : c.finish());
    }
  }
}

// -- numbers ------------------------------------------------------------------

TEST(gob_numbers, unsigned_encoding) {
  auto enc = [](uint64_t x) {
    std::string out;
    gob::append_uint(out, x);
    return hex(out);
  };
  EXPECT_EQ(enc(0), "00");
  EXPECT_EQ(enc(127), "7f");
  EXPECT_EQ(enc(128), "ff 80");
  EXPECT_EQ(enc(300), "fe 01 2c");
  EXPECT_EQ(enc(std::numeric_limits<uint64_t>::max()),
            "f8 ff ff ff ff ff ff ff ff");
}

TEST(gob_numbers, signed_encoding) {
  auto enc = [](int64_t x) {
    std::string out;
    gob::append_int(out, x);
    return hex(out);
  };
  EXPECT_EQ(enc(0), "00");
  EXPECT_EQ(enc(5), "0a");
  EXPECT_EQ(enc(-1), "01");
  EXPECT_EQ(enc(-7), "0d");
  EXPECT_EQ(enc(65), "ff 82");
  EXPECT_EQ(enc(-65), "ff 81");
  EXPECT_EQ(enc(300), "fe 02 58");
}

TEST(gob_numbers, ints_match_go_and_round_trip) {
  for (auto& [x, bytes] : go_ints) {
    SCOPED_TRACE(x);
    gob::encoder enc;
    std::string out;
    ASSERT_FALSE(enc.encode(out, gob::int_type(), value::integer(x)));
    EXPECT_EQ(hex(out), bytes);
    auto got = decode_whole(out);
    ASSERT_EQ(got.values.size(), 1u) << render(got.error);
    EXPECT_EQ(got.values[0], value::integer(x));
  }
}

TEST(gob_numbers, uints_match_go_and_round_trip) {
  for (auto& [x, bytes] : go_uints) {
    SCOPED_TRACE(x);
    gob::encoder enc;
    std::string out;
    ASSERT_FALSE(enc.encode(out, gob::uint_type(), value::unsigned_integer(x)));
    EXPECT_EQ(hex(out), bytes);
    auto got = decode_whole(out);
    ASSERT_EQ(got.values.size(), 1u) << render(got.error);
    EXPECT_EQ(got.values[0], value::unsigned_integer(x));
  }
}

TEST(gob_numbers, int_boundaries_round_trip_as_struct_fields) {
  // In a struct, zero is omitted and the rest travels as a field.
  auto t = gob::struct_of("N",
                          {{"I", gob::int_type()}, {"U", gob::uint_type()}});
  std::vector<std::pair<int64_t, uint64_t>> cases = {
    {0, 0},
    {127, 127},
    {128, 128},
    {255, 255},
    {256, 256},
    {-1, std::numeric_limits<uint64_t>::max()},
    {std::numeric_limits<int64_t>::min(), 1},
    {std::numeric_limits<int64_t>::max(), 1u << 31},
  };
  for (auto& [i, u] : cases) {
    SCOPED_TRACE(i);
    gob::encoder enc;
    std::string out;
    auto v = value::structure(
      {{"I", value::integer(i)}, {"U", value::unsigned_integer(u)}});
    ASSERT_FALSE(enc.encode(out, t, v));
    auto got = decode_whole(out);
    ASSERT_EQ(got.values.size(), 1u) << render(got.error);
    auto& s = got.values[0];
    EXPECT_EQ(s.field("I") ? s.field("I")->as_int() : 0, i);
    EXPECT_EQ(s.field("U") ? s.field("U")->as_uint() : 0, u);
    EXPECT_EQ(s.field("I") == nullptr, i == 0);
  }
}

TEST(gob_numbers, floats_are_byte_reversed_as_go_sends_them) {
  for (auto& [x, bytes] : go_floats) {
    SCOPED_TRACE(x);
    gob::encoder enc;
    std::string out;
    ASSERT_FALSE(enc.encode(out, gob::float_type(), value::floating(x)));
    EXPECT_EQ(hex(out), bytes);
    auto got = decode_whole(out);
    ASSERT_EQ(got.values.size(), 1u);
    EXPECT_EQ(got.values[0], value::floating(x));
  }
}

TEST(gob_numbers, other_basic_types_match_go) {
  struct item {
    gob::type_ptr t;
    value v;
    std::string_view bytes;
  };
  std::vector<item> items = {
    {gob::complex_type(), value::complex(3, 0.25), go_complex},
    {gob::bool_type(), value::boolean(true), go_bool},
    {gob::string_type(), value::string("h\xc3\xa9llo"), go_string},
    {gob::bytes_type(), value::bytes("hi"), go_bytes},
  };
  for (auto& x : items) {
    SCOPED_TRACE(x.t->name);
    gob::encoder enc;
    std::string out;
    ASSERT_FALSE(enc.encode(out, x.t, x.v));
    EXPECT_EQ(hex(out), x.bytes);
    auto got = decode_whole(unhex(x.bytes));
    ASSERT_EQ(got.values.size(), 1u);
    EXPECT_EQ(got.values[0], x.v);
  }
}

TEST(gob_numbers, non_minimal_numbers_decode_as_go_reads_them) {
  // Go does not insist on the shortest form, nor on 1 for true.
  auto got = decode_whole(unhex("05 04 00 fe 00 0a"));
  ASSERT_EQ(got.values.size(), 1u) << render(got.error);
  EXPECT_EQ(got.values[0], value::integer(5));
  got = decode_whole(unhex("03 02 00 07"));
  ASSERT_EQ(got.values.size(), 1u);
  EXPECT_EQ(got.values[0], value::boolean(true));
}

// -- composite values ---------------------------------------------------------

TEST(gob_values, maps_and_arrays_match_go) {
  auto map_t = gob::map_of(gob::string_type(), gob::int_type(),
                           "map[string]int");
  // Go numbered the map 68 in that process.
  gob::encoder enc;
  ASSERT_TRUE(test_access::assign_id(enc, map_t, 68));
  std::string out;
  ASSERT_FALSE(enc.encode(
    out, map_t, value::map({{value::string("a"), value::integer(1)}})));
  EXPECT_EQ(hex(out), hex(unhex(go_map)));
  // Go numbered [3]int 71 in that process.
  // A top-level array is unnamed in Go (a field's type gets a name).
  auto array_t = gob::array_of(gob::int_type(), 3, "");
  gob::encoder enc2;
  ASSERT_TRUE(test_access::assign_id(enc2, array_t, 71));
  out.clear();
  ASSERT_FALSE(enc2.encode(
    out, array_t,
    value::array({value::integer(1), value::integer(0), value::integer(-1)})));
  EXPECT_EQ(hex(out), hex(unhex(go_array)));
  auto got = decode_whole(unhex(go_array));
  ASSERT_EQ(got.values.size(), 1u);
  EXPECT_EQ(to_string(got.values[0]), "[1 0 -1]");
  EXPECT_EQ(got.values[0].kind(), gob::kind::array);
}

TEST(gob_values, unknown_fields_from_go_are_skipped) {
  auto got = decode_whole(unhex(go_unknown_fields));
  ASSERT_FALSE(got.error) << render(got.error);
  ASSERT_EQ(got.values.size(), 1u);
  // Every field decodes, the zero struct Z included: Go always sends
  // nested structs.
  EXPECT_EQ(to_string(got.values[0]),
            "{ID: 1, Extra: 42, Name: \"x\", In: {A: 3, B: \"y\"}, "
            "List: [\"p\" \"q\"], M: map[\"k\":9], ExitStatus: -7, F: 17, "
            "C: (1-2i), B: true, U: 300, Raw: b\"\\x00\\x01\", Arr: [5 0], "
            "Z: {}, Nest: [{A: 1} {}]}");
  rpc::exit_code code;
  ASSERT_FALSE(rpc::from_value(got.values[0], code));
  EXPECT_EQ(code.id, 1);
  EXPECT_EQ(code.exit_status, -7);
  // And the whole stream re-encodes byte-exactly.
  EXPECT_EQ(hex(reencode(unhex(go_unknown_fields))),
            hex(unhex(go_unknown_fields)));
}

TEST(gob_values, unknown_fields_of_every_kind_are_skipped) {
  // A newer peer's ExitCode: extra int, string, struct, slice and map
  // fields around the two the reference has.
  auto inner = gob::struct_of("Inner", {{"A", gob::int_type()},
                                        {"B", gob::string_type()}});
  auto peer_exit = gob::struct_of(
    "ExitCode",
    {{"Extra", gob::int_type()},
     {"ID", gob::int_type()},
     {"Name", gob::string_type()},
     {"In", inner},
     {"List", gob::slice_of(inner, "[]Inner")},
     {"M", gob::map_of(gob::string_type(), inner, "map[string]Inner")},
     {"ExitStatus", gob::int_type()},
     {"Tail", gob::slice_of(gob::string_type(), "[]string")}});
  auto in
    = value::structure({{"A", value::integer(3)}, {"B", value::string("b")}});
  auto v = value::structure({{"Extra", value::integer(42)},
                             {"ID", value::integer(2)},
                             {"Name", value::string("n")},
                             {"In", in},
                             {"List", value::slice({in, value::structure({})})},
                             {"M", value::map({{value::string("k"), in}})},
                             {"ExitStatus", value::integer(9)},
                             {"Tail", value::slice({value::string("t")})}});
  rpc::client_codec codec;
  std::string out;
  ASSERT_FALSE(codec.append_call(out, rpc::exit_method, 4, peer_exit, v));
  auto calls = calls_of(out);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].body, v);
  rpc::exit_code code;
  ASSERT_FALSE(rpc::from_value(calls[0].body, code));
  EXPECT_EQ(code.id, 2);
  EXPECT_EQ(code.exit_status, 9);
}

TEST(gob_values, interface_values_of_known_types_decode) {
  auto got = decode_whole(unhex(go_iface_known));
  ASSERT_FALSE(got.error) << render(got.error);
  ASSERT_EQ(got.values.size(), 4u);
  EXPECT_EQ(to_string(got.values[0]), "{A: 1}");
  EXPECT_EQ(to_string(got.values[1]), "{ID: 2, Any: {A: 3}, After: \"w\"}");
  // A nil interface field is omitted like any zero field.
  EXPECT_EQ(to_string(got.values[2]), "{ID: 3, After: \"n\"}");
  EXPECT_EQ(to_string(got.values[3]), "{ID: 4, Any: 7}");
  // Interfaces cannot be re-encoded; the decoder says so.
  auto dec = gob::decoder{};
  feed(dec, unhex(go_iface_known));
  value x;
  ASSERT_TRUE(dec.next(x));
  ASSERT_TRUE(dec.next(x));
  auto t = test_access::type_of(dec, dec.last_type_id());
  EXPECT_TRUE(
    has_error(t ? caf::error{} : t.error(), ec::bad_field, {"interface"}));
}

TEST(gob_values, nil_interface_decodes_as_none) {
  // A hand-made struct{Any interface{}} sending the nil interface
  // explicitly (Go omits it): field 1, empty name.
  auto bytes = msg("ff 81 03 01 01 01 54 01 ff 82 00 01 01 01 03 41 6e 79 01 "
                   "10 00 00 00")
               + msg("ff 82 01 00 00");
  auto got = decode_whole(bytes);
  ASSERT_EQ(got.values.size(), 1u) << render(got.error);
  ASSERT_NE(got.values[0].field("Any"), nullptr);
  EXPECT_EQ(got.values[0].field("Any")->kind(), gob::kind::none);
}

TEST(gob_values, gob_encoder_types_decode_as_bytes) {
  auto got = decode_whole(unhex(go_time));
  ASSERT_FALSE(got.error) << render(got.error);
  ASSERT_EQ(got.values.size(), 1u);
  auto t = got.values[0].field("T");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->kind(), gob::kind::bytes);
  EXPECT_EQ(t->text().size(), 15u); // time.Time's MarshalBinary, version 1.
}

TEST(gob_values, accessors_of_the_wrong_kind_return_zero) {
  auto s = value::structure({{"A", value::integer(1)}});
  EXPECT_EQ(s.as_int(), 0);
  EXPECT_EQ(s.field("B"), nullptr);
  EXPECT_EQ(s.field_name(5), "");
  EXPECT_EQ(s.field_value(5).kind(), gob::kind::none);
  EXPECT_EQ(s.map_key(0).kind(), gob::kind::none);
  EXPECT_EQ(value::integer(1).field("A"), nullptr);
  auto m = value::map({{value::string("k"), value::boolean(true)}});
  EXPECT_EQ(m.size(), 1u);
  EXPECT_EQ(m.map_key(0), value::string("k"));
  EXPECT_EQ(m.map_value(0), value::boolean(true));
  EXPECT_EQ(m.map_value(1).kind(), gob::kind::none);
}

// -- encoding -----------------------------------------------------------------

TEST(gob_encoder, numbers_types_from_65_in_first_use_order) {
  rpc::server_codec codec;
  std::string out;
  ASSERT_FALSE(
    codec.append_reply(out, rpc::response_header{"Runner.Register", 0, ""},
                       rpc::register_response_type(),
                       rpc::to_value(rpc::register_response{{"A=b"}})));
  auto& enc = codec.encoder();
  EXPECT_EQ(enc.id_of(rpc::response_type()), 65);
  // Parent first, then its field types, as Go numbers them.
  EXPECT_EQ(enc.id_of(rpc::register_response_type()), 66);
  EXPECT_EQ(enc.id_of(rpc::string_slice_type()), 67);
  EXPECT_EQ(enc.id_of(gob::int_type()), 2);
  gob::decoder dec;
  feed(dec, out);
  value x;
  ASSERT_TRUE(dec.next(x));
  ASSERT_TRUE(dec.next(x));
  EXPECT_EQ(dec.last_type_id(), 66);
  auto t = test_access::type_of(dec, 67);
  ASSERT_TRUE(t);
  EXPECT_EQ((*t)->name, "[]string");
  EXPECT_EQ((*t)->elem, gob::string_type());
}

TEST(gob_encoder, sends_each_definition_once_per_stream) {
  gob::encoder enc;
  std::string first;
  std::string second;
  auto v = rpc::to_value(rpc::exit_code{1, 2});
  ASSERT_FALSE(enc.encode(first, rpc::exit_code_type(), v));
  ASSERT_FALSE(enc.encode(second, rpc::exit_code_type(), v));
  EXPECT_EQ(hex(second), "07 ff 82 01 02 01 04 00");
  EXPECT_EQ(first.size(), second.size() + 0x2d);
}

TEST(gob_encoder, omits_zero_fields_but_sends_present_structs) {
  auto inner = gob::struct_of("In", {{"A", gob::int_type()}});
  auto t = gob::struct_of(
    "T", {{"B", gob::bool_type()},
          {"I", gob::int_type()},
          {"F", gob::float_type()},
          {"S", gob::string_type()},
          {"L", gob::slice_of(gob::int_type(), "[]int")},
          {"In", inner},
          {"M", gob::map_of(gob::int_type(), gob::int_type(), "map[int]int")},
          {"Z", gob::int_type()}});
  auto v = value::structure({{"B", value::boolean(false)},
                             {"I", value::integer(0)},
                             {"F", value::floating(-0.0)},
                             {"S", value::string("")},
                             {"L", value::slice({})},
                             {"In", value::structure({})},
                             {"M", value::map({})},
                             {"Z", value{}}});
  gob::encoder enc;
  ASSERT_TRUE(test_access::assign_id(enc, t, 65));
  std::string out;
  ASSERT_FALSE(enc.encode(out, t, v));
  // The value message is last: In (field 6) and M (field 7) only.
  EXPECT_EQ(hex(out.substr(out.size() - 8)), "07 ff 82 06 00 01 00 00");
  auto got = decode_whole(out);
  ASSERT_EQ(got.values.size(), 1u) << render(got.error);
  EXPECT_EQ(to_string(got.values[0]), "{In: {}, M: map[]}");
}

TEST(gob_encoder, absent_fields_and_none_values_mean_zero) {
  gob::encoder enc;
  std::string out;
  // A singleton is sent even when zero; none is the zero of any type.
  ASSERT_FALSE(enc.encode(out, gob::int_type(), value{}));
  ASSERT_FALSE(enc.encode(out, rpc::exit_code_type(), value{}));
  EXPECT_EQ(hex(out.substr(0, 4)), "03 04 00 00");
  EXPECT_EQ(hex(out.substr(out.size() - 4)), "03 ff 82 00");
}

TEST(gob_encoder, refuses_a_value_that_does_not_fit_and_changes_nothing) {
  gob::encoder enc;
  std::string out = "x";
  EXPECT_TRUE(has_error(enc.encode(out, gob::int_type(), value::string("5")),
                        ec::bad_field,
                        {"cannot encode a string value as gob type 'int'"}));
  EXPECT_TRUE(has_error(
    enc.encode(out, rpc::exit_code_type(),
               value::structure({{"ID", value::unsigned_integer(1)}})),
    ec::bad_field, {"field 'ID' of 'ExitCode'", "unsigned_integer"}));
  EXPECT_TRUE(
    has_error(enc.encode(out, rpc::exit_code_type(),
                         value::structure({{"Code", value::integer(1)}})),
              ec::bad_field, {"no field 'Code'"}));
  // Fields must follow the type's order.
  EXPECT_TRUE(
    has_error(enc.encode(out, rpc::exit_code_type(),
                         value::structure({{"ExitStatus", value::integer(1)},
                                           {"ID", value::integer(1)}})),
              ec::bad_field, {"no field 'ID'"}));
  EXPECT_TRUE(
    has_error(enc.encode(out, gob::array_of(gob::int_type(), 2, "[2]int"),
                         value::array({value::integer(1)})),
              ec::bad_field, {"needs 2 items, got 1"}));
  EXPECT_TRUE(has_error(
    enc.encode(out, rpc::register_response_type(),
               value::structure({{"Env", value::slice({value::integer(1)})}})),
    ec::bad_field, {"item 0", "integer"}));
  EXPECT_TRUE(has_error(enc.encode(out, nullptr, value{}), ec::bad_field));
  EXPECT_TRUE(has_error(enc.encode(out, gob::slice_of(nullptr, "[]?"), value{}),
                        ec::bad_field, {"no item type"}));
  EXPECT_EQ(out, "x");
  // Nothing counted as sent: the first good encode defines ExitCode.
  ASSERT_FALSE(enc.encode(out, rpc::exit_code_type(), value{}));
  EXPECT_EQ(enc.id_of(rpc::exit_code_type()), 65);
  EXPECT_GT(out.size(), 10u);
}

TEST(gob_encoder, assign_id_refuses_reserved_taken_and_basic) {
  gob::encoder enc;
  EXPECT_FALSE(test_access::assign_id(enc, gob::int_type(), 70));
  EXPECT_FALSE(test_access::assign_id(enc, rpc::empty_type(), 64));
  EXPECT_TRUE(test_access::assign_id(enc, rpc::empty_type(), 66));
  EXPECT_FALSE(test_access::assign_id(enc, rpc::empty_type(), 67));
  EXPECT_FALSE(test_access::assign_id(enc, rpc::logs_type(), 66));
  // Auto numbering skips taken ids.
  std::string out;
  ASSERT_TRUE(test_access::assign_id(enc, rpc::logs_type(), 65));
  ASSERT_FALSE(enc.encode(out, rpc::exit_code_type(), value{}));
  EXPECT_EQ(enc.id_of(rpc::exit_code_type()), 67);
}

// -- decoding errors ----------------------------------------------------------

TEST(gob_errors, oversized_count_fails_as_soon_as_it_is_in) {
  gob::decoder dec{100};
  feed(dec, unhex("fe 01"));
  value x;
  EXPECT_FALSE(dec.next(x));
  EXPECT_FALSE(dec.error());
  feed(dec, unhex("2c"));
  EXPECT_FALSE(dec.next(x));
  EXPECT_TRUE(has_error(dec.error(), ec::frame_too_large,
                        {"gob message of 300 bytes exceeds the maximum of "
                         "100 bytes"}));
}

TEST(gob_errors, four_gib_prefix_fails_with_five_bytes) {
  gob::decoder dec;
  feed(dec, unhex("fc ff ff ff ff"));
  value x;
  EXPECT_FALSE(dec.next(x));
  EXPECT_TRUE(has_error(dec.error(), ec::frame_too_large,
                        {"gob message of 4294967295 bytes exceeds the "
                         "maximum of 1049600 bytes"}));
  EXPECT_EQ(dec.buffered(), 5u);
  EXPECT_EQ(gob::default_max_message_size, 1049600u);
}

TEST(gob_errors, the_largest_message_fits_and_one_more_byte_does_not) {
  // A 1 MiB log chunk with its header fits the default maximum.
  rpc::client_codec codec;
  std::string out;
  ASSERT_FALSE(
    codec.append_call(out, rpc::write_logs_method, 1, rpc::logs_type(),
                      rpc::to_value(rpc::logs{std::string(1024 * 1024, 'x')})));
  auto got = decode_whole(out);
  EXPECT_FALSE(got.error) << render(got.error);
  EXPECT_EQ(got.values.size(), 2u);
  auto big = framed(unhex("0c 00 fe 04 00") + std::string(1024, 'x'));
  EXPECT_FALSE(decode_error(big, big.size() - 3));
  EXPECT_TRUE(
    has_error(decode_error(big, big.size() - 4), ec::frame_too_large));
}

TEST(gob_errors, bad_count_length_byte_fails_at_once) {
  EXPECT_TRUE(has_error(decode_error(unhex("80")), ec::malformed_body,
                        {"0x80", "128 bytes"}));
  EXPECT_TRUE(has_error(decode_error(unhex("f7")), ec::malformed_body,
                        {"9 bytes (at most 8)"}));
}

TEST(gob_errors, stream_ending_inside_a_message_is_truncated) {
  auto got = decode_whole(unhex("03 04 00"));
  EXPECT_FALSE(got.error);
  EXPECT_TRUE(has_error(got.finish, ec::truncated_frame,
                        {"stream ended inside a gob message: got 2 of 3 "
                         "bytes"}));
  got = decode_whole(unhex("fe 01"));
  EXPECT_TRUE(has_error(got.finish, ec::truncated_frame,
                        {"inside a gob message's byte count"}));
}

TEST(gob_errors, stream_ending_after_definitions_is_truncated) {
  auto got = decode_whole(unhex(a_client[0]));
  EXPECT_FALSE(got.error);
  EXPECT_TRUE(got.values.empty());
  EXPECT_TRUE(
    has_error(got.finish, ec::truncated_frame, {"after a type definition"}));
}

TEST(gob_errors, value_of_undefined_type_id) {
  EXPECT_TRUE(has_error(decode_error(unhex("03 ff c6 00")), ec::malformed_body,
                        {"value of unknown type id 99"}));
  // The reference's type ids are not built in: RegisterResponse (67)
  // without its definition is unknown.
  EXPECT_TRUE(has_error(decode_error(unhex(a_server[4])), ec::malformed_body,
                        {"value of unknown type id 67"}));
}

TEST(gob_errors, field_of_undefined_type_id) {
  // RegisterResponse defined, but not the []string its Env field uses.
  auto bytes = unhex(a_server[2]) + unhex(a_server[4]);
  EXPECT_TRUE(has_error(decode_error(bytes), ec::malformed_body,
                        {"field 'Env' of struct 'RegisterResponse' (id 67) "
                         "has unknown type id 68"}));
}

TEST(gob_errors, redefinition_is_refused) {
  // Go refuses any second definition of an id, even the same one.
  auto same = unhex(a_client[0]) + unhex(a_client[0]);
  EXPECT_TRUE(has_error(decode_error(same), ec::malformed_body,
                        {"type id 65 is defined a second time"}));
  // Id 65 as Request, then as something else.
  auto other = unhex(a_client[0])
               + msg("ff 81 03 01 01 01 58 01 ff 82 00 00 00");
  EXPECT_TRUE(has_error(decode_error(other), ec::malformed_body,
                        {"type id 65 is defined a second time"}));
}

TEST(gob_errors, reserved_ids_cannot_be_defined) {
  EXPECT_TRUE(has_error(decode_error(msg("27 00")), ec::malformed_body,
                        {"reserved id 20"}));
  EXPECT_TRUE(has_error(decode_error(msg("7f 00")), ec::malformed_body,
                        {"reserved id 64"}));
  EXPECT_TRUE(has_error(decode_error(msg("03 00")), ec::malformed_body,
                        {"reserved id 2"}));
}

TEST(gob_errors, definition_must_describe_exactly_one_type) {
  EXPECT_TRUE(has_error(decode_error(msg("ff 81 00")), ec::malformed_body,
                        {"type definition for id 65 describes no type"}));
  EXPECT_TRUE(has_error(
    decode_error(msg("ff 81 02 01 01 01 54 01 ff 82 00 01 04 00 01 01 01 01 "
                     "54 01 ff 82 00 00 00")),
    ec::malformed_body, {"describes more than one type"}));
  // An array with a negative length.
  EXPECT_TRUE(has_error(
    decode_error(msg("ff 81 01 01 01 01 41 01 ff 82 00 01 04 01 03 00 00")),
    ec::malformed_body, {"negative length -2"}));
  // Trailing bytes after the wireType.
  EXPECT_TRUE(
    has_error(decode_error(framed(unhex(a_client[0]).substr(1) + '\x01')),
              ec::malformed_body,
              {"1 bytes left over after the type definition for id "
               "65"}));
}

TEST(gob_errors, field_delta_past_the_last_field) {
  auto def = unhex(a_client[9]); // ExitCode, id 71, two fields.
  EXPECT_TRUE(has_error(decode_error(def + msg("ff 8e 03 02 00")),
                        ec::malformed_body,
                        {"field delta 3 points past the last field of struct "
                         "'ExitCode' (id 71), which has 2 fields"}));
  EXPECT_TRUE(has_error(decode_error(def + msg("ff 8e 02 02 01 02 00")),
                        ec::malformed_body, {"field delta 1 points past"}));
  // A huge delta must not overflow into a valid field.
  EXPECT_TRUE(
    has_error(decode_error(def + msg("ff 8e f8 ff ff ff ff ff ff ff ff 02 00")),
              ec::malformed_body, {"points past the last field"}));
}

TEST(gob_errors, struct_without_terminator) {
  auto def = unhex(a_client[9]);
  EXPECT_TRUE(has_error(decode_error(def + msg("ff 8e 01 02")),
                        ec::malformed_body, {"ends inside a value"}));
}

TEST(gob_errors, slice_count_larger_than_the_bytes_left) {
  auto defs = unhex(a_server[2]) + unhex(a_server[3]);
  EXPECT_TRUE(has_error(decode_error(defs + msg("ff 86 01 64 01 61 00")),
                        ec::malformed_body,
                        {"100 items of '[]string' (id 68) cannot fit in the "
                         "3 bytes left"}));
  // A count near 2^64 fails the same way, allocating nothing.
  EXPECT_TRUE(has_error(
    decode_error(defs + msg("ff 86 01 f8 ff ff ff ff ff ff ff ff 00")),
    ec::malformed_body, {"cannot fit"}));
}

TEST(gob_errors, map_count_larger_than_the_bytes_left) {
  auto def = unhex(go_map).substr(0, 0x1f);
  EXPECT_TRUE(has_error(decode_error(def + msg("ff 88 00 50 01 61 02")),
                        ec::malformed_body,
                        {"80 items of 'map[string]int' (id 68) cannot fit"}));
}

TEST(gob_errors, array_of_the_wrong_length) {
  auto def = unhex(go_array).substr(0, 0x0f);
  EXPECT_TRUE(has_error(decode_error(def + msg("ff 8e 00 02 02 00")),
                        ec::malformed_body,
                        {"array (unnamed, id 71) of 3 items arrives with 2"}));
}

TEST(gob_errors, string_longer_than_the_bytes_left) {
  EXPECT_TRUE(has_error(decode_error(msg("0c 00 09 41")), ec::malformed_body,
                        {"string of 9 bytes exceeds the 1 bytes left"}));
  EXPECT_TRUE(has_error(decode_error(msg("0a 00 05")), ec::malformed_body,
                        {"byte slice of 5 bytes"}));
}

TEST(gob_errors, too_deep_nesting) {
  // type T struct { Next T }: legal on the wire (Go would need a pointer),
  // and each level costs one byte.
  auto def = msg("ff 81 03 01 01 01 54 01 ff 82 00 01 01 01 04 4e 65 78 74 01 "
                 "ff 82 00 00 00");
  auto nested = [&](size_t levels) {
    std::string payload = unhex("ff 82");
    payload += std::string(levels, '\x01') + std::string(levels + 1, '\0');
    std::string result = def;
    gob::append_uint(result, payload.size());
    return result + payload;
  };
  auto ok = decode_whole(nested(gob::max_depth));
  EXPECT_FALSE(ok.error) << render(ok.error);
  EXPECT_EQ(ok.values.size(), 1u);
  EXPECT_TRUE(has_error(decode_error(nested(gob::max_depth + 1)),
                        ec::malformed_body, {"nests deeper than 32 levels"}));
  // Deep enough to smash a stack if it recursed without a limit.
  EXPECT_TRUE(has_error(decode_error(nested(500000)), ec::malformed_body,
                        {"nests deeper"}));
  // The decoder cannot describe the recursive type for encoding.
  gob::decoder dec;
  feed(dec, nested(3));
  value x;
  ASSERT_TRUE(dec.next(x));
  auto t = test_access::type_of(dec, 65);
  EXPECT_TRUE(
    has_error(t ? caf::error{} : t.error(), ec::bad_field, {"recursive"}));
}

TEST(gob_errors, too_many_values_in_one_message) {
  gob::encoder enc;
  std::string out;
  std::vector<value> items(gob::max_values, value::integer(0));
  auto ints = gob::slice_of(gob::int_type(), "[]int");
  ASSERT_FALSE(enc.encode(out, ints, value::slice(items)));
  EXPECT_TRUE(has_error(decode_error(out), ec::malformed_body,
                        {"more than 65536 values"}));
  out.clear();
  items.resize(gob::max_values - 1);
  gob::encoder enc2;
  ASSERT_FALSE(enc2.encode(out, ints, value::slice(items)));
  EXPECT_FALSE(decode_error(out));
}

TEST(gob_errors, too_many_type_definitions) {
  gob::encoder enc;
  std::string out;
  for (size_t i = 0; i <= gob::max_types; ++i)
    ASSERT_FALSE(
      enc.encode(out, gob::struct_of("T" + std::to_string(i), {}), value{}));
  EXPECT_TRUE(has_error(decode_error(out), ec::malformed_body,
                        {"more than 1024 type definitions"}));
}

TEST(gob_errors, too_many_bytes_of_type_definitions) {
  gob::encoder enc;
  std::string out;
  for (int i = 0; i < 5; ++i)
    ASSERT_FALSE(enc.encode(
      out, gob::struct_of(std::string(60000, static_cast<char>('a' + i)), {}),
      value{}));
  EXPECT_TRUE(has_error(decode_error(out), ec::malformed_body,
                        {"type definitions on this stream exceed 262144"}));
}

TEST(gob_errors, bytes_left_over_after_a_value) {
  EXPECT_TRUE(has_error(decode_error(msg("04 00 02 02")), ec::malformed_body,
                        {"1 bytes left over after the value of type 'int'"}));
}

TEST(gob_errors, singleton_with_a_non_zero_delta) {
  EXPECT_TRUE(has_error(decode_error(msg("04 01 02")), ec::malformed_body,
                        {"non-zero field delta 1 before a singleton"}));
}

TEST(gob_errors, empty_message) {
  EXPECT_TRUE(has_error(decode_error(unhex("00")), ec::malformed_body,
                        {"empty gob message"}));
}

TEST(gob_errors, bad_numbers_inside_a_message) {
  EXPECT_TRUE(has_error(decode_error(msg("04 00 f7")), ec::malformed_body,
                        {"bad gob number"}));
  EXPECT_TRUE(has_error(decode_error(msg("04 00 fe 01")), ec::malformed_body,
                        {"ends inside a number"}));
}

TEST(gob_errors, interface_with_an_inline_definition_is_refused) {
  auto got = decode_whole(unhex(go_iface_inline));
  EXPECT_TRUE(got.values.empty());
  EXPECT_TRUE(has_error(got.error, ec::malformed_body,
                        {"interface value of concrete type 'main.Inner' "
                         "carries its type definition inline"}));
}

TEST(gob_errors, interface_of_an_unknown_type) {
  // struct{Any interface{}}, Any holding "X" of type id 99.
  auto bytes = msg("ff 81 03 01 01 01 54 01 ff 82 00 01 01 01 03 41 6e 79 01 "
                   "10 00 00 00")
               + msg("ff 82 01 01 58 ff c6 01 00 00");
  EXPECT_TRUE(has_error(decode_error(bytes), ec::malformed_body,
                        {"concrete type 'X' has unknown type id 99"}));
  // The byte count of the value must fit, and be used up exactly.
  auto too_long = msg("ff 81 03 01 01 01 54 01 ff 82 00 01 01 01 03 41 6e 79 "
                      "01 10 00 00 00")
                  + msg("ff 82 01 01 58 04 09 00 00 00");
  EXPECT_TRUE(has_error(decode_error(too_long), ec::malformed_body,
                        {"interface value of 9 bytes exceeds"}));
  auto slack = msg("ff 81 03 01 01 01 54 01 ff 82 00 01 01 01 03 41 6e 79 01 "
                   "10 00 00 00")
               + msg("ff 82 01 01 58 04 03 00 02 07 00");
  EXPECT_TRUE(has_error(decode_error(slack), ec::malformed_body,
                        {"1 bytes left over in the interface value"}));
}

TEST(gob_errors, a_failed_decoder_stays_failed) {
  gob::decoder dec;
  feed(dec, unhex("03 ff c6 00"));
  value x;
  EXPECT_FALSE(dec.next(x));
  auto err = dec.error();
  ASSERT_TRUE(err);
  feed(dec, unhex("03 04 00 00"));
  EXPECT_FALSE(dec.next(x));
  EXPECT_EQ(dec.error(), err);
  EXPECT_EQ(dec.finish(), err);
}

TEST(gob_errors, errors_do_not_depend_on_the_split) {
  std::vector<std::string> bad = {
    unhex("fc ff ff ff ff"),
    unhex(a_client[0]) + unhex(a_client[0]),
    unhex(a_server[2]) + unhex(a_server[3]) + msg("ff 86 01 64 01 61 00"),
    unhex(go_iface_inline),
  };
  for (auto& bytes : bad) {
    auto whole = decode_whole(bytes);
    auto bytewise = decode_split(bytes, [] { return size_t{1}; });
    ASSERT_TRUE(whole.error);
    EXPECT_EQ(render(bytewise.error), render(whole.error));
    EXPECT_EQ(bytewise.values, whole.values);
  }
}

TEST(gob_errors, type_id_cut_short_or_out_of_range) {
  EXPECT_TRUE(has_error(decode_error(msg("fe 01")), ec::malformed_body,
                        {"ends inside a number (reading the type id)"}));
  // -2^63 would define id 2^63, which no int64 holds.
  EXPECT_TRUE(has_error(decode_error(msg("f8 ff ff ff ff ff ff ff ff 00")),
                        ec::malformed_body,
                        {"type definition for id 9223372036854775808, which "
                         "is out of range"}));
}

TEST(gob_errors, definition_cut_short) {
  EXPECT_TRUE(has_error(decode_error(msg("ff 81 03 01")), ec::malformed_body,
                        {"ends inside a value (in the type definition for id "
                         "65)"}));
}

TEST(gob_errors, items_or_keys_of_an_undefined_type) {
  // type S []X with X never defined (id 99); harmless until an item comes.
  auto def = msg("ff 81 02 01 01 01 53 01 ff 82 00 01 ff c6 00 00");
  EXPECT_FALSE(decode_error(def + msg("ff 82 00 00")));
  EXPECT_TRUE(has_error(decode_error(def + msg("ff 82 00 01 00")),
                        ec::malformed_body,
                        {"the items of type 'S' (id 65) has unknown type id "
                         "99"}));
  // map[X]int likewise.
  auto map_def = msg("ff 81 04 01 01 01 4d 01 ff 82 00 01 ff c6 01 04 00 00");
  EXPECT_TRUE(has_error(decode_error(map_def + msg("ff 82 00 01 00 00")),
                        ec::malformed_body, {"the keys of type 'M' (id 65)"}));
}

TEST(gob_errors, type_of_refuses_what_cannot_be_encoded) {
  auto error_of = [](gob::decoder& dec, int64_t id) {
    auto t = test_access::type_of(dec, id);
    return t ? caf::error{} : t.error();
  };
  gob::decoder dec;
  EXPECT_TRUE(
    has_error(error_of(dec, 70), ec::bad_field, {"type id 70 is not defined"}));
  feed(dec, unhex(go_time));
  value x;
  ASSERT_TRUE(dec.next(x));
  EXPECT_TRUE(has_error(error_of(dec, dec.last_type_id()), ec::bad_field,
                        {"GobEncoder type 'Time'"}));
  // struct T { A int; A string }: legal on the wire, but ambiguous by name.
  gob::decoder dup;
  feed(dup, msg("ff 81 03 01 01 01 54 01 ff 82 00 01 02 01 01 41 01 04 00 01 "
                "01 41 01 0c 00 00 00")
              + msg("ff 82 00"));
  ASSERT_TRUE(dup.next(x));
  EXPECT_TRUE(
    has_error(error_of(dup, 65), ec::bad_field, {"two fields named 'A'"}));
}

TEST(gob_encoder, refuses_malformed_types) {
  gob::encoder enc;
  std::string out;
  EXPECT_TRUE(has_error(enc.encode(out, std::make_shared<gob::type>(), value{}),
                        ec::bad_field, {"has kind none"}));
  auto fake_int = std::make_shared<gob::type>();
  fake_int->kind = gob::kind::integer;
  fake_int->name = "MyInt";
  EXPECT_TRUE(has_error(enc.encode(out, fake_int, value::integer(1)),
                        ec::bad_field, {"'MyInt' has no predefined id"}));
  EXPECT_TRUE(
    has_error(enc.encode(out, gob::struct_of("S", {{"F", nullptr}}), value{}),
              ec::bad_field, {"field 'F' of gob type 'S' has no type"}));
  EXPECT_TRUE(has_error(
    enc.encode(out, gob::array_of(gob::int_type(), 1u << 21, "[2097152]int"),
               value{}),
    ec::bad_field, {"too long to send as zero"}));
  EXPECT_TRUE(out.empty());
}

// -- rpc codecs ---------------------------------------------------------------

TEST(rpc_codec, seq_of_the_wrong_kind_is_refused) {
  // A Request whose Seq is an int: Go refuses it, so does baton.
  auto bad_request = gob::struct_of("Request",
                                    {{"ServiceMethod", gob::string_type()},
                                     {"Seq", gob::int_type()}});
  gob::encoder enc;
  std::string out;
  ASSERT_FALSE(enc.encode(
    out, bad_request,
    value::structure({{"ServiceMethod", value::string("Runner.Status")},
                      {"Seq", value::integer(1)}})));
  ASSERT_FALSE(enc.encode(out, gob::int_type(), value::integer(0)));
  rpc::server_codec server;
  server.feed(out.data(), out.size());
  rpc::call c;
  EXPECT_FALSE(server.next(c));
  EXPECT_TRUE(has_error(server.error(), ec::bad_field,
                        {"field 'Seq' of the request header must be a gob "
                         "unsigned_integer, got integer"}));
  EXPECT_EQ(server.finish(), server.error());
  // The same for a reply.
  auto bad_response = gob::struct_of("Response",
                                     {{"ServiceMethod", gob::string_type()},
                                      {"Seq", gob::int_type()},
                                      {"Error", gob::string_type()}});
  out.clear();
  ASSERT_FALSE(enc.encode(out, bad_response,
                          value::structure({{"Seq", value::integer(3)}})));
  rpc::client_codec client;
  client.feed(out.data(), out.size());
  rpc::reply r;
  EXPECT_FALSE(client.next(r));
  EXPECT_TRUE(has_error(client.error(), ec::bad_field,
                        {"field 'Seq' of the response header"}));
}

TEST(rpc_codec, header_that_is_no_struct_is_refused) {
  rpc::server_codec server;
  auto bytes = unhex("03 04 00 0a");
  server.feed(bytes.data(), bytes.size());
  rpc::call c;
  EXPECT_FALSE(server.next(c));
  EXPECT_TRUE(has_error(server.error(), ec::unexpected_message,
                        {"the request header must be a gob structure, got "
                         "integer"}));
}

TEST(rpc_codec, a_missing_body_is_an_error_at_the_end) {
  // Register's header, and the stream ends before its argument.
  auto bytes = unhex(b_client[0]) + unhex(b_client[1]);
  rpc::server_codec server;
  server.feed(bytes.data(), bytes.size());
  rpc::call c;
  EXPECT_FALSE(server.next(c));
  EXPECT_FALSE(server.error());
  EXPECT_TRUE(has_error(server.finish(), ec::truncated_frame,
                        {"after the header of call 0 (Runner.Register) "
                         "without its body"}));
  // A reply header whose body never comes.
  auto reply_bytes = unhex(b_server[0]) + unhex(b_server[1]);
  rpc::client_codec client;
  client.feed(reply_bytes.data(), reply_bytes.size());
  rpc::reply r;
  EXPECT_FALSE(client.next(r));
  EXPECT_TRUE(has_error(client.finish(), ec::truncated_frame,
                        {"header of reply 0 (Runner.Register)"}));
}

TEST(rpc_codec, the_body_after_an_error_is_read_not_taken_for_a_header) {
  // Error replies carry struct{}{}; the next header must still be found.
  auto replies = replies_of(join(b_server));
  ASSERT_EQ(replies.size(), 11u);
  EXPECT_EQ(replies[1].header.seq, 1u);
  EXPECT_EQ(replies[2].header.seq, 2u);
  EXPECT_EQ(replies[2].header.error, "");
}

TEST(rpc_codec, bodies_of_the_wrong_type_are_refused) {
  rpc::exit_code code;
  EXPECT_TRUE(has_error(rpc::from_value(value::integer(1), code),
                        ec::unexpected_message,
                        {"ExitCode must be a gob structure, got integer"}));
  int64_t id = 0;
  EXPECT_TRUE(has_error(rpc::from_value(value::unsigned_integer(1), id),
                        ec::unexpected_message,
                        {"must be a gob integer, got unsigned_integer"}));
  EXPECT_TRUE(
    has_error(rpc::from_value(
                value::structure({{"ID", value::unsigned_integer(1)}}), code),
              ec::bad_field, {"field 'ID' of ExitCode"}));
  rpc::register_response reg;
  EXPECT_TRUE(has_error(
    rpc::from_value(value::structure({{"Env", value::string("A=b")}}), reg),
    ec::bad_field, {"field 'Env' of RegisterResponse must be a gob slice"}));
  EXPECT_TRUE(has_error(
    rpc::from_value(
      value::structure({{"Env", value::slice({value::bytes("A=b")})}}), reg),
    ec::bad_field, {"item 0 of field 'Env'", "got bytes"}));
  rpc::logs logs;
  EXPECT_TRUE(has_error(
    rpc::from_value(value::structure({{"Data", value::string("x")}}), logs),
    ec::bad_field, {"field 'Data' of Logs must be a gob bytes, got string"}));
  rpc::run_state state;
  EXPECT_TRUE(has_error(rpc::from_value(value::structure({}), state),
                        ec::unexpected_message, {"RunState"}));
  rpc::empty e;
  EXPECT_TRUE(has_error(rpc::from_value(value::integer(0), e),
                        ec::unexpected_message, {"Empty"}));
}

TEST(rpc_codec, replies_may_come_back_out_of_order) {
  rpc::client_codec client;
  std::string calls;
  for (uint64_t seq = 1; seq <= 3; ++seq)
    ASSERT_FALSE(client.append_call(calls, rpc::status_method, seq,
                                    gob::int_type(), value::integer(1)));
  auto got = calls_of(calls);
  ASSERT_EQ(got.size(), 3u);
  rpc::server_codec server;
  std::string replies;
  for (uint64_t seq : {3, 1, 2})
    ASSERT_FALSE(server.append_reply(
      replies, rpc::response_header{"Runner.Status", seq, ""}, gob::int_type(),
      rpc::to_value(static_cast<rpc::run_state>(seq))));
  client.feed(replies.data(), replies.size());
  std::vector<uint64_t> seqs;
  rpc::reply r;
  while (client.next(r)) {
    rpc::run_state state;
    ASSERT_FALSE(rpc::from_value(r.body, state));
    EXPECT_EQ(static_cast<uint64_t>(state), r.header.seq);
    seqs.push_back(r.header.seq);
  }
  EXPECT_EQ(seqs, (std::vector<uint64_t>{3, 1, 2}));
  EXPECT_FALSE(client.finish());
}

TEST(rpc_codec, a_reply_that_does_not_fit_changes_nothing) {
  rpc::server_codec server;
  std::string out;
  EXPECT_TRUE(has_error(
    server.append_reply(out, rpc::response_header{"Runner.Status", 1, ""},
                        gob::int_type(), value::string("x")),
    ec::bad_field));
  EXPECT_TRUE(out.empty());
  // The Response definition was not counted as sent.
  ASSERT_FALSE(server.append_reply(out,
                                   rpc::response_header{"Runner.Status", 1, ""},
                                   gob::int_type(), value::integer(1)));
  auto replies = replies_of(out);
  ASSERT_EQ(replies.size(), 1u);
  rpc::client_codec client;
  out.clear();
  EXPECT_TRUE(
    has_error(client.append_call(out, rpc::exit_method, 1,
                                 rpc::exit_code_type(), value::integer(1)),
              ec::bad_field));
  EXPECT_TRUE(out.empty());
}

// -- preamble -----------------------------------------------------------------

TEST(rpc_preamble, the_reference_request_is_accepted) {
  auto stream = std::string{rpc::connect_request} + unhex(a_client[0]);
  auto got = rpc::parse_connect(stream);
  EXPECT_EQ(got.status, rpc::preamble_status::ok);
  EXPECT_EQ(got.consumed, rpc::connect_request.size());
  EXPECT_FALSE(got.error);
  EXPECT_EQ(rpc::connect_request, "CONNECT /_goRPC_ HTTP/1.0\n\n");
}

TEST(rpc_preamble, crlf_header_lines_and_a_query_are_accepted) {
  std::string req = "CONNECT /_goRPC_?x=1 HTTP/1.1\r\nHost: pod\r\n"
                    "User-Agent: test\r\n\r\n";
  auto got = rpc::parse_connect(req + "gob");
  EXPECT_EQ(got.status, rpc::preamble_status::ok);
  EXPECT_EQ(got.consumed, req.size());
}

TEST(rpc_preamble, an_incomplete_request_needs_more) {
  for (std::string_view part :
       {"", "CONN", "CONNECT /_goRPC_ HTTP/1.0", "CONNECT /_goRPC_ HTTP/1.0\n",
        "CONNECT /_goRPC_ HTTP/1.0\r\nHost: x\r\n",
        "CONNECT /_goRPC_ HTTP/1.0\r\nHost: x\r\n\r"}) {
    auto got = rpc::parse_connect(part);
    EXPECT_EQ(got.status, rpc::preamble_status::need_more) << part;
  }
  // Byte by byte, it completes exactly at the end.
  std::string req{rpc::connect_request};
  for (size_t n = 0; n < req.size(); ++n)
    EXPECT_EQ(rpc::parse_connect(req.substr(0, n)).status,
              rpc::preamble_status::need_more);
}

TEST(rpc_preamble, a_wrong_method_gets_405) {
  auto got = rpc::parse_connect("GET /_goRPC_ HTTP/1.0\n\n");
  EXPECT_EQ(got.status, rpc::preamble_status::rejected);
  // Go's response, minus its Date header.
  EXPECT_EQ(got.response, "HTTP/1.0 405 Method Not Allowed\r\n"
                          "Content-Type: text/plain; charset=utf-8\r\n"
                          "Content-Length: 17\r\n\r\n405 must CONNECT\n");
  EXPECT_TRUE(has_error(got.error, ec::unexpected_message,
                        {"method 'GET' instead of CONNECT"}));
}

TEST(rpc_preamble, a_wrong_path_gets_404) {
  for (std::string_view req : {"CONNECT /nope HTTP/1.0\n\n",
                               "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"}) {
    auto got = rpc::parse_connect(req);
    EXPECT_EQ(got.status, rpc::preamble_status::rejected);
    EXPECT_EQ(got.response, "HTTP/1.0 404 Not Found\r\n"
                            "Content-Type: text/plain; charset=utf-8\r\n"
                            "X-Content-Type-Options: nosniff\r\n"
                            "Content-Length: 19\r\n\r\n404 page not found\n");
    EXPECT_TRUE(has_error(got.error, ec::unexpected_message,
                          {"path '/nope' instead of '/_goRPC_'"}));
  }
}

TEST(rpc_preamble, a_malformed_request_fails_at_its_first_line) {
  auto got = rpc::parse_connect(std::string{"\x00\x00\x00\x05hello\n", 10});
  EXPECT_EQ(got.status, rpc::preamble_status::failed);
  EXPECT_TRUE(has_error(got.error, ec::malformed_body,
                        {"malformed HTTP request line '\\x00\\x00\\x00"}));
  got = rpc::parse_connect("CONNECT /_goRPC_ SPDY/3\n");
  EXPECT_EQ(got.status, rpc::preamble_status::failed);
  EXPECT_TRUE(has_error(got.error, ec::malformed_body, {"'SPDY/3'"}));
  got = rpc::parse_connect("CONNECT\n\n");
  EXPECT_EQ(got.status, rpc::preamble_status::failed);
}

TEST(rpc_preamble, a_preamble_over_4_kib_fails) {
  std::string req = "CONNECT /_goRPC_ HTTP/1.0\n";
  while (req.size() < rpc::max_preamble_size)
    req += "X-Padding: yes\n";
  auto got = rpc::parse_connect(req);
  EXPECT_EQ(got.status, rpc::preamble_status::failed);
  EXPECT_TRUE(
    has_error(got.error, ec::frame_too_large, {"exceeds 4096 bytes"}));
  // Also a first line that never ends.
  got = rpc::parse_connect(std::string(5000, 'C'));
  EXPECT_EQ(got.status, rpc::preamble_status::failed);
  // Exactly at the cap is fine.
  std::string exact = "CONNECT /_goRPC_ HTTP/1.0\n";
  exact += "X: " + std::string(rpc::max_preamble_size - exact.size() - 5, 'y')
           + "\n\n";
  ASSERT_EQ(exact.size(), rpc::max_preamble_size);
  EXPECT_EQ(rpc::parse_connect(exact).status, rpc::preamble_status::ok);
}

TEST(rpc_preamble, the_client_accepts_only_the_connected_status) {
  auto stream = std::string{rpc::connected_response} + unhex(a_server[0]);
  auto got = rpc::check_connected(stream);
  EXPECT_EQ(got.status, rpc::preamble_status::ok);
  EXPECT_EQ(got.consumed, rpc::connected_response.size());
  EXPECT_EQ(rpc::check_connected("HTTP/1.0 200 Conn").status,
            rpc::preamble_status::need_more);
  EXPECT_EQ(rpc::check_connected("HTTP/1.0 200 Connected to Go RPC\n").status,
            rpc::preamble_status::need_more);
  got = rpc::check_connected(
    "HTTP/1.0 404 Not Found\r\nContent-Length: 19\r\n\r\n404 page not found\n");
  EXPECT_EQ(got.status, rpc::preamble_status::failed);
  EXPECT_TRUE(has_error(got.error, ec::unexpected_message,
                        {"answered 'HTTP/1.0 404 Not Found' instead of '200 "
                         "Connected to Go RPC'"}));
  got = rpc::check_connected("HTTP/1.0 200 OK\n\n");
  EXPECT_EQ(got.status, rpc::preamble_status::failed);
  got = rpc::check_connected("\x05\x04garbage\n");
  EXPECT_TRUE(
    has_error(got.error, ec::malformed_body, {"no HTTP status line"}));
  got = rpc::check_connected(std::string(5000, 'H'));
  EXPECT_TRUE(has_error(got.error, ec::frame_too_large));
}
