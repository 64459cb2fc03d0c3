#include "messages/gob.hpp"

#include "messages/error.hpp"

#include <cstdio>
#include <cstring>
#include <limits>
#include <unordered_set>

namespace baton::gob {

// -- values -------------------------------------------------------------------

const char* to_string(kind x) {
  switch (x) {
    case kind::none: return "none";
    case kind::boolean: return "boolean";
    case kind::integer: return "integer";
    case kind::unsigned_integer: return "unsigned_integer";
    case kind::floating: return "floating";
    case kind::complex: return "complex";
    case kind::bytes: return "bytes";
    case kind::string: return "string";
    case kind::slice: return "slice";
    case kind::array: return "array";
    case kind::map: return "map";
    case kind::structure: return "structure";
  }
  return "unknown";
}

namespace {

uint64_t float_bits(double x) {
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  return bits;
}

double bits_float(uint64_t bits) {
  double x;
  std::memcpy(&x, &bits, sizeof(x));
  return x;
}

const value& none_value() {
  static const value result;
  return result;
}

const std::string& empty_string() {
  static const std::string result;
  return result;
}

} // namespace

value value::boolean(bool x) {
  value result;
  result.kind_ = gob::kind::boolean;
  result.bits_ = x ? 1 : 0;
  return result;
}

value value::integer(int64_t x) {
  value result;
  result.kind_ = gob::kind::integer;
  result.bits_ = static_cast<uint64_t>(x);
  return result;
}

value value::unsigned_integer(uint64_t x) {
  value result;
  result.kind_ = gob::kind::unsigned_integer;
  result.bits_ = x;
  return result;
}

value value::floating(double x) {
  value result;
  result.kind_ = gob::kind::floating;
  result.real_ = x;
  return result;
}

value value::complex(double real, double imag) {
  value result;
  result.kind_ = gob::kind::complex;
  result.real_ = real;
  result.imag_ = imag;
  return result;
}

value value::bytes(std::string x) {
  value result;
  result.kind_ = gob::kind::bytes;
  result.text_ = std::move(x);
  return result;
}

value value::string(std::string x) {
  value result;
  result.kind_ = gob::kind::string;
  result.text_ = std::move(x);
  return result;
}

value value::slice(std::vector<value> items) {
  value result;
  result.kind_ = gob::kind::slice;
  result.items_ = std::move(items);
  return result;
}

value value::array(std::vector<value> items) {
  value result;
  result.kind_ = gob::kind::array;
  result.items_ = std::move(items);
  return result;
}

value value::map(std::vector<std::pair<value, value>> entries) {
  value result;
  result.kind_ = gob::kind::map;
  result.items_.reserve(entries.size() * 2);
  for (auto& [key, val] : entries) {
    result.items_.push_back(std::move(key));
    result.items_.push_back(std::move(val));
  }
  return result;
}

value value::structure(std::vector<std::pair<std::string, value>> fields) {
  value result;
  result.kind_ = gob::kind::structure;
  for (auto& [name, val] : fields)
    result.add_field(std::move(name), std::move(val));
  return result;
}

bool value::as_bool() const noexcept {
  return kind_ == gob::kind::boolean && bits_ != 0;
}

int64_t value::as_int() const noexcept {
  return kind_ == gob::kind::integer ? static_cast<int64_t>(bits_) : 0;
}

uint64_t value::as_uint() const noexcept {
  return kind_ == gob::kind::unsigned_integer ? bits_ : 0;
}

double value::as_float() const noexcept {
  return kind_ == gob::kind::floating || kind_ == gob::kind::complex ? real_
                                                                     : 0.0;
}

double value::imag() const noexcept {
  return kind_ == gob::kind::complex ? imag_ : 0.0;
}

size_t value::size() const noexcept {
  switch (kind_) {
    case gob::kind::slice:
    case gob::kind::array:
    case gob::kind::structure: return items_.size();
    case gob::kind::map: return items_.size() / 2;
    default: return 0;
  }
}

const value& value::map_key(size_t i) const {
  if (kind_ != gob::kind::map || 2 * i >= items_.size())
    return none_value();
  return items_[2 * i];
}

const value& value::map_value(size_t i) const {
  if (kind_ != gob::kind::map || 2 * i + 1 >= items_.size())
    return none_value();
  return items_[2 * i + 1];
}

const std::string& value::field_name(size_t i) const {
  if (kind_ != gob::kind::structure || i >= names_.size())
    return empty_string();
  return *names_[i];
}

const value& value::field_value(size_t i) const {
  if (kind_ != gob::kind::structure || i >= items_.size())
    return none_value();
  return items_[i];
}

const value* value::field(std::string_view name) const {
  if (kind_ != gob::kind::structure)
    return nullptr;
  for (size_t i = 0; i < names_.size(); ++i)
    if (*names_[i] == name)
      return &items_[i];
  return nullptr;
}

void value::push_back(value x) {
  if (kind_ == gob::kind::slice || kind_ == gob::kind::array)
    items_.push_back(std::move(x));
}

void value::add_entry(value key, value val) {
  if (kind_ != gob::kind::map)
    return;
  items_.push_back(std::move(key));
  items_.push_back(std::move(val));
}

void value::add_field(std::string name, value x) {
  add_field(std::make_shared<const std::string>(std::move(name)), std::move(x));
}

void value::add_field(std::shared_ptr<const std::string> name, value x) {
  if (kind_ != gob::kind::structure)
    return;
  names_.push_back(std::move(name));
  items_.push_back(std::move(x));
}

bool operator==(const value& x, const value& y) {
  if (x.kind_ != y.kind_)
    return false;
  switch (x.kind_) {
    case kind::none: return true;
    case kind::boolean:
    case kind::integer:
    case kind::unsigned_integer: return x.bits_ == y.bits_;
    case kind::floating: return float_bits(x.real_) == float_bits(y.real_);
    case kind::complex:
      return float_bits(x.real_) == float_bits(y.real_)
             && float_bits(x.imag_) == float_bits(y.imag_);
    case kind::bytes:
    case kind::string: return x.text_ == y.text_;
    case kind::slice:
    case kind::array:
    case kind::map: return x.items_ == y.items_;
    case kind::structure:
      if (x.names_.size() != y.names_.size())
        return false;
      for (size_t i = 0; i < x.names_.size(); ++i)
        if (*x.names_[i] != *y.names_[i])
          return false;
      return x.items_ == y.items_;
  }
  return false;
}

namespace {

void quote(std::string& out, const std::string& text) {
  out += '"';
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

void render(std::string& out, const value& x) {
  switch (x.kind()) {
    case kind::none: out += "nil"; break;
    case kind::boolean: out += x.as_bool() ? "true" : "false"; break;
    case kind::integer: out += std::to_string(x.as_int()); break;
    case kind::unsigned_integer: out += std::to_string(x.as_uint()); break;
    case kind::floating: {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%g", x.as_float());
      out += buf;
      break;
    }
    case kind::complex: {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "(%g%+gi)", x.as_float(), x.imag());
      out += buf;
      break;
    }
    case kind::bytes:
      out += 'b';
      quote(out, x.text());
      break;
    case kind::string: quote(out, x.text()); break;
    case kind::slice:
    case kind::array:
      out += '[';
      for (size_t i = 0; i < x.items().size(); ++i) {
        if (i > 0)
          out += ' ';
        render(out, x.items()[i]);
      }
      out += ']';
      break;
    case kind::map:
      out += "map[";
      for (size_t i = 0; i < x.size(); ++i) {
        if (i > 0)
          out += ' ';
        render(out, x.map_key(i));
        out += ':';
        render(out, x.map_value(i));
      }
      out += ']';
      break;
    case kind::structure:
      out += '{';
      for (size_t i = 0; i < x.size(); ++i) {
        if (i > 0)
          out += ", ";
        out += x.field_name(i);
        out += ": ";
        render(out, x.field_value(i));
      }
      out += '}';
      break;
  }
}

} // namespace

std::string to_string(const value& x) {
  std::string result;
  render(result, x);
  return result;
}

// -- types --------------------------------------------------------------------

namespace {

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

type_ptr make_basic(kind k, const char* name, int64_t id) {
  auto result = std::make_shared<type>();
  result->kind = k;
  result->name = name;
  result->builtin_id = id;
  return result;
}

// A type's name for messages: Go's name, or its kind if it has none.
std::string display_name(const type& t) {
  if (!t.name.empty())
    return t.name;
  return std::string{"unnamed "} + to_string(t.kind);
}

} // namespace

type_ptr bool_type() {
  static const auto result = make_basic(kind::boolean, "bool", bool_id);
  return result;
}

type_ptr int_type() {
  static const auto result = make_basic(kind::integer, "int", int_id);
  return result;
}

type_ptr uint_type() {
  static const auto result = make_basic(kind::unsigned_integer, "uint",
                                        uint_id);
  return result;
}

type_ptr float_type() {
  static const auto result = make_basic(kind::floating, "float", float_id);
  return result;
}

type_ptr complex_type() {
  static const auto result = make_basic(kind::complex, "complex", complex_id);
  return result;
}

type_ptr bytes_type() {
  static const auto result = make_basic(kind::bytes, "[]byte", bytes_id);
  return result;
}

type_ptr string_type() {
  static const auto result = make_basic(kind::string, "string", string_id);
  return result;
}

type_ptr slice_of(type_ptr elem, std::string name) {
  auto result = std::make_shared<type>();
  result->kind = kind::slice;
  result->name = std::move(name);
  result->elem = std::move(elem);
  return result;
}

type_ptr array_of(type_ptr elem, uint64_t len, std::string name) {
  auto result = std::make_shared<type>();
  result->kind = kind::array;
  result->name = std::move(name);
  result->elem = std::move(elem);
  result->len = len;
  return result;
}

type_ptr map_of(type_ptr key, type_ptr elem, std::string name) {
  auto result = std::make_shared<type>();
  result->kind = kind::map;
  result->name = std::move(name);
  result->key = std::move(key);
  result->elem = std::move(elem);
  return result;
}

type_ptr struct_of(std::string name, std::vector<field_type> fields) {
  auto result = std::make_shared<type>();
  result->kind = kind::structure;
  result->name = std::move(name);
  result->fields = std::move(fields);
  return result;
}

// -- encoding -----------------------------------------------------------------

void append_uint(std::string& out, uint64_t x) {
  if (x < 0x80) {
    out += static_cast<char>(x);
    return;
  }
  // The negated byte count, then the bytes big-endian without leading zeros.
  char buf[9];
  size_t n = 0;
  for (auto y = x; y != 0; y >>= 8)
    ++n;
  buf[0] = static_cast<char>(256 - n);
  for (size_t i = 0; i < n; ++i)
    buf[n - i] = static_cast<char>((x >> (8 * i)) & 0xFF);
  out.append(buf, n + 1);
}

void append_int(std::string& out, int64_t x) {
  // Zig-zag with the sign in the low bit: n << 1, or (^n << 1) | 1.
  auto u = static_cast<uint64_t>(x);
  append_uint(out, x < 0 ? (~u << 1) | 1 : u << 1);
}

namespace {

void append_float(std::string& out, double x) {
  // Byte-reversed so that common floats (few mantissa bits) stay short.
  append_uint(out, __builtin_bswap64(float_bits(x)));
}

void append_text(std::string& out, const std::string& x) {
  append_uint(out, x.size());
  out += x;
}

// The largest zero array the encoder writes out for an absent value; the
// decoder never yields absent items, so only a caller's mistake hits this.
constexpr uint64_t max_zero_array = 1 << 20;

// Encodes values of a type into a message payload. Errors name the path.
class value_writer {
public:
  explicit value_writer(std::string& out) : out_(out) {
    // nop
  }

