// End to end: real `baton agent` and `baton bootstrap` processes on a real
// socket, asserting on the job log, the result file and exit statuses.

#include "integration/harness.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include <csignal>
#include <random>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>

#include <unistd.h>

using namespace baton::integration;
using nlohmann::json;

namespace {

json result_of(const job& j) {
  return json::parse(read_file(j.result_file()));
}

} // namespace

TEST(job, containers_started_before_the_agent_run_in_id_order) {
  job j{3};
  // Reverse order, and before the agent exists.
  for (int id = 2; id >= 0; --id)
    j.start_bootstrap(id, "echo out-" + std::to_string(id) + "; echo err-"
                            + std::to_string(id) + " >&2");
  j.start_agent();
  ASSERT_EQ(j.agent->wait(), 0) << j.agent->err();
  auto log = j.log();
  expect_in_order(log, {"~~~ Running container 0 (container-0):", "out-0\n",
                        "err-0\n",
                        "~~~ Running container 1 (container-1):", "out-1\n",
                        "~~~ Running container 2 (container-2):", "out-2\n"});
  auto h2 = position(log, "~~~ Running container 2 (container-2):");
  for (auto& b : j.bootstraps) {
    EXPECT_EQ(b->wait(), 0) << b->err();
  }
  // Each container's output also went to its own stdout.
  EXPECT_NE(j.bootstraps[0]->out().find("out-2"), std::string::npos);
  auto result = result_of(j);
  EXPECT_EQ(result["status"], 0);
  EXPECT_EQ(result["interrupted"], false);
  EXPECT_EQ(result["reason"], "every container exited");
  ASSERT_EQ(result["containers"].size(), 3u);
  EXPECT_EQ(result["containers"][2]["state"], "exited");
  // The header and the output are the container's; the step line after
  // them is the agent's.
  EXPECT_EQ(result["containers"][2]["log_bytes"],
            position(log, "~~~ Container 2 (container-2) passed") - h2);
}

TEST(job, a_failing_container_stops_the_job) {
  job j{3};
  // As on Kubernetes, where the agent's log holds warnings only.
  j.start_agent({}, {{"BATON_LOG_LEVEL", "warn"}});
  j.start_bootstrap(0, "echo zero");
  j.start_bootstrap(1, "echo one; exit 3");
  j.start_bootstrap(2, "touch " + j.dir / "ran-2");
  EXPECT_EQ(j.agent->wait(), 3) << j.agent->err();
  EXPECT_EQ(j.bootstraps[1]->wait(), 3);
  // Container 2 never runs: told to shut down, it fails without running.
  EXPECT_NE(j.bootstraps[2]->wait(), 0);
  EXPECT_FALSE(file_exists(j.dir / "ran-2"));
  EXPECT_EQ(j.log().find("~~~ Running container 2"), std::string::npos);
  auto result = result_of(j);
  EXPECT_EQ(result["status"], 3);
  EXPECT_EQ(result["reason"], "container 1 (container-1) exited with status 3");
  EXPECT_EQ(result["containers"][1]["exit_status"], 3);
  EXPECT_NE(j.agent->err().find("warning: job done with status 3: container "
                                "1 (container-1) exited with status 3"),
            std::string::npos)
    << j.agent->err();
}

TEST(job, sigterm_to_the_agent_interrupts_the_running_command) {
  job j{3};
  j.start_agent();
  auto ready = j.dir / "ready";
  j.start_bootstrap(0, "true");
  j.start_bootstrap(1, "trap 'echo trapped; exit 143' TERM; touch " + ready
                         + "; while :; do sleep 0.05; done");
  j.start_bootstrap(2, "touch " + j.dir / "ran-2");
  ASSERT_TRUE(wait_until([&] { return file_exists(ready); }));
  j.agent->signal(SIGTERM);
  EXPECT_EQ(j.agent->wait(), 143) << j.agent->err();
  EXPECT_NE(j.log().find("trapped\n"), std::string::npos) << j.log();
  EXPECT_FALSE(file_exists(j.dir / "ran-2"));
  EXPECT_NE(j.bootstraps[2]->wait(), 0);
  auto result = result_of(j);
  EXPECT_EQ(result["interrupted"], true);
  EXPECT_EQ(result["status"], 143);
  EXPECT_EQ(result["reason"], "job interrupted");
}

