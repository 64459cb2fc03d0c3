#include "os/cgroup.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

using namespace baton;

namespace fs = std::filesystem;

namespace {

/// A cgroup file system of fixture files in a temporary directory.
class cgroup_test : public ::testing::Test {
protected:
  cgroup_test() {
    char tmpl[] = "/tmp/baton-cgroup-XXXXXX";
    root = ::mkdtemp(tmpl);
  }

  ~cgroup_test() override {
    fs::remove_all(root);
  }

  void write(const std::string& path, const std::string& text) {
    fs::create_directories(fs::path{root + path}.parent_path());
    std::ofstream{root + path} << text;
  }

  std::string root;
};

constexpr const char* v2_events = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\n"
                                  "oom_group_kill 0\n";

constexpr const char* v1_oom_control = "oom_kill_disable 0\nunder_oom 0\n"
                                       "oom_kill 5\n";

} // namespace

TEST_F(cgroup_test, v2_reads_the_counter_and_the_limit_of_its_own_path) {
  write("/kubepods/pod1/memory.events", v2_events);
  write("/kubepods/pod1/memory.max", "67108864\n");
  auto cg = memory_cgroup::find("0::/kubepods/pod1\n", root);
  EXPECT_TRUE(cg.v2());
  EXPECT_EQ(cg.dir(), root + "/kubepods/pod1");
  EXPECT_EQ(cg.oom_kills(), 2u);
  EXPECT_EQ(cg.limit(), 64u * 1024 * 1024);
}

TEST_F(cgroup_test, v2_in_a_cgroup_namespace_reads_the_root) {
  write("/memory.events", v2_events);
  write("/memory.max", "max\n");
  auto cg = memory_cgroup::find("0::/\n", root);
  EXPECT_EQ(cg.dir(), root);
  EXPECT_EQ(cg.oom_kills(), 2u);
  // "max": no limit.
  EXPECT_EQ(cg.limit(), std::nullopt);
  // A path the namespace hides falls back to the root too.
  EXPECT_EQ(memory_cgroup::find("0::/../outside\n", root).oom_kills(), 2u);
}

TEST_F(cgroup_test, v1_reads_the_memory_hierarchy) {
  write("/memory/docker/abc/memory.oom_control", v1_oom_control);
  write("/memory/docker/abc/memory.limit_in_bytes", "134217728\n");
  auto cg = memory_cgroup::find("12:pids:/docker/abc\n"
                                "4:cpu,cpuacct:/docker/abc\n"
                                "3:memory:/docker/abc\n"
                                "0::/docker/abc\n",
                                root);
  EXPECT_FALSE(cg.v2());
  EXPECT_EQ(cg.dir(), root + "/memory/docker/abc");
  EXPECT_EQ(cg.oom_kills(), 5u);
  EXPECT_EQ(cg.limit(), 128u * 1024 * 1024);
}

TEST_F(cgroup_test, v1_without_a_limit_has_none) {
  write("/memory/memory.oom_control", v1_oom_control);
  // What v1 writes for "unlimited": the largest page-aligned value.
  write("/memory/memory.limit_in_bytes", "9223372036854771712\n");
  auto cg = memory_cgroup::find("7:memory,hugetlb:/\n", root);
  EXPECT_EQ(cg.dir(), root + "/memory");
  EXPECT_EQ(cg.oom_kills(), 5u);
  EXPECT_EQ(cg.limit(), std::nullopt);
}

TEST_F(cgroup_test, a_missing_or_unreadable_file_gives_no_verdict) {
  // No files at all.
  auto cg = memory_cgroup::find("0::/\n", root);
  EXPECT_EQ(cg.oom_kills(), std::nullopt);
  EXPECT_EQ(cg.limit(), std::nullopt);
  // An older v1 kernel's oom_control has no oom_kill line.
  write("/memory/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
  EXPECT_EQ(memory_cgroup::find("3:memory:/\n", root).oom_kills(),
            std::nullopt);
  // Garbage where a number should be.
  write("/memory.max", "lots\n");
  EXPECT_EQ(cg.limit(), std::nullopt);
  // A directory where the file should be cannot be read.
  fs::create_directories(root + "/memory.events");
  EXPECT_EQ(cg.oom_kills(), std::nullopt);
}

TEST_F(cgroup_test, no_memory_cgroup_at_all) {
  auto cg = memory_cgroup::find("", root);
  EXPECT_EQ(cg.dir(), "");
  EXPECT_EQ(cg.oom_kills(), std::nullopt);
  EXPECT_EQ(cg.limit(), std::nullopt);
  // Lines that are not cgroup lines are skipped.
  EXPECT_EQ(memory_cgroup::find("garbage\n1:\n", root).dir(), "");
}
