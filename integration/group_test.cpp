// Parallel groups end to end with real processes: members that overlap in
// time, the step after them that waits for all, two members streaming 8 MiB
// each into one job log of whole prefixed lines with every byte kept, a
// failure with and without fail-fast, and outputs passed across a group.

#include "integration/harness.hpp"

#include <nlohmann/json.hpp>

#include <fstream>

using namespace baton::integration;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

json result_of(const job& j) {
  return json::parse(read_file(j.result_file()));
}

std::map<std::string, std::string> member(std::string group,
                                          bool fail_fast = false) {
  std::map<std::string, std::string> env{{"BUILDKITE_PTY", "false"},
                                         {"BATON_GROUP", std::move(group)}};
  if (fail_fast)
    env["BATON_GROUP_FAIL_FAST"] = "true";
  return env;
}

const std::map<std::string, std::string> plain{{"BUILDKITE_PTY", "false"}};

int64_t read_ns(const std::string& path) {
  int64_t ns = 0;
  std::ifstream{path} >> ns;
  return ns;
}

// Writes `bytes` MiB of numbered lines of varying length to stdout in
// pieces of odd sizes that split lines anywhere, and the same bytes to
// `copy`.
std::string streamer(const std::string& name, int mib,
                     const std::string& copy) {
  return "exec python3 -c 'import random, sys\n"
         "rnd = random.Random(\""
         + name
         + "\")\n"
           "lines = []\n"
           "size = 0\n"
           "n = 0\n"
           "while size < "
         + std::to_string(mib)
         + " * 1048576:\n"
           "    line = \""
         + name
         + " %07d \" % n + \"x\" * rnd.randrange(0, 300) + \"\\n\"\n"
           "    lines.append(line)\n"
           "    size += len(line)\n"
           "    n += 1\n"
           "data = \"\".join(lines).encode()\n"
           "open(\""
         + copy
         + "\", \"wb\").write(data)\n"
           "out = sys.stdout.buffer\n"
           "pos = 0\n"
           "while pos < len(data):\n"
           "    step = rnd.choice((1, 7, 333, 4093, 65537))\n"
           "    out.write(data[pos:pos + step])\n"
           "    out.flush()\n"
           "    pos += step\n'";
}

// The bytes of the lines with `prefix` in `log`, the prefix taken away.
std::string lines_of(const std::string& log, const std::string& prefix) {
  std::string out;
  size_t pos = 0;
  for (auto nl = log.find('\n'); nl != std::string::npos;
       pos = nl + 1, nl = log.find('\n', pos))
    if (log.compare(pos, prefix.size(), prefix) == 0)
      out.append(log, pos + prefix.size(), nl + 1 - pos - prefix.size());
  return out;
}

// True if `merged` is `original` with newlines added (where the merge cut a
// line held too long); `added` counts them.
bool same_but_added_newlines(const std::string& merged,
                             const std::string& original, size_t& added) {
  added = 0;
  size_t j = 0;
  for (size_t i = 0; i < merged.size(); ++i) {
    if (j < original.size() && merged[i] == original[j]) {
      ++j;
    } else if (merged[i] == '\n') {
      ++added;
    } else {
      return false;
    }
  }
  return j == original.size();
}

} // namespace

TEST(groups, members_overlap_and_the_next_step_waits_for_both) {
  job j{4};
  j.start_agent({"--container-names", "checkout,lint,unit,package"});
  auto stamp = [&](const std::string& what) {
    return "date +%s%N > " + j.dir / what;
  };
  j.start_bootstrap(0, "true", plain);
  j.start_bootstrap(1, stamp("1.start") + "; sleep 0.5; " + stamp("1.end"),
                    member("checks"));
  j.start_bootstrap(2, stamp("2.start") + "; sleep 0.5; " + stamp("2.end"),
                    member("checks"));
  j.start_bootstrap(3, stamp("3.start"), plain);
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  auto s1 = read_ns(j.dir / "1.start");
  auto e1 = read_ns(j.dir / "1.end");
  auto s2 = read_ns(j.dir / "2.start");
  auto e2 = read_ns(j.dir / "2.end");
  auto s3 = read_ns(j.dir / "3.start");
  ASSERT_GT(s1, 0);
  ASSERT_GT(s2, 0);
  // Each began before the other ended: they ran at once.
  EXPECT_LT(s1, e2);
  EXPECT_LT(s2, e1);
  // The step after the group began after both ended.
  EXPECT_GE(s3, std::max(e1, e2));
  auto result = result_of(j);
  EXPECT_EQ(result["containers"][1]["group"], "checks");
  EXPECT_EQ(result["containers"][2]["group"], "checks");
  EXPECT_TRUE(result["containers"][3]["group"].is_null());
  // Each member's header is a plain section line.
  auto log = j.log();
  EXPECT_NE(log.find("~~~ Running container 1 (lint): "), std::string::npos)
    << log;
  EXPECT_NE(log.find("~~~ Running container 2 (unit): "), std::string::npos)
    << log;
}

