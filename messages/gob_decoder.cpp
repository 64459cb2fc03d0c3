#include "messages/gob.hpp"

#include "messages/error.hpp"
#include "messages/gob_internal.hpp"

#include <cstdio>
#include <limits>
#include <unordered_set>

namespace baton::gob {

// bits_float and the predefined type ids, shared with the value and
// encoder files.
using namespace detail;

// -- decoding -----------------------------------------------------------------

namespace {

enum class wire_kind : uint8_t {
  boolean,
  integer,
  unsigned_integer,
  floating,
  complex,
  bytes,
  string,
  interface,
  slice,
  array,
  map,
  structure,
  // GobEncoder, BinaryMarshaler, TextMarshaler: bytes on the wire.
  gob_encoder,
};

struct wire_field {
  std::shared_ptr<const std::string> name;
  int64_t id = 0;
};

} // namespace

// A type as a stream defined it; ids refer to other wire types.
struct decoder::wire_type {
  wire_kind kind = wire_kind::boolean;
  int64_t id = 0;
  std::string name;
  int64_t elem = 0;
  int64_t key = 0;
  uint64_t len = 0;
  std::vector<wire_field> fields;
};

namespace {

using wire_type = decoder::wire_type;
using type_map = std::unordered_map<int64_t, std::unique_ptr<wire_type>>;

wire_type make_wire(wire_kind k, int64_t id, const char* name) {
  wire_type result;
  result.kind = k;
  result.id = id;
  result.name = name;
  return result;
}

wire_type make_wire_struct(int64_t id, const char* name,
                           std::vector<std::pair<const char*, int64_t>> fs) {
  auto result = make_wire(wire_kind::structure, id, name);
  for (auto& [field_name, field_id] : fs)
    result.fields.push_back(
      wire_field{std::make_shared<const std::string>(field_name), field_id});
  return result;
}

// The predefined types, by id (reference: encoding/gob/type.go).
const std::unordered_map<int64_t, wire_type>& builtin_types() {
  static const auto result = [] {
    std::unordered_map<int64_t, wire_type> m;
    auto add = [&m](wire_type t) { m.emplace(t.id, std::move(t)); };
    add(make_wire(wire_kind::boolean, bool_id, "bool"));
    add(make_wire(wire_kind::integer, int_id, "int"));
    add(make_wire(wire_kind::unsigned_integer, uint_id, "uint"));
    add(make_wire(wire_kind::floating, float_id, "float"));
    add(make_wire(wire_kind::bytes, bytes_id, "[]byte"));
    add(make_wire(wire_kind::string, string_id, "string"));
    add(make_wire(wire_kind::complex, complex_id, "complex"));
    add(make_wire(wire_kind::interface, interface_id, "interface"));
    add(make_wire_struct(wire_type_id, "wireType",
                         {{"ArrayT", array_type_id},
                          {"SliceT", slice_type_id},
                          {"StructT", struct_type_id},
                          {"MapT", map_type_id},
                          {"GobEncoderT", gob_encoder_type_id},
                          {"BinaryMarshalerT", gob_encoder_type_id},
                          {"TextMarshalerT", gob_encoder_type_id}}));
    add(make_wire_struct(
      array_type_id, "arrayType",
      {{"CommonType", common_type_id}, {"Elem", int_id}, {"Len", int_id}}));
    add(make_wire_struct(common_type_id, "CommonType",
                         {{"Name", string_id}, {"Id", int_id}}));
    add(make_wire_struct(slice_type_id, "sliceType",
                         {{"CommonType", common_type_id}, {"Elem", int_id}}));
    add(make_wire_struct(struct_type_id, "structType",
                         {{"CommonType", common_type_id},
                          {"Field", field_slice_id}}));
    add(make_wire_struct(field_type_id, "fieldType",
                         {{"Name", string_id}, {"Id", int_id}}));
    auto fields = make_wire(wire_kind::slice, field_slice_id, "[]fieldType");
    fields.elem = field_type_id;
    add(std::move(fields));
    add(make_wire_struct(
      map_type_id, "mapType",
      {{"CommonType", common_type_id}, {"Key", int_id}, {"Elem", int_id}}));
    add(make_wire_struct(gob_encoder_type_id, "gobEncoderType",
                         {{"CommonType", common_type_id}}));
    return m;
  }();
  return result;
}

const wire_type* find_type(const type_map& user, int64_t id) {
  if (id >= first_user_id) {
    auto i = user.find(id);
    return i == user.end() ? nullptr : i->second.get();
  }
  auto& builtins = builtin_types();
  auto i = builtins.find(id);
  return i == builtins.end() ? nullptr : &i->second;
}

// A wire type's name for messages, with its id. Go leaves some types
// unnamed, e.g. struct{} and a top-level [3]int.
std::string describe(const wire_type& t) {
  if (t.name.empty())
    return "(unnamed, id " + std::to_string(t.id) + ")";
  return "'" + t.name + "' (id " + std::to_string(t.id) + ")";
}

// What decode_uint returns for a first byte announcing more than 8 bytes.
constexpr size_t bad_uint_length = std::numeric_limits<size_t>::max();

// Decodes gob's unsigned int at `p` (`avail` bytes) into `x`: a byte below
// 0x80 is the number, else 256 minus it counts the big-endian bytes that
// follow. Returns the bytes it takes, 0 if they have not all arrived, or
// `bad_uint_length`. The callers word the errors, as a message's byte
// count and a number inside a message fail differently.
size_t decode_uint(const unsigned char* p, size_t avail, uint64_t& x) {
  if (avail == 0)
    return 0;
  if (p[0] < 0x80) {
    x = p[0];
    return 1;
  }
  size_t n = 256 - p[0];
  if (n > 8)
    return bad_uint_length;
  if (avail < 1 + n)
    return 0;
  x = 0;
  for (size_t i = 1; i <= n; ++i)
    x = (x << 8) | p[i];
  return 1 + n;
}

// The first byte of a number as errors show it, e.g. "0xf6".
std::string length_byte(unsigned char b) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "0x%02x", b);
  return buf;
}