TEST(job, sigterm_to_a_bootstrap_is_swallowed) {
  job j{1};
  j.start_agent();
  auto go = j.dir / "go";
  auto& b = j.start_bootstrap(0, shell_wait_for(go) + "; echo finished");
  ASSERT_TRUE(wait_until([&] {
    return j.log().find("~~~ Running container 0") != std::string::npos;
  }));
  b.signal(SIGTERM);
  ASSERT_TRUE(wait_until(
    [&] { return b.err().find("ignoring Terminated") != std::string::npos; }))
    << b.err();
  write_file(go, "");
  EXPECT_EQ(b.wait(), 0);
  EXPECT_EQ(j.agent->wait(), 0);
  EXPECT_NE(j.log().find("finished\n"), std::string::npos);
}

TEST(job, a_killed_bootstrap_is_lost_without_waiting_for_the_timeout) {
  job j{2};
  // The lost timeout is long: only the closed connection can end the job
  // within the test's deadline.
  j.start_agent({"--lost-timeout", "5m"});
  auto pid_file = j.dir / "pid";
  command_reaper reaper{pid_file};
  auto& b = j.start_bootstrap(0, "echo $$ > " + pid_file
                                   + "; echo started; exec sleep 300");
  j.start_bootstrap(1, "true");
  ASSERT_TRUE(
    wait_until([&] { return j.log().find("started\n") != std::string::npos; }));
  b.signal(SIGKILL);
  EXPECT_EQ(j.agent->wait(10s), 255) << j.agent->err();
  auto result = result_of(j);
  EXPECT_EQ(result["status"], -7);
  EXPECT_EQ(result["containers"][0]["state"], "lost");
  EXPECT_EQ(
    result["reason"],
    "container 0 (container-0) lost: connection closed before its exit status");
}

TEST(job, a_killed_agent_makes_the_bootstrap_cancel_its_command) {
  job j{1};
  j.start_agent();
  auto ready = j.dir / "ready";
  auto got = j.dir / "got-term";
  auto& b = j.start_bootstrap(0, "trap 'touch " + got
                                   + "; exit 143' TERM; "
                                     "touch "
                                   + ready + "; while :; do sleep 0.05; done");
  ASSERT_TRUE(wait_until([&] { return file_exists(ready); }));
  j.agent->signal(SIGKILL);
  // Within the cancel signal timeout (10 s) and the cleanup timeout (5 s).
  auto status = b.wait(15s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 143);
  EXPECT_TRUE(file_exists(got));
  EXPECT_NE(b.err().find("lost the connection to the agent"), std::string::npos)
    << b.err();
}

