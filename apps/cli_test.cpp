#include "apps/cli.hpp"

#include "job/steps.hpp"
#include "messages/error.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using namespace baton;

namespace {

using args = std::vector<std::string>;

/// The rendered error of a failed parse, or a note that it succeeded.
template <class T>
std::string error_of(const caf::expected<T>& x) {
  if (x)
    return "<no error>";
  EXPECT_EQ(code_of(x.error()), ec::invalid_argument);
  return render(x.error());
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

// -- agent --------------------------------------------------------------------

TEST(cli, agent_defaults) {
  auto opts = parse_agent_options({"--containers", "3"}, {});
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_EQ(opts->containers, 3u);
  EXPECT_EQ(opts->job_context_dir, "/workspace");
  EXPECT_EQ(opts->socket, "/workspace/baton.sock");
  EXPECT_EQ(opts->rpc_socket, "/workspace/buildkite.sock");
  EXPECT_EQ(opts->env_file, "");
  EXPECT_EQ(opts->log_file, "");
  EXPECT_EQ(opts->result_file, "");
  EXPECT_EQ(opts->start_timeout, caf::timespan{5min});
  EXPECT_EQ(opts->lost_timeout, caf::timespan{30s});
  EXPECT_EQ(opts->cancel_grace_period, caf::timespan{15s});
}

TEST(cli, agent_options_fall_back_to_env_vars) {
  env_map env = {{"BUILDKITE_CONTAINER_COUNT", "4"},
                 {"BUILDKITE_JOB_CONTEXT_DIR", "/ctx"},
                 {"BUILDKITE_KUBERNETES_CONTAINER_START_TIMEOUT", "90s"},
                 {"BUILDKITE_CANCEL_GRACE_PERIOD", "1m"}};
  auto opts = parse_agent_options({}, env);
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_EQ(opts->containers, 4u);
  EXPECT_EQ(opts->job_context_dir, "/ctx");
  EXPECT_EQ(opts->socket, "/ctx/baton.sock");
  EXPECT_EQ(opts->start_timeout, caf::timespan{90s});
  EXPECT_EQ(opts->cancel_grace_period, caf::timespan{1min});
}

TEST(cli, agent_services_are_known_only_when_given) {
  auto opts = parse_agent_options({"--containers", "3"}, {});
  ASSERT_TRUE(opts);
  EXPECT_FALSE(opts->services_known);
  opts = parse_agent_options({"--containers", "3", "--services", "2,0"}, {});
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_TRUE(opts->services_known);
  EXPECT_EQ(opts->services, (std::vector<uint32_t>{2, 0}));
  opts = parse_agent_options({"--containers", "2"},
                             {{"BATON_SERVICES", "none"}});
  ASSERT_TRUE(opts);
  EXPECT_TRUE(opts->services_known);
  EXPECT_TRUE(opts->services.empty());
  opts = parse_agent_options({"--containers", "2", "--services", "5"}, {});
  ASSERT_FALSE(opts);
  EXPECT_EQ(render(opts.error()),
            "invalid value for --services: service id 5 is out of range: the "
            "job has containers 0 to 1 in '5'");
}

TEST(cli, agent_socket_from_env_var) {
  auto opts = parse_agent_options({"--containers", "2"},
                                  {{"BATON_SOCKET", "/run/b.sock"},
                                   {"BUILDKITE_JOB_CONTEXT_DIR", "/ctx"}});
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_EQ(opts->socket, "/run/b.sock");
}

TEST(cli, empty_env_var_counts_as_unset) {
  auto opts = parse_agent_options({"--containers", "2"},
                                  {{"BUILDKITE_JOB_CONTEXT_DIR", ""}});
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_EQ(opts->job_context_dir, "/workspace");
}

TEST(cli, command_line_wins_over_env) {
  env_map env = {{"BUILDKITE_CONTAINER_COUNT", "4"},
                 {"BUILDKITE_JOB_CONTEXT_DIR", "/env-ctx"},
                 {"BATON_SOCKET", "/env.sock"},
                 {"BUILDKITE_KUBERNETES_CONTAINER_START_TIMEOUT", "90s"},
                 {"BUILDKITE_CANCEL_GRACE_PERIOD", "1m"}};
  auto opts = parse_agent_options(
    {"--containers", "2", "--job-context-dir", "/cli-ctx", "--socket",
     "/cli.sock", "--start-timeout", "0", "--cancel-grace-period", "2s"},
    env);
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_EQ(opts->containers, 2u);
  EXPECT_EQ(opts->job_context_dir, "/cli-ctx");
  EXPECT_EQ(opts->socket, "/cli.sock");
  EXPECT_EQ(opts->start_timeout, caf::timespan{0});
  EXPECT_EQ(opts->cancel_grace_period, caf::timespan{2s});
}

TEST(cli, agent_accepts_the_equals_form) {
  auto opts = parse_agent_options({"--containers=5", "--job-context-dir=/c",
                                   "--env-file=/c/job.env", "--log-file=/c/log",
                                   "--result-file=/c/result.json",
                                   "--lost-timeout=150ms"},
                                  {});
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_EQ(opts->containers, 5u);
  EXPECT_EQ(opts->job_context_dir, "/c");
  EXPECT_EQ(opts->socket, "/c/baton.sock");
  EXPECT_EQ(opts->env_file, "/c/job.env");
  EXPECT_EQ(opts->log_file, "/c/log");
  EXPECT_EQ(opts->result_file, "/c/result.json");
  EXPECT_EQ(opts->lost_timeout, caf::timespan{150ms});
}

TEST(cli, agent_rejects_a_non_numeric_container_count) {
  EXPECT_EQ(error_of(parse_agent_options({"--containers", "abc"}, {})),
            "invalid value 'abc' for --containers: expected a whole number "
            "from 1 to 100000");
}

TEST(cli, agent_rejects_zero_containers) {
  EXPECT_EQ(error_of(parse_agent_options({"--containers", "0"}, {})),
            "invalid value '0' for --containers: expected a whole number "
            "from 1 to 100000");
}

TEST(cli, bad_env_var_value_names_the_variable) {
  auto msg
    = error_of(parse_agent_options({}, {{"BUILDKITE_CONTAINER_COUNT", "-2"}}));
  EXPECT_TRUE(contains(msg, "BUILDKITE_CONTAINER_COUNT")) << msg;
  EXPECT_TRUE(contains(msg, "'-2'")) << msg;
}

TEST(cli, agent_rejects_a_bad_duration) {
  EXPECT_EQ(error_of(parse_agent_options(
              {"--containers", "1", "--start-timeout", "5x"}, {})),
            "invalid value '5x' for --start-timeout: expected a duration "
            "such as 150ms, 30s, 5m or 1h30m");
  auto msg = error_of(parse_agent_options(
    {"--containers", "1"}, {{"BUILDKITE_CANCEL_GRACE_PERIOD", "soon"}}));
  EXPECT_TRUE(contains(msg, "'soon'")) << msg;
  EXPECT_TRUE(contains(msg, "BUILDKITE_CANCEL_GRACE_PERIOD")) << msg;
}

TEST(cli, agent_rejects_a_zero_lost_timeout) {
  EXPECT_EQ(error_of(parse_agent_options(
              {"--containers", "1", "--lost-timeout", "0"}, {})),
            "invalid value '0' for --lost-timeout: expected a positive "
            "duration");
}

TEST(cli, agent_needs_containers) {
  EXPECT_EQ(error_of(parse_agent_options({}, {})),
            "baton agent needs --containers (or BUILDKITE_CONTAINER_COUNT)");
}

TEST(cli, unknown_option_is_named) {
  EXPECT_EQ(error_of(parse_agent_options({"--containers", "1", "--bogus"}, {})),
            "unknown option '--bogus' for baton agent (see baton agent "
            "--help)");
  auto msg = error_of(parse_agent_options({"--bogus=1", "--containers=1"}, {}));
  EXPECT_TRUE(contains(msg, "'--bogus'")) << msg;
}

TEST(cli, missing_value_at_the_end_is_named) {
  EXPECT_EQ(
    error_of(parse_agent_options({"--containers", "1", "--socket"}, {})),
    "option --socket needs a value (PATH)");
}

TEST(cli, agent_takes_no_positional_arguments_or_command) {
  auto msg = error_of(parse_agent_options({"--containers", "1", "extra"}, {}));
  EXPECT_TRUE(contains(msg, "'extra'")) << msg;
  msg = error_of(parse_agent_options({"--containers", "1", "--", "ls"}, {}));
  EXPECT_EQ(msg, "baton agent takes no command after --");
}

TEST(cli, agent_rpc_socket_can_move_or_be_disabled) {
  auto opts = parse_agent_options({"--containers", "1"},
                                  {{"BUILDKITE_JOB_CONTEXT_DIR", "/ctx"},
                                   {"BATON_RPC_SOCKET", "/run/bk.sock"}});
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_EQ(opts->rpc_socket, "/run/bk.sock");
  opts = parse_agent_options({"--containers", "1", "--rpc-socket", "none"}, {});
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_EQ(opts->rpc_socket, "");
  EXPECT_EQ(
    error_of(parse_agent_options(
      {"--containers", "1", "--socket", "/s", "--rpc-socket", "/s"}, {})),
    "invalid value '/s' for --rpc-socket: expected another path "
    "than --socket (/s)");
}

// -- bootstrap ----------------------------------------------------------------

TEST(cli, bootstrap_protocol_picks_the_default_socket) {
  auto opts = parse_bootstrap_options(
    {"--container-id", "0", "--protocol", "buildkite"}, {});
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_EQ(opts->protocol, dialect::buildkite);
  EXPECT_EQ(opts->socket, "/workspace/buildkite.sock");
  opts = parse_bootstrap_options({"--container-id", "0"},
                                 {{"BATON_PROTOCOL", "buildkite"},
                                  {"BATON_SOCKET", "/x.sock"}});
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_EQ(opts->protocol, dialect::buildkite);
  EXPECT_EQ(opts->socket, "/x.sock");
  opts = parse_bootstrap_options({"--container-id", "0"}, {});
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_EQ(opts->protocol, dialect::baton);
  EXPECT_EQ(error_of(parse_bootstrap_options({"--container-id", "0"},
                                             {{"BATON_PROTOCOL", "grpc"}})),
            "invalid value 'grpc' for BATON_PROTOCOL: expected baton or "
            "buildkite");
}

TEST(cli, bootstrap_defaults) {
  auto opts = parse_bootstrap_options({"--container-id", "0"}, {});
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_EQ(opts->container_id, 0);
  EXPECT_EQ(opts->job_context_dir, "/workspace");
  EXPECT_EQ(opts->socket, "/workspace/baton.sock");
  EXPECT_EQ(opts->connect_timeout, caf::timespan{2min});
  EXPECT_TRUE(opts->command.empty());
}

TEST(cli, bootstrap_options_fall_back_to_env_vars) {
  env_map env = {{"BUILDKITE_CONTAINER_ID", "2"},
                 {"BUILDKITE_JOB_CONTEXT_DIR", "/ctx"},
                 {"BUILDKITE_KUBERNETES_BOOTSTRAP_CONNECTION_TIMEOUT", "5s"}};
  auto opts = parse_bootstrap_options({}, env);
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_EQ(opts->container_id, 2);
  EXPECT_EQ(opts->job_context_dir, "/ctx");
  EXPECT_EQ(opts->socket, "/ctx/baton.sock");
  EXPECT_EQ(opts->connect_timeout, caf::timespan{5s});
  env["BATON_SOCKET"] = "/elsewhere.sock";
  opts = parse_bootstrap_options({}, env);
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_EQ(opts->socket, "/elsewhere.sock");
}

TEST(cli, bootstrap_command_line_wins_over_env) {
  env_map env = {{"BUILDKITE_CONTAINER_ID", "2"},
                 {"BUILDKITE_KUBERNETES_BOOTSTRAP_CONNECTION_TIMEOUT", "5s"},
                 {"BATON_SOCKET", "/env.sock"}};
  auto opts = parse_bootstrap_options({"--container-id=7", "--connect-timeout",
                                       "1m30s", "--socket=/cli.sock"},
                                      env);
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_EQ(opts->container_id, 7);
  EXPECT_EQ(opts->connect_timeout, caf::timespan{90s});
  EXPECT_EQ(opts->socket, "/cli.sock");
}

TEST(cli, double_dash_collects_the_bootstrap_command) {
  auto opts = parse_bootstrap_options(
    {"--container-id", "1", "--", "sh", "-c", "echo --bogus", "--help"}, {});
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_EQ(opts->command, (args{"sh", "-c", "echo --bogus", "--help"}));
}

TEST(cli, bootstrap_needs_a_container_id) {
  EXPECT_EQ(error_of(parse_bootstrap_options({"--", "true"}, {})),
            "baton bootstrap needs --container-id (or "
            "BUILDKITE_CONTAINER_ID)");
  auto msg = error_of(parse_bootstrap_options({"--container-id", "x1"}, {}));
  EXPECT_TRUE(contains(msg, "'x1'")) << msg;
  EXPECT_TRUE(contains(msg, "--container-id")) << msg;
}

TEST(cli, bootstrap_rejects_a_bad_connect_timeout) {
  auto msg = error_of(parse_bootstrap_options(
    {"--container-id", "0"},
    {{"BUILDKITE_KUBERNETES_BOOTSTRAP_CONNECTION_TIMEOUT", "2 minutes"}}));
  EXPECT_EQ(msg, "invalid value '2 minutes' for "
                 "BUILDKITE_KUBERNETES_BOOTSTRAP_CONNECTION_TIMEOUT: expected "
                 "a duration such as 150ms, 30s, 5m or 1h30m");
}

TEST(cli, bootstrap_missing_value_is_named) {
  EXPECT_EQ(error_of(parse_bootstrap_options({"--container-id"}, {})),
            "option --container-id needs a value (N)");
}

// -- pod ----------------------------------------------------------------------

TEST(cli, pod_defaults) {
  auto opts = parse_pod_options({"spec.json"}, {});
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_EQ(opts->spec_file, "spec.json");
  EXPECT_FALSE(opts->seed.has_value());
  EXPECT_EQ(opts->log_file, "");
  EXPECT_EQ(opts->result_file, "");
  EXPECT_FALSE(opts->keep);
}

TEST(cli, pod_options) {
  auto opts
    = parse_pod_options({"--seed", "42", "spec.json", "--keep",
                         "--log-file=/tmp/log", "--result-file", "/tmp/r.json"},
                        {});
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_EQ(opts->spec_file, "spec.json");
  EXPECT_EQ(opts->seed, std::optional<uint64_t>{42});
  EXPECT_EQ(opts->log_file, "/tmp/log");
  EXPECT_EQ(opts->result_file, "/tmp/r.json");
  EXPECT_TRUE(opts->keep);
  opts = parse_pod_options({"spec.json", "--keep=false", "--seed=0"}, {});
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_FALSE(opts->keep);
  EXPECT_EQ(opts->seed, std::optional<uint64_t>{0});
}

TEST(cli, pod_rejects_a_negative_seed) {
  EXPECT_EQ(error_of(parse_pod_options({"spec.json", "--seed", "-1"}, {})),
            "invalid value '-1' for --seed: expected a whole number from 0 "
            "to 9223372036854775807");
}

TEST(cli, pod_rejects_a_bad_keep_value) {
  auto msg = error_of(parse_pod_options({"spec.json", "--keep=maybe"}, {}));
  EXPECT_TRUE(contains(msg, "'maybe'")) << msg;
  EXPECT_TRUE(contains(msg, "--keep")) << msg;
}

TEST(cli, pod_needs_a_spec_file) {
  EXPECT_EQ(error_of(parse_pod_options({"--seed", "1"}, {})),
            "baton pod needs a pod spec file (see baton pod --help)");
}

TEST(cli, pod_takes_one_spec_file) {
  auto msg = error_of(parse_pod_options({"a.json", "b.json"}, {}));
  EXPECT_TRUE(contains(msg, "'b.json'")) << msg;
}

// -- help ---------------------------------------------------------------------

TEST(cli, wants_help) {
  EXPECT_TRUE(wants_help({"--help"}));
  EXPECT_TRUE(wants_help({"--containers", "1", "-h"}));
  EXPECT_FALSE(wants_help({}));
  EXPECT_FALSE(wants_help({"--containers", "1"}));
  EXPECT_FALSE(wants_help({"--container-id", "1", "--", "cmd", "--help"}));
}

TEST(cli, agent_help_mentions_every_option_env_var_and_default) {
  auto help = agent_help();
  for (auto part : {"--containers",
                    "BUILDKITE_CONTAINER_COUNT",
                    "--job-context-dir",
                    "BUILDKITE_JOB_CONTEXT_DIR",
                    "/workspace",
                    "--socket",
                    "BATON_SOCKET",
                    "--rpc-socket",
                    "BATON_RPC_SOCKET",
                    "buildkite.sock",
                    "--env-file",
                    "--log-file",
                    "--result-file",
                    "--start-timeout",
                    "BUILDKITE_KUBERNETES_CONTAINER_START_TIMEOUT",
                    "5m0s",
                    "--lost-timeout",
                    "30s",
                    "--cancel-grace-period",
                    "BUILDKITE_CANCEL_GRACE_PERIOD",
                    "15s",
                    "--help"})
    EXPECT_TRUE(contains(help, part)) << part << " missing from:\n" << help;
}

TEST(cli, bootstrap_help_mentions_every_option_env_var_and_default) {
  auto help = bootstrap_help();
  for (auto part :
       {"--container-id", "BUILDKITE_CONTAINER_ID", "--job-context-dir",
        "BUILDKITE_JOB_CONTEXT_DIR", "/workspace", "--socket", "BATON_SOCKET",
        "--protocol", "BATON_PROTOCOL", "--connect-timeout",
        "BUILDKITE_KUBERNETES_BOOTSTRAP_CONNECTION_TIMEOUT", "2m0s", "--help"})
    EXPECT_TRUE(contains(help, part)) << part << " missing from:\n" << help;
}

TEST(cli, pod_help_mentions_every_option) {
  auto help = pod_help();
  for (auto part : {"SPEC.json", "--seed", "--log-file", "--result-file",
                    "--keep", "--help"})
    EXPECT_TRUE(contains(help, part)) << part << " missing from:\n" << help;
}

TEST(cli, main_help_lists_the_commands) {
  auto help = main_help();
  for (auto part : {"agent", "bootstrap", "pod", "version"})
    EXPECT_TRUE(contains(help, part)) << part;
}

TEST(cli, manifest_kind_and_ttl) {
  auto opts = parse_manifest_options({"pod.json"}, {});
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_FALSE(opts->kind.job);
  opts = parse_manifest_options(
    {"pod.json", "--kind", "job", "--ttl-seconds-after-finished", "600"}, {});
  ASSERT_TRUE(opts) << render(opts.error());
  EXPECT_TRUE(opts->kind.job);
  EXPECT_EQ(opts->kind.ttl_seconds_after_finished, 600);
  EXPECT_EQ(
    error_of(parse_manifest_options({"pod.json", "--kind", "cron"}, {})),
    "invalid value 'cron' for --kind: expected pod or job");
  EXPECT_EQ(error_of(parse_manifest_options(
              {"pod.json", "--ttl-seconds-after-finished", "60"}, {})),
            "--ttl-seconds-after-finished needs --kind job");
  EXPECT_EQ(
    error_of(parse_manifest_options({"pod.json", "--kind", "job",
                                     "--ttl-seconds-after-finished", "soon"},
                                    {})),
    "invalid value 'soon' for --ttl-seconds-after-finished: expected "
    "a whole number from 0 to 31536000");
}

TEST(cli, agent_timestamp_lines_from_the_flag_or_buildkites_variable) {
  auto opts = parse_agent_options({"--containers", "1"}, {});
  ASSERT_TRUE(opts);
  EXPECT_FALSE(opts->timestamp_lines);
  opts = parse_agent_options({"--containers", "1", "--timestamp-lines"}, {});
  ASSERT_TRUE(opts);
  EXPECT_TRUE(opts->timestamp_lines);
  opts = parse_agent_options({"--containers", "1"},
                             {{"BUILDKITE_TIMESTAMP_LINES", "true"}});
  ASSERT_TRUE(opts);
  EXPECT_TRUE(opts->timestamp_lines);
  EXPECT_EQ(error_of(parse_agent_options(
              {"--containers", "1"}, {{"BUILDKITE_TIMESTAMP_LINES", "yes"}})),
            "invalid value 'yes' for BUILDKITE_TIMESTAMP_LINES: expected true "
            "or false");
}

TEST(cli, pod_is_quiet_unless_verbose) {
  auto opts = parse_pod_options({"pod.json"}, {});
  ASSERT_TRUE(opts);
  EXPECT_FALSE(opts->verbose);
  opts = parse_pod_options({"pod.json", "--verbose"}, {});
  ASSERT_TRUE(opts);
  EXPECT_TRUE(opts->verbose);
}

// -- the README ---------------------------------------------------------------

namespace {

/// The options of each `### \`baton NAME` section's table in the README:
/// name to environment variable ("" for none).
std::map<std::string, std::map<std::string, std::string>> readme_options() {
  std::ifstream in{README_FILE};
  EXPECT_TRUE(in) << "cannot read " << README_FILE;
  std::map<std::string, std::map<std::string, std::string>> result;
  std::string section;
  bool env_column = false;
  const std::regex heading{"^### `baton ([a-z]+)"};
  const std::regex option{"`--([a-z][a-z-]*)"};
  const std::regex variable{"`([A-Z][A-Z0-9_]*)`"};
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, heading)) {
      section = m[1];
      continue;
    }
    if (line.rfind("## ", 0) == 0) {
      section.clear();
      continue;
    }
    if (section.empty() || line.rfind("| ", 0) != 0)
      continue;
    if (line.rfind("| option |", 0) == 0) {
      env_column = line.find("| env var |") != std::string::npos;
      continue;
    }
    // The first cell names the options, the second their variable.
    auto second = line.find(" | ", 2);
    if (second == std::string::npos)
      continue;
    auto first_cell = line.substr(0, second);
    auto rest = line.substr(second + 3);
    auto env_cell = rest.substr(0, rest.find(" |"));
    std::string env;
    if (env_column && std::regex_search(env_cell, m, variable))
      env = m[1];
    for (auto i = std::sregex_iterator(first_cell.begin(), first_cell.end(),
                                       option);
         i != std::sregex_iterator{}; ++i)
      result[section][(*i)[1]] = env;
  }
  return result;
}