// Reads one message's payload into values. Every read checks the bytes
// left, every count is checked against them before anything is allocated,
// and the value count and depth are capped.
class parser {
public:
  parser(const unsigned char* data, size_t size, const type_map& types)
    : pos_(data), end_(data + size), types_(types) {
    // nop
  }

  size_t left() const {
    return static_cast<size_t>(end_ - pos_);
  }

  const std::string& error() const {
    return err_;
  }

  bool fail(std::string what) {
    if (err_.empty())
      err_ = std::move(what);
    return false;
  }

  bool read_uint(uint64_t& x) {
    if (pos_ == end_)
      return fail("gob message ends inside a value");
    auto width = decode_uint(pos_, left(), x);
    if (width == bad_uint_length)
      return fail("bad gob number: length byte " + length_byte(*pos_)
                  + " announces " + std::to_string(256 - *pos_)
                  + " bytes (at most 8)");
    if (width == 0)
      return fail("gob message ends inside a number");
    pos_ += width;
    return true;
  }

  bool read_int(int64_t& x) {
    uint64_t u;
    if (!read_uint(u))
      return false;
    x = static_cast<int64_t>((u & 1) ? ~(u >> 1) : (u >> 1));
    return true;
  }

  bool read_float(double& x) {
    uint64_t u;
    if (!read_uint(u))
      return false;
    x = bits_float(__builtin_bswap64(u));
    return true;
  }

  // Reads a length-prefixed byte string.
  bool read_text(std::string& x, const char* what) {
    uint64_t n;
    if (!read_uint(n))
      return false;
    if (n > left())
      return fail(std::string{what} + " of " + std::to_string(n)
                  + " bytes exceeds the " + std::to_string(left())
                  + " bytes left in the gob message");
    x.assign(reinterpret_cast<const char*>(pos_), n);
    pos_ += n;
    return true;
  }

  // A top-level value: a struct as its fields, else a singleton.
  bool top(const wire_type& t, value& out, size_t depth) {
    if (t.kind == wire_kind::structure)
      return decode(t, out, depth);
    uint64_t delta;
    if (!read_uint(delta))
      return false;
    if (delta != 0)
      return fail("non-zero field delta " + std::to_string(delta)
                  + " before a singleton value of type " + describe(t));
    return decode(t, out, depth);
  }

