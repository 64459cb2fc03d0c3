#include "messages/gob.hpp"

#include "messages/gob_internal.hpp"

#include <cstdio>

namespace baton::gob {

// float_bits and the predefined type ids, shared with the codec files.
using namespace detail;

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

type_ptr make_basic(kind k, const char* name, int64_t id) {
  auto result = std::make_shared<type>();
  result->kind = k;
  result->name = name;
  result->builtin_id = id;
  return result;
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

} // namespace baton::gob
