#include "actors/agent/log_aggregator.hpp"

#include "actors/agent/runner.hpp"
#include "actors/test_fixture.hpp"
#include "messages/error.hpp"

#include <algorithm>
#include <random>

using namespace baton;

namespace {

class log_aggregator_test : public baton::testing::actor_fixture {
protected:
  log_aggregator_actor make(std::shared_ptr<memory_sink> sink) {
    return spawn(log_aggregator, sink, log_aggregator_config{2, {}, {}, false});
  }
};

} // namespace

TEST_F(log_aggregator_test, writes_every_byte_in_order_and_counts_them) {
  auto sink = std::make_shared<memory_sink>();
  auto agg = make(sink);
  std::mt19937 rng{42};
  std::string expected;
  for (int i = 0; i < 100; ++i) {
    std::string chunk(rng() % 5000 + 1, '\0');
    for (auto& c : chunk)
      c = static_cast<char>(rng());
    expected += chunk;
    auto written = request<uint64_t>(agg, atom::log::value, int32_t{1},
                                     int64_t{0}, chunk);
    EXPECT_EQ(written->get(), chunk.size());
  }
  EXPECT_EQ(sink->data(), expected);
  auto bytes = request<std::vector<uint64_t>>(agg, atom::status::value);
  EXPECT_EQ(bytes->get(), (std::vector<uint64_t>{0, expected.size()}));
}

TEST_F(log_aggregator_test, eof_is_acknowledged) {
  auto agg = make(std::make_shared<memory_sink>());
  EXPECT_TRUE(request<atom::ok>(agg, atom::eof::value, int32_t{0})->value);
}

TEST_F(log_aggregator_test, an_unknown_container_is_refused) {
  auto sink = std::make_shared<memory_sink>();
  auto agg = make(sink);
  auto rep = request<uint64_t>(agg, atom::log::value, int32_t{2}, int64_t{0},
                               std::string{"x"});
  EXPECT_EQ(code_of(rep->error), ec::unrecognized_container);
  EXPECT_TRUE(sink->data().empty());
}

TEST_F(log_aggregator_test, a_failing_sink_refuses_with_the_reason) {
  auto sink = std::make_shared<memory_sink>(10);
  auto agg = make(sink);
  EXPECT_TRUE(request<uint64_t>(agg, atom::log::value, int32_t{0}, int64_t{0},
                                std::string{"12345"})
                ->value);
  auto rep = request<uint64_t>(agg, atom::log::value, int32_t{0}, int64_t{0},
                               std::string{"1234567890"});
  EXPECT_EQ(code_of(rep->error), ec::log_sink_failed);
  EXPECT_EQ(render(rep->error), "cannot write the job log to memory: no "
                                "space left (10 bytes)");
  // Later writes fail too; what was written stays.
  rep = request<uint64_t>(agg, atom::log::value, int32_t{0}, int64_t{0},
                          std::string{"x"});
  EXPECT_EQ(code_of(rep->error), ec::log_sink_failed);
  EXPECT_EQ(sink->data(), "12345");
}

TEST(log_sink, a_file_sink_names_a_file_it_cannot_open) {
  auto sink = open_file_sink("/nonexistent-dir/job.log");
  ASSERT_FALSE(sink);
  EXPECT_EQ(render(sink.error()), "cannot open the job log file "
                                  "'/nonexistent-dir/job.log': No such file "
                                  "or directory");
}

TEST_F(log_aggregator_test, secrets_are_redacted_across_chunks_and_at_eof) {
  auto sink = std::make_shared<memory_sink>();
  auto agg = spawn(log_aggregator, sink,
                   log_aggregator_config{2, {"ghp_0123456789"}, {}, false});
  request<uint64_t>(agg, atom::log::value, int32_t{0}, int64_t{0},
                    std::string{"token ghp_01234"});
  // Held back: it may be the start of the secret.
  EXPECT_EQ(sink->data(), "token ");
  auto credit = request<uint64_t>(agg, atom::log::value, int32_t{0}, int64_t{0},
                                  std::string{"56789 done\nlast ghp_0"});
  // Credit counts the bytes received, whatever was replaced.
  EXPECT_EQ(credit->get(), 21u);
  EXPECT_EQ(sink->data(), "token [REDACTED] done\nlast ");
  request<atom::ok>(agg, atom::eof::value, int32_t{0});
  EXPECT_EQ(sink->data(), "token [REDACTED] done\nlast ghp_0");
  auto bytes = request<std::vector<uint64_t>>(agg, atom::status::value);
  EXPECT_EQ(bytes->get()[0], sink->data().size());
}