  const std::string& error() const {
    return err_;
  }

  // A top-level value: a struct as its fields, anything else as a
  // singleton (delta 0, then the value, zero or not).
  bool top(const type& t, const value& v) {
    if (t.kind == kind::structure)
      return fields(t, v);
    append_uint(out_, 0);
    return encode(t, v);
  }

  // The value of `t` in `v`, zero included (slice items, map entries and
  // singletons are always sent).
  bool encode(const type& t, const value& v) {
    if (v.kind() == kind::none)
      return zero(t);
    if (!fits(t, v))
      return false;
    switch (t.kind) {
      case kind::none: return fail("gob type of kind none");
      case kind::boolean: append_uint(out_, v.as_bool() ? 1 : 0); return true;
      case kind::integer: append_int(out_, v.as_int()); return true;
      case kind::unsigned_integer: append_uint(out_, v.as_uint()); return true;
      case kind::floating: append_float(out_, v.as_float()); return true;
      case kind::complex:
        append_float(out_, v.as_float());
        append_float(out_, v.imag());
        return true;
      case kind::bytes:
      case kind::string: append_text(out_, v.text()); return true;
      case kind::slice:
      case kind::array:
        if (t.kind == kind::array && v.size() != t.len)
          return fail("array '" + display_name(t) + "' needs "
                      + std::to_string(t.len) + " items, got "
                      + std::to_string(v.size()));
        append_uint(out_, v.size());
        for (size_t i = 0; i < v.items().size(); ++i)
          if (!encode(*t.elem, v.items()[i]))
            return wrap("item " + std::to_string(i));
        return true;
      case kind::map:
        append_uint(out_, v.size());
        for (size_t i = 0; i < v.size(); ++i) {
          if (!encode(*t.key, v.map_key(i)))
            return wrap("key " + std::to_string(i));
          if (!encode(*t.elem, v.map_value(i)))
            return wrap("value " + std::to_string(i));
        }
        return true;
      case kind::structure: return fields(t, v);
    }
    return fail("gob type of unknown kind");
  }

private:
  bool fail(std::string what) {
    err_ = std::move(what);
    return false;
  }

