#include "job/environment.hpp"

#include "messages/error.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

using namespace baton;

namespace {

const std::string ctx = "/local/ctx";
const std::string bin = "/opt/baton/bin";

/// The names whose container value always wins.
const std::vector<std::string> protected_names = {
  "BUILDKITE_BOOTSTRAP_PHASES",
  "BUILDKITE_COMMAND",
  "BUILDKITE_CONTAINER_ID",
  "BUILDKITE_JOB_CONTEXT_DIR",
  "BUILDKITE_SOCKETS_PATH",
  "HOME",
  "HOSTNAME",
  "PATH",
  "PWD",
  "SHLVL",
  "TERM",
};

env_map merge(const env_map& own, const env_map& job) {
  return merge_environment(own, job, ctx, bin);
}

/// A temporary file holding `text`, removed when it goes out of scope.
class temp_file {
public:
  explicit temp_file(const std::string& text) {
    std::string pattern = ::testing::TempDir() + "baton-env-XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    auto fd = ::mkstemp(buf.data());
    EXPECT_GE(fd, 0);
    path_ = buf.data();
    if (fd >= 0)
      ::close(fd);
    std::ofstream out{path_, std::ios::binary};
    out << text;
  }

  ~temp_file() {
    std::remove(path_.c_str());
  }

  temp_file(const temp_file&) = delete;
  temp_file& operator=(const temp_file&) = delete;

  const std::string& path() const {
    return path_;
  }

private:
  std::string path_;
};

} // namespace

// -- merge_environment --------------------------------------------------------

TEST(environment, job_values_apply_over_the_containers_own) {
  auto env = merge({{"FOO", "own"}, {"ONLY_OWN", "1"}},
                   {{"FOO", "job"}, {"ONLY_JOB", "2"}});
  EXPECT_EQ(env["FOO"], "job");
  EXPECT_EQ(env["ONLY_OWN"], "1");
  EXPECT_EQ(env["ONLY_JOB"], "2");
}

TEST(environment, container_value_wins_for_protected_names) {
  for (auto& name : protected_names) {
    auto env = merge({{name, "own"}}, {{name, "job"}});
    EXPECT_EQ(env[name], "own") << name;
  }
}

TEST(environment, protected_job_values_are_never_copied) {
  for (auto& name : protected_names) {
    auto env = merge({}, {{name, "job"}});
    EXPECT_EQ(env.count(name), 0u) << name;
  }
}

TEST(environment, container_value_wins_for_every_kubernetes_name) {
  auto env = merge({{"KUBERNETES_SERVICE_HOST", "10.0.0.1"}},
                   {{"KUBERNETES_SERVICE_HOST", "evil"},
                    {"KUBERNETES_PORT", "443"},
                    {"KUBERNETES_", "x"}});
  EXPECT_EQ(env["KUBERNETES_SERVICE_HOST"], "10.0.0.1");
  EXPECT_EQ(env.count("KUBERNETES_PORT"), 0u);
  EXPECT_EQ(env.count("KUBERNETES_"), 0u);
}

TEST(environment, only_the_prefix_kubernetes_is_protected) {
  auto env = merge({{"MY_KUBERNETES_THING", "own"}},
                   {{"MY_KUBERNETES_THING", "job"},
                    {"BUILDKITE_KUBERNETES_X", "job"}});
  EXPECT_EQ(env["MY_KUBERNETES_THING"], "job");
  EXPECT_EQ(env["BUILDKITE_KUBERNETES_X"], "job");
}

TEST(environment, shell_wins_only_if_the_container_set_one) {
  for (auto name : {"BUILDKITE_SHELL", "BUILDKITE_HOOKS_SHELL"}) {
    auto set = merge({{name, "/bin/bash -c"}}, {{name, "/bin/zsh -c"}});
    EXPECT_EQ(set[name], "/bin/bash -c") << name;
    auto unset = merge({}, {{name, "/bin/zsh -c"}});
    EXPECT_EQ(unset[name], "/bin/zsh -c") << name;
    auto neither = merge({}, {});
    EXPECT_EQ(neither.count(name), 0u) << name;
  }
}

TEST(environment, env_files_are_rebased_onto_the_local_context_dir) {
  auto env = merge({}, {{"BUILDKITE_ENV_FILE", "/workspace/a/job-env"},
                        {"BUILDKITE_ENV_JSON_FILE", "/tmp/x/env.json"},
                        {"BUILDKITE_AGENT_JOB_TIMEOUT_FILE", "timeout"}});
  EXPECT_EQ(env["BUILDKITE_ENV_FILE"], "/local/ctx/job-env");
  EXPECT_EQ(env["BUILDKITE_ENV_JSON_FILE"], "/local/ctx/env.json");
  EXPECT_EQ(env["BUILDKITE_AGENT_JOB_TIMEOUT_FILE"], "/local/ctx/timeout");
}

TEST(environment, env_files_are_not_invented) {
  auto env = merge({}, {});
  EXPECT_EQ(env.count("BUILDKITE_ENV_FILE"), 0u);
  EXPECT_EQ(env.count("BUILDKITE_ENV_JSON_FILE"), 0u);
  EXPECT_EQ(env.count("BUILDKITE_AGENT_JOB_TIMEOUT_FILE"), 0u);
}

