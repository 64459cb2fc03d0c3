#include "job/pod_spec.hpp"

#include "messages/error.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace baton;

namespace {

using args = std::vector<std::string>;

/// The rendered error of a spec that must not parse.
std::string error_of(const std::string& text) {
  auto spec = parse_pod_spec(text);
  if (spec)
    return "<no error>";
  EXPECT_EQ(code_of(spec.error()), ec::invalid_argument);
  return render(spec.error());
}

} // namespace

TEST(pod_spec, valid_spec_parses) {
  auto spec = parse_pod_spec(R"({
    "env": {"BUILDKITE_JOB_ID": "42", "EMPTY": ""},
    "containers": [
      {"name": "checkout", "command": ["sh", "-c", "git clone x"],
       "env": {"A": "1"}, "workingDir": "/src", "image": "alpine:3"},
      {"command": ["make", "test"]}
    ]
  })");
  ASSERT_TRUE(spec) << render(spec.error());
  EXPECT_EQ(spec->env, (env_map{{"BUILDKITE_JOB_ID", "42"}, {"EMPTY", ""}}));
  ASSERT_EQ(spec->containers.size(), 2u);
  auto& first = spec->containers[0];
  EXPECT_EQ(first.name, "checkout");
  EXPECT_EQ(first.command, (args{"sh", "-c", "git clone x"}));
  EXPECT_EQ(first.env, (env_map{{"A", "1"}}));
  EXPECT_EQ(first.working_dir, "/src");
  EXPECT_EQ(first.image, "alpine:3");
  auto& second = spec->containers[1];
  EXPECT_EQ(second.name, "container-1");
  EXPECT_EQ(second.command, (args{"make", "test"}));
  EXPECT_TRUE(second.env.empty());
  EXPECT_EQ(second.working_dir, "");
  EXPECT_EQ(second.image, "");
}

TEST(pod_spec, env_is_optional) {
  auto spec = parse_pod_spec(R"({"containers": [{"command": ["true"]}]})");
  ASSERT_TRUE(spec) << render(spec.error());
  EXPECT_TRUE(spec->env.empty());
  ASSERT_EQ(spec->containers.size(), 1u);
  EXPECT_EQ(spec->containers[0].name, "container-0");
}

TEST(pod_spec, not_json) {
  auto msg = error_of("{\"containers\": [");
  EXPECT_EQ(msg.rfind("pod spec is not valid JSON: ", 0), 0u) << msg;
}

TEST(pod_spec, top_level_not_an_object) {
  EXPECT_EQ(error_of("[1, 2]"),
            "pod spec: top level: expected an object, got array");
  EXPECT_EQ(error_of("\"x\""),
            "pod spec: top level: expected an object, got string");
}

TEST(pod_spec, missing_containers) {
  EXPECT_EQ(error_of(R"({"env": {}})"), "pod spec: containers: missing");
}

TEST(pod_spec, empty_containers) {
  EXPECT_EQ(error_of(R"({"containers": []})"),
            "pod spec: containers: expected a non-empty array");
  EXPECT_EQ(error_of(R"({"containers": {"command": ["true"]}})"),
            "pod spec: containers: expected a non-empty array");
}

TEST(pod_spec, container_not_an_object) {
  EXPECT_EQ(error_of(R"({"containers": [{"command": ["true"]}, 7]})"),
            "pod spec: containers[1]: expected an object, got number");
}

TEST(pod_spec, command_missing) {
  EXPECT_EQ(error_of(R"({"containers": [{"command": ["true"]},
                                        {"name": "x"}]})"),
            "pod spec: containers[1].command: missing");
}

TEST(pod_spec, command_not_an_array_of_strings) {
  auto expected = "pod spec: containers[1].command: expected a non-empty "
                  "array of strings";
  EXPECT_EQ(error_of(R"({"containers": [{"command": ["true"]},
                                        {"command": "make"}]})"),
            expected);
  EXPECT_EQ(error_of(R"({"containers": [{"command": ["true"]},
                                        {"command": ["make", 1]}]})"),
            expected);
}

TEST(pod_spec, command_empty) {
  EXPECT_EQ(error_of(R"({"containers": [{"command": ["true"]},
                                        {"command": []}]})"),
            "pod spec: containers[1].command: expected a non-empty array of "
            "strings");
}

