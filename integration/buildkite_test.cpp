// The reference's own protocol, end to end: stock clients (the Go peer,
// written with Go's net/rpc and encoding/gob, behaving as
// kubernetes-bootstrap) under a baton agent, and baton bootstraps under
// the Go peer's runner (the reference's rules).

#include "integration/harness.hpp"

#include <nlohmann/json.hpp>

#include <csignal>

using namespace baton::integration;
using nlohmann::json;

namespace {

/// What the stock client writes before the command's output.
constexpr const char* phases = "~~~ Bootstrapping phases (unknown)\n";

json result_of(const job& j) {
  return json::parse(read_file(j.result_file()));
}

/// A job of one container whose agent is already up; `attack` plays the
/// hostile peer on buildkite.sock, then a stock client must run normally.
class hostile_rpc : public ::testing::Test {
protected:
  hostile_rpc() : j{1} {
    j.start_agent({"--handshake-timeout", "2s"});
    EXPECT_TRUE(j.wait_listening());
  }

  void expect_normal_job() {
    auto& c = j.start_stock_client(0, "printf 'A%sB\\n' 1; printf 'A%sB\\n' 2");
    EXPECT_EQ(c.wait(), 0) << c.err();
    EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
    EXPECT_EQ(j.log(), std::string{phases} + "A1B\nA2B\n" + passed_line(0));
  }

  job j;
};

} // namespace

TEST(buildkite, stock_clients_run_in_order_when_started_in_reverse) {
  job j{3};
  // Reverse order, before the agent exists, polling each second as the
  // stock client does.
  for (int id = 2; id >= 0; --id)
    j.start_stock_client(id, "echo out-" + std::to_string(id), {}, "1s");
  j.start_agent();
  ASSERT_EQ(j.agent->wait(), 0) << j.agent->err();
  EXPECT_EQ(j.log(), std::string{phases} + "out-0\n" + passed_line(0) + phases
                       + "out-1\n" + passed_line(1) + phases + "out-2\n"
                       + passed_line(2));
  for (auto& c : j.bootstraps) {
    EXPECT_EQ(c->wait(), 0) << c->err();
  }
  auto result = result_of(j);
  EXPECT_EQ(result["status"], 0);
  for (auto& c : result["containers"]) {
    EXPECT_EQ(c["state"], "exited");
    EXPECT_EQ(c["protocol"], "buildkite");
  }
  EXPECT_EQ(result["containers"][1]["log_bytes"],
            std::string{phases}.size() + 6);
}

TEST(buildkite, the_job_environment_reaches_a_stock_client) {
  job j{1};
  write_file(j.dir / "job.env",
             "FOO=from the job\nHOME=/job-home\nBUILDKITE_SHELL=/bin/job-sh\n");
  j.start_agent({"--env-file", j.dir / "job.env"});
  auto& c = j.start_stock_client(
    0,
    "echo \"FOO=$FOO HOME=$HOME SHELL=${BUILDKITE_SHELL:-unset} "
    "EXEC=$BUILDKITE_KUBERNETES_EXEC\"",
    {{"HOME", "/container-home"}, {"BUILDKITE_SHELL", unset}});
  EXPECT_EQ(c.wait(), 0) << c.err();
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  // The container's HOME wins; the job's shell applies where the container
  // set none.
  EXPECT_NE(j.log().find("FOO=from the job HOME=/container-home "
                         "SHELL=/bin/job-sh EXEC=true\n"),
            std::string::npos)
    << j.log();
}

TEST(buildkite, bad_registrations_get_the_references_errors) {
  job j{1};
  j.start_agent();
  auto& unknown = j.start_stock_client(5, "true");
  EXPECT_EQ(unknown.wait(), 1);
  EXPECT_NE(unknown.err().find("register: unrecognized client id: 5"),
            std::string::npos)
    << unknown.err();
  auto go = j.dir / "go";
  auto& first = j.start_stock_client(0, shell_wait_for(go));
  ASSERT_TRUE(wait_until([&] {
    return j.agent->err().find("container 0 registered") != std::string::npos;
  }));
  auto& second = j.start_stock_client(0, "true");
  EXPECT_EQ(second.wait(), 1);
  EXPECT_NE(second.err().find("register: client id 0 already registered"),
            std::string::npos)
    << second.err();
  // The first registration keeps working.
  write_file(go, "");
  EXPECT_EQ(first.wait(), 0) << first.err();
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
}

