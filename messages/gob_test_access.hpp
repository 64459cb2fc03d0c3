#pragma once

// The test-only part of gob's API: members that only tests call, kept
// private so that messages/gob.hpp shows just what users of the codec
// need. Their classes befriend `test_access`, which forwards to them.
// Include from tests and fuzz targets only.

#include "messages/gob.hpp"

#include <cstdint>

namespace baton::gob {

struct test_access {
  /// Calls `enc.assign_id(t, id)`: gives `t` the id `id` instead of the
  /// next free one, to reproduce a transcript's numbering. False if `t` is
  /// basic or already has an id, or `id` is reserved or taken.
  static bool assign_id(encoder& enc, const type_ptr& t, int64_t id) {
    return enc.assign_id(t, id);
  }

  /// Calls `dec.type_of(id)`: the encodable description of type `id` as
  /// the stream defined it, to re-encode what was decoded.
  static caf::expected<type_ptr> type_of(decoder& dec, int64_t id) {
    return dec.type_of(id);
  }
};

} // namespace baton::gob
