#include "apps/manifest.hpp"

#include "messages/error.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace baton;
using nlohmann::json;

namespace {

pod_spec two_containers() {
  auto spec = parse_pod_spec(R"({
    "env": {"BUILDKITE_JOB_ID": "42"},
    "containers": [
      {"name": "checkout", "image": "alpine:3", "command": ["git", "clone"]},
      {"name": "build", "image": "busybox:1.36", "command": ["make"],
       "env": {"A": "1"}, "workingDir": "/workspace/src"}
    ]
  })");
  EXPECT_TRUE(spec);
  return *spec;
}

std::string error_of(const pod_spec& spec, const std::string& name = "pod") {
  auto manifest = render_manifest(spec, name, "baton:1");
  if (manifest)
    return "<no error>";
  EXPECT_EQ(code_of(manifest.error()), ec::invalid_argument);
  return render(manifest.error());
}

json env_entry(const std::string& name, const std::string& value) {
  return {{"name", name}, {"value", value}};
}

} // namespace

TEST(manifest, renders_the_pod_around_the_spec) {
  auto manifest = render_manifest(two_containers(), "job-42", "baton:1");
  ASSERT_TRUE(manifest) << render(manifest.error());
  auto& m = *manifest;
  EXPECT_EQ(m["apiVersion"], "v1");
  EXPECT_EQ(m["kind"], "Pod");
  EXPECT_EQ(m["metadata"]["name"], "job-42");
  auto& spec = m["spec"];
  EXPECT_EQ(spec["restartPolicy"], "Never");
  // 15 s grace, 10 s to SIGKILL, 5 s to clean up.
  EXPECT_EQ(spec["terminationGracePeriodSeconds"], 30);
  EXPECT_EQ(spec["volumes"],
            json::parse(R"([{"name": "workspace", "emptyDir": {}}])"));
  auto mounts = json::parse(R"([{"name": "workspace",
                                 "mountPath": "/workspace"}])");
  // The install, then the checks of the two images.
  ASSERT_EQ(spec["initContainers"].size(), 3u);
  auto& init = spec["initContainers"][0];
  EXPECT_EQ(init["image"], "baton:1");
  EXPECT_EQ(init["command"],
            json({"/baton/lib/ld-linux-x86-64.so.2", "/baton/bin/baton",
                  "install", "--from", "/baton", "/workspace"}));
  EXPECT_EQ(init["volumeMounts"], mounts);
  auto& containers = spec["containers"];
  ASSERT_EQ(containers.size(), 3u);
  auto& agent = containers[0];
  EXPECT_EQ(agent["name"], "agent");
  EXPECT_EQ(agent["command"], json({"/workspace/baton/bin/baton", "agent"}));
  // The agent knows the containers by the names the spec gives them.
  EXPECT_EQ(agent["env"],
            json({env_entry("BATON_CONTAINER_NAMES", "checkout,build"),
                  env_entry("BATON_LOG_LEVEL", "warn"),
                  env_entry("BATON_SERVICES", "none"),
                  env_entry("BUILDKITE_CONTAINER_COUNT", "2"),
                  env_entry("BUILDKITE_JOB_ID", "42")}));
  auto& build = containers[2];
  EXPECT_EQ(build["name"], "build");
  EXPECT_EQ(build["image"], "busybox:1.36");
  EXPECT_EQ(build["command"],
            json({"/workspace/baton/bin/baton", "bootstrap", "--", "make"}));
  EXPECT_EQ(build["env"], json({env_entry("A", "1"),
                                env_entry("BUILDKITE_CONTAINER_ID", "1")}));
  EXPECT_EQ(build["workingDir"], "/workspace/src");
  EXPECT_EQ(build["volumeMounts"], mounts);
  EXPECT_FALSE(containers[1].contains("workingDir"));
}

TEST(manifest, resources_go_into_their_containers) {
  auto spec = parse_pod_spec(R"({"containers": [
    {"name": "build", "image": "alpine", "command": ["true"],
     "resources": {"limits": {"memory": "64Mi"}}},
    {"name": "test", "image": "alpine", "command": ["true"]}]})");
  ASSERT_TRUE(spec) << render(spec.error());
  auto manifest = render_manifest(*spec, "ci", "baton:1");
  ASSERT_TRUE(manifest) << render(manifest.error());
  auto& pod = (*manifest)["spec"];
  auto small = json::parse(R"({"requests": {"cpu": "10m", "memory": "32Mi"}})");
  EXPECT_EQ(pod["initContainers"][0]["resources"], small);
  EXPECT_EQ(pod["containers"][0]["resources"], small);
  EXPECT_EQ(pod["containers"][1]["resources"],
            json::parse(R"({"limits": {"memory": "64Mi"}})"));
  EXPECT_FALSE(pod["containers"][2].contains("resources"));
}