/// The variables of the README's table of step settings.
std::set<std::string> readme_step_settings() {
  std::ifstream in{README_FILE};
  EXPECT_TRUE(in) << "cannot read " << README_FILE;
  std::set<std::string> result;
  const std::regex row{"^\\| `([A-Z][A-Z0-9_]*)` \\|"};
  bool in_table = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| variable | meaning |", 0) == 0) {
      in_table = true;
      continue;
    }
    if (line.rfind("| ", 0) != 0)
      in_table = false;
    std::smatch m;
    if (in_table && std::regex_search(line, m, row))
      result.insert(m[1]);
  }
  return result;
}

} // namespace

// The help's prose is wrapped by hand, so it is checked against the table
// of step settings rather than made from it.
TEST(cli, the_help_and_the_readme_name_every_step_setting) {
  auto flat = [](std::string text) {
    std::replace(text.begin(), text.end(), '\n', ' ');
    return text;
  };
  auto bootstrap = flat(bootstrap_help());
  auto manifest = flat(manifest_help());
  std::set<std::string> variables;
  for (auto& setting : step_setting_table()) {
    EXPECT_TRUE(
      contains(bootstrap, std::string{setting.env} + " (" + setting.help + ")"))
      << setting.env << " missing from:\n"
      << bootstrap;
    EXPECT_TRUE(contains(manifest, setting.env)) << setting.env;
    EXPECT_TRUE(contains(manifest, setting.spec_key)) << setting.spec_key;
    variables.insert(setting.env);
  }
  EXPECT_EQ(readme_step_settings(), variables)
    << "the README's table of step settings differs from the table in "
       "job/steps.cpp";
}

TEST(cli, the_readme_documents_every_option_of_every_subcommand) {
  auto readme = readme_options();
  for (auto& cmd : subcommands()) {
    auto options = cmd.options();
    if (options.empty())
      continue;
    auto& documented = readme[cmd.name];
    std::map<std::string, std::string> actual;
    for (auto& x : options)
      actual[x.name] = x.env;
    EXPECT_EQ(documented, actual) << "the README's table for baton " << cmd.name
                                  << " differs from its --help";
  }
}

TEST(cli, the_main_help_lists_every_subcommand) {
  auto help = main_help();
  for (auto& cmd : subcommands())
    EXPECT_TRUE(contains(help, std::string{"\n  "} + cmd.name + " "))
      << cmd.name << " missing from:\n"
      << help;
  EXPECT_TRUE(contains(help, "  agent       the coordinator, in the agent "
                             "container: hands out the job\n              "
                             "environment, orders the containers"))
    << help;
}
