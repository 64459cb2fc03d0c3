// Faults: a failing job log, a dead agent's socket, a bad socket directory,
// processes killed at different points.

#include "integration/harness.hpp"

#include <nlohmann/json.hpp>

#include <csignal>

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace baton::integration;
using nlohmann::json;

TEST(fault, a_closed_job_log_pipe_terminates_the_job_with_a_reason) {
  job j{1};
  auto fifo = j.dir / "log.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  // Close-on-exec: the agent must not inherit a reader of its own log.
  int rd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  j.agent = std::make_unique<process>(
    std::vector<std::string>{baton_exe(), "agent", "--containers", "1",
                             "--job-context-dir", j.context_dir(), "--log-file",
                             fifo, "--result-file", j.result_file()},
    j.dir / "agent");
  // The reader goes away once the agent has the pipe open.
  ASSERT_TRUE(j.wait_listening());
  ::close(rd);
  auto& b = j.start_bootstrap(0, "head -c 1048576 /dev/zero; sleep 30");
  auto status = j.agent->wait(20s);
  ASSERT_TRUE(status.has_value()) << "the agent did not end the job";
  EXPECT_EQ(*status, 137);
  auto result = json::parse(read_file(j.result_file()));
  EXPECT_EQ(result["reason"],
            "cannot write the job log to " + fifo + ": Broken pipe");
  EXPECT_NE(j.agent->err().find("Broken pipe"), std::string::npos);
  // The bootstrap is told, cancels its command and exits.
  EXPECT_TRUE(b.wait(20s).has_value());
}