TEST(manifest, each_step_image_is_checked_before_the_job) {
  auto spec = parse_pod_spec(R"({"containers": [
    {"name": "checkout", "image": "alpine:3", "command": ["true"]},
    {"name": "build", "image": "golang:1.22", "command": ["true"]},
    {"name": "test", "image": "alpine:3", "command": ["true"]}]})");
  ASSERT_TRUE(spec) << render(spec.error());
  auto manifest = render_manifest(*spec, "ci", "baton:1");
  ASSERT_TRUE(manifest) << render(manifest.error());
  auto& init = (*manifest)["spec"]["initContainers"];
  // The install first, then one check per distinct image, named after the
  // first container using it.
  ASSERT_EQ(init.size(), 3u);
  EXPECT_EQ(init[0]["name"], "install-baton");
  EXPECT_EQ(init[1]["name"], "image-check-checkout");
  EXPECT_EQ(init[1]["image"], "alpine:3");
  EXPECT_EQ(init[1]["command"],
            json({"/workspace/baton/bin/baton", "--version"}));
  EXPECT_EQ(init[1]["resources"]["limits"]["memory"], "128Mi");
  EXPECT_EQ(init[2]["name"], "image-check-build");
  EXPECT_EQ(init[2]["image"], "golang:1.22");
  workload skip;
  skip.image_checks = false;
  manifest = render_manifest(*spec, "ci", "baton:1", skip);
  ASSERT_TRUE(manifest);
  EXPECT_EQ((*manifest)["spec"]["initContainers"].size(), 1u);
}

TEST(manifest, an_image_check_needs_a_name_of_its_own) {
  auto long_name = [](char last) { return std::string(60, 'a') + last; };
  auto spec
    = parse_pod_spec(R"({"containers": [
    {"name": ")" + long_name('b')
                     + R"(", "image": "alpine:3", "command": ["true"]},
    {"name": ")" + long_name('c')
                     + R"(", "image": "golang:1.22", "command": ["true"]}]})");
  ASSERT_TRUE(spec) << render(spec.error());
  auto check = "image-check-" + std::string(51, 'a');
  EXPECT_EQ(error_of(*spec), "pod spec: containers[1].name: '" + long_name('c')
                               + "' would name its image check '" + check
                               + "', which another container has (shorten or "
                                 "rename one, or --skip-image-checks)");
  spec->containers[1].name = "image-check-build";
  spec->containers.push_back(spec->containers[1]);
  spec->containers[2].name = "build";
  spec->containers[2].image = "debian:12";
  EXPECT_NE(error_of(*spec).find("containers[2].name: 'build' would name its "
                                 "image check 'image-check-build'"),
            std::string::npos);
  // The same names without the checks are fine.
  workload skip;
  skip.image_checks = false;
  EXPECT_TRUE(render_manifest(*spec, "pod", "baton:1", skip));
}

TEST(manifest, grace_period_follows_the_jobs) {
  auto spec = two_containers();
  spec.env["BUILDKITE_CANCEL_GRACE_PERIOD"] = "1m0.5s";
  auto manifest = render_manifest(spec, "pod", "baton:1");
  ASSERT_TRUE(manifest) << render(manifest.error());
  EXPECT_EQ((*manifest)["spec"]["terminationGracePeriodSeconds"], 76);
  // A command's own cancel timeouts, wherever the bootstrap reads them.
  spec.containers[1].env["BUILDKITE_CANCEL_SIGNAL_TIMEOUT"] = "60";
  manifest = render_manifest(spec, "pod", "baton:1");
  ASSERT_TRUE(manifest) << render(manifest.error());
  EXPECT_EQ((*manifest)["spec"]["terminationGracePeriodSeconds"], 126);
  spec.env["BUILDKITE_CANCEL_CLEANUP_TIMEOUT"] = "1m";
  manifest = render_manifest(spec, "pod", "baton:1");
  ASSERT_TRUE(manifest) << render(manifest.error());
  EXPECT_EQ((*manifest)["spec"]["terminationGracePeriodSeconds"], 181);
  spec.containers[0].env["BUILDKITE_CANCEL_SIGNAL_TIMEOUT"] = "later";
  EXPECT_EQ(error_of(spec), "pod spec: containers[0]: "
                            "BUILDKITE_CANCEL_SIGNAL_TIMEOUT='later': invalid "
                            "duration 'later': expected a number");
  spec.env["BUILDKITE_CANCEL_GRACE_PERIOD"] = "soon";
  EXPECT_EQ(error_of(spec), "pod spec: env.BUILDKITE_CANCEL_GRACE_PERIOD: "
                            "invalid duration 'soon'");
}

