#include "job/names.hpp"

#include "messages/error.hpp"

#include <gtest/gtest.h>

using namespace baton;

TEST(names, kubernetes_container_names) {
  EXPECT_TRUE(is_container_name("build"));
  EXPECT_TRUE(is_container_name("a"));
  EXPECT_TRUE(is_container_name("unit-tests-2"));
  EXPECT_TRUE(is_container_name(std::string(63, 'x')));
  EXPECT_FALSE(is_container_name(""));
  EXPECT_FALSE(is_container_name(std::string(64, 'x')));
  EXPECT_FALSE(is_container_name("Build"));
  EXPECT_FALSE(is_container_name("-build"));
  EXPECT_FALSE(is_container_name("build-"));
  EXPECT_FALSE(is_container_name("unit_tests"));
  EXPECT_FALSE(is_container_name("a.b"));
}

TEST(names, the_default_is_container_dash_id) {
  EXPECT_EQ(
    default_container_names(3),
    (std::vector<std::string>{"container-0", "container-1", "container-2"}));
}

TEST(names, one_name_per_container_in_id_order) {
  auto names = parse_container_names("checkout,build,test", 3);
  ASSERT_TRUE(names) << render(names.error());
  EXPECT_EQ(*names, (std::vector<std::string>{"checkout", "build", "test"}));
}

TEST(names, a_wrong_count_names_the_value) {
  auto names = parse_container_names("checkout,build", 3);
  ASSERT_FALSE(names);
  EXPECT_EQ(render(names.error()),
            "expected 3 container names (one per container, in id order), got "
            "2 in 'checkout,build'");
  EXPECT_FALSE(parse_container_names("a,b", 1));
  EXPECT_FALSE(parse_container_names("a,", 1));
}

TEST(names, a_bad_name_is_named) {
  auto names = parse_container_names("checkout,Build", 2);
  ASSERT_FALSE(names);
  auto text = render(names.error());
  EXPECT_NE(text.find("invalid container name 'Build' for container 1 in "
                      "'checkout,Build'"),
            std::string::npos)
    << text;
  auto empty = parse_container_names("checkout,,test", 3);
  ASSERT_FALSE(empty);
  EXPECT_NE(render(empty.error())
              .find("invalid container name '' for "
                    "container 1"),
            std::string::npos);
}

TEST(names, a_name_given_twice_is_refused) {
  auto names = parse_container_names("a,b,a", 3);
  ASSERT_FALSE(names);
  EXPECT_NE(render(names.error())
              .find("'a' is given twice, to containers 0 "
                    "and 2"),
            std::string::npos);
}

TEST(names, service_ids_are_a_comma_list_or_none) {
  EXPECT_EQ(*parse_service_ids("none", 3), std::vector<uint32_t>{});
  EXPECT_EQ(*parse_service_ids("2,0", 3), (std::vector<uint32_t>{2, 0}));
  auto bad = [](const std::string& text) {
    auto ids = parse_service_ids(text, 3);
    return ids ? std::string{"<no error>"} : render(ids.error());
  };
  EXPECT_NE(bad("1,x").find("expected container ids such as 1,2 or 'none', "
                            "got 'x' in '1,x'"),
            std::string::npos);
  EXPECT_NE(bad("3").find("service id 3 is out of range: the job has "
                          "containers 0 to 2"),
            std::string::npos);
  EXPECT_NE(bad("1,1").find("service id 1 is given twice in '1,1'"),
            std::string::npos);
  EXPECT_NE(bad("0,1,2").find("every container is a service"),
            std::string::npos);
  EXPECT_NE(bad("").find("got ''"), std::string::npos);
}
