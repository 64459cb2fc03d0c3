#pragma once

#include <caf/expected.hpp>

#include <chrono>
#include <string>

namespace baton {

/// Creates a Unix stream socket listening at `path` that every uid in the
/// pod may connect to (mode 0777), without touching the process umask: it
/// binds under a temporary name in the same directory, sets the mode,
/// listens, and renames the socket into place, so it never appears at
/// `path` with another mode or before it accepts. (Reference: sets umask 0
/// around listen, which races with other threads.)
///
/// A stale socket at `path` (nothing accepts on it) is replaced; a live one
/// is an error, and so is a path too long for `sun_path`, a missing or
/// unwritable directory, or a file at `path` that is not a socket.
caf::expected<int> listen_unix(const std::string& path, int backlog = 128);

/// Connects to the Unix stream socket at `path`. On failure returns -errno.
int try_connect_unix(const std::string& path);

/// Connects to the Unix stream socket at `path`, with an error naming the
/// path and the cause on failure.
caf::expected<int> connect_unix(const std::string& path);

/// Connects to `path`, waiting up to `timeout` for an agent to listen
/// there. Watches the socket's directory with inotify, so it connects
/// within milliseconds of the socket appearing (reference: retries every
/// 1 s); polls every 50 ms while the directory itself does not exist.
/// Gives up with `job_over` as soon as `done_marker` (if not empty) exists:
/// the job ended without this container, and the socket will not come.
caf::expected<int> connect_unix_wait(const std::string& path,
                                     std::chrono::milliseconds timeout,
                                     const std::string& done_marker = {});

/// The longest path `sun_path` holds.
size_t max_socket_path();

} // namespace baton