TEST(buildkite, a_failing_stock_client_stops_the_job) {
  job j{3};
  j.start_agent();
  auto go = j.dir / "go";
  j.start_stock_client(0, "echo zero");
  auto& failing
    = j.start_stock_client(1, shell_wait_for(go) + "; echo one; exit 3");
  auto& later = j.start_stock_client(2, "touch " + j.dir / "ran-2");
  // A stock client that has not connected when the job ends waits for its
  // connect timeout (2 min): let container 2 register first.
  ASSERT_TRUE(wait_until([&] {
    return j.agent->err().find("container 2 registered") != std::string::npos;
  }));
  write_file(go, "");
  EXPECT_EQ(j.agent->wait(), 3) << j.agent->err();
  EXPECT_EQ(failing.wait(), 3);
  // Told "connection is shut down" before its turn, or finding the
  // connection closed as the agent exits (the reply's text is checked in
  // rpc_session_test): it never runs.
  EXPECT_EQ(later.wait(), 1);
  EXPECT_FALSE(file_exists(j.dir / "ran-2"));
  auto result = result_of(j);
  EXPECT_EQ(result["status"], 3);
  EXPECT_EQ(result["reason"], "container 1 (container-1) exited with status 3");
}

TEST(buildkite, sigterm_to_the_agent_reaches_a_stock_clients_command) {
  job j{2};
  j.start_agent();
  auto ready = j.dir / "ready";
  auto& c = j.start_stock_client(0, "trap 'echo trapped; exit 143' TERM; "
                                    "touch "
                                      + ready
                                      + "; while :; do sleep 0.05; done");
  j.start_stock_client(1, "touch " + j.dir / "ran-1");
  ASSERT_TRUE(wait_until([&] { return file_exists(ready); }));
  j.agent->signal(SIGTERM);
  EXPECT_EQ(c.wait(), 143) << c.err();
  EXPECT_EQ(j.agent->wait(), 143) << j.agent->err();
  EXPECT_NE(j.log().find("trapped\n"), std::string::npos) << j.log();
  EXPECT_FALSE(file_exists(j.dir / "ran-1"));
  EXPECT_EQ(result_of(j)["interrupted"], true);
}

TEST(buildkite, baton_and_stock_clients_share_one_job) {
  job j{3};
  j.start_agent();
  j.start_bootstrap(2, "echo baton-2");
  j.start_stock_client(1, "echo stock-1");
  j.start_bootstrap(0, "echo baton-0");
  ASSERT_EQ(j.agent->wait(), 0) << j.agent->err();
  expect_in_order(j.log(),
                  {"~~~ Running container 0 (container-0):", "baton-0\n",
                   phases, "stock-1\n",
                   "~~~ Running container 2 (container-2):", "baton-2\n"});
  auto result = result_of(j);
  EXPECT_EQ(result["containers"][0]["protocol"], "baton");
  EXPECT_EQ(result["containers"][1]["protocol"], "buildkite");
  EXPECT_EQ(result["containers"][2]["protocol"], "baton");
}

TEST(buildkite, a_killed_stock_client_is_lost_at_once) {
  job j{2};
  j.start_agent();
  auto pid_file = j.dir / "pid";
  command_reaper reaper{pid_file};
  auto& c = j.start_stock_client(0, "echo $$ > " + pid_file
                                      + "; echo started; exec sleep 300");
  j.start_stock_client(1, "true");
  ASSERT_TRUE(wait_until([&] { return !read_file(pid_file).empty(); }));
  // The peer process only; its command, in a group of its own, is reaped
  // at the end.
  ::kill(c.pid(), SIGKILL);
  // Far sooner than the 30 s lost timeout.
  EXPECT_EQ(j.agent->wait(10s), 255) << j.agent->err();
  auto result = result_of(j);
  EXPECT_EQ(result["status"], -7);
  EXPECT_EQ(result["containers"][0]["state"], "lost");
  EXPECT_EQ(
    result["reason"],
    "container 0 (container-0) lost: connection closed before its exit status");
}

TEST(buildkite, stock_client_output_is_redacted) {
  job j{1};
  write_file(j.dir / "job.env", "DEPLOY_TOKEN=s3cr3t-t0ken-value\n");
  j.start_agent({"--env-file", j.dir / "job.env"});
  // Split across two writes, as a secret may be split across calls.
  auto& c = j.start_stock_client(
    0, "printf 'token: s3cr3t-t0'; sleep 0.05; printf 'ken-value done\\n'");
  EXPECT_EQ(c.wait(), 0) << c.err();
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  EXPECT_EQ(j.log(),
            std::string{phases} + "token: [REDACTED] done\n" + passed_line(0));
}

TEST(buildkite, baton_bootstraps_join_a_stock_runner_in_order) {
  job j{3};
  write_file(j.dir / "job.env", "FOO=from the runner\n");
  for (int id = 2; id >= 0; --id)
    j.start_bootstrap(id, "echo \"out-" + std::to_string(id) + " $FOO\"",
                      {{"BATON_PROTOCOL", "buildkite"}});
  j.start_stock_runner({"--env-file", j.dir / "job.env"});
  ASSERT_EQ(j.agent->wait(), 0) << j.agent->err();
  for (auto& b : j.bootstraps) {
    EXPECT_EQ(b->wait(), 0) << b->err();
  }
  expect_in_order(j.log(),
                  {"~~~ Running container 0:", "out-0 from the runner\n",
                   "~~~ Running container 1:", "out-1 from the runner\n",
                   "~~~ Running container 2:", "out-2 from the runner\n"});
}

