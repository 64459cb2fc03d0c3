#pragma once

// A named member of a message. A message type lists its fields once, in an
// `inspect` beside its struct, and each encoding visits that list with an
// inspector of its own: the JSON bodies of baton's protocol (wire.cpp) and
// the gob values of the reference's RPC (rpc.cpp). CAF 0.17's inspectors
// take no names, hence these. An encoding ignores the flags it has no use
// for: gob has no required fields, JSON no byte strings.

namespace baton {

template <class T>
struct field_ref {
  const char* name;
  T& value;
  /// Decoding fails if the field is absent.
  bool required = true;
  /// Encoding leaves the field out.
  bool omitted = false;
  /// Decoding refuses an item that is not KEY=VALUE with a valid name.
  bool holds_variables = false;
  /// Gob: the string travels as a []byte.
  bool holds_bytes = false;

  /// Decoding accepts the field's absence and keeps the member as it was.
  field_ref optional() const {
    return with(&field_ref::required, false);
  }

  /// Encoding leaves the field out if `omit`, so decoding accepts its
  /// absence.
  field_ref omit_if(bool omit) const {
    return optional().with(&field_ref::omitted, omit);
  }

  /// The items are job variables.
  field_ref variables() const {
    return with(&field_ref::holds_variables, true);
  }

  /// Gob: a []byte, not a string.
  field_ref bytes() const {
    return with(&field_ref::holds_bytes, true);
  }

private:
  field_ref with(bool field_ref::*flag, bool on) const {
    auto result = *this;
    result.*flag = on;
    return result;
  }
};

/// Names `value` as the field `name`: required and always written.
template <class T>
field_ref<T> field(const char* name, T& value) {
  return {name, value};
}

} // namespace baton