TEST(environment, kubernetes_exec_and_bin_path_are_set) {
  auto env = merge(
    {{"BUILDKITE_KUBERNETES_EXEC", "false"}, {"BUILDKITE_BIN_PATH", "/own"}},
    {{"BUILDKITE_KUBERNETES_EXEC", "false"}, {"BUILDKITE_BIN_PATH", "/job"}});
  EXPECT_EQ(env["BUILDKITE_KUBERNETES_EXEC"], "true");
  EXPECT_EQ(env["BUILDKITE_BIN_PATH"], "/opt/baton/bin");
}

TEST(environment, checkout_path_defaults_under_the_build_path) {
  auto env = merge({}, {});
  EXPECT_EQ(env["BUILDKITE_BUILD_CHECKOUT_PATH"], "/workspace/build/buildkite");
  env = merge({}, {{"BUILDKITE_BUILD_PATH", "/builds"}});
  EXPECT_EQ(env["BUILDKITE_BUILD_CHECKOUT_PATH"], "/builds/buildkite");
}

TEST(environment, checkout_path_is_kept_when_set) {
  auto env = merge({}, {{"BUILDKITE_BUILD_CHECKOUT_PATH", "/job/checkout"},
                        {"BUILDKITE_BUILD_PATH", "/builds"}});
  EXPECT_EQ(env["BUILDKITE_BUILD_CHECKOUT_PATH"], "/job/checkout");
  env = merge({{"BUILDKITE_BUILD_CHECKOUT_PATH", "/own/checkout"}}, {});
  EXPECT_EQ(env["BUILDKITE_BUILD_CHECKOUT_PATH"], "/own/checkout");
}

// -- to_env_map and to_env_list -----------------------------------------------

TEST(environment, env_map_and_list_round_trip) {
  std::vector<std::string> list = {"A=1", "B=", "C=x=y=z", "D==="};
  auto env = to_env_map(list);
  EXPECT_EQ(env.size(), 4u);
  EXPECT_EQ(env["A"], "1");
  EXPECT_EQ(env["B"], "");
  EXPECT_EQ(env["C"], "x=y=z");
  EXPECT_EQ(env["D"], "==");
  EXPECT_EQ(to_env_list(env), list);
}

TEST(environment, env_map_skips_entries_without_a_name) {
  auto env = to_env_map({"NOEQUALS", "=value", "OK=1"});
  EXPECT_EQ(env, (env_map{{"OK", "1"}}));
}

TEST(environment, own_environment_sees_this_process) {
  ASSERT_EQ(::setenv("BATON_ENVIRONMENT_TEST_VAR", "a=b", 1), 0);
  auto env = own_environment();
  ::unsetenv("BATON_ENVIRONMENT_TEST_VAR");
  EXPECT_EQ(env["BATON_ENVIRONMENT_TEST_VAR"], "a=b");
}

// -- read_env_file ------------------------------------------------------------

TEST(environment, env_file_reads_pairs_comments_blank_lines_and_crlf) {
  temp_file file{"# a comment\n"
                 "\n"
                 "A=1\n"
                 "   \n"
                 "  # indented comment\n"
                 "B=two words\r\n"
                 "C=x=y\n"
                 "D=\n"
                 "\r\n"
                 "E=last"};
  auto env = read_env_file(file.path());
  ASSERT_TRUE(env) << render(env.error());
  EXPECT_EQ(
    *env,
    (env_map{
      {"A", "1"}, {"B", "two words"}, {"C", "x=y"}, {"D", ""}, {"E", "last"}}));
}

TEST(environment, env_file_error_names_file_and_line_but_not_its_text) {
  temp_file file{"A=1\n# comment\nSECRET_TOKEN_VALUE_xyz\nB=2\n"};
  auto env = read_env_file(file.path());
  ASSERT_FALSE(env);
  auto msg = render(env.error());
  EXPECT_EQ(code_of(env.error()), ec::invalid_argument);
  EXPECT_NE(msg.find(file.path()), std::string::npos) << msg;
  EXPECT_NE(msg.find("line 3"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("SECRET_TOKEN_VALUE_xyz"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("xyz"), std::string::npos) << msg;
}

TEST(environment, env_file_line_without_a_name_is_an_error) {
  temp_file file{"=hunter2\n"};
  auto env = read_env_file(file.path());
  ASSERT_FALSE(env);
  auto msg = render(env.error());
  EXPECT_NE(msg.find("line 1"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("hunter2"), std::string::npos) << msg;
}

TEST(environment, missing_env_file_names_the_path) {
  auto path = ::testing::TempDir() + "baton-no-such-env-file";
  auto env = read_env_file(path);
  ASSERT_FALSE(env);
  EXPECT_EQ(code_of(env.error()), ec::invalid_argument);
  auto msg = render(env.error());
  EXPECT_NE(msg.find("'" + path + "'"), std::string::npos) << msg;
}
