// Job steps beyond the reference, end to end with real processes: soft
// failures, always-steps, timeouts, outputs passed to later steps,
// timestamped lines, late containers, and the example CI pod.

#include "integration/harness.hpp"

#include <nlohmann/json.hpp>

#include <csignal>
#include <regex>

#include <sys/stat.h>

using namespace baton::integration;
using nlohmann::json;

namespace {

json result_of(const job& j) {
  return json::parse(read_file(j.result_file()));
}

/// Every line of `text`.
std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> result;
  size_t pos = 0;
  for (auto nl = text.find('\n'); nl != std::string::npos;
       nl = text.find('\n', pos)) {
    result.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  if (pos < text.size())
    result.push_back(text.substr(pos));
  return result;
}

} // namespace

TEST(steps, a_soft_failure_lets_the_next_step_run_and_the_job_pass) {
  job j{2};
  j.start_agent();
  auto& flaky = j.start_bootstrap(0, "echo flaky; exit 3",
                                  {{"BATON_SOFT_FAIL", "1,3"}});
  j.start_bootstrap(1, "echo next: $BATON_JOB_RESULT $BATON_JOB_STATUS");
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  // The container itself still exits with its command's status.
  EXPECT_EQ(flaky.wait(), 3);
  EXPECT_NE(j.log().find("next: passed 0\n"), std::string::npos) << j.log();
  auto result = result_of(j);
  EXPECT_EQ(result["status"], 0);
  EXPECT_EQ(result["result"], "passed");
  EXPECT_EQ(result["containers"][0]["soft_failed"], true);
  EXPECT_EQ(result["containers"][0]["exit_status"], 3);
}

TEST(steps, a_soft_fail_list_that_does_not_match_fails_the_job) {
  job j{2};
  j.start_agent();
  j.start_bootstrap(0, "exit 2", {{"BATON_SOFT_FAIL", "1,3"}});
  auto& next = j.start_bootstrap(1, "touch " + j.dir / "ran");
  EXPECT_EQ(j.agent->wait(), 2) << j.agent->err();
  EXPECT_EQ(next.wait(), 1);
  EXPECT_FALSE(file_exists(j.dir / "ran"));
  EXPECT_EQ(result_of(j)["containers"][0]["soft_failed"], false);
}

TEST(steps, after_a_failure_only_always_steps_run) {
  job j{4};
  j.start_agent();
  j.start_bootstrap(0, "echo building; exit 2");
  auto& skipped = j.start_bootstrap(1, "touch " + j.dir / "ran-1");
  j.start_bootstrap(2, "echo report: $BATON_JOB_RESULT $BATON_JOB_STATUS",
                    {{"BATON_ALWAYS", "true"}});
  auto& last = j.start_bootstrap(3, "touch " + j.dir / "ran-3");
  EXPECT_EQ(j.agent->wait(), 2) << j.agent->err();
  EXPECT_EQ(skipped.wait(), 1);
  EXPECT_EQ(last.wait(), 1);
  EXPECT_FALSE(file_exists(j.dir / "ran-1"));
  EXPECT_FALSE(file_exists(j.dir / "ran-3"));
  expect_in_order(
    j.log(), {"building\n",
              "~~~ Skipping container 1 (container-1): an earlier step failed "
              "(BATON_ALWAYS=true would run it anyway)\n",
              "~~~ Running container 2 (container-2):", "report: failed 2\n",
              "~~~ Skipping container 3 (container-3):"});
  auto result = result_of(j);
  EXPECT_EQ(result["status"], 2);
  EXPECT_EQ(result["result"], "failed");
  EXPECT_EQ(result["containers"][1]["state"], "skipped");
  EXPECT_EQ(result["containers"][2]["state"], "exited");
  EXPECT_EQ(result["containers"][2]["always"], true);
  EXPECT_EQ(result["containers"][3]["state"], "skipped");
}

