#include "job/outcome.hpp"

#include <gtest/gtest.h>

using namespace baton;

namespace {

container_status ended(uint32_t id, std::string name, step_reason reason,
                       int64_t duration_ns = -1) {
  container_status c;
  c.id = id;
  c.name = std::move(name);
  c.state = container_state::exited;
  c.reason = reason;
  c.duration_ns = duration_ns;
  return c;
}

} // namespace

TEST(outcome, the_most_specific_cause_wins) {
  exit_facts x;
  EXPECT_EQ(reason_for_exit(x), step_reason::passed);
  x.status = 3;
  EXPECT_EQ(reason_for_exit(x), step_reason::failed);
  x.soft_failed = true;
  EXPECT_EQ(reason_for_exit(x), step_reason::soft_failed);
  // A command that exits 139 itself is not signaled.
  x = exit_facts{};
  x.status = 139;
  EXPECT_EQ(reason_for_exit(x), step_reason::failed);
  x.signal = "SIGSEGV";
  EXPECT_EQ(reason_for_exit(x), step_reason::signaled);
  x.told_to_stop = true;
  EXPECT_EQ(reason_for_exit(x), step_reason::cancelled);
  x.timed_out = true;
  EXPECT_EQ(reason_for_exit(x), step_reason::timed_out);
  x.oom_killed = true;
  EXPECT_EQ(reason_for_exit(x), step_reason::oom_killed);
}

TEST(outcome, memory_sizes) {
  EXPECT_EQ(format_memory(64ull << 20), "64 MiB");
  EXPECT_EQ(format_memory(1ull << 30), "1 GiB");
  EXPECT_EQ(format_memory(3ull << 29), "1.5 GiB");
  EXPECT_EQ(format_memory(512ull << 10), "512 KiB");
  EXPECT_EQ(format_memory(1000), "1000 bytes");
}

TEST(outcome, step_lines_say_why_and_how_long) {
  auto c = ended(1, "build", step_reason::failed, 2'410'000'000);
  c.exit_status = 3;
  EXPECT_EQ(step_line(c),
            "~~~ Container 1 (build) failed with status 3 after 2.41s\n");
  c.reason = step_reason::passed;
  EXPECT_EQ(step_line(c), "~~~ Container 1 (build) passed after 2.41s\n");
  c.reason = step_reason::soft_failed;
  EXPECT_EQ(step_line(c),
            "~~~ Container 1 (build) soft-failed with status 3 after 2.41s\n");
  c.reason = step_reason::signaled;
  c.signal = "SIGSEGV";
  EXPECT_EQ(step_line(c),
            "~~~ Container 1 (build) was killed by SIGSEGV after 2.41s\n");
  c.reason = step_reason::oom_killed;
  c.memory_limit = 64ull << 20;
  EXPECT_EQ(step_line(c), "~~~ Container 1 (build) was killed by the OOM "
                          "killer (memory limit 64 MiB) after 2.41s\n");
  c.memory_limit = 0;
  EXPECT_EQ(step_line(c), "~~~ Container 1 (build) was killed by the OOM "
                          "killer after 2.41s\n");
  c.reason = step_reason::timed_out;
  c.timeout_ms = 10'000;
  EXPECT_EQ(step_line(c), "~~~ Container 1 (build) timed out after 10s\n");
  c.reason = step_reason::cancelled;
  EXPECT_EQ(step_line(c),
            "~~~ Container 1 (build) was cancelled after 2.41s\n");
  c.duration_ns = -1;
  EXPECT_EQ(step_line(c), "~~~ Container 1 (build) was cancelled\n");
  c.reason = step_reason::lost;
  c.lost_why = "no heartbeat for 30s";
  EXPECT_EQ(step_line(c),
            "~~~ Container 1 (build) was lost: no heartbeat for 30s\n");
  EXPECT_EQ(step_line(ended(2, "test", step_reason::never_connected)),
            "~~~ Container 2 (test) never connected\n");
  EXPECT_EQ(step_line(ended(3, "report", step_reason::skipped)),
            "~~~ Container 3 (report) was skipped\n");
}

TEST(outcome, the_summary_aligns_its_columns) {
  job_result x;
  x.result = "failed";
  x.status = 3;
  x.duration_ns = 4'100'000'000;
  x.containers.push_back(
    ended(0, "checkout", step_reason::passed, 520'000'000));
  x.containers.push_back(ended(1, "build", step_reason::failed, 2'410'000'000));
  x.containers.back().exit_status = 3;
  x.containers.push_back(ended(2, "test", step_reason::skipped));
  x.containers.push_back(ended(3, "report", step_reason::never_connected));
  EXPECT_EQ(job_summary(x), "~~~ Job failed with status 3 after 4.10s\n"
                            "    0  checkout  passed                0.52s\n"
                            "    1  build     failed with status 3  2.41s\n"
                            "    2  test      was skipped\n"
                            "    3  report    never connected\n");
  x.result = "passed";
  x.containers.resize(1);
  EXPECT_EQ(job_summary(x), "~~~ Job passed after 4.10s\n"
                            "    0  checkout  passed  0.52s\n");
  x.result = "cancelled";
  EXPECT_EQ(job_summary(x).substr(0, 28), "~~~ Job cancelled after 4.10");
}

TEST(outcome, a_section_line_begins_with_a_capital) {
  EXPECT_EQ(section_line("service 1 (db) ready after 0.10s"),
            "~~~ Service 1 (db) ready after 0.10s\n");
  EXPECT_EQ(section_line("Job passed"), "~~~ Job passed\n");
  EXPECT_EQ(section_line(""), "~~~ \n");
}