TEST(pod_spec, env_value_not_a_string) {
  EXPECT_EQ(error_of(R"({"env": {"X": 1},
                         "containers": [{"command": ["true"]}]})"),
            "pod spec: env.X: expected a string, got number");
  EXPECT_EQ(error_of(R"({"containers": [{"command": ["true"],
                                         "env": {"Y": null}}]})"),
            "pod spec: containers[0].env.Y: expected a string, got null");
}

TEST(pod_spec, env_not_an_object) {
  EXPECT_EQ(error_of(R"({"env": ["X=1"],
                         "containers": [{"command": ["true"]}]})"),
            "pod spec: env: expected an object of strings, got array");
}

TEST(pod_spec, invalid_variable_name) {
  EXPECT_EQ(error_of(R"({"env": {"A=B": "1"},
                         "containers": [{"command": ["true"]}]})"),
            "pod spec: env: invalid variable name 'A=B'");
  EXPECT_EQ(error_of(R"({"containers": [{"command": ["true"],
                                         "env": {"": "1"}}]})"),
            "pod spec: containers[0].env: invalid variable name ''");
}

TEST(pod_spec, names_are_kubernetes_container_names_and_unique) {
  EXPECT_EQ(error_of(R"({"containers": [{"command": ["true"],
                                         "name": "Build_1"}]})"),
            "pod spec: containers[0].name: invalid container name 'Build_1': "
            "a name has 1 to 63 lowercase letters, digits and '-', and starts "
            "and ends with a letter or digit");
  EXPECT_EQ(error_of(R"({"containers": [{"command": ["true"], "name": "a"},
                                        {"command": ["true"], "name": "a"}]})"),
            "pod spec: containers[1].name: 'a' is the name of an earlier "
            "container too");
  // A default name counts too.
  EXPECT_EQ(error_of(R"({"containers": [{"command": ["true"]},
                                        {"command": ["true"],
                                         "name": "container-0"}]})"),
            "pod spec: containers[1].name: 'container-0' is the name of an "
            "earlier container too");
}

TEST(pod_spec, resources_are_kept_as_kubernetes_takes_them) {
  auto spec = parse_pod_spec(R"({
    "agentResources": {"requests": {"cpu": "50m"}},
    "containers": [{"command": ["true"], "resources": {
      "requests": {"cpu": "500m", "memory": "1Gi"},
      "limits": {"memory": "2Gi", "ephemeral-storage": "10G", "cpu": 2}}},
                   {"command": ["true"]}]})");
  ASSERT_TRUE(spec) << render(spec.error());
  EXPECT_EQ(spec->agent_resources, R"({"requests":{"cpu":"50m"}})");
  EXPECT_EQ(spec->containers[0].resources,
            R"({"limits":{"cpu":2,"ephemeral-storage":"10G","memory":"2Gi"},)"
            R"("requests":{"cpu":"500m","memory":"1Gi"}})");
  EXPECT_EQ(spec->containers[1].resources, "");
  // Without agentResources, a small request.
  auto plain = parse_pod_spec(R"({"containers": [{"command": ["true"]}]})");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->agent_resources, default_agent_resources);
}

TEST(pod_spec, bad_resources_name_the_field_and_the_value) {
  EXPECT_EQ(error_of(R"({"containers": [{"command": ["true"],
                                         "resources": []}]})"),
            "pod spec: containers[0].resources: expected an object, got "
            "array");
  EXPECT_EQ(error_of(R"({"containers": [{"command": ["true"],
                         "resources": {"claims": []}}]})"),
            "pod spec: containers[0].resources: unknown key 'claims' "
            "(expected requests or limits)");
  EXPECT_EQ(error_of(R"({"containers": [{"command": ["true"],
                         "resources": {"limits": {"gpu": "1"}}}]})"),
            "pod spec: containers[0].resources.limits.gpu: unknown resource "
            "(expected cpu, memory or ephemeral-storage)");
  EXPECT_EQ(error_of(R"({"agentResources": {"requests": {"memory": "lots"}},
                         "containers": [{"command": ["true"]}]})"),
            "pod spec: agentResources.requests.memory: invalid quantity "
            "\"lots\" (expected such as 500m, 1.5, 64Mi or 2G)");
}