TEST_F(log_aggregator_test,
       secrets_passed_on_by_a_step_are_redacted_from_then_on) {
  auto sink = std::make_shared<memory_sink>();
  auto agg = spawn(
    log_aggregator, sink,
    log_aggregator_config{2, {}, split_patterns(default_redacted_vars), false});
  request<uint64_t>(agg, atom::log::value, int32_t{0}, int64_t{0},
                    std::string{"pushed abcdef-123456\n"});
  // Step 0 passes on a token and a version: the token's value is a secret,
  // the version is not, and a short value is left alone.
  caf::anon_send(agg, atom::env::value,
                 std::vector<std::string>{"DEPLOY_TOKEN=abcdef-123456",
                                          "VERSION=abcdef-1",
                                          "SHORT_TOKEN=abc"});
  run();
  request<uint64_t>(agg, atom::log::value, int32_t{1}, int64_t{0},
                    std::string{"using abcdef-123456 for abcdef-1 abc\n"});
  request<atom::ok>(agg, atom::eof::value, int32_t{1});
  EXPECT_EQ(sink->data(), "pushed abcdef-123456\n"
                          "using [REDACTED] for abcdef-1 abc\n");
}

TEST_F(log_aggregator_test, timestamped_lines_carry_the_time_they_were_read) {
  auto sink = std::make_shared<memory_sink>();
  auto agg = spawn(log_aggregator, sink,
                   log_aggregator_config{2, {"s3cr3t-value"}, {}, true});
  int64_t t1 = 1'000'000'000;
  int64_t t2 = 2'000'000'000;
  // A line split across chunks gets one stamp; a secret split across them
  // is still redacted.
  request<uint64_t>(agg, atom::log::value, int32_t{0}, t1,
                    std::string{"one\ntwo s3cr3t"});
  request<uint64_t>(agg, atom::log::value, int32_t{0}, t2,
                    std::string{"-value end\nthree\n"});
  request<atom::ok>(agg, atom::eof::value, int32_t{0});
  EXPECT_EQ(sink->data(), "1970-01-01T00:00:01.000Z one\n"
                          "1970-01-01T00:00:01.000Z two [REDACTED] end\n"
                          "1970-01-01T00:00:02.000Z three\n");
  auto bytes = request<std::vector<uint64_t>>(agg, atom::status::value);
  EXPECT_EQ(bytes->get()[0], sink->data().size());
}

