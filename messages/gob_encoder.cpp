#include "messages/gob.hpp"

#include "messages/error.hpp"
#include "messages/gob_internal.hpp"

#include <unordered_set>

namespace baton::gob {

// float_bits, shared with the value and decoder files.
using namespace detail;

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

// A type's name for messages: Go's name, or its kind if it has none.
std::string display_name(const type& t) {
  if (!t.name.empty())
    return t.name;
  return std::string{"unnamed "} + to_string(t.kind);
}

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

} // namespace baton::gob
