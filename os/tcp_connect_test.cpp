#include "os/tcp_connect.hpp"

#include "messages/error.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace baton;
using namespace std::chrono_literals;

namespace {

// A listener on a free loopback port, closed (and the port refused) with
// `close`.
struct listener {
  int fd = -1;
  uint16_t port = 0;

  listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd, 4);
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }

  void close() {
    if (fd >= 0)
      ::close(fd);
    fd = -1;
  }

  ~listener() {
    close();
  }
};

} // namespace

TEST(tcp_connect, succeeds_against_a_listener) {
  listener l;
  ASSERT_GT(l.port, 0);
  EXPECT_FALSE(try_tcp_connect("127.0.0.1", l.port, 1s));
  EXPECT_FALSE(try_tcp_connect("localhost", l.port, 1s));
}

TEST(tcp_connect, a_closed_port_is_refused_with_the_address) {
  listener l;
  auto port = l.port;
  l.close();
  auto err = try_tcp_connect("127.0.0.1", port, 1s);
  ASSERT_TRUE(err);
  auto text = render(err);
  EXPECT_NE(text.find("127.0.0.1:" + std::to_string(port)), std::string::npos)
    << text;
  EXPECT_NE(text.find("refused"), std::string::npos) << text;
}

TEST(tcp_connect, an_unknown_host_names_it) {
  auto err = try_tcp_connect("no-such-host.invalid", 80, 1s);
  ASSERT_TRUE(err);
  EXPECT_NE(render(err).find("no-such-host.invalid"), std::string::npos);
}