TEST(steps, after_an_interrupt_the_always_steps_run_in_the_grace_period) {
  job j{3};
  j.start_agent({"--cancel-grace-period", "10s"});
  auto ready = j.dir / "ready";
  j.start_bootstrap(0, "trap 'echo trapped; exit 143' TERM; touch " + ready
                         + "; while :; do sleep 0.05; done");
  auto& waiting = j.start_bootstrap(1, "touch " + j.dir / "ran-1");
  j.start_bootstrap(2, "echo cleanup: $BATON_JOB_RESULT $BATON_JOB_STATUS",
                    {{"BATON_ALWAYS", "true"}});
  ASSERT_TRUE(wait_until([&] { return file_exists(ready); }));
  j.agent->signal(SIGTERM);
  EXPECT_EQ(j.agent->wait(), 143) << j.agent->err();
  EXPECT_EQ(waiting.wait(), 1);
  EXPECT_FALSE(file_exists(j.dir / "ran-1"));
  expect_in_order(j.log(),
                  {"trapped\n", "~~~ Running container 2 (container-2):",
                   "cleanup: cancelled 143\n"});
  EXPECT_EQ(result_of(j)["result"], "cancelled");
}

TEST(steps, a_step_past_its_timeout_is_cancelled_and_fails) {
  job j{2};
  j.start_agent();
  auto& slow = j.start_bootstrap(
    0, "trap 'echo cancelled; exit 143' TERM; while :; do sleep 0.05; done",
    {{"BATON_TIMEOUT", "300ms"}});
  j.start_bootstrap(1, "touch " + j.dir / "ran-1");
  EXPECT_EQ(j.agent->wait(), 143) << j.agent->err();
  EXPECT_EQ(slow.wait(), 143);
  expect_in_order(j.log(), {"baton: the command ran past its BATON_TIMEOUT "
                            "of 300ms; sending TERM",
                            "cancelled\n"});
  auto result = result_of(j);
  EXPECT_EQ(result["containers"][0]["timed_out"], true);
  EXPECT_EQ(result["reason"],
            "container 0 (container-0) exited with status 143 (timed "
            "out)");
  EXPECT_FALSE(file_exists(j.dir / "ran-1"));
}

TEST(steps, a_timeout_that_is_soft_failed_lets_the_job_pass) {
  job j{2};
  j.start_agent();
  j.start_bootstrap(0, "exec sleep 30",
                    {{"BATON_TIMEOUT", "200ms"}, {"BATON_SOFT_FAIL", "true"}});
  j.start_bootstrap(1, "echo after the timeout");
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  EXPECT_NE(j.log().find("after the timeout\n"), std::string::npos);
  auto result = result_of(j);
  EXPECT_EQ(result["containers"][0]["timed_out"], true);
  EXPECT_EQ(result["containers"][0]["soft_failed"], true);
}

TEST(steps, outputs_reach_later_steps_and_secrets_among_them_are_redacted) {
  job j{3};
  j.start_agent();
  j.start_bootstrap(0, "echo early: ${VERSION:-none}");
  // Container 2 registers before container 1 passes its outputs on.
  j.start_bootstrap(2, "echo \"later: $VERSION [$NOTES] $DEPLOY_TOKEN\"");
  // The token is computed, as a real step's would be: its value is in no
  // command line.
  j.start_bootstrap(1, "echo VERSION=1.4.2 >> \"$BATON_ENV\"; "
                       "printf 'NOTES<<EOF\\nline one\\nline two\\nEOF\\n' "
                       ">> \"$BATON_ENV\"; "
                       "echo DEPLOY_TOKEN=dt-$(echo 5e3c91ab7) >> "
                       "\"$BATON_ENV\"");
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  auto log = j.log();
  EXPECT_NE(log.find("early: none\n"), std::string::npos) << log;
  EXPECT_NE(log.find("later: 1.4.2 [line one\nline two] [REDACTED]\n"),
            std::string::npos)
    << log;
  EXPECT_EQ(log.find("dt-5e3c91ab7"), std::string::npos);
  auto result = result_of(j);
  EXPECT_EQ(result["containers"][1]["outputs"],
            json({"VERSION", "NOTES", "DEPLOY_TOKEN"}));
  // Names only, never values.
  EXPECT_EQ(read_file(j.result_file()).find("dt-5e3c91ab7"), std::string::npos);
}

TEST(steps, a_bad_baton_env_fails_the_step_and_names_the_line) {
  job j{2};
  j.start_agent();
  auto& bad = j.start_bootstrap(0, "echo 'TOKEN<<EOF' >> \"$BATON_ENV\"; "
                                   "echo secret-$(echo value) >> "
                                   "\"$BATON_ENV\"");
  j.start_bootstrap(1, "true");
  EXPECT_EQ(j.agent->wait(), 1) << j.agent->err();
  EXPECT_EQ(bad.wait(), 1);
  auto log = j.log();
  EXPECT_NE(log.find("baton: $BATON_ENV line 1: the value of TOKEN<<EOF never "
                     "ends: no line 'EOF' follows\n"),
            std::string::npos)
    << log;
  EXPECT_EQ(log.find("secret-value"), std::string::npos);
}

