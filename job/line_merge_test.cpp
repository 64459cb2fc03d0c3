#include "job/line_merge.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace baton;

namespace {

// -- timestamps ---------------------------------------------------------------

TEST(line_framer, every_line_gets_one_stamp_even_when_split) {
  line_framer stamper;
  std::string out;
  int64_t t1 = 1'000'000'000; // 1970-01-01T00:00:01.000Z
  int64_t t2 = 2'500'000'000; // 1970-01-01T00:00:02.500Z
  stamper.process("first\nsec", t1, out);
  stamper.process("ond\nthird\n", t2, out);
  stamper.process("", t2, out);
  EXPECT_EQ(out, "1970-01-01T00:00:01.000Z first\n"
                 "1970-01-01T00:00:01.000Z second\n"
                 "1970-01-01T00:00:02.500Z third\n");
}

TEST(line_framer, a_prefix_follows_the_stamp_on_every_line) {
  line_framer framer;
  framer.set_prefix("[db] ");
  std::string out;
  int64_t t1 = 1'000'000'000;
  framer.process("a\nb", t1, out);
  EXPECT_FALSE(framer.at_line_start());
  out += '\n';
  framer.cut();
  framer.process("c\n", t1, out);
  EXPECT_EQ(out, "1970-01-01T00:00:01.000Z [db] a\n"
                 "1970-01-01T00:00:01.000Z [db] b\n"
                 "1970-01-01T00:00:01.000Z [db] c\n");
  line_framer plain{false};
  plain.set_prefix("[x] ");
  out.clear();
  plain.process("1\n2\n", 0, out);
  EXPECT_EQ(out, "[x] 1\n[x] 2\n");
}

TEST(line_framer, a_plain_line_gets_its_stamp_but_not_the_prefix) {
  line_framer framer;
  framer.set_prefix("[lint] ");
  framer.plain_next_line();
  std::string out;
  framer.process("~~~ Running container 1 (lint): make\nok\n", 0, out);
  EXPECT_EQ(out, "1970-01-01T00:00:00.000Z ~~~ Running container 1 (lint): "
                 "make\n"
                 "1970-01-01T00:00:00.000Z [lint] ok\n");
}

// -- the whole-line merge -----------------------------------------------------

line_merge prefixed(std::string prefix, size_t max_line = 16) {
  line_merge merge{line_framer{false}, max_line};
  merge.framer().set_prefix(std::move(prefix));
  return merge;
}

TEST(line_merge, only_whole_lines_leave_and_the_partial_one_is_held) {
  auto merge = prefixed("[a] ", 1024);
  std::string out;
  EXPECT_TRUE(merge.append("one\ntw", 0, out));
  EXPECT_EQ(out, "[a] one\n");
  EXPECT_EQ(merge.held(), "[a] tw");
  // The same line goes on: no new hold begins.
  EXPECT_FALSE(merge.append("o", 0, out));
  EXPECT_EQ(merge.hold(), 1u);
  // It ends, and a new one is held.
  EXPECT_TRUE(merge.append("\nthr", 0, out));
  EXPECT_EQ(out, "[a] one\n[a] two\n");
  EXPECT_EQ(merge.hold(), 2u);
  // It ends with nothing after it: nothing is held.
  EXPECT_FALSE(merge.append("ee\n", 0, out));
  EXPECT_EQ(out, "[a] one\n[a] two\n[a] three\n");
  EXPECT_TRUE(merge.held().empty());
  EXPECT_FALSE(merge.release(out));
  EXPECT_FALSE(merge.append("", 0, out));
}

TEST(line_merge, a_released_line_is_a_line_of_its_own_with_its_prefix_next) {
  auto merge = prefixed("[a] ", 1024);
  std::string out;
  merge.append("no newline yet", 0, out);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(merge.release(out));
  EXPECT_EQ(out, "[a] no newline yet\n");
  merge.append(" the rest\n", 0, out);
  EXPECT_EQ(out, "[a] no newline yet\n[a]  the rest\n");
}

TEST(line_merge, a_long_line_is_cut_once_it_reaches_the_limit) {
  auto merge = prefixed("[a] ", 16);
  std::string out;
  // 4 bytes of prefix and 11 of text: under 16, held.
  merge.append("0123456789a", 0, out);
  EXPECT_TRUE(out.empty());
  // 16 now: written with a newline added, the next byte begins a line.
  merge.append("b", 0, out);
  EXPECT_EQ(out, "[a] 0123456789ab\n");
  EXPECT_TRUE(merge.held().empty());
  merge.append("c\n", 0, out);
  EXPECT_EQ(out, "[a] 0123456789ab\n[a] c\n");
}

TEST(line_merge, the_lines_before_a_held_one_come_out_in_order) {
  auto merge = prefixed("", 1024);
  std::string out = "before|";
  merge.append("x", 0, out);
  merge.append("y\nz\nw", 0, out);
  EXPECT_EQ(out, "before|xy\nz\n");
  EXPECT_EQ(merge.held(), "w");
}

} // namespace
