#include "integration/support/files.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include <poll.h>
#include <sys/stat.h>

namespace baton::test_support {

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << content;
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool wait_until(const std::function<bool()>& predicate,
                std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll_every) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!predicate()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    ::poll(nullptr, 0, static_cast<int>(poll_every.count()));
  }
  return true;
}

temp_dir::temp_dir(const std::string& prefix, mode_t mode,
                   failure_handler on_failure)
  : on_failure_(on_failure) {
  std::vector<char> name(prefix.begin(), prefix.end());
  name.insert(name.end(), {'X', 'X', 'X', 'X', 'X', 'X', '\0'});
  if (::mkdtemp(name.data()) == nullptr)
    throw std::system_error{errno, std::generic_category(),
                            "cannot create a directory " + prefix + "XXXXXX"};
  path_ = name.data();
  ::chmod(path_.c_str(), mode);
}

temp_dir::temp_dir(temp_dir&& other) noexcept
  : path_(std::exchange(other.path_, {})), on_failure_(other.on_failure_) {
  // nop
}

temp_dir::~temp_dir() {
  if (path_.empty())
    return;
  auto cmd = "rm -rf -- '" + path_ + "'";
  if (std::system(cmd.c_str()) == 0)
    return;
  if (on_failure_ != nullptr)
    on_failure_(path_);
  else
    std::fprintf(stderr, "cannot remove %s\n", path_.c_str());
}

} // namespace baton::test_support