TEST(steps, bad_settings_are_named_and_fail_the_step) {
  for (auto [name, value, expected] :
       {std::tuple{"BATON_SOFT_FAIL", "yes",
                   "expected true, false or a comma list of exit statuses "
                   "from 1 to 255 (such as 1,3)"},
        std::tuple{"BATON_ALWAYS", "maybe", "expected true or false"},
        std::tuple{"BATON_TIMEOUT", "5 minutes",
                   "expected a duration such as 90s, 10m or 1h30m"}}) {
    job j{1};
    j.start_agent();
    auto& b = j.start_bootstrap(0, "touch " + j.dir / "ran", {{name, value}});
    EXPECT_EQ(b.wait(), 2) << name;
    EXPECT_EQ(j.agent->wait(), 2) << j.agent->err();
    EXPECT_FALSE(file_exists(j.dir / "ran"));
    auto error = std::string{"invalid "} + name + "='" + value
                 + "': " + expected;
    EXPECT_NE(j.log().find("baton: " + error + "; the command does not run\n"),
              std::string::npos)
      << j.log();
    EXPECT_NE(b.err().find(error), std::string::npos) << b.err();
  }
}

TEST(steps, timestamped_lines_carry_the_time_they_were_read) {
  job j{1};
  j.start_agent({"--timestamp-lines"});
  auto before = std::time(nullptr);
  auto& b = j.start_bootstrap(0, "echo one; printf 'two '; sleep 0.2; "
                                 "echo halves; printf 'no newline'");
  EXPECT_EQ(b.wait(), 0) << b.err();
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  auto after = std::time(nullptr);
  auto lines = lines_of(j.log());
  ASSERT_EQ(lines.size(), 5u) << j.log();
  std::regex stamp{R"((\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d{3}Z (.*))"};
  std::vector<std::string> texts;
  for (auto& line : lines) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, stamp)) << line;
    std::tm tm{};
    strptime(m[1].str().c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    auto t = timegm(&tm);
    EXPECT_GE(t, before);
    EXPECT_LE(t, after);
    texts.push_back(m[2]);
  }
  EXPECT_EQ(texts[1], "one");
  // A line split across writes 200 ms apart gets one stamp.
  EXPECT_EQ(texts[2], "two halves");
  EXPECT_EQ(texts[3], "no newline");
  // The agent's step line, on a line of its own, is stamped too.
  EXPECT_EQ(texts[4], "~~~ Container 0 (container-0) passed after 0.00s");
}

TEST(steps, a_bootstrap_started_after_the_job_ended_exits_at_once) {
  job j{1};
  j.start_agent();
  j.start_bootstrap(0, "true");
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  auto marker = j.dir / "baton.done";
  ASSERT_TRUE(file_exists(marker));
  EXPECT_EQ(json::parse(read_file(marker))["status"], 0);
  auto t0 = std::chrono::steady_clock::now();
  auto& late = j.start_bootstrap(1, "touch " + j.dir / "ran");
  EXPECT_EQ(late.wait(), 1);
  auto took = std::chrono::steady_clock::now() - t0;
  // Within 100 ms of its start, far from its connect timeout (2 min).
  EXPECT_LT(took, 2s);
  EXPECT_FALSE(file_exists(j.dir / "ran"));
  EXPECT_NE(late.err().find("skipping container 1: the job is over"),
            std::string::npos)
    << late.err();
}

TEST(steps, a_bootstrap_waiting_for_the_socket_sees_the_job_end) {
  job j{1};
  // This bootstrap waits on a socket no agent will create, in the job
  // context directory the agent leaves its marker in.
  auto& waiting = j.start_bootstrap(
    1, "true", {{"BATON_SOCKET", j.dir / "elsewhere.sock"}});
  j.start_agent();
  j.start_bootstrap(0, "true");
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  EXPECT_EQ(waiting.wait(5s), 1);
  EXPECT_NE(waiting.err().find("the job is over"), std::string::npos)
    << waiting.err();
}

