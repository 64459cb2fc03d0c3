#include "apps/install.hpp"

#include "messages/error.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

using namespace baton;

namespace fs = std::filesystem;

namespace {

/// A temp dir removed at the end of the test.
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string tmpl = (fs::temp_directory_path() / "deploy-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~temp_dir() {
    std::error_code err;
    fs::remove_all(path, err);
  }
};

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream{path} << text;
}

std::string read_file(const fs::path& path) {
  std::ifstream in{path};
  return {std::istreambuf_iterator<char>{in}, {}};
}

} // namespace

TEST(install, copies_the_bundle_and_replaces_an_old_one) {
  temp_dir from, to;
  write_file(from.path / "bin" / "baton", "new binary");
  write_file(from.path / "lib" / "libc.so.6", "libc");
  write_file(to.path / "baton" / "bin" / "baton", "old binary");
  write_file(to.path / "baton" / "stale", "left from an old bundle");
  auto done = install_bundle(from.path.string(), to.path.string());
  ASSERT_TRUE(done) << render(done.error());
  EXPECT_EQ(*done, "installed the bundle into " + (to.path / "baton").string()
                     + ": 2 files, 0 KiB");
  EXPECT_EQ(read_file(to.path / "baton" / "bin" / "baton"), "new binary");
  EXPECT_EQ(read_file(to.path / "baton" / "lib" / "libc.so.6"), "libc");
  EXPECT_FALSE(fs::exists(to.path / "baton" / "stale"));
  // Nothing left behind but the bundle.
  EXPECT_EQ(std::distance(fs::directory_iterator{to.path}, {}), 1);
  EXPECT_EQ(fs::status(to.path / "baton").permissions(), fs::perms{0755});
}

TEST(install, errors_name_the_bundle_or_the_directory) {
  temp_dir from, to;
  auto done = install_bundle(from.path.string(), to.path.string());
  ASSERT_FALSE(done);
  EXPECT_EQ(render(done.error()),
            "no bundle at '" + from.path.string()
              + "': expected bin/baton and lib/ (pass --from DIR)");
  write_file(from.path / "bin" / "baton", "binary");
  fs::create_directories(from.path / "lib");
  auto missing = (to.path / "missing").string();
  done = install_bundle(from.path.string(), missing);
  ASSERT_FALSE(done);
  EXPECT_EQ(render(done.error()),
            "cannot install into '" + missing + "': No such file or directory");
  // A copy that fails names the cause and leaves nothing behind.
  fs::create_symlink("/nonexistent", from.path / "lib" / "dangling");
  done = install_bundle(from.path.string(), to.path.string());
  ASSERT_FALSE(done);
  EXPECT_EQ(render(done.error()), "cannot copy '" + (from.path / "lib").string()
                                    + "' into '" + to.path.string()
                                    + "': No such file or directory");
  EXPECT_EQ(std::distance(fs::directory_iterator{to.path}, {}), 0);
  fs::remove(from.path / "lib" / "dangling");
  auto file = (from.path / "bin" / "baton").string();
  done = install_bundle(from.path.string(), file);
  ASSERT_FALSE(done);
  EXPECT_EQ(render(done.error()),
            "cannot install into '" + file + "': not a directory");
}
