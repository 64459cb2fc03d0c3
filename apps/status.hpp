#pragma once

#include <caf/expected.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>

namespace baton {

/// Asks the agent listening at `socket` for the job's status: the JSON
/// document of the result file, as it stands now. Blocking, with a deadline.
caf::expected<nlohmann::json>
query_status(const std::string& socket, std::chrono::milliseconds timeout);

/// Renders a status document as a table for a terminal.
std::string format_status(const nlohmann::json& status);

} // namespace baton
