#include "job/steps.hpp"

#include "messages/error.hpp"
#include "messages/wire.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

using namespace std::chrono_literals;
using namespace baton;

namespace {

using strings = std::vector<std::string>;

std::string error_of(const env_map& env) {
  auto config = read_step_config(env);
  if (config)
    return "<no error>";
  EXPECT_EQ(code_of(config.error()), ec::invalid_argument);
  return render(config.error());
}

std::string error_of(const std::string& text) {
  auto outputs = parse_outputs(text);
  if (outputs)
    return "<no error>";
  return render(outputs.error());
}

} // namespace

// -- settings -----------------------------------------------------------------

TEST(steps, no_settings_are_the_references_behaviour) {
  auto config = read_step_config({{"BATON_SOFT_FAIL", ""}});
  ASSERT_TRUE(config) << render(config.error());
  EXPECT_FALSE(config->settings.always);
  EXPECT_FALSE(config->settings.soft_fail_any);
  EXPECT_TRUE(config->settings.soft_fail.empty());
  EXPECT_EQ(config->timeout, caf::timespan{0});
  EXPECT_FALSE(config->settings.soft_fails(1));
}

TEST(steps, soft_fail_true_covers_every_failure_but_not_success) {
  auto config = read_step_config({{"BATON_SOFT_FAIL", "true"}});
  ASSERT_TRUE(config);
  EXPECT_TRUE(config->settings.soft_fails(1));
  EXPECT_TRUE(config->settings.soft_fails(143));
  EXPECT_FALSE(config->settings.soft_fails(0));
}

TEST(steps, a_soft_fail_list_covers_only_its_statuses) {
  auto config = read_step_config({{"BATON_SOFT_FAIL", "1, 3,255"}});
  ASSERT_TRUE(config) << render(config.error());
  EXPECT_EQ(config->settings.soft_fail, (std::vector<int32_t>{1, 3, 255}));
  EXPECT_TRUE(config->settings.soft_fails(3));
  EXPECT_FALSE(config->settings.soft_fails(2));
  EXPECT_FALSE(config->settings.soft_fails(0));
}

TEST(steps, always_and_timeout) {
  auto config
    = read_step_config({{"BATON_ALWAYS", "true"}, {"BATON_TIMEOUT", "1m30s"}});
  ASSERT_TRUE(config) << render(config.error());
  EXPECT_TRUE(config->settings.always);
  EXPECT_EQ(config->timeout, caf::timespan{90s});
  config
    = read_step_config({{"BATON_ALWAYS", "false"}, {"BATON_TIMEOUT", "0"}});
  ASSERT_TRUE(config);
  EXPECT_FALSE(config->settings.always);
  EXPECT_EQ(config->timeout, caf::timespan{0});
}

TEST(steps, bad_settings_are_named_with_their_value) {
  auto soft = "expected true, false or a comma list of exit statuses from 1 "
              "to 255 (such as 1,3)";
  for (auto value : {"yes", "0", "256", "1,,2", "1,", "-1", "1;3", "1234"})
    EXPECT_EQ(error_of({{"BATON_SOFT_FAIL", value}}),
              std::string{"invalid BATON_SOFT_FAIL='"} + value + "': " + soft);
  EXPECT_EQ(error_of({{"BATON_ALWAYS", "yes"}}),
            "invalid BATON_ALWAYS='yes': expected true or false");
  EXPECT_EQ(error_of({{"BATON_TIMEOUT", "5 minutes"}}),
            "invalid BATON_TIMEOUT='5 minutes': expected a duration such as "
            "90s, 10m or 1h30m");
}

TEST(steps, the_settings_frame_carries_the_tables_wire_fields) {
  // Every member set, so that the frame leaves no field out.
  wire::settings_report report;
  report.settings.always = true;
  report.settings.soft_fail_any = true;
  report.settings.service = true;
  report.settings.log_to_job = true;
  report.settings.group = "checks";
  report.settings.fail_fast = true;
  auto body = nlohmann::json::parse(wire::encode(report).body);
  std::set<std::string> sent;
  for (auto& [name, value] : body.items())
    sent.insert(name);
  std::set<std::string> named;
  for (auto& setting : step_setting_table())
    if (setting.wire_field != nullptr)
      named.insert(setting.wire_field);
  EXPECT_EQ(sent, named);
}

TEST(steps, every_setting_has_all_its_names) {
  std::set<std::string> envs;
  std::set<std::string> keys;
  for (auto& setting : step_setting_table()) {
    EXPECT_TRUE(is_variable_name(setting.env)) << setting.env;
    envs.insert(setting.env);
    keys.insert(setting.spec_key);
  }
  EXPECT_EQ(envs.size(), step_setting_table().size());
  EXPECT_EQ(keys.size(), step_setting_table().size());
}

// -- outputs ------------------------------------------------------------------

TEST(steps, outputs_are_lines_and_heredocs_in_order) {
  auto outputs = parse_outputs("VERSION=1.2.3\n"
                               "\n"
                               "NOTES<<EOF\n"
                               "line one\n"
                               "line two = still text\n"
                               "EOF\n"
                               "EMPTY=\n"
                               "EQ=a=b\r\n"
                               "BLANK<<END\n"
                               "END\n");
  ASSERT_TRUE(outputs) << render(outputs.error());
  EXPECT_EQ(*outputs,
            (strings{"VERSION=1.2.3", "NOTES=line one\nline two = still text",
                     "EMPTY=", "EQ=a=b", "BLANK="}));
}

