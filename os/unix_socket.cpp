#include "os/unix_socket.hpp"

#include "messages/error.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace baton {

namespace {

caf::error sys_error(const std::string& what, int err) {
  return make_error(ec::socket_error, what + ": " + std::strerror(err));
}

std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

bool fill_address(const std::string& path, sockaddr_un& addr) {
  std::memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() > max_socket_path())
    return false;
  std::memcpy(addr.sun_path, path.data(), path.size());
  return true;
}

caf::error too_long(const std::string& path) {
  return make_error(ec::socket_error,
                    "socket path '" + path
                      + "' is too long: " + std::to_string(path.size())
                      + " bytes, at most " + std::to_string(max_socket_path())
                      + " fit in sun_path; use a shorter job context "
                        "directory or --socket");
}

// A name for the temporary socket in the same directory, no longer than
// "baton.sock", so that it fits wherever the default name fits.
std::string temp_name(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  char suffix[16];
  auto n = static_cast<unsigned>(::getpid()) * 2654435761u + counter++;
  std::snprintf(suffix, sizeof(suffix), ".b%08x", n);
  return dir_of(path) + "/" + suffix;
}

} // namespace

size_t max_socket_path() {
  return sizeof(sockaddr_un::sun_path) - 1;
}

int try_connect_unix(const std::string& path) {
  sockaddr_un addr;
  if (!fill_address(path, addr))
    return -ENAMETOOLONG;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -errno;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    auto err = errno;
    ::close(fd);
    return -err;
  }
  return fd;
}

caf::expected<int> connect_unix(const std::string& path) {
  if (path.size() > max_socket_path())
    return too_long(path);
  auto fd = try_connect_unix(path);
  if (fd < 0)
    return sys_error("cannot connect to '" + path + "'", -fd);
  return fd;
}

caf::expected<int> connect_unix_wait(const std::string& path,
                                     std::chrono::milliseconds timeout,
                                     const std::string& done_marker) {
  using clock = std::chrono::steady_clock;
  if (path.size() > max_socket_path())
    return too_long(path);
  // A new agent removes an old marker before it listens: a marker means
  // the job ended.
  auto job_is_over = [&] {
    struct stat st;
    return !done_marker.empty() && ::stat(done_marker.c_str(), &st) == 0;
  };
  auto over = [&] {
    return make_error(ec::job_over,
                      "the job is over: the agent left '" + done_marker + "'");
  };
  if (job_is_over())
    return over();
  // The usual case first: the agent is already listening.
  if (auto fd = try_connect_unix(path); fd >= 0)
    return fd;
  auto deadline = clock::now() + timeout;
  auto dir = dir_of(path);
  int watch = -1;
  auto stop_watching = [&] {
    // Closing an inotify instance waits for an RCU grace period in the
    // kernel, 10-20 ms at times: not on the way to registering.
    if (watch >= 0)
      std::thread{[fd = watch] { ::close(fd); }}.detach();
  };
  for (;;) {
    // Watch before trying, so that a socket appearing in between wakes us.
    if (watch < 0) {
      watch = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
      if (watch >= 0
          && ::inotify_add_watch(watch, dir.c_str(),
                                 IN_CREATE | IN_MOVED_TO | IN_ATTRIB)
               < 0) {
        ::close(watch);
        watch = -1;
      }
    }
    // The marker first: an agent that is ending has written it and may
    // still accept for a moment.
    if (job_is_over()) {
      stop_watching();
      return over();
    }
    auto fd = try_connect_unix(path);
    if (fd >= 0) {
      stop_watching();
      return fd;
    }
    // Not there yet, or a stale socket nobody accepts on: wait. Anything
    // else will not go away by waiting.
    if (fd != -ENOENT && fd != -ECONNREFUSED) {
      stop_watching();
      return sys_error("cannot connect to the agent at '" + path + "'", -fd);
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - clock::now());
    if (left.count() <= 0) {
      stop_watching();
      return make_error(ec::socket_error, "no agent listening at '" + path
                                            + "' after "
                                            + std::to_string(timeout.count())
                                            + " ms: " + std::strerror(-fd));
    }
    if (watch >= 0) {
      // Woken by any change in the directory; at most 1 s between tries in
      // case an event is missed.
      pollfd pfd{watch, POLLIN, 0};
      ::poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
      char events[4096];
      while (::read(watch, events, sizeof(events)) > 0)
        ; // Drain: any event means try again.
    } else {
      ::poll(nullptr, 0, static_cast<int>(std::min<int64_t>(left.count(), 50)));
    }
  }
}

caf::expected<int> listen_unix(const std::string& path, int backlog) {
  if (path.empty())
    return make_error(ec::socket_error, "socket path is empty");
  auto tmp = temp_name(path);
  if (path.size() > max_socket_path())
    return too_long(path);
  if (tmp.size() > max_socket_path())
    return too_long(tmp);
  auto dir = dir_of(path);
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0)
    return sys_error("cannot create the socket '" + path + "': directory '"
                       + dir + "'",
                     errno);
  if (!S_ISDIR(st.st_mode))
    return make_error(ec::socket_error, "cannot create the socket '" + path
                                          + "': '" + dir
                                          + "' is not a directory");
  // An existing socket is replaced only if nobody accepts on it.
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode))
      return make_error(ec::socket_error,
                        "'" + path
                          + "' exists and is not a socket; refusing to "
                            "replace it");
    auto fd = try_connect_unix(path);
    if (fd >= 0) {
      ::close(fd);
      return make_error(ec::socket_error,
                        "another agent is already listening on '" + path + "'");
    }
    if (fd != -ECONNREFUSED)
      return sys_error("cannot check the existing socket '" + path + "'", -fd);
    // Stale: left behind by an agent that died. The rename replaces it.
  }
  sockaddr_un addr;
  fill_address(tmp, addr);
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return sys_error("cannot create a Unix socket", errno);
  auto fail = [&](const std::string& what) {
    auto err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    return sys_error(what, err);
  };
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    auto err = errno;
    ::close(fd);
    return sys_error("cannot create the socket '" + path + "' in '" + dir + "'",
                     err);
  }
  if (::chmod(tmp.c_str(), 0777) != 0)
    return fail("cannot set the mode of '" + tmp + "'");
  if (::listen(fd, backlog) != 0)
    return fail("cannot listen on '" + tmp + "'");
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return fail("cannot move the socket into place at '" + path + "'");
  return fd;
}

} // namespace baton
