#pragma once

// Go's encoding/gob, the encoding of the reference's RPC dialect (net/rpc):
// a generic decoded `value`, a `type` description to encode with, and one
// `encoder` and one `decoder` per stream direction. Type ids are chosen by
// the sender and learned from the definitions on each stream; nothing here
// hard-codes an id above the predefined ones.
//
// A gob stream is a sequence of messages: an unsigned byte count, a signed
// type id, then either a type definition (negative id: a wireType for -id)
// or a value of that type. See https://pkg.go.dev/encoding/gob.

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace baton::gob {

// -- limits -------------------------------------------------------------------

/// Largest gob message accepted by default: a 1 MiB log chunk plus its
/// headers (reference: Go's limit is 8 GiB, i.e. none in practice).
constexpr size_t default_max_message_size = 1024 * 1024 + 1024;

/// Deepest nesting of values (and of types) a decoder follows: hostile
/// input must not exhaust the stack. The reference's types nest 4 deep.
constexpr size_t max_depth = 32;

/// Most values one message may decode to. A value tree costs ~100 bytes a
/// node, so this bounds a message's memory at a few MiB however it nests.
constexpr size_t max_values = 65536;

/// Most type definitions one stream may carry (the reference sends < 10).
constexpr size_t max_types = 1024;

/// Most bytes of type definitions one stream may carry.
constexpr size_t max_type_bytes = 256 * 1024;

/// The lowest id a sender may define; lower ids are predefined by gob.
constexpr int64_t first_user_id = 65;

// -- values -------------------------------------------------------------------

/// What a value (or a type) holds.
enum class kind : uint8_t {
  none,
  boolean,
  integer,
  unsigned_integer,
  floating,
  complex,
  bytes,
  string,
  slice,
  array,
  map,
  structure,
};

/// Returns the name of `x`, e.g. "unsigned_integer".
const char* to_string(kind x);

/// A decoded gob value, or one to encode. Accessors for another kind return
/// a zero or empty result, never fail.
class value {
public:
  /// A value of kind none: a nil interface, or "absent" when encoding.
  value() = default;

  /// A bool (gob type 1).
  static value boolean(bool x);

  /// An int of any width (gob type 2).
  static value integer(int64_t x);

  /// A uint of any width (gob type 3).
  static value unsigned_integer(uint64_t x);

  /// A float32 or float64 (gob type 4).
  static value floating(double x);

  /// A complex64 or complex128 (gob type 7).
  static value complex(double real, double imag);

  /// A []byte (gob type 5), also what GobEncoder types decode to.
  static value bytes(std::string x);

  /// A string (gob type 6).
  static value string(std::string x);

  /// A slice with `items`.
  static value slice(std::vector<value> items);

  /// An array with `items`.
  static value array(std::vector<value> items);

  /// A map with `entries` in this order (gob keeps no order; Go's is random).
  static value map(std::vector<std::pair<value, value>> entries);

  /// A struct with `fields` as (name, value) in the type's order.
  static value structure(std::vector<std::pair<std::string, value>> fields);

  /// What the value holds; an interface decodes to its concrete value.
  gob::kind kind() const noexcept {
    return kind_;
  }

  /// Boolean: the flag.
  bool as_bool() const noexcept;

  /// Integer: the number.
  int64_t as_int() const noexcept;

  /// Unsigned integer: the number.
  uint64_t as_uint() const noexcept;

  /// Floating: the number; complex: the real part.
  double as_float() const noexcept;

  /// Complex: the imaginary part.
  double imag() const noexcept;

  /// Bytes or string: the raw bytes (gob does not check UTF-8).
  const std::string& text() const noexcept {
    return text_;
  }

  /// Slice, array: the items. Map: keys and values alternating.
  /// Structure: the field values, parallel to the field names.
  const std::vector<value>& items() const noexcept {
    return items_;
  }

  /// Items of a slice or array, entries of a map, fields of a structure.
  size_t size() const noexcept;

  /// Map: the key of entry `i`.
  const value& map_key(size_t i) const;

  /// Map: the value of entry `i`.
  const value& map_value(size_t i) const;

  /// Structure: the name of field `i`, in wire order.
  const std::string& field_name(size_t i) const;

  /// Structure: the value of field `i`, in wire order.
  const value& field_value(size_t i) const;

  /// Structure: the field called `name`, or null if it was not sent (gob
  /// omits zero fields, so absent means zero).
  const value* field(std::string_view name) const;

  /// Slice or array: appends an item.
  void push_back(value x);

  /// Map: appends an entry.
  void add_entry(value key, value val);

  /// Structure: appends a field.
  void add_field(std::string name, value x);

  /// Structure: appends a field whose name is shared (saves copies).
  void add_field(std::shared_ptr<const std::string> name, value x);

  /// Deep equality; floats compare by their bits, so NaN equals itself.
  friend bool operator==(const value& x, const value& y);

  friend bool operator!=(const value& x, const value& y) {
    return !(x == y);
  }

private:
  gob::kind kind_ = gob::kind::none;
  // Bool, int and uint as bits; float and the real part of a complex.
  uint64_t bits_ = 0;
  double real_ = 0;
  double imag_ = 0;
  std::string text_;
  std::vector<value> items_;
  // Field names are shared with the type so a slice of structs does not
  // copy them once per item.
  std::vector<std::shared_ptr<const std::string>> names_;
};

/// Renders `x` for humans and test output, Go style: `{Seq: 1, Env: ["a"]}`.
std::string to_string(const value& x);

// -- types --------------------------------------------------------------------

struct type;

/// Types are immutable and shared.
using type_ptr = std::shared_ptr<const type>;

/// A field of a struct type.
struct field_type {
  std::string name;
  type_ptr type;
};

/// A gob type to encode with. Build with the functions below.
struct type {
  gob::kind kind = gob::kind::none;
  /// The Go type name; named basic types (`type RunState int`) travel as
  /// the basic type, so only composite types' names reach the wire.
  std::string name;
  /// Basic types: the predefined id (bool 1 ... complex 7); else 0.
  int64_t builtin_id = 0;
  /// Slice, array: the item type. Map: the value type.
  type_ptr elem;
  /// Map: the key type.
  type_ptr key;
  /// Array: the number of items.
  uint64_t len = 0;
  /// Struct: the fields in declaration (= wire) order.
  std::vector<field_type> fields;
};

// The predefined basic types; no definition is ever sent for them. Go's
// named basic types (`type RunState int`) use these too.

/// bool, id 1.
type_ptr bool_type();

/// int, int8 ... int64, id 2.
type_ptr int_type();

/// uint, uint8 ... uint64, uintptr, id 3.
type_ptr uint_type();

/// float32, float64, id 4.
type_ptr float_type();

/// complex64, complex128, id 7.
type_ptr complex_type();

/// []byte, id 5.
type_ptr bytes_type();

/// string, id 6.
type_ptr string_type();

/// A slice type, e.g. `slice_of(string_type(), "[]string")`.
type_ptr slice_of(type_ptr elem, std::string name);

/// An array type, e.g. `array_of(int_type(), 3, "[3]int")`.
type_ptr array_of(type_ptr elem, uint64_t len, std::string name);

/// A map type, e.g. `map_of(string_type(), int_type(), "map[string]int")`.
type_ptr map_of(type_ptr key, type_ptr elem, std::string name);

/// A struct type; an empty name is Go's unnamed struct, e.g. `struct{}`.
type_ptr struct_of(std::string name, std::vector<field_type> fields);

// -- encoding -----------------------------------------------------------------

/// Appends unsigned `x` in gob's encoding to `out`.
void append_uint(std::string& out, uint64_t x);

/// Appends signed `x` in gob's encoding to `out`.
void append_int(std::string& out, int64_t x);

/// Encodes the values of one stream direction. Remembers which type
/// definitions the stream has carried and assigns ids from 65 in first-use
/// order, as Go does.
class encoder {
public:
  /// Appends to `out` the definitions of `t` and of the types it uses that
  /// this stream has not carried yet (parent first, then field types, as
  /// Go does), then a message with `v`. Struct fields of `v` must come in
  /// the type's order; absent ones, fields of kind none and zero fields are
  /// omitted, except present structs, arrays and maps, which Go always
  /// sends. Fails with `bad_field` if `v` does not fit `t`, leaving `out`
  /// and the encoder unchanged.
  caf::error encode(std::string& out, const type_ptr& t, const value& v);

  /// The id of `t` on this stream: builtin, assigned, or 0 if none yet.
  int64_t id_of(const type_ptr& t) const;

  /// True if `t` is basic or this stream has carried its definition, and
  /// so those of the types it uses (`encode` sends them all or none).
  /// Encoding with such a type changes nothing in the encoder.
  bool has_sent(const type_ptr& t) const;

private:
  // Only tests choose ids (users of the codec let it number types as Go
  // does), so they reach `assign_id` through `test_access`, defined in
  // messages/gob_test_access.hpp, and this header does not offer it.
  friend struct test_access;

  /// Gives `t` the id `id` instead of the next free one (for tests that
  /// reproduce a transcript). False if `t` is basic or already has an id,
  /// or `id` is reserved or taken.
  bool assign_id(const type_ptr& t, int64_t id);

  struct entry {
    type_ptr keep; // Holds the type so its address stays unique.
    int64_t id = 0;
    bool sent = false;
  };

  int64_t allocate_id();

  std::unordered_map<const type*, entry> types_;
  std::unordered_map<int64_t, const type*> ids_;
  int64_t next_id_ = first_user_id;
};

// -- decoding -----------------------------------------------------------------

/// Decodes the messages of one stream direction. Accepts bytes in any
/// split, one at a time included; consumes type definitions itself and
/// yields values. After the first error it stays failed.
class decoder {
public:
  /// Limits each message (its byte count) to `max_message_size`.
  explicit decoder(size_t max_message_size = default_max_message_size);

  ~decoder();

  decoder(decoder&&) noexcept;

  decoder& operator=(decoder&&) noexcept;

  /// Appends received bytes.
  void feed(const char* data, size_t size);

  /// Moves the next value into `out` and returns true, or returns false
  /// when more bytes are needed or the stream failed (see `error`). An
  /// oversized byte count fails as soon as the count is in.
  bool next(value& out);

  /// The error that failed the stream, if any.
  const caf::error& error() const noexcept {
    return error_;
  }

  /// To call when the stream ends: an error if it ended inside a message
  /// or after type definitions without the value they precede.
  caf::error finish() const;

  /// Bytes received but not yet consumed.
  size_t buffered() const noexcept {
    return buf_.size() - pos_;
  }

  /// The largest message this decoder accepts.
  size_t max_message_size() const noexcept {
    return max_message_size_;
  }

  /// The type id of the value `next` returned last.
  int64_t last_type_id() const noexcept {
    return last_type_id_;
  }

  /// A type as a stream defined it (internal, defined in gob_decoder.cpp).
  struct wire_type;

private:
  // Only tests and fuzz targets re-encode what was decoded, through
  // `test_access` (messages/gob_test_access.hpp).
  friend struct test_access;

  /// The encodable description of type `id` as this stream defined it, to
  /// re-encode what was decoded. Fails for undefined ids, interface and
  /// GobEncoder types, recursive types and duplicate field names.
  caf::expected<type_ptr> type_of(int64_t id);

  caf::error parse(const unsigned char* data, size_t size, value& out,
                   bool& is_value);

  size_t max_message_size_;
  std::string buf_;
  size_t pos_ = 0;
  caf::error error_;
  // The types this stream defined, by id.
  std::unordered_map<int64_t, std::unique_ptr<wire_type>> types_;
  size_t type_bytes_ = 0;
  // True after a definition until a value arrives.
  bool defs_pending_ = false;
  int64_t last_type_id_ = 0;
  std::unordered_map<int64_t, type_ptr> type_cache_;
};

} // namespace baton::gob
