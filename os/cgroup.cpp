#include "os/cgroup.hpp"

#include <fstream>
#include <sstream>

#include <sys/stat.h>

namespace baton {

namespace {

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The value of `key` in a file of "key value" lines, such as
// memory.events.
std::optional<uint64_t> keyed_value(const std::string& path,
                                    const std::string& key) {
  std::ifstream in{path};
  std::string name;
  uint64_t value = 0;
  while (in >> name >> value)
    if (name == key)
      return value;
  return std::nullopt;
}

// A file that holds one number, or "max" for none.
std::optional<uint64_t> single_value(const std::string& path) {
  std::ifstream in{path};
  std::string text;
  if (!(in >> text) || text == "max")
    return std::nullopt;
  try {
    size_t used = 0;
    auto value = std::stoull(text, &used);
    if (used != text.size())
      return std::nullopt;
    return value;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Joins the cgroup's path to the file system's root, or falls back to the
// root where the path is not there (a cgroup namespace shows the
// container's own cgroup as the root).
std::string locate(const std::string& root, const std::string& path) {
  auto dir = path == "/" ? root : root + path;
  return is_dir(dir) ? dir : root;
}

} // namespace

memory_cgroup memory_cgroup::find(const std::string& proc_cgroup,
                                  const std::string& root) {
  // Lines of "hierarchy-id:controllers:path": v1 has one whose controllers
  // include "memory"; v2 has one "0::path".
  memory_cgroup result;
  std::optional<std::string> unified;
  std::istringstream lines{proc_cgroup};
  for (std::string line; std::getline(lines, line);) {
    auto first = line.find(':');
    auto second = first == std::string::npos ? first
                                             : line.find(':', first + 1);
    if (second == std::string::npos)
      continue;
    auto controllers = line.substr(first + 1, second - first - 1);
    auto path = line.substr(second + 1);
    if (controllers.empty() && line.compare(0, first, "0") == 0) {
      unified = path;
      continue;
    }
    std::istringstream names{controllers};
    for (std::string name; std::getline(names, name, ',');)
      if (name == "memory") {
        result.dir_ = locate(root + "/memory", path);
        return result;
      }
  }
  if (unified) {
    result.dir_ = locate(root, *unified);
    result.v2_ = true;
  }
  return result;
}

memory_cgroup memory_cgroup::of_self() {
  std::ifstream in{"/proc/self/cgroup"};
  std::ostringstream text;
  text << in.rdbuf();
  return find(text.str(), "/sys/fs/cgroup");
}

std::optional<uint64_t> memory_cgroup::oom_kills() const {
  if (dir_.empty())
    return std::nullopt;
  return keyed_value(dir_ + (v2_ ? "/memory.events" : "/memory.oom_control"),
                     "oom_kill");
}

std::optional<uint64_t> memory_cgroup::limit() const {
  if (dir_.empty())
    return std::nullopt;
  if (v2_)
    return single_value(dir_ + "/memory.max");
  // v1 writes "no limit" as the largest page-aligned value it has.
  auto value = single_value(dir_ + "/memory.limit_in_bytes");
  if (value && *value >= (uint64_t{1} << 60))
    return std::nullopt;
  return value;
}

} // namespace baton
