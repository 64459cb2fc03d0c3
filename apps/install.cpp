#include "apps/install.hpp"

#include "messages/error.hpp"
#include "os/process.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

namespace baton {

namespace fs = std::filesystem;

namespace {

caf::error io_error(const std::string& what, const std::error_code& err) {
  return make_error(ec::system_error, what + ": " + err.message());
}

} // namespace

std::string own_bundle_root() {
  // <root>/bin/baton, or <root>/lib/ld-linux-*.so.2 through the loader.
  return fs::path{executable_path()}.parent_path().parent_path().string();
}

caf::expected<std::string> install_bundle(const std::string& from,
                                          const std::string& dir) {
  std::error_code err;
  fs::path source{from};
  if (!fs::is_regular_file(source / "bin" / "baton", err)
      || !fs::is_directory(source / "lib", err))
    return make_error(ec::invalid_argument,
                      "no bundle at '" + from
                        + "': expected bin/baton and lib/ (pass --from DIR)");
  if (!fs::is_directory(dir, err))
    return make_error(ec::invalid_argument,
                      "cannot install into '" + dir
                        + "': " + (err ? err.message() : "not a directory"));
  // Copy beside the target, then rename: a reader never sees half a bundle.
  auto temp_name = fs::path{dir} / ".baton-install-XXXXXX";
  auto temp_text = temp_name.string();
  if (::mkdtemp(temp_text.data()) == nullptr)
    return make_error(ec::system_error, "cannot write into '" + dir
                                          + "': " + std::strerror(errno));
  fs::path temp{temp_text};
  // Its own error code: `err` still holds the failure being reported.
  auto cleanup = [&] {
    std::error_code ignored;
    fs::remove_all(temp, ignored);
  };
  size_t files = 0;
  uintmax_t bytes = 0;
  for (auto sub : {"bin", "lib"}) {
    fs::copy(source / sub, temp / sub, fs::copy_options::recursive, err);
    if (err) {
      cleanup();
      return io_error("cannot copy '" + (source / sub).string() + "' into '"
                        + dir + "'",
                      err);
    }
  }
  for (auto& entry : fs::recursive_directory_iterator(temp, err)) {
    if (entry.is_regular_file()) {
      ++files;
      bytes += entry.file_size();
    }
  }
  // Every uid of the pod runs it.
  fs::permissions(temp, fs::perms{0755}, err);
  auto target = fs::path{dir} / "baton";
  // Into place in one step: a fresh directory by rename, an old bundle by
  // an atomic exchange, so a container starting now sees one or the other.
  auto moved = ::rename(temp.c_str(), target.c_str());
  if (moved != 0 && (errno == EEXIST || errno == ENOTEMPTY))
    moved = ::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, target.c_str(),
                        RENAME_EXCHANGE);
  auto err_no = errno;
  // Either the copy that failed to move, or the old bundle swapped out.
  cleanup();
  if (moved != 0)
    return make_error(ec::system_error, "cannot install into '"
                                          + target.string()
                                          + "': " + std::strerror(err_no));
  return "installed the bundle into " + target.string() + ": "
         + std::to_string(files) + " files, " + std::to_string(bytes / 1024)
         + " KiB";
}

int run_install(const install_options& options) {
  auto from = options.from.empty() ? own_bundle_root() : options.from;
  auto done = install_bundle(from, options.dir);
  if (!done) {
    std::cerr << "baton: " << render(done.error()) << '\n';
    return 1;
  }
  std::cout << *done << '\n';
  return 0;
}

} // namespace baton