TEST(pod_spec, string_fields_must_be_strings) {
  EXPECT_EQ(error_of(R"({"containers": [{"command": ["true"],
                                         "workingDir": 3}]})"),
            "pod spec: containers[0].workingDir: expected a string, got "
            "number");
  EXPECT_EQ(error_of(R"({"containers": [{"command": ["true"],
                                         "name": false}]})"),
            "pod spec: containers[0].name: expected a string, got boolean");
}

TEST(pod_spec, missing_file_names_the_path) {
  auto path = ::testing::TempDir() + "baton-no-such-pod-spec.json";
  auto spec = read_pod_spec(path);
  ASSERT_FALSE(spec);
  EXPECT_EQ(code_of(spec.error()), ec::invalid_argument);
  auto msg = render(spec.error());
  EXPECT_NE(msg.find("'" + path + "'"), std::string::npos) << msg;
}

// -- job steps ----------------------------------------------------------------

TEST(pod_spec, step_settings_become_the_variables_a_bootstrap_reads) {
  auto spec = parse_pod_spec(R"({
    "timestampLines": true, "timeout": "1h",
    "containers": [
      {"command": ["true"], "softFail": true, "always": true,
       "timeout": "90s", "env": {"A": "1"}},
      {"command": ["true"], "softFail": [1, 3], "always": false},
      {"command": ["true"], "softFail": false}
    ]
  })");
  ASSERT_TRUE(spec) << render(spec.error());
  EXPECT_TRUE(spec->timestamp_lines);
  EXPECT_EQ(spec->timeout, "1h");
  EXPECT_EQ(container_env(spec->containers[0], 0),
            (env_map{{"A", "1"},
                     {"BATON_ALWAYS", "true"},
                     {"BATON_SOFT_FAIL", "true"},
                     {"BATON_TIMEOUT", "90s"},
                     {"BUILDKITE_CONTAINER_ID", "0"}}));
  EXPECT_EQ(
    container_env(spec->containers[1], 1),
    (env_map{{"BATON_SOFT_FAIL", "1,3"}, {"BUILDKITE_CONTAINER_ID", "1"}}));
  EXPECT_EQ(container_env(spec->containers[2], 2),
            (env_map{{"BUILDKITE_CONTAINER_ID", "2"}}));
}

TEST(pod_spec, bad_step_settings_name_the_field_and_the_value) {
  auto one = [](const std::string& fields) {
    return error_of(R"({"containers": [{"command": ["true"], )" + fields
                    + "}]}");
  };
  auto statuses = "expected true, false or a list of exit statuses from 1 "
                  "to 255, got ";
  EXPECT_EQ(one(R"("softFail": "yes")"),
            std::string{"pod spec: containers[0].softFail: "} + statuses
              + "\"yes\"");
  EXPECT_EQ(one(R"("softFail": [0])"),
            std::string{"pod spec: containers[0].softFail: "} + statuses
              + "[0]");
  EXPECT_EQ(one(R"("softFail": [])"),
            std::string{"pod spec: containers[0].softFail: "} + statuses
              + "[]");
  EXPECT_EQ(one(R"("always": "true")"),
            "pod spec: containers[0].always: expected true or false, got "
            "\"true\"");
  EXPECT_EQ(one(R"("timeout": "10 minutes")"),
            "pod spec: containers[0].timeout: expected a duration such as "
            "\"90s\", \"10m\" or \"1h30m\", got \"10 minutes\"");
  EXPECT_EQ(one(R"("timeout": 600)"),
            "pod spec: containers[0].timeout: expected a duration such as "
            "\"90s\", \"10m\" or \"1h30m\", got 600");
  EXPECT_EQ(one(R"("always": true, "env": {"BATON_ALWAYS": "true"})"),
            "pod spec: containers[0]: env.BATON_ALWAYS repeats a setting of "
            "the container (softFail, always, timeout, service, ready, "
            "readyTimeout, log, group or failFast): use one of them");
  EXPECT_EQ(error_of(R"({"timestampLines": 1, "containers": [{"command":
                        ["true"]}]})"),
            "pod spec: timestampLines: expected true or false, got 1");
  EXPECT_EQ(error_of(R"({"timeout": "0s", "containers": [{"command":
                        ["true"]}]})"),
            "pod spec: timeout: expected a duration such as \"90s\", \"10m\" "
            "or \"1h30m\", got \"0s\"");
}

