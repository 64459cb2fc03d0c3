#pragma once

#include <caf/error.hpp>
#include <caf/timespan.hpp>

#include <cstdint>
#include <string>

namespace baton {

/// Connects to `host` (a name or a numeric address) on `port` over TCP and
/// closes the connection at once: a readiness check. Blocks for at most
/// `timeout` (name resolution aside). The error says why it failed, such
/// as "connection refused".
caf::error try_tcp_connect(const std::string& host, uint16_t port,
                           caf::timespan timeout);

} // namespace baton