TEST(job, a_command_ignoring_the_cancel_signal_gets_sigkill) {
  job j{1};
  j.start_agent();
  auto ready = j.dir / "ready";
  auto& b = j.start_bootstrap(
    0, "trap '' TERM; touch " + ready + "; while :; do sleep 0.05; done",
    {{"BUILDKITE_CANCEL_SIGNAL_TIMEOUT", "200ms"}});
  ASSERT_TRUE(wait_until([&] { return file_exists(ready); }));
  j.agent->signal(SIGKILL);
  auto status = b.wait(15s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(*status, 128 + SIGKILL);
  EXPECT_NE(b.err().find("sending SIGKILL"), std::string::npos) << b.err();
}

TEST(job, bad_registrations_are_refused_and_the_job_completes) {
  job j{1};
  j.start_agent();
  auto go = j.dir / "go";
  j.start_bootstrap(0, shell_wait_for(go));
  ASSERT_TRUE(wait_until([&] {
    return j.log().find("~~~ Running container 0") != std::string::npos;
  }));
  auto& too_big = j.start_bootstrap(5, "touch " + j.dir / "ran-5");
  EXPECT_EQ(too_big.wait(), 1);
  EXPECT_NE(too_big.err().find("unrecognized client id 5 (this job has "
                               "containers 0 to 0)"),
            std::string::npos)
    << too_big.err();
  auto& dup = j.start_bootstrap(0, "touch " + j.dir / "ran-dup");
  EXPECT_EQ(dup.wait(), 1);
  EXPECT_NE(dup.err().find("client id 0 already registered"), std::string::npos)
    << dup.err();
  write_file(go, "");
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  EXPECT_FALSE(file_exists(j.dir / "ran-5"));
  EXPECT_FALSE(file_exists(j.dir / "ran-dup"));
}

TEST(job, the_job_environment_follows_the_merge_rules) {
  job j{1};
  write_file(j.dir / "job.env", "# the job environment\n"
                                "FOO=bar baz\n"
                                "\n"
                                "PATH=/job/path\n"
                                "HOME=/job/home\n"
                                "BUILDKITE_COMMAND=echo wrong command\n"
                                "KUBERNETES_SERVICE_HOST=10.0.0.1\n"
                                "BUILDKITE_SHELL=/bin/false\n"
                                "BUILDKITE_ENV_FILE=/agent/tmp/job-env-file\n");
  j.start_agent({"--env-file", j.dir / "job.env"});
  // No command after --: the bootstrap runs its own $BUILDKITE_COMMAND with
  // its own shell.
  auto cmd = "echo FOO=$FOO; echo PATH=$PATH; echo HOME=$HOME; "
             "echo K8S=${KUBERNETES_SERVICE_HOST-unset}; "
             "echo ENV_FILE=$BUILDKITE_ENV_FILE; "
             "echo EXEC=$BUILDKITE_KUBERNETES_EXEC";
  auto& b = j.start_bootstrap(0, "",
                              {{"BUILDKITE_COMMAND", cmd},
                               {"BUILDKITE_SHELL", "/bin/sh -c"},
                               {"PATH", "/usr/bin:/bin"},
                               {"HOME", "/container/home"},
                               {"KUBERNETES_SERVICE_HOST", unset}});
  EXPECT_EQ(b.wait(), 0) << b.err();
  EXPECT_EQ(j.agent->wait(), 0);
  auto log = j.log();
  EXPECT_NE(log.find("FOO=bar baz\n"), std::string::npos) << log;
  EXPECT_NE(log.find("PATH=/usr/bin:/bin\n"), std::string::npos) << log;
  EXPECT_NE(log.find("HOME=/container/home\n"), std::string::npos) << log;
  EXPECT_NE(log.find("K8S=unset\n"), std::string::npos) << log;
  EXPECT_NE(log.find("ENV_FILE=" + j.context_dir() + "/job-env-file\n"),
            std::string::npos)
    << log;
  EXPECT_NE(log.find("EXEC=true\n"), std::string::npos) << log;
  EXPECT_EQ(log.find("wrong command"), std::string::npos) << log;
}

TEST(job, fifty_mib_of_random_bytes_arrive_byte_identical) {
  job j{1};
  std::string data(50 * 1024 * 1024, '\0');
  std::mt19937_64 rng{7};
  for (size_t i = 0; i + 8 <= data.size(); i += 8) {
    auto x = rng();
    std::memcpy(&data[i], &x, 8);
  }
  write_file(j.dir / "random.bin", data);
  j.start_agent();
  // In a pty, the default: bytes pass through it unchanged.
  auto& b = j.start_bootstrap(0, "cat " + j.dir / "random.bin");
  EXPECT_EQ(b.wait(60s), 0) << b.err();
  EXPECT_EQ(j.agent->wait(60s), 0) << j.agent->err();
  auto log = read_file(j.log_file());
  auto header_end = log.find('\n');
  ASSERT_NE(header_end, std::string::npos);
  auto data_end = header_end + 1 + data.size();
  EXPECT_TRUE(log.compare(header_end + 1, data.size(), data) == 0)
    << "log of " << log.size() << " bytes differs from the " << data.size()
    << " bytes written";
  // Then the agent's step line, on a line of its own.
  EXPECT_EQ(zero_durations(log.substr(std::min(data_end, log.size()))),
            std::string(data.back() == '\n' ? "" : "\n")
              + "~~~ Container 0 (container-0) passed after 0.00s\n");
  EXPECT_EQ(result_of(j)["containers"][0]["log_bytes"], data_end);
}

// Reads the agent's peak resident memory in KiB.
long peak_rss_kib(pid_t pid) {
  std::istringstream in{read_file("/proc/" + std::to_string(pid) + "/status")};
  for (std::string line; std::getline(in, line);)
    if (line.compare(0, 6, "VmHWM:") == 0)
      return std::stol(line.substr(6));
  return -1;
}

TEST(job, a_slow_job_log_slows_the_command_and_loses_nothing) {
  job j{1};
  auto fifo = j.dir / "log.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  // Our end first, so that the agent's open does not block.
  int rd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(rd, 0);
  // A writer of our own until the agent's is surely open (its first bytes
  // arrived): until then a read would see the end of the stream.
  int wr = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
  ASSERT_GE(wr, 0);
  j.agent = std::make_unique<process>(
    std::vector<std::string>{baton_exe(), "agent", "--containers", "1",
                             "--job-context-dir", j.context_dir(), "--log-file",
                             fifo},
    j.dir / "agent");
  // 64 MiB in 64 KiB writes, the count of writes done kept in a file.
  auto progress = j.dir / "progress";
  auto& b = j.start_bootstrap(
    0, "i=0; while [ $i -lt 1024 ]; do head -c 65536 /dev/zero; i=$((i+1)); "
       "echo $i > "
         + progress + "; done");
  ::fcntl(rd, F_SETFL, 0);
  std::string log;
  std::vector<char> buf(65536);
  auto read_some = [&] {
    auto n = ::read(rd, buf.data(), buf.size());
    if (n > 0)
      log.append(buf.data(), static_cast<size_t>(n));
    return n;
  };
  // The first bytes: the agent's end is open, ours can go.
  ASSERT_GT(read_some(), 0);
  ::close(wr);
  // Now the job log stalls. The command may run ahead of it by the agent's
  // window, the bootstrap's chunk and the kernel's buffers, about 1 MiB,
  // never more: watch for 2 s that it does not (it would write all 64 MiB
  // in a fraction of that if nothing held it back).
  constexpr long bound = 2 * 1024 * 1024;
  auto written = [&] {
    auto text = read_file(progress);
    return text.empty() ? 0L : std::stol(text) * 65536L;
  };
  EXPECT_FALSE(wait_until(
    [&] { return written() > static_cast<long>(log.size()) + bound; }, 2s))
    << "the command ran ahead of the job log: " << written() << " bytes";
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // (A sanitizer's shadow memory and quarantine make RSS meaningless.)
  EXPECT_LT(peak_rss_kib(j.agent->pid()), 32 * 1024);
#endif
  while (read_some() > 0)
    ; // The rest, as fast as it comes.
  ::close(rd);
  EXPECT_EQ(b.wait(), 0);
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  auto header_end = log.find('\n');
  ASSERT_NE(header_end, std::string::npos);
  // The output, then on a line of its own the agent's step line.
  auto step = log.rfind("\n~~~ Container 0 (container-0) passed after ");
  ASSERT_NE(step, std::string::npos);
  EXPECT_EQ(step - header_end - 1, 64u * 1024 * 1024);
  EXPECT_EQ(log.find_first_not_of('\0', header_end + 1), step);
}

TEST(job, a_lone_line_is_not_held_back) {
  job j{1};
  j.start_agent();
  auto go = j.dir / "go";
  // One line, then nothing until the test says so: the line must reach the
  // job log while the command waits.
  // The lines are made by printf so that the header, which shows the
  // command, does not contain them.
  j.start_bootstrap(0, "printf 'A%sB\\n' 1; " + shell_wait_for(go)
                         + "; printf 'A%sB\\n' 2");
  EXPECT_TRUE(
    wait_until([&] { return j.log().find("A1B\n") != std::string::npos; }))
    << j.log();
  EXPECT_EQ(j.log().find("A2B"), std::string::npos);
  write_file(go, "");
  EXPECT_EQ(j.agent->wait(), 0);
  EXPECT_NE(j.log().find("A2B\n"), std::string::npos);
}

TEST(job, secrets_never_reach_the_job_log_or_the_diagnostics) {
  job j{1};
  const std::string token = "ghp_s3cr3tT0kenValue";
  write_file(j.dir / "job.env",
             "GITHUB_TOKEN=" + token + "\nDEPLOY_PASSWORD=hunter2hunter2\n");
  j.start_agent({"--env-file", j.dir / "job.env"},
                {{"BATON_LOG_LEVEL", "trace"}});
  // Whole, split across two writes a moment apart, and at the very end of
  // the output without a newline.
  auto& b = j.start_bootstrap(
    0,
    "echo \"whole $GITHUB_TOKEN.\"; "
    "printf 'split %.8s' \"$GITHUB_TOKEN\"; sleep 0.05; "
    "printf '%s.\\n' \"${GITHUB_TOKEN#????????}\"; "
    "echo \"pw $DEPLOY_PASSWORD\"; printf 'end %s' \"$GITHUB_TOKEN\"",
    {{"BATON_LOG_LEVEL", "trace"}});
  EXPECT_EQ(b.wait(), 0) << b.err();
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  auto log = j.log();
  EXPECT_EQ(log.find(token), std::string::npos) << log;
  EXPECT_EQ(log.find("hunter2hunter2"), std::string::npos) << log;
  EXPECT_NE(log.find("whole [REDACTED].\n"), std::string::npos) << log;
  EXPECT_NE(log.find("split [REDACTED].\n"), std::string::npos) << log;
  EXPECT_NE(log.find("pw [REDACTED]\n"), std::string::npos) << log;
  // The output ends without a newline: the agent's step line starts one.
  const std::string end
    = "end [REDACTED]\n~~~ Container 0 (container-0) passed after 0.00s\n";
  EXPECT_TRUE(log.size() >= end.size()
              && log.compare(log.size() - end.size(), end.size(), end) == 0)
    << log;
  EXPECT_EQ(j.agent->err().find(token), std::string::npos);
  EXPECT_EQ(j.agent->err().find("hunter2"), std::string::npos);
  EXPECT_EQ(b.err().find(token), std::string::npos);
}

TEST(job, an_error_about_a_secret_variable_does_not_show_its_value) {
  job j{1};
  write_file(j.dir / "job.env", "GITHUB_TOKEN ghp_s3cr3tT0kenValue\n");
  auto& agent = j.start_agent({"--env-file", j.dir / "job.env"},
                              {{"BATON_LOG_LEVEL", "trace"}});
  EXPECT_EQ(agent.wait(), 2);
  EXPECT_NE(agent.err().find("line 1: expected KEY=VALUE"), std::string::npos)
    << agent.err();
  EXPECT_EQ(agent.err().find("ghp_s3cr3tT0kenValue"), std::string::npos);
}

TEST(job, a_bootstrap_as_another_uid_connects) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "needs root to switch uids";
  if (::access("/usr/bin/setpriv", X_OK) != 0)
    GTEST_SKIP() << "needs setpriv (util-linux)";
  job j{1};
  j.start_agent();
  auto& b = j.start_bootstrap(0, "id -u", {},
                              {"/usr/bin/setpriv", "--reuid=65534",
                               "--regid=65534", "--clear-groups"});
  EXPECT_EQ(b.wait(), 0) << b.err();
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  EXPECT_NE(j.log().find("\n65534\n"), std::string::npos) << j.log();
}

