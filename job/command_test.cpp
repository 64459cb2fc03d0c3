#include "job/command.hpp"

#include "messages/error.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using namespace baton;

namespace {

using args = std::vector<std::string>;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

// -- read_cancel_config -------------------------------------------------------

TEST(command, cancel_defaults) {
  std::vector<std::string> warnings;
  auto config = read_cancel_config({}, warnings);
  EXPECT_EQ(config.signal, SIGTERM);
  EXPECT_EQ(config.signal_timeout, caf::timespan{10s});
  EXPECT_EQ(config.cleanup_timeout, caf::timespan{5s});
  EXPECT_TRUE(warnings.empty());
}

TEST(command, cancel_signal_by_name_short_name_or_number) {
  for (auto text : {"SIGINT", "INT", "2"}) {
    std::vector<std::string> warnings;
    auto config = read_cancel_config({{"BUILDKITE_CANCEL_SIGNAL", text}},
                                     warnings);
    EXPECT_EQ(config.signal, SIGINT) << text;
    EXPECT_TRUE(warnings.empty()) << text;
  }
  std::vector<std::string> warnings;
  auto config = read_cancel_config({{"BUILDKITE_CANCEL_SIGNAL", "SIGQUIT"}},
                                   warnings);
  EXPECT_EQ(config.signal, SIGQUIT);
}

TEST(command, sigkill_is_downgraded_to_sigterm) {
  for (auto text : {"SIGKILL", "KILL", "9"}) {
    std::vector<std::string> warnings;
    auto config = read_cancel_config({{"BUILDKITE_CANCEL_SIGNAL", text}},
                                     warnings);
    EXPECT_EQ(config.signal, SIGTERM) << text;
    ASSERT_EQ(warnings.size(), 1u) << text;
    EXPECT_EQ(warnings[0],
              "BUILDKITE_CANCEL_SIGNAL=SIGKILL is downgraded to SIGTERM");
  }
}

TEST(command, garbage_signal_warns_and_keeps_the_default) {
  for (auto text : {"SIGBOGUS", "", "0", "999", "-15"}) {
    std::vector<std::string> warnings;
    auto config = read_cancel_config({{"BUILDKITE_CANCEL_SIGNAL", text}},
                                     warnings);
    EXPECT_EQ(config.signal, SIGTERM) << text;
    ASSERT_EQ(warnings.size(), 1u) << text;
    EXPECT_EQ(warnings[0], std::string{"ignoring BUILDKITE_CANCEL_SIGNAL='"}
                             + text
                             + "': not a signal name or number; using "
                               "SIGTERM");
  }
}

TEST(command, cancel_timeouts_as_durations_or_seconds) {
  std::vector<std::string> warnings;
  auto config = read_cancel_config({{"BUILDKITE_CANCEL_SIGNAL_TIMEOUT", "30s"},
                                    {"BUILDKITE_CANCEL_CLEANUP_TIMEOUT", "30"}},
                                   warnings);
  EXPECT_EQ(config.signal_timeout, caf::timespan{30s});
  EXPECT_EQ(config.cleanup_timeout, caf::timespan{30s});
  EXPECT_TRUE(warnings.empty());
  config = read_cancel_config({{"BUILDKITE_CANCEL_SIGNAL_TIMEOUT", "1m30s"},
                               {"BUILDKITE_CANCEL_CLEANUP_TIMEOUT", "0"}},
                              warnings);
  EXPECT_EQ(config.signal_timeout, caf::timespan{90s});
  EXPECT_EQ(config.cleanup_timeout, caf::timespan{0});
  EXPECT_TRUE(warnings.empty());
}

TEST(command, garbage_timeout_warns_and_keeps_the_default) {
  std::vector<std::string> warnings;
  auto config
    = read_cancel_config({{"BUILDKITE_CANCEL_SIGNAL_TIMEOUT", "soon"},
                          {"BUILDKITE_CANCEL_CLEANUP_TIMEOUT", "5 s"}},
                         warnings);
  EXPECT_EQ(config.signal_timeout, caf::timespan{10s});
  EXPECT_EQ(config.cleanup_timeout, caf::timespan{5s});
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_TRUE(contains(warnings[0], "BUILDKITE_CANCEL_SIGNAL_TIMEOUT='soon'"))
    << warnings[0];
  EXPECT_TRUE(contains(warnings[0], "using 10s")) << warnings[0];
  EXPECT_TRUE(contains(warnings[1], "BUILDKITE_CANCEL_CLEANUP_TIMEOUT='5 s'"))
    << warnings[1];
  EXPECT_TRUE(contains(warnings[1], "using 5s")) << warnings[1];
}

TEST(command, empty_timeout_counts_as_unset) {
  std::vector<std::string> warnings;
  auto config = read_cancel_config({{"BUILDKITE_CANCEL_SIGNAL_TIMEOUT", ""}},
                                   warnings);
  EXPECT_EQ(config.signal_timeout, caf::timespan{10s});
  EXPECT_TRUE(warnings.empty());
}

// -- command_line -------------------------------------------------------------

TEST(command, command_line_uses_the_given_command) {
  auto argv = command_line({"make", "test"},
                           {{"BUILDKITE_SHELL", "/bin/bash -c"},
                            {"BUILDKITE_COMMAND", "echo ignored"}});
  ASSERT_TRUE(argv) << render(argv.error());
  EXPECT_EQ(*argv, (args{"make", "test"}));
}

TEST(command, command_line_defaults_to_the_shell_and_command) {
  auto argv = command_line({}, {{"BUILDKITE_COMMAND", "echo 'a  b'; ls"}});
  ASSERT_TRUE(argv) << render(argv.error());
  EXPECT_EQ(*argv, (args{"/bin/sh", "-e", "-c", "echo 'a  b'; ls"}));
  argv = command_line({},
                      {{"BUILDKITE_SHELL", ""}, {"BUILDKITE_COMMAND", "true"}});
  ASSERT_TRUE(argv) << render(argv.error());
  EXPECT_EQ(*argv, (args{"/bin/sh", "-e", "-c", "true"}));
}

TEST(command, command_line_splits_the_shell_into_words) {
  auto argv = command_line({}, {{"BUILDKITE_SHELL", " /bin/bash  -eo pipefail"
                                                    "\t-c "},
                                {"BUILDKITE_COMMAND", "make"}});
  ASSERT_TRUE(argv) << render(argv.error());
  EXPECT_EQ(*argv, (args{"/bin/bash", "-eo", "pipefail", "-c", "make"}));
}

TEST(command, command_line_needs_something_to_run) {
  for (auto env : {env_map{}, env_map{{"BUILDKITE_COMMAND", ""}},
                   env_map{{"BUILDKITE_SHELL", "/bin/bash -c"}}}) {
    auto argv = command_line({}, env);
    ASSERT_FALSE(argv);
    EXPECT_EQ(code_of(argv.error()), ec::invalid_argument);
    EXPECT_EQ(render(argv.error()), "nothing to run: no command after -- and "
                                    "BUILDKITE_COMMAND is empty");
  }
}
