#include "os/tcp_connect.hpp"

#include "messages/error.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace baton {

namespace {

// Connects one socket to `addr` within `timeout_ms`; 0 or an errno.
int connect_one(const addrinfo& addr, int timeout_ms) {
  int fd = ::socket(addr.ai_family,
                    addr.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    addr.ai_protocol);
  if (fd < 0)
    return errno;
  int err = 0;
  if (::connect(fd, addr.ai_addr, addr.ai_addrlen) != 0) {
    err = errno;
    if (err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int n;
      do
        n = ::poll(&p, 1, timeout_ms);
      while (n < 0 && errno == EINTR);
      if (n == 0) {
        err = ETIMEDOUT;
      } else {
        socklen_t len = sizeof(err);
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
          err = errno;
      }
    }
  }
  ::close(fd);
  return err;
}

} // namespace

caf::error try_tcp_connect(const std::string& host, uint16_t port,
                           caf::timespan timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  auto service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
      rc != 0)
    return make_error(ec::system_error,
                      "cannot resolve '" + host + "': " + ::gai_strerror(rc));
  auto ms = static_cast<int>(
    std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count());
  int err = ENOENT;
  for (auto* a = found; a != nullptr; a = a->ai_next)
    if ((err = connect_one(*a, ms)) == 0)
      break;
  ::freeaddrinfo(found);
  if (err == 0)
    return {};
  return make_error(ec::system_error, "cannot connect to " + host + ":"
                                        + service + ": " + std::strerror(err));
}

} // namespace baton