TEST(job, baton_status_shows_each_container) {
  job j{2};
  j.start_agent({"--container-names", "checkout,integration-tests"});
  auto go = j.dir / "go";
  j.start_bootstrap(0, "echo hello; " + shell_wait_for(go));
  ASSERT_TRUE(
    wait_until([&] { return j.log().find("hello\n") != std::string::npos; }));
  process table{{baton_exe(), "status", "--job-context-dir", j.context_dir()},
                j.dir / "status"};
  EXPECT_EQ(table.wait(), 0) << table.err();
  auto out = table.out();
  EXPECT_NE(out.find("job: running"), std::string::npos) << out;
  // The NAME column is as wide as the longest name.
  EXPECT_NE(out.find("ID   NAME              ROLE     STATE "),
            std::string::npos)
    << out;
  EXPECT_NE(
    out.find("0    checkout          step     connected          baton      -"),
    std::string::npos)
    << out;
  EXPECT_NE(out.find("1    integration-tests step     not_yet_connected"),
            std::string::npos)
    << out;
  process as_json{{baton_exe(), "status", "--json", "--socket", j.socket()},
                  j.dir / "status-json"};
  EXPECT_EQ(as_json.wait(), 0) << as_json.err();
  auto doc = json::parse(as_json.out());
  EXPECT_EQ(doc["containers"][0]["log_bytes"], j.log().size());
  write_file(go, "");
  j.start_bootstrap(1, "true");
  EXPECT_EQ(j.agent->wait(), 0);
}