  bool decode(const wire_type& t, value& out, size_t depth) {
    if (depth > max_depth)
      return fail("gob value nests deeper than " + std::to_string(max_depth)
                  + " levels");
    if (++values_ > max_values)
      return fail("gob message holds more than " + std::to_string(max_values)
                  + " values");
    switch (t.kind) {
      case wire_kind::boolean: {
        uint64_t x;
        if (!read_uint(x))
          return false;
        out = value::boolean(x != 0); // Go reads any non-zero as true.
        return true;
      }
      case wire_kind::integer: {
        int64_t x;
        if (!read_int(x))
          return false;
        out = value::integer(x);
        return true;
      }
      case wire_kind::unsigned_integer: {
        uint64_t x;
        if (!read_uint(x))
          return false;
        out = value::unsigned_integer(x);
        return true;
      }
      case wire_kind::floating: {
        double x;
        if (!read_float(x))
          return false;
        out = value::floating(x);
        return true;
      }
      case wire_kind::complex: {
        double re;
        double im;
        if (!read_float(re) || !read_float(im))
          return false;
        out = value::complex(re, im);
        return true;
      }
      case wire_kind::bytes:
      case wire_kind::gob_encoder: {
        std::string x;
        if (!read_text(x, "byte slice"))
          return false;
        out = value::bytes(std::move(x));
        return true;
      }
      case wire_kind::string: {
        std::string x;
        if (!read_text(x, "string"))
          return false;
        out = value::string(std::move(x));
        return true;
      }
      case wire_kind::interface: return decode_interface(out, depth);
      case wire_kind::slice:
      case wire_kind::array: return decode_items(t, out, depth);
      case wire_kind::map: return decode_map(t, out, depth);
      case wire_kind::structure: return decode_struct(t, out, depth);
    }
    return fail("type " + describe(t) + " has an unknown kind");
  }

private:
  // Checks a count of items, each at least `per_item` bytes on the wire,
  // before anything is allocated for them.
  bool check_count(uint64_t n, uint64_t per_item, const wire_type& t) {
    if (n > left() / per_item)
      return fail(std::to_string(n) + " items of " + describe(t)
                  + " cannot fit in the " + std::to_string(left())
                  + " bytes left in the gob message");
    // Each item is per_item values at least (a map entry is two).
    if (n * per_item > max_values - values_)
      return fail("gob message holds more than " + std::to_string(max_values)
                  + " values");
    return true;
  }

  const wire_type* resolve(int64_t id, const wire_type& parent,
                           const char* role) {
    auto result = find_type(types_, id);
    if (result == nullptr)
      fail(std::string{role} + " of type " + describe(parent)
           + " has unknown type id " + std::to_string(id));
    return result;
  }