TEST(steps, a_new_agent_removes_the_marker_of_an_earlier_job) {
  job j{1};
  write_file(j.dir / "baton.done", R"({"status": 1})");
  j.start_agent();
  ASSERT_TRUE(j.wait_listening());
  EXPECT_FALSE(file_exists(j.dir / "baton.done"));
  auto& b = j.start_bootstrap(0, "echo ran");
  EXPECT_EQ(b.wait(), 0) << b.err();
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
}

TEST(steps, the_example_ci_pod_passes_its_version_and_soft_fails) {
  temp_dir dir;
  process pod{{baton_exe(), "pod", EXAMPLES_DIR "/ci-pod.json", "--seed", "3",
               "--result-file", dir / "result.json"},
              dir / "pod"};
  EXPECT_EQ(pod.wait(), 0) << pod.err();
  // Quiet: the job log only.
  EXPECT_EQ(pod.err(), "");
  auto out = pod.out();
  expect_in_order(out, {"checkout: branch main\n", "build: built version 1.4.2",
                        "build: docker login --password [REDACTED]\n",
                        "test: testing version 1.4.2\n",
                        "report: version 1.4.2, job passed (status 0)\n"});
  auto result = json::parse(read_file(dir / "result.json"));
  EXPECT_EQ(result["status"], 0);
  EXPECT_EQ(result["containers"][1]["outputs"], json({"VERSION"}));
  EXPECT_EQ(result["containers"][2]["soft_failed"], true);
  EXPECT_EQ(result["containers"][3]["always"], true);
}

TEST(steps, a_pod_shows_info_lines_only_when_verbose) {
  temp_dir dir;
  process verbose{{baton_exe(), "pod", EXAMPLES_DIR "/hello-pod.json",
                   "--verbose"},
                  dir / "verbose"};
  EXPECT_EQ(verbose.wait(), 0) << verbose.err();
  EXPECT_NE(verbose.err().find("info: runner: container 0 registered"),
            std::string::npos)
    << verbose.err();
  process quiet{{baton_exe(), "pod", EXAMPLES_DIR "/hello-pod.json"},
                dir / "quiet"};
  EXPECT_EQ(quiet.wait(), 0);
  EXPECT_EQ(quiet.err(), "");
}

// The pod's timeout runs from its start, so it must leave the containers
// time to start and register, even under a sanitizer on a loaded machine
// (with 500 ms it once passed before any had registered: then nothing ran
// and nothing is cleaned up, by design).
TEST(steps, a_pod_past_its_timeout_is_cancelled) {
  temp_dir dir;
  write_file(dir / "spec.json",
             R"({"timeout": "2s", "containers": [
                  {"name": "slow", "command": ["sh", "-c",
                   "trap 'echo cancelled; exit 143' TERM; while :; do sleep 0.05; done"]},
                  {"name": "report", "always": true,
                   "command": ["sh", "-c", "echo report: $BATON_JOB_RESULT"]}]})");
  process pod{{baton_exe(), "pod", dir / "spec.json"}, dir / "pod"};
  EXPECT_EQ(pod.wait(), 143) << pod.err();
  expect_in_order(pod.out(), {"cancelled\n", "report: cancelled\n"});
  EXPECT_NE(pod.err().find("the job ran past its timeout of 2s; "
                           "cancelling it"),
            std::string::npos)
    << pod.err();
}

// -- why each step ended ---------------------------------------------------

TEST(outcome, a_command_killed_by_a_signal_is_signaled) {
  job j{1};
  j.start_agent({"--container-names", "crash"});
  // The shell kills itself: waitpid says SIGSEGV.
  j.start_bootstrap(0, "echo crashing; kill -SEGV $$");
  EXPECT_EQ(j.agent->wait(), 139) << j.agent->err();
  EXPECT_NE(j.log().find("crashing\n~~~ Container 0 (crash) was killed by "
                         "SIGSEGV after 0.00s\n"),
            std::string::npos)
    << j.log();
  auto result = result_of(j);
  auto& c = result["containers"][0];
  EXPECT_EQ(c["name"], "crash");
  EXPECT_EQ(c["reason"], "signaled");
  EXPECT_EQ(c["signal"], "SIGSEGV");
  EXPECT_EQ(c["exit_status"], 139);
  EXPECT_TRUE(c["started_at"].is_string());
  EXPECT_TRUE(c["duration_ms"].is_number());
  EXPECT_EQ(result["reason"],
            "container 0 (crash) exited with status 139 (killed by SIGSEGV)");
}