  // Prefixes the error with where it happened.
  bool wrap(const std::string& where) {
    err_ = where + ": " + err_;
    return false;
  }

  // True if `v` (not none) has the kind `t` encodes.
  bool fits(const type& t, const value& v) {
    if (v.kind() == t.kind)
      return true;
    return fail(std::string{"cannot encode a "} + to_string(v.kind())
                + " value as gob type '" + display_name(t) + "'");
  }

  // Zero values of a struct field are omitted (reference: encode.go).
  // Present structs, arrays and maps are always sent.
  static bool omitted(const type& t, const value& v) {
    switch (t.kind) {
      case kind::boolean: return !v.as_bool();
      case kind::integer: return v.as_int() == 0;
      case kind::unsigned_integer: return v.as_uint() == 0;
      case kind::floating: return v.as_float() == 0.0;
      case kind::complex: return v.as_float() == 0.0 && v.imag() == 0.0;
      case kind::bytes:
      case kind::string: return v.text().empty();
      case kind::slice: return v.items().empty();
      default: return false;
    }
  }

  bool fields(const type& t, const value& v) {
    if (v.kind() != kind::none && !fits(t, v))
      return false;
    // Value fields follow the type's order; walk both together.
    size_t j = 0;
    int64_t last = -1;
    for (size_t i = 0; i < v.size(); ++i) {
      auto& name = v.field_name(i);
      while (j < t.fields.size() && t.fields[j].name != name)
        ++j;
      if (j == t.fields.size())
        return fail("struct '" + display_name(t) + "' has no field '" + name
                    + "' (or it comes out of the type's order)");
      auto& ft = *t.fields[j].type;
      auto& fv = v.field_value(i);
      if (fv.kind() != kind::none) {
        if (!fits(ft, fv))
          return wrap("field '" + name + "' of '" + display_name(t) + "'");
        if (!omitted(ft, fv)) {
          append_uint(out_,
                      static_cast<uint64_t>(static_cast<int64_t>(j) - last));
          last = static_cast<int64_t>(j);
          if (!encode(ft, fv))
            return wrap("field '" + name + "' of '" + display_name(t) + "'");
        }
      }
      ++j;
    }
    append_uint(out_, 0);
    return true;
  }

