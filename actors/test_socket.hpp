#pragma once

// Blocking peers on real sockets for the brokers' tests, and the actor
// system the brokers run in. The test thread plays a container, a stock
// client, the agent or a stock runner; every read has a deadline.

#include "messages/atoms.hpp"
#include "messages/error.hpp"
#include "messages/rpc.hpp"
#include "messages/wire.hpp"

#include <caf/actor_system_config.hpp>
#include <caf/io/middleman.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <poll.h>
#include <unistd.h>

namespace baton::testing {

/// An actor system for brokers on real sockets: the middleman, two
/// scheduler threads, baton's message types, CAF's own log off.
struct broker_config : caf::actor_system_config {
  broker_config() {
    load<caf::io::middleman>();
    set("scheduler.max-threads", 2);
    set("logger.verbosity", caf::atom("quiet"));
    baton::add_message_types(*this);
  }
};

/// How long a test waits for any one thing from the other end.
constexpr auto read_deadline = std::chrono::seconds{10};

/// One end of a stream socket, owned.
class test_socket {
public:
  explicit test_socket(int fd) : fd_(fd) {
    // Nothing else.
  }

  test_socket(const test_socket&) = delete;
  test_socket& operator=(const test_socket&) = delete;

  ~test_socket() {
    close();
  }

  void close() {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

  void send_raw(std::string_view bytes) {
    ASSERT_EQ(::write(fd_, bytes.data(), bytes.size()),
              static_cast<ssize_t>(bytes.size()));
  }

  /// Reads, passing what arrives to `feed`, until `done()` holds; false at
  /// the end of the stream or after the deadline.
  template <class Done, class Feed>
  bool read_until(Done done, Feed feed) {
    auto deadline = std::chrono::steady_clock::now() + read_deadline;
    while (!done()) {
      if (eof_)
        return false;
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      pollfd pfd{fd_, POLLIN, 0};
      if (left.count() <= 0
          || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0)
        return false;
      char buf[4096];
      auto n = ::read(fd_, buf, sizeof(buf));
      if (n <= 0)
        eof_ = true;
      else
        feed(buf, static_cast<size_t>(n));
    }
    return true;
  }

  /// True once the other end closed (seen by a read).
  bool eof() const noexcept {
    return eof_;
  }

private:
  int fd_ = -1;
  bool eof_ = false;
};

/// Speaks baton's frames: a container to the agent, or the agent to a
/// bootstrap.
class frame_socket : public test_socket {
public:
  using test_socket::test_socket;

  void send(const wire::message& msg) {
    std::vector<char> buf;
    wire::append(buf, wire::encode(msg));
    send_raw(std::string_view{buf.data(), buf.size()});
  }

  /// The next message, or nothing at the end of the stream, on a bad frame
  /// or after the deadline.
  std::optional<wire::message> receive() {
    wire::frame frm;
    auto got = read_until(
      [&] { return decoder_.error() || decoder_.next(frm); },
      [&](const char* data, size_t size) { decoder_.feed(data, size); });
    if (!got || decoder_.error()) {
      if (!eof() && !decoder_.error())
        ADD_FAILURE() << "no message within the deadline";
      return std::nullopt;
    }
    auto msg = wire::decode(frm);
    EXPECT_TRUE(msg) << render(msg.error());
    return msg ? std::optional<wire::message>{std::move(*msg)} : std::nullopt;
  }

  /// The next message, which must be a T.
  template <class T>
  T expect() {
    auto msg = receive();
    if (!msg) {
      ADD_FAILURE() << "expected " << wire::to_string(T::type)
                    << ", got nothing";
      return T{};
    }
    if (!std::holds_alternative<T>(*msg)) {
      ADD_FAILURE() << "expected " << wire::to_string(T::type) << ", got "
                    << wire::to_string(wire::type_of(*msg));
      return T{};
    }
    return std::get<T>(*msg);
  }

  /// Reads until the end of the stream; true if it came in time.
  bool expect_eof() {
    while (receive())
      ; // Drop what is still in flight.
    return eof();
  }

private:
  wire::frame_decoder decoder_;
};

/// A stock runner's end of the reference's dialect: takes the CONNECT,
/// then decodes calls and answers them.
class rpc_server_socket : public test_socket {
public:
  using test_socket::test_socket;

  /// Reads the client's CONNECT request, through its blank line.
  std::string read_connect() {
    std::string request;
    read_until([&] { return request.find("\n\n") != std::string::npos; },
               [&](const char* data, size_t size) {
                 request.append(data, size);
               });
    auto end = request.find("\n\n");
    if (end != std::string::npos)
      codec_.feed(request.data() + end + 2, request.size() - end - 2);
    return request.substr(0, end == std::string::npos ? end : end + 2);
  }

  /// The next call, or nothing at the end of the stream or the deadline.
  std::optional<rpc::call> next_call() {
    rpc::call c;
    if (!read_until([&] { return codec_.error() || codec_.next(c); },
                    [&](const char* data, size_t size) {
                      codec_.feed(data, size);
                    })
        || codec_.error())
      return std::nullopt;
    return c;
  }

  /// Answers call `c` with `body` of `type`, or with `error`.
  void reply(const rpc::call& c, const gob::type_ptr& type,
             const gob::value& body, std::string error = {}) {
    std::string out;
    rpc::response_header header;
    header.service_method = c.header.service_method;
    header.seq = c.header.seq;
    header.error = std::move(error);
    EXPECT_FALSE(codec_.append_reply(out, header, type, body));
    send_raw(out);
  }

private:
  rpc::server_codec codec_;
};

} // namespace baton::testing
