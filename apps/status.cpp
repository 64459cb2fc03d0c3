#include "apps/status.hpp"

#include "messages/error.hpp"
#include "messages/wire.hpp"
#include "os/unix_socket.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <poll.h>
#include <unistd.h>

namespace baton {

namespace {

caf::error send_all(int fd, const std::vector<char>& buf) {
  size_t done = 0;
  while (done < buf.size()) {
    auto n = ::write(fd, buf.data() + done, buf.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return make_error(ec::socket_error, std::string{"cannot write to the "
                                                      "agent: "}
                                            + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return {};
}

} // namespace

caf::expected<nlohmann::json> query_status(const std::string& socket,
                                           std::chrono::milliseconds timeout) {
  auto fd = connect_unix(socket);
  if (!fd)
    return std::move(fd.error());
  std::vector<char> out;
  wire::append(out, wire::encode(wire::hello{defaults::protocol_version,
                                             "baton-status " BATON_VERSION}));
  wire::append(out, wire::encode(wire::status_request{}));
  auto result = [&]() -> caf::expected<nlohmann::json> {
    if (auto err = send_all(*fd, out))
      return err;
    wire::frame_decoder decoder;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      wire::frame frm;
      while (decoder.next(frm)) {
        auto msg = wire::decode(frm);
        if (!msg)
          return std::move(msg.error());
        if (auto report = std::get_if<wire::status_report>(&*msg))
          return nlohmann::json::parse(report->json);
        if (auto err = std::get_if<wire::error_report>(&*msg))
          return make_error(ec::socket_error,
                            "the agent refused: " + err->message);
      }
      if (decoder.error())
        return decoder.error();
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
      pollfd pfd{*fd, POLLIN, 0};
      if (left.count() <= 0
          || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0)
        return make_error(ec::socket_error,
                          "no status from the agent at '" + socket + "' within "
                            + std::to_string(timeout.count()) + " ms");
      char buf[65536];
      auto n = ::read(*fd, buf, sizeof(buf));
      if (n <= 0)
        return make_error(ec::socket_error,
                          "the agent closed the connection without a "
                          "status");
      decoder.feed(buf, static_cast<size_t>(n));
    }
  }();
  ::close(*fd);
  return result;
}

std::string format_status(const nlohmann::json& status) {
  std::string out;
  auto done = status.value("done", false);
  out += "job: ";
  if (!done)
    out += status.value("started", false) ? "running"
                                          : "waiting for "
                                            "containers";
  else
    out += status.value("result", std::string{"done"}) + ", status "
           + std::to_string(status.value("status", 0)) + " ("
           + status.value("reason", std::string{}) + ")";
  if (status.value("interrupted", false))
    out += ", interrupted";
  out += "\n";
  auto containers = status.value("containers", nlohmann::json::array());
  // Names are up to 63 characters: the column is as wide as the longest.
  size_t name_width = 4;
  for (auto& c : containers)
    name_width = std::max(name_width, c.value("name", std::string{}).size());
  auto name_column = [&](const std::string& name) {
    return name + std::string(name_width + 1 - name.size(), ' ');
  };
  char line[128];
  std::snprintf(line, sizeof(line), "%-8s %-18s %-10s %-6s %-10s %s\n", "ROLE",
                "STATE", "PROTOCOL", "EXIT", "LOG BYTES", "NOTES");
  out += "ID   " + name_column("NAME") + line;
  for (auto& c : containers) {
    auto exit = c["exit_status"].is_null()
                  ? std::string{"-"}
                  : std::to_string(c["exit_status"].get<int>());
    auto protocol = c["protocol"].is_string() ? c["protocol"].get<std::string>()
                                              : std::string{"-"};
    // What the job steps add: never the outputs' values.
    std::string notes;
    auto note = [&](const std::string& text) {
      notes += (notes.empty() ? "" : ", ") + text;
    };
    if (c["group"].is_string())
      note("group " + c["group"].get<std::string>());
    if (c.value("always", false))
      note("always");
    if (c["ready_after_ms"].is_number())
      note("ready after " + std::to_string(c["ready_after_ms"].get<int64_t>())
           + " ms");
    if (c.value("timed_out", false))
      note("timed out");
    if (c.value("soft_failed", false))
      note("soft failure");
    auto outputs = c.value("outputs", nlohmann::json::array());
    if (!outputs.empty()) {
      std::string names;
      for (auto& name : outputs)
        names += (names.empty() ? "" : " ") + name.get<std::string>();
      note("outputs: " + names);
    }
    std::snprintf(line, sizeof(line), "%-4d ", c.value("id", 0));
    out += line + name_column(c.value("name", std::string{"-"}));
    std::snprintf(
      line, sizeof(line), "%-8s %-18s %-10s %-6s %-10llu ",
      c.value("role", "step").c_str(), c.value("state", "").c_str(),
      protocol.c_str(), exit.c_str(),
      static_cast<unsigned long long>(c.value("log_bytes", uint64_t{0})));
    out += line + (notes.empty() ? "-" : notes) + "\n";
  }
  return out;
}

int run_status(const status_options& options) {
  auto status = query_status(
    options.socket,
    std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout));
  if (!status) {
    std::fprintf(stderr, "baton: %s\n", render(status.error()).c_str());
    return 1;
  }
  auto text = options.json ? status->dump(2) + "\n" : format_status(*status);
  std::fputs(text.c_str(), stdout);
  return 0;
}

} // namespace baton
