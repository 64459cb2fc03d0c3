// Services end to end with real processes: readiness by a command and by a
// TCP connect, the stop when the steps are done (and SIGKILL for a service
// that ignores the cancel signal), an early exit, an interrupt with an
// always-step, a service streaming into the job log, and no process left.

#include "integration/harness.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <csignal>
#include <fstream>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace baton::integration;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

json result_of(const job& j) {
  return json::parse(read_file(j.result_file()));
}

// A loopback port nothing listens on now.
int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A TCP server on `port` that answers every connection with "pong": the
// service standing in for a database.
std::string server(int port) {
  return "exec python3 -c 'import socket\n"
         "s = socket.socket()\n"
         "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
         "s.bind((\"127.0.0.1\", "
         + std::to_string(port)
         + "))\n"
           "s.listen()\n"
           "print(\"listening\", flush=True)\n"
           "while True:\n"
           "    c, _ = s.accept()\n"
           "    c.sendall(b\"pong\\n\")\n"
           "    c.close()\n'";
}

// A client of that server: prints what it answers.
std::string client(int port) {
  return "python3 -c 'import socket\n"
         "c = socket.create_connection((\"127.0.0.1\", "
         + std::to_string(port)
         + "))\n"
           "print(\"got\", c.recv(16).decode().strip())\n'";
}

const std::map<std::string, std::string> plain{{"BUILDKITE_PTY", "false"}};

std::map<std::string, std::string>
service(std::map<std::string, std::string> more = {}) {
  more["BATON_SERVICE"] = "true";
  more["BUILDKITE_PTY"] = "false";
  return more;
}

// True once no process has pid `pid`.
bool gone(pid_t pid) {
  return wait_until([pid] { return ::kill(pid, 0) != 0 && errno == ESRCH; },
                    10s);
}

} // namespace

TEST(services, a_readiness_command_gates_the_step_and_the_service_stops) {
  job j{2};
  j.start_agent({"--services", "0", "--container-names", "db,test"});
  auto up = j.dir / "up";
  auto pid_file = j.dir / "db.pid";
  auto& db = j.start_bootstrap(
    0, "echo $$ > " + pid_file + "; sleep 0.3; touch " + up + "; exec sleep 60",
    service({{"BATON_READY", "test -f " + up}}));
  auto& test = j.start_bootstrap(1, "test -f " + up + " && echo up", plain);
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  EXPECT_EQ(test.wait(), 0);
  // Stopped by the cancel signal, it did its part: its container exits 0.
  EXPECT_EQ(db.wait(), 0) << db.err();
  expect_in_order(j.log(), {"~~~ Service 0 (db) ready after ", "up\n",
                            "~~~ Container 1 (test) passed",
                            "~~~ Service 0 (db) was stopped"});
  auto result = result_of(j);
  EXPECT_EQ(result["containers"][0]["role"], "service");
  EXPECT_EQ(result["containers"][0]["state"], "stopped");
  EXPECT_GE(result["containers"][0]["ready_after_ms"].get<int>(), 250);
  EXPECT_EQ(result["containers"][1]["role"], "step");
  // Its output stayed in its own container's log.
  EXPECT_EQ(result["containers"][0]["log_bytes"], 0);
  // Every process of the pod is gone, the service's command too.
  pid_t pid = 0;
  std::ifstream{pid_file} >> pid;
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(gone(pid));
}

TEST(services, a_tcp_check_waits_for_a_real_listener) {
  job j{2};
  auto port = free_port();
  j.start_agent({"--services", "1"});
  // The step connects first; the service starts listening after a while.
  j.start_bootstrap(0, client(port), plain);
  j.start_bootstrap(1, "sleep 0.3; " + server(port),
                    service({{"BATON_READY", "tcp:" + std::to_string(port)}}));
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  EXPECT_NE(j.log().find("got pong\n"), std::string::npos) << j.log();
}

TEST(services, a_stubborn_service_is_killed_and_the_job_still_passes) {
  job j{2};
  j.start_agent({"--services", "0"});
  auto& db
    = j.start_bootstrap(0, "trap '' TERM; while :; do sleep 0.05; done",
                        service({{"BUILDKITE_CANCEL_SIGNAL_TIMEOUT", "1s"}}));
  j.start_bootstrap(1, "true", plain);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  EXPECT_EQ(db.wait(), 0) << db.err();
  // The signal timeout, and not much more.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  EXPECT_EQ(result_of(j)["containers"][0]["state"], "stopped");
}

TEST(services, an_early_exit_fails_the_job_with_its_status_and_last_lines) {
  job j{3};
  j.start_agent({"--services", "0", "--container-names", "db,test,report"});
  auto& db = j.start_bootstrap(0, "echo starting; sleep 0.5; echo oops; exit 3",
                               service());
  auto& test = j.start_bootstrap(1, "sleep 30", plain);
  j.start_bootstrap(2, "echo report", plain);
  EXPECT_EQ(j.agent->wait(), 3) << j.agent->err();
  EXPECT_EQ(db.wait(), 3);
  test.wait();
  auto log = j.log();
  expect_in_order(
    log, {"~~~ Service 0 (db) exited with status 3 before the steps "
          "finished\n",
          "~~~ The last lines of service 0 (db):\n"
          "~~~ Running service 0 (db): sh -c echo starting",
          "\nstarting\noops\n", "~~~ Container 1 (test) was cancelled"});
  EXPECT_EQ(log.find("report\n"), std::string::npos) << log;
  auto result = result_of(j);
  EXPECT_EQ(result["status"], 3);
  EXPECT_EQ(result["result"], "failed");
  EXPECT_EQ(result["reason"],
            "service 0 (db) exited with status 3 before the steps finished");
  EXPECT_EQ(result["containers"][2]["reason"], "skipped");
}