// A batch (the log frames of one read) is written as its pieces would be
// one by one: a secret split across pieces is redacted, each line carries
// the time of the piece it started in, and the credit is the sum.
TEST_F(log_aggregator_test, a_batch_writes_as_its_pieces_one_by_one) {
  auto sink = std::make_shared<memory_sink>();
  auto agg = spawn(log_aggregator, sink,
                   log_aggregator_config{2, {"s3cr3t-value"}, {}, true});
  log_batch batch{{1'000'000'000, "one\ntwo s3cr3t"},
                  {2'000'000'000, "-value end\nthree\n"},
                  {3'000'000'000, "four"}};
  auto credit = request<uint64_t>(agg, atom::log::value, int32_t{0}, batch);
  EXPECT_EQ(credit->get(), 35u);
  request<atom::ok>(agg, atom::eof::value, int32_t{0});
  EXPECT_EQ(sink->data(), "1970-01-01T00:00:01.000Z one\n"
                          "1970-01-01T00:00:01.000Z two [REDACTED] end\n"
                          "1970-01-01T00:00:02.000Z three\n"
                          "1970-01-01T00:00:03.000Z four");
  auto bytes = request<std::vector<uint64_t>>(agg, atom::status::value);
  EXPECT_EQ(bytes->get()[0], sink->data().size());
}

// A batch meets the same errors as a single piece: an unknown container,
// a sink that fails (and what was written before stays).
TEST_F(log_aggregator_test, a_batch_is_refused_as_a_piece_would_be) {
  auto sink = std::make_shared<memory_sink>(10);
  auto agg = make(sink);
  auto rep = request<uint64_t>(agg, atom::log::value, int32_t{2},
                               log_batch{{0, "x"}});
  EXPECT_EQ(code_of(rep->error), ec::unrecognized_container);
  EXPECT_EQ(request<uint64_t>(agg, atom::log::value, int32_t{0},
                              log_batch{{0, "123"}, {0, "45"}})
              ->get(),
            5u);
  rep = request<uint64_t>(agg, atom::log::value, int32_t{0},
                          log_batch{{0, "12345"}, {0, "67890"}});
  EXPECT_EQ(code_of(rep->error), ec::log_sink_failed);
  EXPECT_EQ(sink->data(), "12345");
}

// -- whole lines --------------------------------------------------------------

namespace {

class line_merge_test : public baton::testing::actor_fixture {
protected:
  std::shared_ptr<memory_sink> sink = std::make_shared<memory_sink>();
  log_aggregator_actor agg;

  void make(bool timestamps = false, std::vector<std::string> secrets = {}) {
    agg = spawn(log_aggregator, sink,
                log_aggregator_config{2, std::move(secrets), {}, timestamps});
  }

  void mode(int32_t id, log_mode m, std::string prefix = {}) {
    caf::anon_send(agg, atom::mode::value, id, m, std::move(prefix));
    run();
  }

  /// Container `id` starts prefixed, and writes its header line first, as a
  /// bootstrap does; `log()` leaves the headers out.
  void start(int32_t id, std::string prefix) {
    mode(id, log_mode::prefixed, std::move(prefix));
    auto header = "~~~ Running container " + std::to_string(id) + "\n";
    write(id, header);
    headers = sink->data().size();
  }

  std::string log() const {
    return sink->data().substr(headers);
  }

  size_t headers = 0;

  void write(int32_t id, std::string bytes, int64_t read_ns = 0) {
    auto rep = request<uint64_t>(agg, atom::log::value, id, read_ns, bytes);
    EXPECT_EQ(rep->get(), bytes.size());
  }

  void eof(int32_t id) {
    EXPECT_TRUE(request<atom::ok>(agg, atom::eof::value, id)->value);
  }
};

} // namespace

TEST_F(line_merge_test, prefixed_lines_are_never_mixed) {
  make();
  start(0, "[db] ");
  mode(1, log_mode::lines);
  write(0, "ready\nacc");
  write(1, "step out");
  write(0, "epted\n");
  write(1, "put\n");
  EXPECT_EQ(log(), "[db] ready\n[db] accepted\nstep output\n");
  // Only the service's own bytes count as its, prefixes included.
  auto bytes = request<std::vector<uint64_t>>(agg, atom::status::value);
  EXPECT_EQ(bytes->get()[1], std::string{"step output\n"}.size());
}

TEST_F(line_merge_test, a_partial_line_waits_a_second_then_is_a_line) {
  make();
  start(0, "[db] ");
  write(0, "waiting");
  advance(std::chrono::milliseconds{999});
  EXPECT_EQ(log(), "");
  advance(std::chrono::milliseconds{1});
  EXPECT_EQ(log(), "[db] waiting\n");
  // What follows is a line of its own, with its prefix.
  write(0, " still\n");
  EXPECT_EQ(log(), "[db] waiting\n[db]  still\n");
}

TEST_F(line_merge_test, a_new_partial_line_gets_a_full_second) {
  make();
  start(0, "[db] ");
  write(0, "a");
  advance(std::chrono::milliseconds{600});
  write(0, "\nb");
  advance(std::chrono::milliseconds{600});
  // The first hold's flush finds a line that began later.
  EXPECT_EQ(log(), "[db] a\n");
  advance(std::chrono::milliseconds{400});
  EXPECT_EQ(log(), "[db] a\n[db] b\n");
}

TEST_F(line_merge_test, a_long_line_is_cut_at_64_kib) {
  make();
  start(0, "[x] ");
  std::string half(40 * 1024, 'a');
  write(0, half);
  EXPECT_EQ(log(), "");
  write(0, half);
  EXPECT_EQ(log(), "[x] " + half + half + "\n");
  write(0, "tail\n");
  EXPECT_EQ(log(), "[x] " + half + half + "\n[x] tail\n");
}

TEST_F(line_merge_test, the_end_of_a_stream_writes_its_partial_line) {
  make();
  mode(0, log_mode::lines);
  write(0, "no newline");
  eof(0);
  EXPECT_EQ(sink->data(), "no newline\n");
}

TEST_F(line_merge_test, redaction_spans_a_split_inside_a_prefixed_line) {
  make(false, {"hunter2-secret"});
  start(0, "[db] ");
  write(0, "pw=hunter2");
  write(0, "-secret ok\n");
  EXPECT_EQ(log(), "[db] pw=[REDACTED] ok\n");
}

TEST_F(line_merge_test, the_stamp_goes_before_the_prefix) {
  make(true);
  start(0, "[db] ");
  write(0, "one\ntw", 1'000'000'000);
  write(0, "o\n", 2'000'000'000);
  EXPECT_EQ(log(), "1970-01-01T00:00:01.000Z [db] one\n"
                   "1970-01-01T00:00:01.000Z [db] two\n");
}

TEST_F(line_merge_test, members_write_whole_lines_after_their_plain_headers) {
  make(true);
  mode(0, log_mode::prefixed, "[lint] ");
  mode(1, log_mode::prefixed, "[unit] ");
  write(0, "~~~ Running container 0 (lint): make lint\n", 1'000'000'000);
  write(1, "~~~ Running container 1 (unit): make test\nPASS a", 2'000'000'000);
  write(0, "checking", 3'000'000'000);
  write(1, "\nPASS b\n", 4'000'000'000);
  write(0, " done\n", 5'000'000'000);
  EXPECT_EQ(sink->data(),
            "1970-01-01T00:00:01.000Z ~~~ Running container 0 (lint): make "
            "lint\n"
            "1970-01-01T00:00:02.000Z ~~~ Running container 1 (unit): make "
            "test\n"
            "1970-01-01T00:00:02.000Z [unit] PASS a\n"
            "1970-01-01T00:00:04.000Z [unit] PASS b\n"
            "1970-01-01T00:00:03.000Z [lint] checking done\n");
}

TEST_F(line_merge_test, a_line_open_when_the_mode_changes_ends_there) {
  make();
  write(0, "direct ");
  mode(0, log_mode::prefixed, "[a] ");
  // Not the first line: prefixed. The line left open got its newline.
  write(0, "first\nsecond\n");
  EXPECT_EQ(sink->data(), "direct \n[a] first\n[a] second\n");
  write(1, "step, half a line");
  mode(1, log_mode::lines);
  write(0, "x\n");
  write(1, " and the rest\n");
  EXPECT_EQ(sink->data(), "direct \n[a] first\n[a] second\nstep, half a line\n"
                          "[a] x\n and the rest\n");
}

TEST_F(line_merge_test, a_line_an_agent_line_ended_gets_no_second_newline) {
  make();
  write(1, "half");
  EXPECT_TRUE(request<atom::ok>(agg, atom::log::value,
                                std::string{"~~~ Skipping container 0\n"})
                ->value);
  mode(1, log_mode::lines);
  write(1, " line\n");
  EXPECT_EQ(sink->data(), "half\n~~~ Skipping container 0\n line\n");
}

TEST_F(line_merge_test, a_tail_writes_nothing_until_asked) {
  make();
  mode(0, log_mode::tail);
  std::string text;
  for (int i = 0; i < 30; ++i)
    text += "line " + std::to_string(i) + "\n";
  write(0, text + "partial");
  eof(0);
  EXPECT_EQ(sink->data(), "");
  auto bytes = request<std::vector<uint64_t>>(agg, atom::status::value);
  EXPECT_EQ(bytes->get()[0], 0u);
  EXPECT_TRUE(request<atom::ok>(agg, atom::tail::value, int32_t{0},
                                std::string{"~~~ last lines:\n"})
                ->value);
  // The last 20 lines, the unfinished one among them.
  std::string expected = "~~~ last lines:\n";
  for (int i = 11; i < 30; ++i)
    expected += "line " + std::to_string(i) + "\n";
  expected += "partial\n";
  EXPECT_EQ(sink->data(), expected);
}

TEST_F(line_merge_test, an_empty_tail_writes_no_heading) {
  make();
  mode(0, log_mode::tail);
  EXPECT_TRUE(request<atom::ok>(agg, atom::tail::value, int32_t{0},
                                std::string{"~~~ last lines:\n"})
                ->value);
  EXPECT_EQ(sink->data(), "");
}

TEST_F(line_merge_test, direct_output_stays_byte_exact) {
  make();
  write(0, "a");
  write(1, "b\n");
  write(0, "c");
  EXPECT_EQ(sink->data(), "ab\nc");
}

TEST_F(line_merge_test, a_tail_is_stamped_and_redacted_like_every_line) {
  make(true, {"s3cr3t-db"});
  mode(0, log_mode::tail);
  write(0, "pw s3cr3t-db\n", 1'000'000'000);
  eof(0);
  EXPECT_TRUE(request<atom::ok>(agg, atom::tail::value, int32_t{0},
                                std::string{"~~~ last of s3cr3t-db:\n"})
                ->value);
  auto out = sink->data();
  EXPECT_EQ(out.find("s3cr3t-db"), std::string::npos) << out;
  // Two lines, each starting with a stamp (the time they are written).
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
  EXPECT_NE(out.find("Z ~~~ last of [REDACTED]:\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Z pw [REDACTED]\n"), std::string::npos) << out;
  EXPECT_EQ(out.rfind("20", 0), 0u) << out;
}