TEST(buildkite, a_failing_baton_bootstrap_under_a_stock_runner_stops_it) {
  job j{3};
  j.start_stock_runner();
  std::map<std::string, std::string> env{{"BATON_PROTOCOL", "buildkite"}};
  auto go = j.dir / "go";
  j.start_bootstrap(0, "echo zero", env);
  auto& failing
    = j.start_bootstrap(1, shell_wait_for(go) + "; echo one; exit 3", env);
  auto& later = j.start_bootstrap(2, "touch " + j.dir / "ran-2", env);
  // The stock runner leaves no trace for a container that has not
  // connected when the job ends: let container 2 register first.
  ASSERT_TRUE(wait_until([&] {
    return j.agent->err().find("client 2 registered") != std::string::npos;
  }));
  write_file(go, "");
  EXPECT_EQ(j.agent->wait(), 3) << j.agent->err();
  EXPECT_EQ(failing.wait(), 3) << failing.err();
  EXPECT_EQ(later.wait(), 1) << later.err();
  EXPECT_FALSE(file_exists(j.dir / "ran-2"));
  EXPECT_NE(j.agent->err().find("job done with status 3"), std::string::npos)
    << j.agent->err();
}

TEST(buildkite, a_stock_runners_interrupt_cancels_a_baton_bootstraps_command) {
  job j{1};
  j.start_stock_runner();
  auto ready = j.dir / "ready";
  auto& b = j.start_bootstrap(0,
                              "trap 'echo trapped; exit 143' TERM; "
                              "touch "
                                + ready + "; while :; do sleep 0.05; done",
                              {{"BATON_PROTOCOL", "buildkite"}});
  ASSERT_TRUE(wait_until([&] { return file_exists(ready); }));
  j.agent->signal(SIGTERM);
  EXPECT_EQ(b.wait(), 143) << b.err();
  EXPECT_EQ(j.agent->wait(), 143) << j.agent->err();
  EXPECT_NE(j.log().find("trapped\n"), std::string::npos) << j.log();
}

TEST_F(hostile_rpc, garbage_is_closed) {
  raw_peer peer{j.rpc_socket()};
  ASSERT_TRUE(peer.connected());
  peer.send(std::string(8192, '\x17'));
  EXPECT_TRUE(peer.read_to_end().has_value())
    << "the agent kept the connection open";
  expect_normal_job();
}

TEST_F(hostile_rpc, a_wrong_connect_gets_gos_http_errors) {
  raw_peer get{j.rpc_socket()};
  get.send("GET /_goRPC_ HTTP/1.0\n\n");
  auto reply = get.read_to_end();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->rfind("HTTP/1.0 405", 0), 0u) << *reply;
  EXPECT_NE(reply->find("405 must CONNECT"), std::string::npos);
  raw_peer path{j.rpc_socket()};
  path.send("CONNECT /elsewhere HTTP/1.0\n\n");
  reply = path.read_to_end();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->rfind("HTTP/1.0 404", 0), 0u) << *reply;
  expect_normal_job();
}

TEST_F(hostile_rpc, a_4_gib_length_prefix_is_refused_before_its_body) {
  raw_peer peer{j.rpc_socket()};
  ASSERT_TRUE(peer.connected());
  peer.send("CONNECT /_goRPC_ HTTP/1.0\n\n");
  ASSERT_TRUE(peer.read_until("200 Connected to Go RPC\n\n"));
  // A gob byte count of 2^32 - 1 (a negated byte count of 4, then the
  // bytes) and nothing after it: refused at once, nothing allocated.
  peer.send(std::string("\xfc\xff\xff\xff\xff", 5));
  EXPECT_TRUE(peer.read_to_end(5s).has_value());
  EXPECT_NE(j.agent->err().find("4294967295"), std::string::npos)
    << j.agent->err();
  expect_normal_job();
}

TEST_F(hostile_rpc, two_hundred_idle_connections_do_not_stop_the_job) {
  std::vector<std::unique_ptr<raw_peer>> idle;
  for (int i = 0; i < 200; ++i) {
    idle.push_back(std::make_unique<raw_peer>(j.rpc_socket()));
    ASSERT_TRUE(idle.back()->connected()) << i;
    // Half of them past the preamble.
    if (i % 2 == 0)
      idle.back()->send("CONNECT /_goRPC_ HTTP/1.0\n\n");
  }
  expect_normal_job();
}
