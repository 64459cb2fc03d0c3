#pragma once

// The helpers that gob's value, encoder and decoder files share
// (gob_value.cpp, gob_encoder.cpp, gob_decoder.cpp). Internal: only those
// files include it, so nothing here is part of the codec's API.

#include <cstdint>
#include <cstring>

namespace baton::gob::detail {

// -- float bits ---------------------------------------------------------------

// The bits of a double, as gob sends them (byte-reversed) and as value
// equality compares them (so NaN equals itself).
inline uint64_t float_bits(double x) {
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  return bits;
}

inline double bits_float(uint64_t bits) {
  double x;
  std::memcpy(&x, &bits, sizeof(x));
  return x;
}

// -- type ids -----------------------------------------------------------------

// Predefined type ids (reference: encoding/gob/type.go).
constexpr int64_t bool_id = 1;
constexpr int64_t int_id = 2;
constexpr int64_t uint_id = 3;
constexpr int64_t float_id = 4;
constexpr int64_t bytes_id = 5;
constexpr int64_t string_id = 6;
constexpr int64_t complex_id = 7;
constexpr int64_t interface_id = 8;
constexpr int64_t wire_type_id = 16;
constexpr int64_t array_type_id = 17;
constexpr int64_t common_type_id = 18;
constexpr int64_t slice_type_id = 19;
constexpr int64_t struct_type_id = 20;
constexpr int64_t field_type_id = 21;
constexpr int64_t field_slice_id = 22;
constexpr int64_t map_type_id = 23;
// gobEncoderType: Go numbers it right after mapType; it never travels,
// but wireType's last three fields refer to it.
constexpr int64_t gob_encoder_type_id = 24;

} // namespace baton::gob::detail