  bool decode_items(const wire_type& t, value& out, size_t depth) {
    uint64_t n;
    if (!read_uint(n))
      return false;
    if (t.kind == wire_kind::array && n != t.len)
      return fail("array " + describe(t) + " of " + std::to_string(t.len)
                  + " items arrives with " + std::to_string(n));
    if (!check_count(n, 1, t))
      return false;
    // Like a struct field's, the item type must be defined once an item
    // comes, not before.
    auto elem = n > 0 ? resolve(t.elem, t, "the items") : nullptr;
    if (n > 0 && elem == nullptr)
      return false;
    std::vector<value> items;
    items.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      items.emplace_back();
      if (!decode(*elem, items.back(), depth + 1))
        return false;
    }
    out = t.kind == wire_kind::array ? value::array(std::move(items))
                                     : value::slice(std::move(items));
    return true;
  }

  bool decode_map(const wire_type& t, value& out, size_t depth) {
    uint64_t n;
    if (!read_uint(n))
      return false;
    if (!check_count(n, 2, t))
      return false;
    out = value::map({});
    if (n == 0)
      return true; // The key and value types need not be defined yet.
    auto key = resolve(t.key, t, "the keys");
    auto elem = key ? resolve(t.elem, t, "the values") : nullptr;
    if (elem == nullptr)
      return false;
    for (uint64_t i = 0; i < n; ++i) {
      value k;
      value v;
      if (!decode(*key, k, depth + 1) || !decode(*elem, v, depth + 1))
        return false;
      out.add_entry(std::move(k), std::move(v));
    }
    return true;
  }

  bool decode_struct(const wire_type& t, value& out, size_t depth) {
    out = value::structure({});
    // Fields arrive as deltas from the previous field number, zero ends.
    uint64_t next = 0; // The lowest field number the next delta may reach.
    for (;;) {
      uint64_t delta;
      if (!read_uint(delta))
        return false;
      if (delta == 0)
        return true;
      if (delta > t.fields.size() - next)
        return fail("field delta " + std::to_string(delta)
                    + " points past the last field of struct " + describe(t)
                    + ", which has " + std::to_string(t.fields.size())
                    + " fields");
      auto& f = t.fields[next + delta - 1];
      next += delta;
      auto ft = find_type(types_, f.id);
      if (ft == nullptr)
        return fail("field '" + *f.name + "' of struct " + describe(t)
                    + " has unknown type id " + std::to_string(f.id));
      value x;
      if (!decode(*ft, x, depth + 1))
        return false;
      out.add_field(f.name, std::move(x));
    }
  }

  // An interface value: the concrete type's registered name, its id, a
  // byte count and the value as a top-level value. Go sends the concrete
  // type's definition inline the first time, splitting the enclosing
  // message in two; baton refuses that rather than guess (its protocol has
  // no interface fields). A nil interface decodes as none.
  bool decode_interface(value& out, size_t depth) {
    std::string name;
    if (!read_text(name, "interface type name"))
      return false;
    if (name.empty()) {
      out = value{};
      return true;
    }
    int64_t id;
    if (!read_int(id))
      return false;
    if (id < 0)
      return fail("interface value of concrete type '" + name
                  + "' carries its type definition inline, which baton does"
                    " not support");
    auto t = find_type(types_, id);
    if (t == nullptr)
      return fail("interface value of concrete type '" + name
                  + "' has unknown type id " + std::to_string(id));
    uint64_t n;
    if (!read_uint(n))
      return false;
    if (n > left())
      return fail("interface value of " + std::to_string(n)
                  + " bytes exceeds the " + std::to_string(left())
                  + " bytes left in the gob message");
    // Decode within the announced bytes, then insist they are used up.
    auto saved_end = end_;
    end_ = pos_ + n;
    auto ok = top(*t, out, depth + 1);
    if (ok && pos_ != end_)
      ok = fail(std::to_string(left())
                + " bytes left over in the interface value of concrete type '"
                + name + "'");
    end_ = saved_end;
    return ok;
  }

  const unsigned char* pos_;
  const unsigned char* end_;
  const type_map& types_;
  size_t values_ = 0;
  std::string err_;
};

caf::error malformed(std::string what) {
  return make_error(ec::malformed_body, std::move(what));
}

// Turns a decoded wireType value into a wire type numbered `id`.
caf::expected<std::unique_ptr<wire_type>> from_wire(int64_t id,
                                                    const value& w) {
  static constexpr std::pair<const char*, wire_kind> variants[] = {
    {"ArrayT", wire_kind::array},
    {"SliceT", wire_kind::slice},
    {"StructT", wire_kind::structure},
    {"MapT", wire_kind::map},
    {"GobEncoderT", wire_kind::gob_encoder},
    {"BinaryMarshalerT", wire_kind::gob_encoder},
    {"TextMarshalerT", wire_kind::gob_encoder},
  };
  auto what = "type definition for id " + std::to_string(id);
  if (w.size() != 1)
    return malformed(what
                     + (w.size() == 0 ? " describes no type"
                                      : " describes more than one type"));
  auto result = std::make_unique<wire_type>();
  result->id = id;
  const value* body = nullptr;
  for (auto& [name, k] : variants) {
    if (w.field_name(0) == name) {
      result->kind = k;
      body = &w.field_value(0);
    }
  }
  // The builtin wireType has exactly these fields, so one of them matched.
  auto int_field = [](const value* s, const char* name) {
    auto f = s ? s->field(name) : nullptr;
    return f ? f->as_int() : int64_t{0};
  };
  if (auto common = body->field("CommonType"))
    if (auto name = common->field("Name"))
      result->name = name->text();
  switch (result->kind) {
    case wire_kind::array: {
      auto len = int_field(body, "Len");
      if (len < 0)
        return malformed(what + " gives array '" + result->name
                         + "' a negative length " + std::to_string(len));
      result->len = static_cast<uint64_t>(len);
      result->elem = int_field(body, "Elem");
      break;
    }
    case wire_kind::slice: result->elem = int_field(body, "Elem"); break;
    case wire_kind::map:
      result->key = int_field(body, "Key");
      result->elem = int_field(body, "Elem");
      break;
    case wire_kind::structure:
      if (auto fields = body->field("Field"))
        for (auto& f : fields->items()) {
          auto name = f.field("Name");
          result->fields.push_back(wire_field{
            std::make_shared<const std::string>(name ? name->text() : ""),
            int_field(&f, "Id")});
        }
      break;
    default: break;
  }
  return result;
}

