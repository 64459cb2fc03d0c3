#pragma once

// `baton status`: asks a running agent for the job's status.

#include <caf/expected.hpp>
#include <caf/timespan.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

namespace baton {

struct status_options {
  std::string socket;
  bool json = false;
  caf::timespan timeout{0};
};

/// Asks the agent listening at `socket` for the job's status: the JSON
/// document of the result file, as it stands now. Blocking, with a deadline.
caf::expected<nlohmann::json> query_status(const std::string& socket,
                                           std::chrono::milliseconds timeout);

/// Renders a status document as a table for a terminal.
std::string format_status(const nlohmann::json& status);

/// Prints the job's status. Returns 0, or 1 if the agent cannot be asked.
int run_status(const status_options& options);

} // namespace baton