TEST(groups, members_streaming_8_mib_each_write_whole_lines_and_every_byte) {
  job j{2};
  j.start_agent({"--container-names", "left,right"});
  j.start_bootstrap(0, streamer("left", 8, j.dir / "left.out"),
                    member("streams"));
  j.start_bootstrap(1, streamer("right", 8, j.dir / "right.out"),
                    member("streams"));
  ASSERT_EQ(j.agent->wait(), 0) << j.agent->err();
  auto log = read_file(j.log_file());
  // Every line is a member's, prefixed, or a "~~~" line (the headers, the
  // step lines).
  size_t pos = 0;
  size_t lines = 0;
  for (auto nl = log.find('\n'); nl != std::string::npos;
       pos = nl + 1, nl = log.find('\n', pos), ++lines) {
    auto starts = [&](const char* prefix) {
      return log.compare(pos, std::strlen(prefix), prefix) == 0;
    };
    ASSERT_TRUE(starts("[left] left ") || starts("[right] right ")
                || starts("~~~ "))
      << "line " << lines << ": "
      << log.substr(pos, std::min<size_t>(80, nl - pos));
  }
  EXPECT_EQ(pos, log.size()) << "the job log ends inside a line";
  for (auto name : {"left", "right"}) {
    auto original = read_file(j.dir / (std::string{name} + ".out"));
    ASSERT_GE(original.size(), 8u << 20);
    auto merged = lines_of(log, "[" + std::string{name} + "] ");
    size_t added = 0;
    EXPECT_TRUE(same_but_added_newlines(merged, original, added))
      << name << ": " << merged.size() << " bytes merged, " << original.size()
      << " written";
    // A line is cut only when it waited a second: rare, never many.
    EXPECT_LE(added, 16u) << name;
  }
}

TEST(groups, a_failure_lets_the_sibling_finish_and_skips_the_next_step) {
  job j{4};
  j.start_agent({"--container-names", "fails,slow,next,report"});
  j.start_bootstrap(0, "exit 3", member("checks"));
  j.start_bootstrap(1, "sleep 0.5; echo slow done", member("checks"));
  j.start_bootstrap(2, "echo should not run", plain);
  auto report = plain;
  report["BATON_ALWAYS"] = "true";
  j.start_bootstrap(3, "echo report $BATON_JOB_RESULT", report);
  EXPECT_EQ(j.agent->wait(), 3) << j.agent->err();
  auto log = j.log();
  expect_in_order(log, {"~~~ Container 0 (fails) failed with status 3",
                        "[slow] slow done\n", "~~~ Container 1 (slow) passed",
                        "~~~ Skipping container 2 (next)", "report failed\n"});
  EXPECT_EQ(log.find("should not run"), std::string::npos) << log;
  auto result = result_of(j);
  EXPECT_EQ(result["containers"][1]["reason"], "passed");
  EXPECT_EQ(result["containers"][2]["state"], "skipped");
  EXPECT_EQ(result["reason"], "container 0 (fails) exited with status 3");
}

TEST(groups, fail_fast_cancels_the_running_sibling) {
  job j{2};
  j.start_agent({"--container-names", "fails,slow"});
  auto started = std::chrono::steady_clock::now();
  j.start_bootstrap(0, "sleep 0.2; exit 3", member("checks", true));
  j.start_bootstrap(1, "echo started; exec sleep 60", member("checks"));
  EXPECT_EQ(j.agent->wait(), 3) << j.agent->err();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
  auto result = result_of(j);
  EXPECT_EQ(result["containers"][1]["reason"], "cancelled");
  EXPECT_EQ(result["status"], 3);
  EXPECT_EQ(result["reason"], "container 0 (fails) exited with status 3");
}

TEST(groups, outputs_reach_the_next_step_merged_in_id_order) {
  job j{3};
  j.start_agent({"--container-names", "a,b,after"});
  j.start_bootstrap(
    0, "echo X=from-a >> $BATON_ENV; echo ONLY_A=yes >> $BATON_ENV",
    member("g"));
  j.start_bootstrap(1,
                    "sleep 0.3; echo \"b sees ${ONLY_A:-nothing}\"; "
                    "echo X=from-b >> $BATON_ENV",
                    member("g"));
  j.start_bootstrap(2, "echo \"after: X=$X ONLY_A=$ONLY_A\"", plain);
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  auto log = j.log();
  EXPECT_NE(log.find("[b] b sees nothing\n"), std::string::npos) << log;
  EXPECT_NE(log.find("after: X=from-b ONLY_A=yes\n"), std::string::npos) << log;
}

TEST(groups, the_example_group_pod_runs_its_checks_at_once) {
  temp_dir dir;
  process pod{{baton_exe(), "pod", EXAMPLES_DIR "/group-pod.json", "--seed",
               "5", "--result-file", dir / "result.json"},
              dir / "pod"};
  EXPECT_EQ(pod.wait(), 0) << pod.err();
  auto out = pod.out();
  expect_in_order(out, {"checkout: branch main",
                        "~~~ Container 0 (checkout) passed"});
  EXPECT_NE(out.find("[lint] lint: no warnings\n"), std::string::npos) << out;
  EXPECT_NE(out.find("[unit] unit: 41 passed\n"), std::string::npos) << out;
  expect_in_order(out, {"~~~ Running container 3 (package)",
                        "package: 41 tests passed, 0 lint warnings\n"});
  auto result = json::parse(read_file(dir / "result.json"));
  // The two checks of about a second each took about a second together.
  auto lint = result["containers"][1];
  auto unit = result["containers"][2];
  EXPECT_EQ(lint["group"], "checks");
  EXPECT_LT(lint["started_at"].get<std::string>(),
            unit["finished_at"].get<std::string>());
  EXPECT_LT(unit["started_at"].get<std::string>(),
            lint["finished_at"].get<std::string>());
}
