#include "job/redactor.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace baton;

namespace {

// Runs `chunks` through a redactor, then finishes the stream.
std::string redact(std::vector<std::string> secrets,
                   const std::vector<std::string>& chunks) {
  redactor r{std::move(secrets)};
  std::string out;
  for (auto& chunk : chunks)
    r.process(chunk, out);
  r.finish(out);
  return out;
}

} // namespace

TEST(redactor, without_secrets_bytes_pass_unchanged) {
  EXPECT_EQ(redact({}, {std::string{"a\0b", 3}, "c"}), std::string("a\0bc", 4));
}

TEST(redactor, a_secret_in_one_chunk) {
  EXPECT_EQ(redact({"hunter22"}, {"pw=hunter22 ok\n"}), "pw=[REDACTED] ok\n");
}

TEST(redactor, a_secret_split_across_two_chunks_at_every_point) {
  std::string text = "before s3cr3t-value after";
  for (size_t split = 0; split <= text.size(); ++split)
    EXPECT_EQ(redact({"s3cr3t-value"},
                     {text.substr(0, split), text.substr(split)}),
              "before [REDACTED] after")
      << split;
}

TEST(redactor, a_secret_split_across_many_writes) {
  std::vector<std::string> bytes;
  for (auto c : std::string{"xs3cr3t-valuey"})
    bytes.emplace_back(1, c);
  EXPECT_EQ(redact({"s3cr3t-value"}, bytes), "x[REDACTED]y");
}

TEST(redactor, a_secret_at_the_very_end_of_the_output) {
  EXPECT_EQ(redact({"s3cr3t-value"}, {"tail s3cr3t", "-value"}),
            "tail [REDACTED]");
}

TEST(redactor, a_prefix_at_the_end_is_not_a_secret) {
  EXPECT_EQ(redact({"s3cr3t-value"}, {"tail s3cr3t"}), "tail s3cr3t");
}

TEST(redactor, every_occurrence_and_the_longest_of_overlapping_secrets) {
  EXPECT_EQ(redact({"abcdef", "abcdefgh"}, {"abcdefgh abcdef abcdefg"}),
            "[REDACTED] [REDACTED] [REDACTED]g");
}

TEST(redactor, a_line_without_a_secret_prefix_is_not_held_back) {
  redactor r{{"s3cr3t-value"}};
  std::string out;
  r.process("line 1\n", out);
  EXPECT_EQ(out, "line 1\n");
  r.process("key=s3c", out);
  EXPECT_EQ(out, "line 1\nkey=");
  r.process("ret? no\n", out);
  EXPECT_EQ(out, "line 1\nkey=s3cret? no\n");
}

TEST(redactor, any_chunking_gives_the_same_output) {
  std::mt19937 rng{11};
  std::vector<std::string> secrets = {"Sup3rS3cret", "tok_ABCDEF123",
                                      "aaaaaab"};
  for (int round = 0; round < 200; ++round) {
    std::string text;
    for (int i = 0; i < 50; ++i) {
      if (rng() % 4 == 0)
        text += secrets[rng() % secrets.size()];
      else
        text += std::string(rng() % 10, static_cast<char>('a' + rng() % 3));
    }
    auto whole = redact(secrets, {text});
    EXPECT_EQ(whole.find("Sup3rS3cret"), std::string::npos);
    EXPECT_EQ(whole.find("tok_ABCDEF123"), std::string::npos);
    std::vector<std::string> chunks;
    for (size_t pos = 0; pos < text.size();) {
      auto n = std::min<size_t>(text.size() - pos, rng() % 8);
      chunks.push_back(text.substr(pos, n));
      pos += n;
    }
    EXPECT_EQ(redact(secrets, chunks), whole) << text;
  }
}

TEST(redactor, secrets_come_from_matching_names_of_six_bytes_or_more) {
  env_map env = {{"GITHUB_TOKEN", "ghp_0123456789"},
                 {"DB_PASSWORD", "short"},
                 {"AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI"},
                 {"PATH", "/usr/bin:/bin"},
                 {"MY_API_KEY", "k-1234567"}};
  auto secrets = secrets_of(env);
  std::sort(secrets.begin(), secrets.end());
  EXPECT_EQ(secrets, (std::vector<std::string>{"ghp_0123456789", "k-1234567",
                                               "wJalrXUtnFEMI"}));
}

TEST(redactor, buildkite_redacted_vars_replaces_the_default) {
  env_map env = {{"BUILDKITE_REDACTED_VARS", "MY_*, OTHER"},
                 {"MY_VALUE", "value-one"},
                 {"OTHER", "value-two"},
                 {"GITHUB_TOKEN", "ghp_0123456789"}};
  auto secrets = secrets_of(env);
  std::sort(secrets.begin(), secrets.end());
  EXPECT_EQ(secrets, (std::vector<std::string>{"value-one", "value-two"}));
}

TEST(redactor, split_patterns_takes_commas_and_spaces) {
  EXPECT_EQ(split_patterns(" *_A, *_B\t*_C ,"),
            (std::vector<std::string>{"*_A", "*_B", "*_C"}));
  EXPECT_TRUE(matches_any("X_TOKEN", {"*_TOKEN"}));
  EXPECT_FALSE(matches_any("X_TOKENS", {"*_TOKEN"}));
  EXPECT_TRUE(matches_any("A_B_C", {"A_*_C"}));
}