TEST(manifest, refuses_what_kubernetes_would) {
  auto spec = two_containers();
  spec.containers[1].image.clear();
  EXPECT_EQ(error_of(spec), "pod spec: containers[1].image: missing (every "
                            "container needs an image on Kubernetes)");
  std::vector<std::string> bad_names = {"Build", "build step",
                                        "agent", "install-baton",
                                        "-x",    std::string(64, 'a')};
  for (auto& bad : bad_names) {
    spec = two_containers();
    spec.containers[0].name = bad;
    EXPECT_NE(error_of(spec).find("containers[0].name: '" + bad
                                  + "' cannot name a Kubernetes container"),
              std::string::npos)
      << bad;
  }
  spec = two_containers();
  spec.containers[1].name = "checkout";
  EXPECT_EQ(error_of(spec),
            "pod spec: containers[1].name: 'checkout' is used twice");
  EXPECT_EQ(error_of(two_containers(), "My_Pod"),
            "invalid pod name 'My_Pod': expected lowercase letters, digits, "
            "'-' and '.', at most 253");
  EXPECT_EQ(error_of(two_containers(), "ci.example.job-1"), "<no error>");
}

TEST(manifest, pod_names_come_from_spec_files) {
  EXPECT_EQ(pod_name_for("examples/hello-pod.json"), "hello-pod");
  EXPECT_EQ(pod_name_for("/x/My Job_2.json"), "my-job-2");
  EXPECT_EQ(pod_name_for("__.json"), "baton-job");
  EXPECT_EQ(pod_name_for(std::string(100, 'a') + ".json"),
            std::string(63, 'a'));
}

TEST(manifest, job_steps_become_the_containers_variables) {
  auto spec = parse_pod_spec(R"({
    "timestampLines": true, "timeout": "1h30m",
    "containers": [
      {"name": "test", "image": "busybox:1.36", "command": ["make", "test"],
       "softFail": [3], "always": true, "timeout": "10m"}
    ]
  })");
  ASSERT_TRUE(spec) << render(spec.error());
  auto manifest = render_manifest(*spec, "ci", "baton:1");
  ASSERT_TRUE(manifest) << render(manifest.error());
  auto& pod = (*manifest)["spec"];
  EXPECT_EQ(pod["activeDeadlineSeconds"], 5400);
  auto& agent = pod["containers"][0];
  EXPECT_EQ(agent["env"],
            json({env_entry("BATON_CONTAINER_NAMES", "test"),
                  env_entry("BATON_LOG_LEVEL", "warn"),
                  env_entry("BATON_SERVICES", "none"),
                  env_entry("BUILDKITE_CONTAINER_COUNT", "1"),
                  env_entry("BUILDKITE_TIMESTAMP_LINES", "true")}));
  EXPECT_EQ(pod["containers"][1]["env"],
            json({env_entry("BATON_ALWAYS", "true"),
                  env_entry("BATON_SOFT_FAIL", "3"),
                  env_entry("BATON_TIMEOUT", "10m"),
                  env_entry("BUILDKITE_CONTAINER_ID", "0")}));
}

TEST(manifest, a_job_wraps_the_pod_and_runs_it_once) {
  auto spec = two_containers();
  spec.timeout = "45s";
  workload kind;
  kind.job = true;
  kind.ttl_seconds_after_finished = 600;
  auto job = render_manifest(spec, "job-42", "baton:1", kind);
  ASSERT_TRUE(job) << render(job.error());
  auto pod = render_manifest(two_containers(), "job-42", "baton:1");
  ASSERT_TRUE(pod);
  EXPECT_EQ((*job)["apiVersion"], "batch/v1");
  EXPECT_EQ((*job)["kind"], "Job");
  EXPECT_EQ((*job)["metadata"], (*pod)["metadata"]);
  auto& spec_of_job = (*job)["spec"];
  EXPECT_EQ(spec_of_job["backoffLimit"], 0);
  EXPECT_EQ(spec_of_job["ttlSecondsAfterFinished"], 600);
  // The deadline is the Job's; the pod template is the Pod's spec.
  EXPECT_EQ(spec_of_job["activeDeadlineSeconds"], 45);
  EXPECT_EQ(spec_of_job["template"]["spec"], (*pod)["spec"]);
  EXPECT_EQ(spec_of_job["template"]["metadata"]["labels"],
            (*pod)["metadata"]["labels"]);
  // No ttl unless asked for.
  kind.ttl_seconds_after_finished.reset();
  auto plain = render_manifest(spec, "job-42", "baton:1", kind);
  ASSERT_TRUE(plain);
  EXPECT_FALSE((*plain)["spec"].contains("ttlSecondsAfterFinished"));
}
