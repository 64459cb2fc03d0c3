#include "job/redactor.hpp"

#include <algorithm>

namespace baton {

namespace {

constexpr const char* replacement = "[REDACTED]";

// Glob match with '*' only.
bool glob(const char* pattern, const char* str) {
  const char* star = nullptr;
  const char* retry = nullptr;
  while (*str != '\0') {
    if (*pattern == '*') {
      star = pattern++;
      retry = str;
    } else if (*pattern == *str) {
      ++pattern;
      ++str;
    } else if (star != nullptr) {
      pattern = star + 1;
      str = ++retry;
    } else {
      return false;
    }
  }
  while (*pattern == '*')
    ++pattern;
  return *pattern == '\0';
}

} // namespace

std::vector<std::string> split_patterns(const std::string& text) {
  std::vector<std::string> result;
  std::string current;
  for (auto c : text) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\n') {
      if (!current.empty())
        result.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty())
    result.push_back(std::move(current));
  return result;
}

bool matches_any(const std::string& name,
                 const std::vector<std::string>& patterns) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& p) {
                       return glob(p.c_str(), name.c_str());
                     });
}

std::vector<std::string> redaction_patterns(const env_map& env) {
  auto i = env.find("BUILDKITE_REDACTED_VARS");
  return split_patterns(i != env.end() ? i->second : default_redacted_vars);
}

std::vector<std::string> secrets_of(const env_map& env) {
  return secrets_of(env, redaction_patterns(env));
}

std::vector<std::string> secrets_of(const env_map& env,
                                    const std::vector<std::string>& patterns) {
  std::vector<std::string> result;
  for (auto& [name, value] : env)
    if (value.size() >= min_secret_size && matches_any(name, patterns))
      result.push_back(value);
  // Longest first: where two secrets start at the same byte, the longer
  // one wins.
  std::sort(result.begin(), result.end(),
            [](auto& x, auto& y) { return x.size() > y.size(); });
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

redactor::redactor(std::vector<std::string> secrets)
  : secrets_(std::move(secrets)) {
  secrets_.erase(std::remove_if(secrets_.begin(), secrets_.end(),
                                [](auto& x) { return x.empty(); }),
                 secrets_.end());
  std::stable_sort(secrets_.begin(), secrets_.end(),
                   [](auto& x, auto& y) { return x.size() > y.size(); });
}

void redactor::process(const std::string& chunk, std::string& out) {
  if (secrets_.empty()) {
    out += chunk;
    return;
  }
  held_ += chunk;
  const auto& buf = held_;
  size_t pos = 0;
  for (;;) {
    // The earliest occurrence of any secret; the longest on a tie.
    auto best = std::string::npos;
    size_t best_size = 0;
    for (auto& secret : secrets_) {
      auto at = buf.find(secret, pos);
      if (at < best) {
        best = at;
        best_size = secret.size();
      }
    }
    if (best == std::string::npos)
      break;
    out.append(buf, pos, best - pos);
    out += replacement;
    pos = best + best_size;
  }
  // Hold back the longest tail that is the start of some secret: it may
  // complete in the next chunk. Everything before it is final.
  size_t keep = 0;
  auto rest = buf.size() - pos;
  for (auto& secret : secrets_) {
    for (auto k = std::min(rest, secret.size() - 1); k > keep; --k) {
      if (buf.compare(buf.size() - k, k, secret, 0, k) == 0) {
        keep = k;
        break;
      }
    }
  }
  out.append(buf, pos, rest - keep);
  held_.erase(0, buf.size() - keep);
}

void redactor::add(std::string secret) {
  if (secret.empty()
      || std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end())
    return;
  // Longest first, as the constructor orders them.
  auto at = std::find_if(secrets_.begin(), secrets_.end(),
                         [&](auto& x) { return x.size() < secret.size(); });
  secrets_.insert(at, std::move(secret));
}

void redactor::finish(std::string& out) {
  out += held_;
  held_.clear();
}

} // namespace baton