TEST(fault, a_full_disk_terminates_the_job_with_a_reason) {
  if (::geteuid() != 0)
    GTEST_SKIP() << "needs root to mount a small tmpfs";
  job j{1};
  auto small = j.dir / "small";
  ::mkdir(small.c_str(), 0755);
  if (::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=64k") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here";
  auto log = small + "/job.log";
  j.agent = std::make_unique<process>(
    std::vector<std::string>{baton_exe(), "agent", "--containers", "1",
                             "--job-context-dir", j.context_dir(), "--log-file",
                             log, "--result-file", j.result_file()},
    j.dir / "agent");
  j.start_bootstrap(0, "head -c 1048576 /dev/zero");
  auto status = j.agent->wait(20s);
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(*status, 0);
  auto result = json::parse(read_file(j.result_file()));
  EXPECT_EQ(result["reason"],
            "cannot write the job log to " + log + ": No space left on device");
  ::umount(small.c_str());
}

TEST(fault, the_socket_of_a_killed_agent_is_replaced_on_start) {
  job j{1};
  j.start_agent();
  ASSERT_TRUE(j.wait_listening());
  j.agent->signal(SIGKILL);
  j.agent->wait();
  ASSERT_TRUE(file_exists(j.socket())) << "the stale socket should remain";
  j.start_agent();
  auto& b = j.start_bootstrap(0, "echo after restart");
  EXPECT_EQ(b.wait(), 0) << b.err();
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  EXPECT_NE(j.log().find("after restart\n"), std::string::npos);
}

TEST(fault, a_missing_socket_directory_is_named) {
  temp_dir dir;
  process agent{{baton_exe(), "agent", "--containers", "1", "--job-context-dir",
                 dir / "missing"},
                dir / "agent"};
  EXPECT_EQ(agent.wait(), 2);
  EXPECT_NE(agent.err().find("cannot create the socket '" + dir.path()
                             + "/missing/baton.sock': directory '" + dir.path()
                             + "/missing'"),
            std::string::npos)
    << agent.err();
}

TEST(fault, an_unwritable_socket_directory_is_named) {
  if (::geteuid() != 0 || ::access("/usr/bin/setpriv", X_OK) != 0)
    GTEST_SKIP() << "needs root and setpriv to run the agent as another uid";
  temp_dir dir;
  auto locked = dir / "locked";
  ::mkdir(locked.c_str(), 0755);
  process agent{{"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                 "--clear-groups", baton_exe(), "agent", "--containers", "1",
                 "--job-context-dir", locked},
                dir / "agent"};
  EXPECT_EQ(agent.wait(), 2);
  EXPECT_NE(agent.err().find("cannot create the socket '" + locked
                             + "/baton.sock' in '" + locked
                             + "': Permission denied"),
            std::string::npos)
    << agent.err();
}

TEST(fault, a_bootstrap_killed_while_waiting_its_turn_is_lost_at_once) {
  job j{2};
  j.start_agent({"--lost-timeout", "5m"});
  auto go = j.dir / "go";
  j.start_bootstrap(0, "echo zero; " + shell_wait_for(go));
  auto& waiting = j.start_bootstrap(1, "echo never");
  ASSERT_TRUE(wait_until([&] {
    return j.agent->err().find("container 1 registered") != std::string::npos
           && j.log().find("zero\n") != std::string::npos;
  }));
  waiting.signal(SIGKILL);
  // Reference order: container 0, connected and never reporting, comes
  // first: 137.
  EXPECT_EQ(j.agent->wait(10s), 137);
  auto result = json::parse(read_file(j.result_file()));
  EXPECT_EQ(result["containers"][1]["state"], "lost");
  EXPECT_EQ(
    result["reason"],
    "container 1 (container-1) lost: connection closed before its exit status");
  // What container 0 sent is still in the log.
  EXPECT_NE(j.log().find("zero\n"), std::string::npos);
  write_file(go, "");
}

TEST(fault, a_bootstrap_killed_before_hello_changes_nothing) {
  job j{1};
  j.start_agent();
  {
    // Connects and dies without a word, as a bootstrap killed at once.
    raw_peer peer{j.socket()};
  }
  auto& b = j.start_bootstrap(0, "echo fine");
  EXPECT_EQ(b.wait(), 0);
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
}

TEST(fault, an_agent_killed_while_a_bootstrap_waits_ends_the_bootstrap) {
  job j{2};
  j.start_agent();
  auto go = j.dir / "go";
  j.start_bootstrap(0, shell_wait_for(go));
  auto& waiting = j.start_bootstrap(1, "touch " + j.dir / "ran-1");
  ASSERT_TRUE(wait_until([&] {
    return j.agent->err().find("container 1 registered") != std::string::npos;
  }));
  j.agent->signal(SIGKILL);
  EXPECT_EQ(waiting.wait(10s), 1);
  EXPECT_FALSE(file_exists(j.dir / "ran-1"));
  EXPECT_NE(waiting.err().find("lost the connection to the agent before "
                               "starting"),
            std::string::npos)
    << waiting.err();
  write_file(go, "");
}

namespace {

// True if `log` (after its header) holds lines "line 0", "line 1", ... in
// order with no gap, the last one possibly cut short; sets `count`.
bool consecutive_lines(const std::string& log, int& count) {
  auto pos = log.find('\n');
  if (pos == std::string::npos)
    return false;
  ++pos;
  count = 0;
  while (pos < log.size()) {
    auto end = log.find('\n', pos);
    auto expected = "line " + std::to_string(count);
    if (end == std::string::npos)
      return expected.compare(0, log.size() - pos, log, pos) == 0;
    if (log.compare(pos, end - pos, expected) != 0)
      return false;
    ++count;
    pos = end + 1;
  }
  return true;
}

} // namespace

TEST(fault, a_bootstrap_killed_mid_stream_loses_nothing_it_sent) {
  job j{1};
  j.start_agent({"--lost-timeout", "5m"});
  auto pid_file = j.dir / "pid";
  auto& b = j.start_bootstrap(0, "echo $$ > " + pid_file
                                   + "; i=0; while :; do echo \"line $i\"; "
                                     "i=$((i+1)); done");
  ASSERT_TRUE(wait_until(
    [&] { return j.log().find("line 2000\n") != std::string::npos; }));
  b.signal(SIGKILL);
  EXPECT_EQ(j.agent->wait(10s), 255);
  auto text = read_file(pid_file);
  if (!text.empty())
    ::kill(-std::stoi(text), SIGKILL);
  // The output, then the agent's line saying the container was lost; a
  // line the kill cut short is closed first.
  auto log = read_file(j.log_file());
  auto lost = log.rfind("~~~ Container 0 (container-0) was lost: ");
  ASSERT_NE(lost, std::string::npos) << log.substr(log.size() - 200);
  auto result = json::parse(read_file(j.result_file()));
  EXPECT_EQ(result["status"], -7);
  size_t logged = result["containers"][0]["log_bytes"];
  EXPECT_TRUE(logged == lost || (logged + 1 == lost && log[logged] == '\n'))
    << logged << " bytes logged, the lost line at " << lost;
  int count = 0;
  EXPECT_TRUE(consecutive_lines(log.substr(0, logged), count))
    << "a gap in the log";
  EXPECT_GE(count, 2000);
}

TEST(fault, a_bootstrap_gone_after_its_output_but_before_exit_is_lost) {
  // As a bootstrap killed after its command exited, before its Exit frame.
  job j{1};
  j.start_agent({"--lost-timeout", "5m"});
  ASSERT_TRUE(j.wait_listening());
  {
    raw_peer peer{j.socket()};
    peer.send(frame_bytes(1, R"({"version":1,"peer":"test"})")
              + frame_bytes(3, R"({"id":0})"));
    // Log bytes only once granted credit.
    ASSERT_TRUE(peer.read_until(R"({"bytes":)"));
    peer.send(frame_bytes(6, "all done\n"));
  }
  EXPECT_EQ(j.agent->wait(10s), 255);
  EXPECT_EQ(j.log(), "all done\n~~~ Container 0 (container-0) was lost: "
                     "connection closed before its exit status\n");
  auto result = json::parse(read_file(j.result_file()));
  EXPECT_EQ(result["containers"][0]["state"], "lost");
}

TEST(fault, an_agent_killed_before_the_hello_leaves_a_clear_error) {
  job j{1};
  j.start_agent();
  ASSERT_TRUE(j.wait_listening());
  j.agent->signal(SIGKILL);
  j.agent->wait();
  // The socket file stays, nobody accepts: the bootstrap waits for an agent
  // until its connect timeout, then fails without running anything.
  auto& b = j.start_bootstrap(0, "touch " + j.dir / "ran",
                              {{"BUILDKITE_KUBERNETES_BOOTSTRAP_CONNECTION_"
                                "TIMEOUT",
                                "300ms"}});
  EXPECT_EQ(b.wait(10s), 1);
  EXPECT_FALSE(file_exists(j.dir / "ran"));
  EXPECT_NE(b.err().find("cannot connect to the agent within 300ms"),
            std::string::npos)
    << b.err();
}

TEST(fault, an_agent_killed_mid_stream_gets_the_command_cancelled) {
  job j{1};
  j.start_agent();
  auto got = j.dir / "got-term";
  auto& b = j.start_bootstrap(0, "trap 'touch " + got
                                   + "; exit 143' TERM; i=0; while :; do "
                                     "echo \"line $i\"; i=$((i+1)); done");
  ASSERT_TRUE(wait_until(
    [&] { return j.log().find("line 2000\n") != std::string::npos; }));
  j.agent->signal(SIGKILL);
  auto status = b.wait(15s);
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(*status, 0);
  EXPECT_TRUE(file_exists(got));
  int count = 0;
  EXPECT_TRUE(consecutive_lines(j.log(), count));
}
