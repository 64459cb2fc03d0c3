// Scenarios of many containers: the runner's actors with 10,000 simulated
// ones, the agent's memory with hundreds waiting, a pod of 200.

#include "actors/agent/runner.hpp"
#include "messages/atoms.hpp"

#include "bench/measure.hpp"
#include "bench/scenarios.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>

#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <string>
#include <vector>

namespace baton::bench {

// The runner with 10,000 simulated containers in one process, on the real
// scheduler: each registers, runs when told and exits at once.
json simulate(int containers) {
  spdlog::set_level(spdlog::level::off);
  caf::actor_system_config cfg;
  cfg.set("logger.verbosity", caf::atom("quiet"));
  baton::add_message_types(cfg);
  caf::actor_system sys{cfg};
  runner_config rc;
  rc.containers = static_cast<uint32_t>(containers);
  auto r = sys.spawn(runner, rc, log_aggregator_actor{});
  auto t0 = std::chrono::steady_clock::now();
  for (int id = 0; id < containers; ++id) {
    sys.spawn([=](session_actor::pointer self) -> session_actor::behavior_type {
      auto exit_now = [=] {
        self
          ->request(r, caf::infinite, atom::exit::value, id,
                    step_exit{0, false, {}})
          .then([=](atom::ok) { self->quit(); });
      };
      self
        ->request(r, caf::infinite, atom::register_::value,
                  registration{id, dialect::baton},
                  container_actor{session_actor{self}})
        .then([=](std::vector<std::string>&, std::string&, turn& now) {
          if (now.state == run_state::start)
            exit_now();
        });
      return {
        [](wire::frame&) {},
        [](std::vector<wire::frame>&) {},
        [](atom::received, std::string&) {},
        [](atom::closed, const std::string&) {},
        [=](atom::state, turn& now) {
          if (now.state == run_state::start)
            exit_now();
        },
        [](atom::tick) {},
      };
    });
  }
  caf::scoped_actor self{sys};
  job_result result;
  self->request(r, caf::infinite, atom::done::value)
    .receive([&](job_result& x) { result = std::move(x); },
             [&](caf::error&) {});
  auto seconds
    = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
        .count();
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  return {{"containers", containers},
          {"seconds", seconds},
          {"status", result.status}};
}

// The agent's peak RSS with `waiting` containers registered and waiting
// for their turn (container 0 never comes), beside the same agent with no
// container connected.
json agent_rss_waiting(int waiting, int runs) {
  std::vector<double> rss;
  for (int run = 0; run < runs; ++run) {
    auto job = run_job(waiting + 1);
    auto a = job.start_agent({"--start-timeout", "0"});
    if (!wait_for_file(job.socket()))
      continue;
    std::vector<process> ws;
    for (int id = 1; id <= waiting; ++id)
      ws.push_back(
        process{{tool_exe(), "waiter", job.socket(), std::to_string(id)}});
    // Wait until every one registered (the agent logs each).
    auto needle = "(" + std::to_string(waiting) + " of ";
    test_support::wait_until(
      [&] { return a.err().find(needle) != std::string::npos; }, 20s,
      poll_interval);
    // VmHWM is the process's own (its peak since exec).
    auto status = read_file("/proc/" + std::to_string(a.pid()) + "/status");
    auto at = status.find("VmHWM:");
    if (at != std::string::npos)
      rss.push_back(std::stod(status.substr(at + 6)) / 1024);
    a.signal(SIGKILL);
    a.wait_for_exit();
    for (auto& w : ws)
      w.wait_for_exit();
  }
  return summarize(rss, "MiB");
}

// `baton pod` with `containers` containers, each `sh -c 'echo step K'`
// without a pty: the wall time of the whole pod.
json pod_wall(int containers, int runs) {
  std::vector<double> seconds;
  auto dir = run_dir();
  json spec = {{"env", {{"BUILDKITE_PTY", "false"}}},
               {"containers", json::array()}};
  for (int k = 0; k < containers; ++k)
    spec["containers"].push_back(
      {{"name", "step-" + std::to_string(k)},
       {"command", {"sh", "-c", "echo step " + std::to_string(k)}}});
  auto file = dir / "pod.json";
  std::ofstream{file} << spec.dump();
  for (int run = 0; run < runs; ++run) {
    auto t0 = now_ns();
    process p{{baton_exe(), "pod", file}};
    if (p.wait_for_exit() == 0)
      seconds.push_back(static_cast<double>(p.exited_ns() - t0) / 1e9);
  }
  auto result = summarize(seconds, "s");
  result["containers"] = containers;
  return result;
}

} // namespace baton::bench