TEST(steps, bad_outputs_name_the_line_never_the_value) {
  EXPECT_EQ(error_of("A=1\nno equals sign here\n"),
            "$BATON_ENV line 2: expected KEY=VALUE or KEY<<DELIMITER");
  EXPECT_EQ(error_of("1ABC=secret\n"),
            "$BATON_ENV line 1: invalid variable name '1ABC'");
  EXPECT_EQ(error_of("A-B=secret\n"),
            "$BATON_ENV line 1: invalid variable name 'A-B'");
  EXPECT_EQ(error_of("A=1\nKEY<<EOF\nhunter2\nEOFX\n"),
            "$BATON_ENV line 2: the value of KEY<<EOF never ends: no line "
            "'EOF' follows");
  EXPECT_EQ(error_of("KEY<<\n"),
            "$BATON_ENV line 1: KEY<< needs a delimiter, such as KEY<<EOF");
  EXPECT_EQ(error_of("=value\n"),
            "$BATON_ENV line 1: invalid variable name ''");
}

TEST(steps, more_than_a_mib_of_outputs_is_refused) {
  char tmpl[] = "/tmp/baton-steps-XXXXXX";
  int fd = ::mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  ::close(fd);
  {
    std::ofstream out{tmpl};
    out << "BIG=" << std::string(max_outputs_size, 'x') << "\n";
  }
  auto outputs = read_outputs(tmpl);
  ASSERT_FALSE(outputs);
  EXPECT_EQ(render(outputs.error()),
            "$BATON_ENV holds more than 1048576 bytes: a step may pass on at "
            "most 1 MiB");
  {
    std::ofstream out{tmpl};
    out << "SMALL=yes\n";
  }
  outputs = read_outputs(tmpl);
  ASSERT_TRUE(outputs);
  EXPECT_EQ(*outputs, strings{"SMALL=yes"});
  ::unlink(tmpl);
  outputs = read_outputs(tmpl);
  ASSERT_FALSE(outputs);
  EXPECT_NE(render(outputs.error()).find("cannot read $BATON_ENV"),
            std::string::npos);
}

TEST(steps, a_ready_check_is_a_tcp_address_or_a_command) {
  ready_check check;
  ASSERT_TRUE(parse_ready_check("tcp:5432", check));
  EXPECT_EQ(check.host, "127.0.0.1");
  EXPECT_EQ(check.port, 5432);
  ASSERT_TRUE(parse_ready_check("tcp:db.local:80", check));
  EXPECT_EQ(check.host, "db.local");
  EXPECT_EQ(check.port, 80);
  ASSERT_TRUE(parse_ready_check("pg_isready -h 127.0.0.1", check));
  EXPECT_EQ(check.command, "pg_isready -h 127.0.0.1");
  EXPECT_FALSE(check.none());
  for (auto bad : {"tcp:", "tcp:0", "tcp:65536", "tcp:http", "tcp::80"})
    EXPECT_FALSE(parse_ready_check(bad, check)) << bad;
}

TEST(steps, service_settings_are_read_and_checked) {
  auto config = read_step_config({{"BATON_SERVICE", "true"},
                                  {"BATON_READY", "tcp:6379"},
                                  {"BATON_READY_TIMEOUT", "5s"},
                                  {"BATON_SERVICE_LOG", "job"}});
  ASSERT_TRUE(config) << render(config.error());
  EXPECT_TRUE(config->settings.service);
  EXPECT_TRUE(config->settings.log_to_job);
  EXPECT_EQ(config->ready.port, 6379);
  EXPECT_EQ(config->ready_timeout, std::chrono::seconds{5});
  auto plain = read_step_config({{"BATON_SERVICE", "true"}});
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->ready.none());
  EXPECT_EQ(plain->ready_timeout, std::chrono::seconds{60});
  auto bad = read_step_config({{"BATON_SERVICE", "yes"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(render(bad.error()),
            "invalid BATON_SERVICE='yes': expected true or false");
  bad = read_step_config({{"BATON_SERVICE", "true"}, {"BATON_READY", "tcp:x"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(render(bad.error()),
            "invalid BATON_READY='tcp:x': expected tcp:PORT, tcp:HOST:PORT or "
            "a command");
  bad = read_step_config({{"BATON_SERVICE_LOG", "job"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(render(bad.error()),
            "BATON_SERVICE_LOG='job' is for services only: set "
            "BATON_SERVICE=true, or unset it");
}

TEST(steps, group_settings_are_read_and_checked) {
  auto config = read_step_config(
    {{"BATON_GROUP", "checks"}, {"BATON_GROUP_FAIL_FAST", "true"}});
  ASSERT_TRUE(config) << render(config.error());
  EXPECT_EQ(config->settings.group, "checks");
  EXPECT_TRUE(config->settings.fail_fast);
  EXPECT_EQ(error_of({{"BATON_GROUP", "two words"}}),
            "invalid BATON_GROUP='two words': expected a name of 1 to 63 "
            "letters, digits, '.', '_' or '-'");
  EXPECT_EQ(error_of({{"BATON_GROUP", std::string(64, 'g')}}),
            "invalid BATON_GROUP='" + std::string(64, 'g')
              + "': expected a name of 1 to 63 letters, digits, '.', '_' or "
                "'-'");
  EXPECT_EQ(error_of({{"BATON_GROUP", "g"}, {"BATON_GROUP_FAIL_FAST", "1"}}),
            "invalid BATON_GROUP_FAIL_FAST='1': expected true or false");
  EXPECT_EQ(error_of({{"BATON_GROUP_FAIL_FAST", "true"}}),
            "BATON_GROUP_FAIL_FAST='true' is for the members of a group: set "
            "BATON_GROUP=NAME, or unset it");
  EXPECT_EQ(error_of({{"BATON_SERVICE", "true"}, {"BATON_GROUP", "g"}}),
            "BATON_GROUP='g' is for steps only: a service runs beside every "
            "step already");
}