TEST(cli, baton_status_without_an_agent_says_so) {
  temp_dir dir;
  process status{{baton_exe(), "status", "--job-context-dir", dir.path()},
                 dir / "status"};
  EXPECT_EQ(status.wait(), 1);
  EXPECT_EQ(status.err(), "baton: cannot connect to '" + dir.path()
                            + "/baton.sock': No such file or directory\n");
}

TEST(pod, the_example_pod_runs_in_order) {
  temp_dir dir;
  process pod{{baton_exe(), "pod", EXAMPLES_DIR "/hello-pod.json", "--seed",
               "7"},
              dir / "pod"};
  EXPECT_EQ(pod.wait(), 0) << pod.err();
  expect_in_order(
    pod.out(),
    {"~~~ Running container 0", "checkout: job hello-0001, build 42",
     "~~~ Running container 1", "build: starts after checkout (container 1)",
     "~~~ Running container 2",
     "test: starts after build, running the unit suite"});
}

TEST(pod, a_missing_working_directory_is_created_as_a_runtime_would) {
  temp_dir dir;
  auto work = dir / "work/src";
  write_file(dir / "spec.json",
             R"({"containers": [{"name": "build", "workingDir": ")" + work
               + R"(", "command": ["sh", "-c", "pwd"]}]})");
  process pod{{baton_exe(), "pod", dir / "spec.json", "--no-summary"},
              dir / "pod"};
  EXPECT_EQ(pod.wait(), 0) << pod.err();
  // The spec's name is the container's name; no summary follows.
  EXPECT_EQ(zero_durations(pod.out()),
            "~~~ Running container 0 (build): sh -c pwd\n" + work
              + "\n~~~ Container 0 (build) passed after 0.00s\n");
  // One that cannot be created stops the pod before anything runs.
  write_file(dir / "file", "");
  write_file(dir / "bad.json",
             R"({"containers": [{"name": "build", "workingDir": ")"
               + dir / "file/src" + R"(", "command": ["true"]}]})");
  process bad{{baton_exe(), "pod", dir / "bad.json"}, dir / "bad"};
  EXPECT_EQ(bad.wait(), 2);
  EXPECT_NE(bad.err().find("cannot start build: cannot create the working "
                           "directory '"
                           + dir / "file/src" + "': Not a directory"),
            std::string::npos)
    << bad.err();
}

TEST(cli, a_bad_option_value_is_refused_naming_option_and_value) {
  temp_dir dir;
  process agent{{baton_exe(), "agent", "--containers", "many"}, dir / "a"};
  EXPECT_EQ(agent.wait(), 2);
  EXPECT_EQ(agent.err(), "baton: invalid value 'many' for --containers: "
                         "expected a whole number from 1 to 100000\n");
  process boot{{baton_exe(), "bootstrap", "--container-id", "0",
                "--connect-timeout", "soon"},
               dir / "b"};
  EXPECT_EQ(boot.wait(), 2);
  EXPECT_NE(boot.err().find("invalid value 'soon' for --connect-timeout"),
            std::string::npos)
    << boot.err();
}

TEST(cli, a_missing_agent_gives_up_after_the_connect_timeout) {
  temp_dir dir;
  process boot{{baton_exe(), "bootstrap", "--container-id", "0",
                "--job-context-dir", dir.path(), "--connect-timeout", "200ms",
                "--", "true"},
               dir / "b"};
  EXPECT_EQ(boot.wait(), 1);
  EXPECT_NE(boot.err().find("cannot connect to the agent within 200ms"),
            std::string::npos)
    << boot.err();
}