TEST(pod_spec, a_service_becomes_its_variables_and_the_agents_ids) {
  auto spec = parse_pod_spec(R"({"containers": [
    {"name": "db", "command": ["db"], "service": true, "ready": "tcp:5432",
     "readyTimeout": "30s", "log": "job"},
    {"name": "test", "command": ["true"]}]})");
  ASSERT_TRUE(spec) << render(spec.error());
  auto& db = spec->containers[0];
  EXPECT_TRUE(is_service(db));
  EXPECT_FALSE(is_service(spec->containers[1]));
  EXPECT_EQ(db.step_env, (env_map{{"BATON_SERVICE", "true"},
                                  {"BATON_READY", "tcp:5432"},
                                  {"BATON_READY_TIMEOUT", "30s"},
                                  {"BATON_SERVICE_LOG", "job"}}));
  EXPECT_EQ(service_ids(*spec), "0");
  spec->containers[0].step_env.clear();
  EXPECT_EQ(service_ids(*spec), "none");
}

TEST(pod_spec, bad_service_keys_name_the_field_and_the_value) {
  auto two = [](const std::string& fields) {
    return error_of(R"({"containers": [{"command": ["true"], )" + fields
                    + R"(}, {"command": ["true"]}]})");
  };
  EXPECT_EQ(two(R"("service": true, "ready": "tcp:http")"),
            "pod spec: containers[0].ready: expected \"tcp:PORT\", "
            "\"tcp:HOST:PORT\" or a command, got \"tcp:http\"");
  EXPECT_EQ(two(R"("service": true, "readyTimeout": "soon")"),
            "pod spec: containers[0].readyTimeout: expected a duration such "
            "as \"30s\" or \"2m\", got \"soon\"");
  EXPECT_EQ(two(R"("service": true, "log": "stdout")"),
            "pod spec: containers[0].log: expected \"job\" or \"container\", "
            "got \"stdout\"");
  EXPECT_EQ(two(R"("ready": "tcp:80")"),
            "pod spec: containers[0].ready: is for services only: add "
            "\"service\": true");
  EXPECT_EQ(error_of(R"({"containers": [{"command": ["db"],
                        "service": true}]})"),
            "pod spec: containers: every container is a service: the job "
            "needs at least one step");
}

TEST(pod_spec, group_keys_become_the_members_variables) {
  auto spec = parse_pod_spec(R"({"containers": [
    {"name": "checkout", "command": ["true"]},
    {"name": "lint", "command": ["true"], "group": "checks", "failFast": true},
    {"name": "unit", "command": ["true"], "group": "checks"},
    {"name": "package", "command": ["true"]}]})");
  ASSERT_TRUE(spec) << render(spec.error());
  EXPECT_EQ(
    spec->containers[1].step_env,
    (env_map{{"BATON_GROUP", "checks"}, {"BATON_GROUP_FAIL_FAST", "true"}}));
  EXPECT_EQ(group_of(spec->containers[2]), "checks");
  EXPECT_EQ(group_of(spec->containers[3]), "");
}

TEST(pod_spec, bad_group_keys_name_the_field_and_the_value) {
  auto with = [](const std::string& fields) {
    return error_of(R"({"containers": [{"command": ["true"], )" + fields
                    + R"(}, {"command": ["true"]}]})");
  };
  EXPECT_EQ(with(R"("group": "two words")"),
            "pod spec: containers[0].group: expected a name of 1 to 63 "
            "letters, digits, '.', '_' or '-', got \"two words\"");
  EXPECT_EQ(with(R"("group": "g", "failFast": "yes")"),
            "pod spec: containers[0].failFast: expected true or false, got "
            "\"yes\"");
  EXPECT_EQ(with(R"("failFast": true)"),
            "pod spec: containers[0].failFast: is for the members of a "
            "group: add \"group\": \"NAME\"");
  EXPECT_EQ(with(R"("service": true, "group": "g")"),
            "pod spec: containers[0].group: is for steps only: a service "
            "runs beside every step already");
  EXPECT_EQ(error_of(R"({"containers": [
              {"command": ["true"], "group": "g"},
              {"command": ["true"]},
              {"command": ["true"], "group": "g"}]})"),
            "pod spec: containers[2].group: \"g\" is also the group of "
            "containers[0], but not of every container between them: a "
            "group's members must be consecutive");
}