TEST(services, the_last_lines_are_redacted) {
  job j{2};
  // A job variable whose name matches the default redaction patterns.
  j.start_agent({"--services", "0"}, {{"DB_PASSWORD", "hunter2-pass"}});
  j.start_bootstrap(0, "echo pw=$DB_PASSWORD; exit 4", service());
  j.start_bootstrap(1, "sleep 30", plain);
  EXPECT_EQ(j.agent->wait(), 4) << j.agent->err();
  auto log = j.log();
  EXPECT_EQ(log.find("hunter2-pass"), std::string::npos) << log;
  EXPECT_NE(log.find("pw=[REDACTED]\n"), std::string::npos) << log;
}

TEST(services, an_interrupt_leaves_the_service_up_for_the_always_step) {
  job j{3};
  auto port = free_port();
  j.start_agent({"--services", "0"});
  j.start_bootstrap(0, server(port),
                    service({{"BATON_READY", "tcp:" + std::to_string(port)}}));
  j.start_bootstrap(1, "echo started; sleep 30", plain);
  j.start_bootstrap(2, client(port),
                    {{"BATON_ALWAYS", "true"}, {"BUILDKITE_PTY", "false"}});
  ASSERT_TRUE(wait_until([&] {
    return read_file(j.log_file()).find("started\n") != std::string::npos;
  }));
  j.agent->signal(SIGTERM);
  EXPECT_EQ(j.agent->wait(), 143) << j.agent->err();
  auto log = j.log();
  EXPECT_NE(log.find("got pong\n"), std::string::npos) << log;
  auto result = result_of(j);
  EXPECT_EQ(result["result"], "cancelled");
  EXPECT_EQ(result["containers"][2]["reason"], "passed");
  EXPECT_EQ(result["containers"][0]["state"], "stopped");
}

TEST(services, a_service_log_in_the_job_log_is_whole_prefixed_lines) {
  job j{2};
  j.start_agent({"--services", "0", "--container-names", "db,test"});
  j.start_bootstrap(0,
                    "i=0; while :; do printf 'svc line %d\\n' $i; "
                    "i=$((i+1)); done",
                    service({{"BATON_SERVICE_LOG", "job"}}));
  j.start_bootstrap(1, "seq 1 20000", plain);
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  auto log = read_file(j.log_file());
  size_t pos = 0;
  size_t prefixed = 0;
  int next = 1;
  for (auto nl = log.find('\n'); nl != std::string::npos;
       pos = nl + 1, nl = log.find('\n', pos)) {
    auto line = log.substr(pos, nl - pos);
    if (line.rfind("~~~ ", 0) == 0)
      continue;
    if (line.rfind("[db] svc line ", 0) == 0) {
      ++prefixed;
      continue;
    }
    // Every other line is the step's next number, whole.
    ASSERT_EQ(line, std::to_string(next)) << "line at byte " << pos;
    ++next;
  }
  EXPECT_EQ(next, 20001);
  EXPECT_GT(prefixed, 0u);
}

TEST(services, a_stock_client_cannot_be_a_service) {
  job j{1};
  j.start_agent({"--start-timeout", "2s"});
  auto& p = j.start_bootstrap(
    0, "true", {{"BATON_SERVICE", "true"}, {"BATON_PROTOCOL", "buildkite"}});
  EXPECT_EQ(p.wait(), 1);
  EXPECT_NE(p.err().find("BATON_SERVICE=true needs baton's protocol"),
            std::string::npos)
    << p.err();
}

TEST(services, the_example_service_pod_passes_and_stops_its_service) {
  temp_dir dir;
  process pod{{baton_exe(), "pod", EXAMPLES_DIR "/service-pod.json", "--seed",
               "5", "--result-file", dir / "result.json"},
              dir / "pod"};
  EXPECT_EQ(pod.wait(), 0) << pod.err();
  EXPECT_EQ(pod.err(), "");
  // The service's own lines travel apart from its readiness: they may come
  // before or after the ready line, but always whole and prefixed.
  auto out = pod.out();
  EXPECT_NE(out.find("[web] web: serving on 127.0.0.1:18080\n"),
            std::string::npos)
    << out;
  expect_in_order(out,
                  {"~~~ Service 0 (web) ready after ",
                   "test: asking the service\n", "pong from the service\n",
                   "test: done\n", "~~~ Service 0 (web) was stopped after "});
  auto result = json::parse(read_file(dir / "result.json"));
  EXPECT_EQ(result["containers"][0]["state"], "stopped");
  EXPECT_EQ(result["containers"][0]["role"], "service");
}