  bool zero(const type& t) {
    switch (t.kind) {
      case kind::none: return fail("gob type of kind none");
      case kind::boolean:
      case kind::integer:
      case kind::unsigned_integer:
      case kind::floating:
      case kind::bytes:
      case kind::string:
      case kind::slice:
      case kind::map: append_uint(out_, 0); return true;
      case kind::complex:
        append_uint(out_, 0);
        append_uint(out_, 0);
        return true;
      case kind::array:
        if (t.len > max_zero_array)
          return fail("array '" + display_name(t) + "' of "
                      + std::to_string(t.len)
                      + " items is too long to send as zero");
        append_uint(out_, t.len);
        for (uint64_t i = 0; i < t.len; ++i)
          if (!zero(*t.elem))
            return false;
        return true;
      case kind::structure: append_uint(out_, 0); return true;
    }
    return fail("gob type of unknown kind");
  }

  std::string& out_;
  std::string err_;
};

// Checks that a type is complete, so encoding can dereference freely.
std::string check_type(const type& t) {
  auto name = display_name(t);
  switch (t.kind) {
    case kind::none: return "gob type '" + name + "' has kind none";
    case kind::slice:
    case kind::array:
      if (!t.elem)
        return "gob type '" + name + "' has no item type";
      break;
    case kind::map:
      if (!t.key || !t.elem)
        return "gob type '" + name + "' has no key or value type";
      break;
    case kind::structure:
      for (auto& f : t.fields)
        if (!f.type)
          return "field '" + f.name + "' of gob type '" + name
                 + "' has no type";
      break;
    default:
      if (t.builtin_id == 0)
        return "basic gob type '" + name + "' has no predefined id";
  }
  return {};
}

// The composite types `t` uses, itself first, in the pre-order in which Go
// numbers and sends them.
std::string collect(const type_ptr& t, std::unordered_set<const type*>& seen,
                    std::vector<type_ptr>& order) {
  if (auto err = check_type(*t); !err.empty())
    return err;
  if (t->builtin_id != 0 || !seen.insert(t.get()).second)
    return {};
  order.push_back(t);
  auto visit = [&](const type_ptr& child) {
    return collect(child, seen, order);
  };
  std::string err;
  switch (t->kind) {
    case kind::slice:
    case kind::array: err = visit(t->elem); break;
    case kind::map:
      err = visit(t->key);
      if (err.empty())
        err = visit(t->elem);
      break;
    case kind::structure:
      for (auto& f : t->fields)
        if (err.empty())
          err = visit(f.type);
      break;
    default: break;
  }
  return err;
}

// Appends a {Name string; Id int}, the fields of both CommonType and
// fieldType, and the end of the struct.
void append_name_id(std::string& out, const std::string& name, int64_t id) {
  uint64_t delta = 1;
  if (!name.empty()) {
    append_uint(out, 1);
    append_text(out, name);
  } else {
    delta = 2; // Name is zero and omitted.
  }
  append_uint(out, delta);
  append_int(out, id);
  append_uint(out, 0);
}

// Appends a CommonType{Name, Id}.
void append_common(std::string& out, const type& t, int64_t id) {
  append_uint(out, 1); // wire field CommonType
  append_name_id(out, t.name, id);
}

} // namespace

int64_t encoder::allocate_id() {
  while (ids_.count(next_id_) > 0)
    ++next_id_;
  return next_id_++;
}

bool encoder::assign_id(const type_ptr& t, int64_t id) {
  if (!t || t->builtin_id != 0 || id < first_user_id || ids_.count(id) > 0)
    return false;
  auto& e = types_[t.get()];
  if (e.id != 0)
    return false;
  e.keep = t;
  e.id = id;
  ids_.emplace(id, t.get());
  return true;
}

int64_t encoder::id_of(const type_ptr& t) const {
  if (!t)
    return 0;
  if (t->builtin_id != 0)
    return t->builtin_id;
  auto i = types_.find(t.get());
  return i == types_.end() ? 0 : i->second.id;
}

bool encoder::has_sent(const type_ptr& t) const {
  if (!t)
    return false;
  if (t->builtin_id != 0)
    return true;
  auto i = types_.find(t.get());
  return i != types_.end() && i->second.sent;
}

caf::error encoder::encode(std::string& out, const type_ptr& t,
                           const value& v) {
  if (!t)
    return make_error(ec::bad_field, "cannot encode with a null gob type");
  std::unordered_set<const type*> seen;
  std::vector<type_ptr> order;
  if (auto err = collect(t, seen, order); !err.empty())
    return make_error(ec::bad_field, std::move(err));
  // The value first: if it does not fit, nothing changes.
  std::string payload;
  value_writer writer{payload};
  if (!writer.top(*t, v))
    return make_error(ec::bad_field, "cannot encode gob value of type '"
                                       + display_name(*t)
                                       + "': " + writer.error());
  // Number every type before defining any: a struct's definition names its
  // field types' ids before their definitions follow.
  for (auto& x : order) {
    auto& e = types_[x.get()];
    if (e.id == 0) {
      e.keep = x;
      e.id = allocate_id();
      ids_.emplace(e.id, x.get());
    }
  }
  // Each definition is a message: its byte count, then its body.
  std::string body;
  for (auto& x : order) {
    auto& e = types_[x.get()];
    if (e.sent)
      continue;
    e.sent = true;
    body.clear();
    append_int(body, -e.id);
    switch (x->kind) {
      case kind::array:
        append_uint(body, 1); // wireType.ArrayT
        append_common(body, *x, e.id);
        append_uint(body, 1);
        append_int(body, id_of(x->elem));
        if (x->len != 0) {
          append_uint(body, 1);
          append_int(body, static_cast<int64_t>(x->len));
        }
        append_uint(body, 0);
        break;
      case kind::slice:
        append_uint(body, 2); // wireType.SliceT
        append_common(body, *x, e.id);
        append_uint(body, 1);
        append_int(body, id_of(x->elem));
        append_uint(body, 0);
        break;
      case kind::structure:
        append_uint(body, 3); // wireType.StructT
        append_common(body, *x, e.id);
        if (!x->fields.empty()) {
          append_uint(body, 1);
          append_uint(body, x->fields.size());
          for (auto& f : x->fields)
            append_name_id(body, f.name, id_of(f.type));
        }
        append_uint(body, 0);
        break;
      case kind::map:
        append_uint(body, 4); // wireType.MapT
        append_common(body, *x, e.id);
        append_uint(body, 1);
        append_int(body, id_of(x->key));
        append_uint(body, 1);
        append_int(body, id_of(x->elem));
        append_uint(body, 0);
        break;
      default: break; // collect() yields composite types only.
    }
    append_uint(body, 0); // End of the wireType.
    append_uint(out, body.size());
    out += body;
  }
  // The value's message: its byte count, the type id, the payload. Written
  // in place, as the payload may be a large log chunk not worth copying.
  std::string type_id;
  append_int(type_id, id_of(t));
  append_uint(out, type_id.size() + payload.size());
  out += type_id;
  out += payload;
  return {};
}

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
