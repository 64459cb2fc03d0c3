#include "os/warning_limiter.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using namespace baton;

namespace {

const warning_limiter::kind bad_frames{"socket-broker",
                                       "connections refused for malformed "
                                       "frames"};
const warning_limiter::kind timeouts{"sessions",
                                     "connections closed for not registering "
                                     "in time"};

class warning_limiter_test : public ::testing::Test {
protected:
  warning_limiter_test()
    : limiter{3, 10s,
              [this](const std::string& line) { lines.push_back(line); }} {
    // Nothing else.
  }

  std::vector<std::string> lines;
  warning_limiter limiter;
  warning_limiter::clock::time_point t0 = warning_limiter::clock::now();
};

} // namespace

TEST_F(warning_limiter_test, prints_the_first_few_and_sums_up_the_rest) {
  for (int i = 0; i < 1207; ++i)
    limiter.warn(bad_frames, "closing connection " + std::to_string(i),
                 t0 + i * 1ms);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "closing connection 0");
  EXPECT_EQ(lines[2], "closing connection 2");
  // Not before the interval is over.
  limiter.flush(t0 + 9s);
  EXPECT_EQ(lines.size(), 3u);
  limiter.flush(t0 + 10s);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3], "socket-broker: 1,204 more connections refused for "
                      "malformed frames in the last 10s");
  // Summed up once: the interval is gone.
  limiter.flush(t0 + 30s);
  EXPECT_EQ(lines.size(), 4u);
}

TEST_F(warning_limiter_test, a_kind_prints_again_in_its_next_interval) {
  for (int i = 0; i < 5; ++i)
    limiter.warn(bad_frames, "first " + std::to_string(i), t0);
  // The next warning after the interval sums up the old one and prints.
  limiter.warn(bad_frames, "second 0", t0 + 10s);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[3], "socket-broker: 2 more connections refused for "
                      "malformed frames in the last 10s");
  EXPECT_EQ(lines[4], "second 0");
}

TEST_F(warning_limiter_test, kinds_are_counted_apart) {
  for (int i = 0; i < 4; ++i) {
    limiter.warn(bad_frames, "frame", t0);
    limiter.warn(timeouts, "timeout", t0 + 1s);
  }
  EXPECT_EQ(lines.size(), 6u);
  limiter.flush(t0 + 10s);
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(lines[6], "socket-broker: 1 more connections refused for "
                      "malformed frames in the last 10s");
  limiter.flush(t0 + 11s);
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[7], "sessions: 1 more connections closed for not "
                      "registering in time in the last 10s");
}

TEST_F(warning_limiter_test, a_quiet_interval_prints_no_summary) {
  for (int i = 0; i < 3; ++i)
    limiter.warn(bad_frames, "frame", t0);
  limiter.flush(t0 + 1min);
  limiter.flush_all(t0 + 2min);
  EXPECT_EQ(lines.size(), 3u);
}

TEST_F(warning_limiter_test, flush_all_sums_up_an_interval_cut_short) {
  for (int i = 0; i < 10; ++i)
    limiter.warn(bad_frames, "frame", t0);
  limiter.flush_all(t0 + 3200ms);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3], "socket-broker: 7 more connections refused for "
                      "malformed frames in the last 4s");
}

TEST_F(warning_limiter_test, sessions_on_many_threads_share_one_count) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([this] {
      for (int i = 0; i < 1000; ++i)
        limiter.warn(bad_frames, "frame", t0);
    });
  for (auto& t : threads)
    t.join();
  limiter.flush_all(t0 + 10s);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[3], "socket-broker: 3,997 more connections refused for "
                      "malformed frames in the last 10s");
}

TEST(with_thousands, groups_digits_by_three) {
  EXPECT_EQ(with_thousands(0), "0");
  EXPECT_EQ(with_thousands(999), "999");
  EXPECT_EQ(with_thousands(1000), "1,000");
  EXPECT_EQ(with_thousands(1204), "1,204");
  EXPECT_EQ(with_thousands(12345678), "12,345,678");
}