// Reads a message's byte count at `p` (`avail` bytes). Returns the bytes
// the count takes, 0 if incomplete, or sets `err` for a bad length byte.
size_t read_count(const unsigned char* p, size_t avail, uint64_t& count,
                  caf::error& err) {
  auto width = decode_uint(p, avail, count);
  if (width != bad_uint_length)
    return width;
  err = malformed("gob message byte count starts with " + length_byte(p[0])
                  + ", announcing " + std::to_string(256 - p[0])
                  + " bytes (at most 8)");
  return 0;
}

} // namespace

decoder::decoder(size_t max_message_size)
  : max_message_size_(max_message_size) {
  // nop
}

decoder::~decoder() = default;

decoder::decoder(decoder&&) noexcept = default;

decoder& decoder::operator=(decoder&&) noexcept = default;

void decoder::feed(const char* data, size_t size) {
  if (error_)
    return;
  // Drop consumed bytes before growing, so the buffer holds at most one
  // partial message plus what just arrived.
  if (pos_ > 0 && (pos_ == buf_.size() || pos_ >= buf_.size() / 2)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(data, size);
}

bool decoder::next(value& out) {
  while (!error_) {
    auto p = reinterpret_cast<const unsigned char*>(buf_.data()) + pos_;
    auto avail = buf_.size() - pos_;
    uint64_t count = 0;
    auto width = read_count(p, avail, count, error_);
    if (width == 0)
      return false; // Incomplete count, or a bad one (error_ set).
    // Checked before waiting for the bytes, so a huge count fails at once.
    if (count > max_message_size_) {
      error_ = make_error(ec::frame_too_large,
                          "gob message of " + std::to_string(count)
                            + " bytes exceeds the maximum of "
                            + std::to_string(max_message_size_) + " bytes");
      return false;
    }
    if (count == 0) {
      error_ = malformed("empty gob message (byte count 0)");
      return false;
    }
    if (avail - width < count)
      return false;
    value x;
    bool is_value = false;
    auto err = parse(p + width, static_cast<size_t>(count), x, is_value);
    pos_ += width + static_cast<size_t>(count);
    if (pos_ == buf_.size()) {
      buf_.clear();
      pos_ = 0;
    }
    if (err) {
      error_ = std::move(err);
      return false;
    }
    if (is_value) {
      out = std::move(x);
      return true;
    }
  }
  return false;
}

caf::error decoder::parse(const unsigned char* data, size_t size, value& out,
                          bool& is_value) {
  parser p{data, size, types_};
  int64_t id;
  if (!p.read_int(id))
    return malformed(p.error() + " (reading the type id)");
  if (id >= 0) {
    auto t = find_type(types_, id);
    if (t == nullptr)
      return malformed("value of unknown type id " + std::to_string(id));
    if (!p.top(*t, out, 0))
      return malformed(p.error());
    if (p.left() > 0)
      return malformed(std::to_string(p.left())
                       + " bytes left over after the value of type "
                       + describe(*t));
    is_value = true;
    last_type_id_ = id;
    defs_pending_ = false;
    return {};
  }
  // A definition of type -id. Go refuses any redefinition, even an
  // identical one ("duplicate type received"), and so does baton.
  auto def = 0 - static_cast<uint64_t>(id);
  if (def < static_cast<uint64_t>(first_user_id))
    return malformed("type definition for reserved id " + std::to_string(def)
                     + " (ids below " + std::to_string(first_user_id)
                     + " are predefined)");
  if (def > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return malformed("type definition for id " + std::to_string(def)
                     + ", which is out of range");
  auto def_id = static_cast<int64_t>(def);
  if (types_.count(def_id) > 0)
    return malformed("type id " + std::to_string(def_id)
                     + " is defined a second time on this stream");
  if (types_.size() >= max_types)
    return malformed("more than " + std::to_string(max_types)
                     + " type definitions on this stream");
  if (type_bytes_ + size > max_type_bytes)
    return malformed("type definitions on this stream exceed "
                     + std::to_string(max_type_bytes) + " bytes");
  value w;
  if (!p.top(*find_type(types_, wire_type_id), w, 0))
    return malformed(p.error() + " (in the type definition for id "
                     + std::to_string(def_id) + ")");
  if (p.left() > 0)
    return malformed(std::to_string(p.left())
                     + " bytes left over after the type definition for id "
                     + std::to_string(def_id));
  auto t = from_wire(def_id, w);
  if (!t)
    return std::move(t.error());
  types_.emplace(def_id, std::move(*t));
  type_bytes_ += size;
  defs_pending_ = true;
  is_value = false;
  return {};
}

caf::error decoder::finish() const {
  if (error_)
    return error_;
  auto avail = buffered();
  if (avail > 0) {
    auto p = reinterpret_cast<const unsigned char*>(buf_.data()) + pos_;
    uint64_t count = 0;
    caf::error err;
    auto width = read_count(p, avail, count, err);
    if (width == 0)
      return make_error(ec::truncated_frame,
                        "stream ended inside a gob message's byte count: got "
                          + std::to_string(avail) + " bytes");
    return make_error(ec::truncated_frame,
                      "stream ended inside a gob message: got "
                        + std::to_string(avail - width) + " of "
                        + std::to_string(count) + " bytes");
  }
  if (defs_pending_)
    return make_error(ec::truncated_frame,
                      "stream ended after a type definition, before the "
                      "value it precedes");
  return {};
}

caf::expected<type_ptr> decoder::type_of(int64_t id) {
  // Converts recursively, sharing each id's type (a DAG stays a DAG) and
  // refusing cycles, which `type` cannot express.
  std::unordered_set<int64_t> in_progress;
  std::string err;
  auto convert = [&](auto& self, int64_t tid, size_t depth) -> type_ptr {
    if (auto i = type_cache_.find(tid); i != type_cache_.end())
      return i->second;
    switch (tid) {
      case bool_id: return bool_type();
      case int_id: return int_type();
      case uint_id: return uint_type();
      case float_id: return float_type();
      case bytes_id: return bytes_type();
      case string_id: return string_type();
      case complex_id: return complex_type();
      default: break;
    }
    auto t = find_type(types_, tid);
    if (t == nullptr) {
      err = "type id " + std::to_string(tid) + " is not defined";
      return nullptr;
    }
    if (depth > max_depth) {
      err = "type " + describe(*t) + " nests deeper than "
            + std::to_string(max_depth) + " levels";
      return nullptr;
    }
    if (!in_progress.insert(tid).second) {
      err = "type " + describe(*t) + " is recursive";
      return nullptr;
    }
    type_ptr result;
    switch (t->kind) {
      case wire_kind::interface:
        err = "interface types cannot be encoded";
        return nullptr;
      case wire_kind::gob_encoder:
        err = "GobEncoder type " + describe(*t) + " cannot be encoded";
        return nullptr;
      case wire_kind::slice:
      case wire_kind::array: {
        auto elem = self(self, t->elem, depth + 1);
        if (!elem)
          return nullptr;
        result = t->kind == wire_kind::slice
                   ? slice_of(std::move(elem), t->name)
                   : array_of(std::move(elem), t->len, t->name);
        break;
      }
      case wire_kind::map: {
        auto key = self(self, t->key, depth + 1);
        auto elem = key ? self(self, t->elem, depth + 1) : nullptr;
        if (!elem)
          return nullptr;
        result = map_of(std::move(key), std::move(elem), t->name);
        break;
      }
      case wire_kind::structure: {
        std::vector<field_type> fields;
        std::unordered_set<std::string_view> names;
        for (auto& f : t->fields) {
          if (!names.insert(*f.name).second) {
            err = "struct " + describe(*t) + " has two fields named '" + *f.name
                  + "'";
            return nullptr;
          }
          auto ft = self(self, f.id, depth + 1);
          if (!ft)
            return nullptr;
          fields.push_back(field_type{*f.name, std::move(ft)});
        }
        result = struct_of(t->name, std::move(fields));
        break;
      }
      default:
        err = "type " + describe(*t) + " cannot be encoded";
        return nullptr;
    }
    in_progress.erase(tid);
    type_cache_.emplace(tid, result);
    return result;
  };
  auto result = convert(convert, id, 0);
  if (!result)
    return make_error(ec::bad_field, std::move(err));
  return result;
}

} // namespace baton::gob
