#pragma once

// Container names: how the job log, the result file and `baton status`
// call a container besides its id.

#include <caf/expected.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace baton {

/// True if `name` is a valid Kubernetes container name, an RFC 1123 label:
/// 1 to 63 lowercase letters, digits and '-', starting and ending with a
/// letter or digit.
bool is_container_name(std::string_view name);

/// What `is_container_name` asks of a name, for error messages.
inline constexpr std::string_view container_name_rule
  = "a name has 1 to 63 lowercase letters, digits and '-', and starts and "
    "ends with a letter or digit";

/// The name of container `id` when none is given: "container-<id>".
std::string default_container_name(size_t id);

/// `count` default names.
std::vector<std::string> default_container_names(size_t count);

/// Parses `--container-names`: a comma list of one name per container, in
/// id order, each unique. Errors name the value and what is wrong with it.
caf::expected<std::vector<std::string>>
parse_container_names(const std::string& text, size_t count);

/// Parses `--services`: a comma list of container ids from 0 to count-1,
/// each once, or "none". Errors name the value and what is wrong with it.
caf::expected<std::vector<uint32_t>> parse_service_ids(const std::string& text,
                                                       size_t count);

} // namespace baton
