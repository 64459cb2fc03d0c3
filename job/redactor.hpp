#pragma once

#include "job/environment.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace baton {

/// The default of BUILDKITE_REDACTED_VARS (reference).
constexpr const char* default_redacted_vars
  = "*_PASSWORD *_SECRET *_TOKEN *_PRIVATE_KEY *_SSH_KEY *_ACCESS_KEY "
    "*_SECRET_KEY *_CONNECTION_STRING *_API_KEY";

/// Values shorter than this are left alone: redacting "true" or "1" would
/// mangle the log and protect nothing.
constexpr size_t min_secret_size = 6;

/// Splits a BUILDKITE_REDACTED_VARS value into glob patterns (separated by
/// commas or white space; `*` matches any run of characters).
std::vector<std::string> split_patterns(const std::string& text);

/// True if `name` matches one of `patterns`.
bool matches_any(const std::string& name,
                 const std::vector<std::string>& patterns);

/// The redaction patterns of a job: BUILDKITE_REDACTED_VARS from `env`,
/// else the default.
std::vector<std::string> redaction_patterns(const env_map& env);

/// The values to redact from the job log: those of the variables in `env`
/// whose names match `patterns`, at least `min_secret_size` bytes long.
std::vector<std::string> secrets_of(const env_map& env,
                                    const std::vector<std::string>& patterns);

/// `secrets_of(env, redaction_patterns(env))`.
std::vector<std::string> secrets_of(const env_map& env);

/// Replaces every occurrence of any secret in one byte stream with
/// "[REDACTED]", also when an occurrence is split across chunks. Holds back
/// only a tail that could still grow into a secret, so output is delayed
/// no longer than needed.
class redactor {
public:
  explicit redactor(std::vector<std::string> secrets);

  /// Appends the redacted form of `chunk` to `out`, as far as it is known.
  void process(const std::string& chunk, std::string& out);

  /// Appends what is held back; to call at the end of the stream.
  void finish(std::string& out);

  /// Redacts `secret` too from now on (bytes already passed on stay).
  void add(std::string secret);

  bool empty() const noexcept {
    return secrets_.empty();
  }

private:
  std::vector<std::string> secrets_;
  std::string held_;
};

} // namespace baton