TEST(outcome, a_command_that_exits_139_itself_failed) {
  job j{1};
  j.start_agent();
  j.start_bootstrap(0, "exit 139");
  EXPECT_EQ(j.agent->wait(), 139) << j.agent->err();
  EXPECT_NE(j.log().find("~~~ Container 0 (container-0) failed with status "
                         "139 after 0.00s\n"),
            std::string::npos)
    << j.log();
  auto result = result_of(j);
  auto& c = result["containers"][0];
  EXPECT_EQ(c["reason"], "failed");
  EXPECT_TRUE(c["signal"].is_null());
}

TEST(outcome, a_timeout_and_a_skip_say_so) {
  job j{2};
  j.start_agent({"--container-names", "slow,after"});
  j.start_bootstrap(0, "sleep 30", {{"BATON_TIMEOUT", "300ms"}});
  j.start_bootstrap(1, "true");
  EXPECT_EQ(j.agent->wait(), 143) << j.agent->err();
  expect_in_order(j.log(), {"~~~ Container 0 (slow) timed out after 300ms\n",
                            "~~~ Skipping container 1 (after): ",
                            "~~~ Container 1 (after) was skipped\n"});
  auto result = result_of(j);
  EXPECT_EQ(result["containers"][0]["reason"], "timed_out");
  EXPECT_EQ(result["containers"][1]["reason"], "skipped");
  EXPECT_TRUE(result["containers"][1]["started_at"].is_null());
  EXPECT_TRUE(result["containers"][1]["duration_ms"].is_null());
}

TEST(outcome, a_container_that_never_connects_is_named) {
  job j{3};
  j.start_agent(
    {"--start-timeout", "1s", "--container-names", "checkout,test,report"});
  j.start_bootstrap(0, "true");
  EXPECT_EQ(j.agent->wait(10s), 255) << j.agent->err();
  auto result = result_of(j);
  EXPECT_EQ(result["reason"], "timed out waiting 1s for all containers to "
                              "connect: 1 (test), 2 (report) never connected");
  EXPECT_EQ(result["containers"][1]["reason"], "never_connected");
  expect_in_order(j.log(), {"~~~ Container 0 (checkout) passed after",
                            "~~~ Container 1 (test) never connected\n",
                            "~~~ Container 2 (report) never connected\n"});
}

TEST(outcome, the_summary_is_stamped_and_redacted_like_every_line) {
  job j{2};
  j.summary = true;
  // A secret that happens to be a container's name: every agent line that
  // names it is redacted too.
  write_file(j.dir / "job.env", "DEPLOY_TOKEN=deploy-prod-7\n");
  j.start_agent({"--timestamp-lines", "--env-file", j.dir / "job.env",
                 "--container-names", "build,deploy-prod-7"});
  j.start_bootstrap(0, "echo built");
  j.start_bootstrap(1, "exit 3");
  EXPECT_EQ(j.agent->wait(), 3) << j.agent->err();
  auto log = read_file(j.log_file());
  EXPECT_EQ(log.find("deploy-prod-7"), std::string::npos) << log;
  auto lines = lines_of(log);
  ASSERT_GE(lines.size(), 3u) << log;
  // Every line stamped, the summary's last three among them. (The columns
  // are aligned before redaction: a redacted name shifts its row.)
  std::regex stamp{R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (.*))"};
  std::vector<std::string> texts;
  for (auto& line : lines) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(line, m, stamp)) << line;
    texts.push_back(m[1]);
  }
  std::regex summary{R"(~~~ Job failed with status 3 after \d+\.\d\ds)"};
  auto n = texts.size();
  EXPECT_TRUE(std::regex_match(texts[n - 3], summary)) << texts[n - 3];
  EXPECT_TRUE(std::regex_match(
    texts[n - 2], std::regex{R"(    0  build +passed +\d+\.\d\ds)"}))
    << texts[n - 2];
  EXPECT_TRUE(std::regex_match(
    texts[n - 1],
    std::regex{R"(    1  \[REDACTED\]  failed with status 3  \d+\.\d\ds)"}))
    << texts[n - 1];
}
