// Deployment end to end: the rendered manifests are current and valid, the
// bundle runs in foreign roots as another uid, and a real container runtime
// runs a rendered manifest to the same job log as `baton pod`.

#include "integration/harness.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

#include <sys/stat.h>
#include <unistd.h>

using namespace baton::integration;
using nlohmann::json;

namespace fs = std::filesystem;

namespace {

struct outcome {
  std::optional<int> status;
  std::string out;
  std::string err;
};

// Runs `argv` to completion (or the deadline) in `dir`'s files.
outcome run(const std::vector<std::string>& argv, const temp_dir& dir,
            std::map<std::string, std::string> env = {},
            std::chrono::milliseconds timeout = 60s) {
  static int count = 0;
  process p{argv, dir / ("run-" + std::to_string(++count)), std::move(env)};
  auto status = p.wait(timeout);
  return {status, p.out(), p.err()};
}

// True if `argv` runs and exits 0: probes what this machine can do.
bool works(const std::vector<std::string>& argv, const temp_dir& dir) {
  auto probe = run(argv, dir, {}, 30s);
  return probe.status == 0;
}

std::string validator() {
  return std::string{DEPLOY_DIR} + "/validate-manifest";
}

// The bundle unpacked into `dir`/bundle; returns that directory's baton/.
std::string unpack_bundle(const temp_dir& dir) {
  auto where = dir / "bundle";
  fs::create_directories(where);
  auto untar = run({"/bin/tar", "-xzf", BATON_BUNDLE, "-C", where}, dir);
  EXPECT_EQ(untar.status, 0) << untar.err;
  return where + "/baton";
}

// A root holding only a static busybox and its applet links.
std::string busybox_root(const temp_dir& dir, const std::string& name) {
  auto root = fs::path{dir / name};
  fs::create_directories(root / "bin");
  fs::copy_file("/bin/busybox", root / "bin" / "busybox");
  for (auto applet : {"sh", "echo", "id", "ls", "cat", "sleep", "true"})
    fs::create_symlink("busybox", root / "bin" / applet);
  return root.string();
}

// True in a sanitizer build (the test presets set the options).
bool sanitized() {
  return ::getenv("ASAN_OPTIONS") != nullptr
         || ::getenv("TSAN_OPTIONS") != nullptr;
}

// bwrap's start of a sandbox with nothing of this environment in it. In a
// sanitizer build, the sanitizers' options pass in, with the leak checker
// off: it cannot stop the world in these sandboxes.
std::vector<std::string> sandbox() {
  std::vector<std::string> argv = {"/usr/bin/bwrap", "--unshare-all",
                                   "--die-with-parent", "--clearenv"};
  for (auto name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "TSAN_OPTIONS"})
    if (auto value = ::getenv(name); value != nullptr)
      argv.insert(
        argv.end(),
        {"--setenv", name,
         std::string{value}
           + (name == std::string{"ASAN_OPTIONS"} ? ":detect_leaks=0" : "")});
  return argv;
}

// The prefix that runs a command as nobody, when this test may change uid.
std::vector<std::string> as_nobody() {
  if (::geteuid() != 0)
    return {};
  return {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
          "--clear-groups", "--"};
}

} // namespace

TEST(deploy, rendered_examples_are_current) {
  temp_dir dir;
  std::set<std::string> rendered;
  for (auto& entry : fs::directory_iterator{EXAMPLES_DIR}) {
    if (entry.path().extension() != ".json")
      continue;
    auto name = entry.path().filename().string();
    rendered.insert(name);
    auto manifest = run({baton_exe(), "manifest", entry.path().string()}, dir);
    ASSERT_EQ(manifest.status, 0) << manifest.err;
    auto committed = std::string{DEPLOY_DIR} + "/k8s/" + name;
    EXPECT_EQ(read_file(committed), manifest.out)
      << committed << " is stale; render it again with: baton manifest "
      << "examples/" << name << " > deploy/k8s/" << name;
  }
  for (auto& entry : fs::directory_iterator{std::string{DEPLOY_DIR} + "/k8s"})
    EXPECT_EQ(rendered.count(entry.path().filename().string()), 1u)
      << entry.path() << " has no pod spec in examples/";
}

TEST(deploy, rendered_manifests_validate_against_the_api_schema) {
  temp_dir dir;
  for (auto& entry : fs::directory_iterator{std::string{DEPLOY_DIR} + "/k8s"}) {
    auto check = run({validator(), entry.path().string()}, dir);
    EXPECT_EQ(check.status, 0) << check.out << check.err;
    EXPECT_EQ(check.out, entry.path().string() + ": ok\n");
  }
}

TEST(deploy, rendered_jobs_validate_against_the_api_schema) {
  temp_dir dir;
  for (auto& entry : fs::directory_iterator{EXAMPLES_DIR}) {
    if (entry.path().extension() != ".json")
      continue;
    auto job = dir / ("job-" + entry.path().filename().string());
    auto manifest
      = run({baton_exe(), "manifest", entry.path().string(), "--kind", "job",
             "--ttl-seconds-after-finished", "600"},
            dir);
    ASSERT_EQ(manifest.status, 0) << manifest.err;
    write_file(job, manifest.out);
    auto check = run({validator(), job}, dir);
    EXPECT_EQ(check.status, 0) << check.out << check.err;
    EXPECT_EQ(check.out, job + ": ok\n");
  }
}

TEST(deploy, broken_manifests_fail_validation) {
  temp_dir dir;
  std::map<std::string, std::string> expected = {
    {"valid-pod.json", "ok"},
    {"broken-unknown-field.json",
     "spec.containers[0].imagePullPolcy: unknown field"},
    {"broken-wrong-type.json", "spec.terminationGracePeriodSeconds: expected "
                               "an integer, got string \"30\""},
    {"broken-missing-required.json",
     "spec.containers[1].name: required field missing"},
    {"broken-bad-mount.json", "spec.containers[1].volumeMounts[0].name: no "
                              "volume named \"cache\" in spec.volumes"},
    {"broken-job-restart-always.json",
     "spec.template.spec.restartPolicy: unsupported value \"Always\": a "
     "Job's pod must use Never or OnFailure"},
  };
  for (auto& [name, line] : expected) {
    auto file = std::string{MANIFESTS_DIR} + "/" + name;
    auto check = run({validator(), file}, dir);
    EXPECT_EQ(check.status, name == "valid-pod.json" ? 0 : 1) << name;
    EXPECT_EQ(check.out, file + ": " + line + "\n");
  }
  auto missing = run({validator(), dir / "missing.json"}, dir);
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find(dir / "missing.json"), std::string::npos)
    << missing.err;
}

TEST(deploy, manifest_and_install_errors_name_the_problem) {
  temp_dir dir;
  write_file(dir / "spec.json",
             R"({"containers": [{"name": "build", "command": ["make"]}]})");
  auto manifest = run({baton_exe(), "manifest", dir / "spec.json"}, dir);
  EXPECT_EQ(manifest.status, 2);
  EXPECT_EQ(manifest.err, "baton: pod spec: containers[0].image: missing "
                          "(every container needs an image on Kubernetes)\n");
  EXPECT_EQ(manifest.out, "");
  auto usage = run({baton_exe(), "manifest"}, dir);
  EXPECT_EQ(usage.status, 2);
  EXPECT_EQ(usage.err, "baton: baton manifest needs a pod spec file (see "
                       "baton manifest --help)\n");
  // The build tree's baton is no bundle.
  auto install = run({baton_exe(), "install", dir.path()}, dir);
  EXPECT_EQ(install.status, 1);
  EXPECT_NE(install.err.find("baton: no bundle at '"), std::string::npos)
    << install.err;
  EXPECT_FALSE(file_exists(dir / "baton"));
}

// The busybox-only root and the root holding only /proc and the bundle,
// each running `baton bootstrap` as nobody against an agent on this
// machine, through the job context directory bind-mounted at /workspace.
// The bundle gets there as on Kubernetes: `baton install` run through the
// bundle's own loader, in an empty root.
TEST(deploy, the_bundle_runs_in_foreign_roots) {
  temp_dir dir;
  auto bwrap = sandbox();
  auto probe = bwrap;
  probe.insert(probe.end(), {"--ro-bind", "/", "/", "--", "/bin/true"});
  if (!fs::exists("/usr/bin/bwrap") || !works(probe, dir))
    GTEST_SKIP() << "bubblewrap cannot make a sandbox on this machine";
  ASSERT_TRUE(fs::exists("/bin/busybox")) << "needs busybox-static";
  auto bundle = unpack_bundle(dir);
  job j{2};
  ::chmod(j.context_dir().c_str(), 0777);
  // Not even /proc, but where a sanitizer's runtime needs it to read its
  // options.
  auto install = bwrap;
  install.insert(install.end(), {"--tmpfs", "/"});
  if (sanitized())
    install.insert(install.end(), {"--proc", "/proc"});
  install.insert(install.end(),
                 {"--ro-bind", bundle, "/baton", "--bind", j.context_dir(),
                  "/workspace", "--", "/baton/lib/ld-linux-x86-64.so.2",
                  "/baton/bin/baton", "install", "/workspace"});
  auto installed = run(install, dir);
  ASSERT_EQ(installed.status, 0) << installed.err;
  EXPECT_EQ(
    installed.out.rfind("installed the bundle into /workspace/baton: ", 0), 0u)
    << installed.out;
  j.start_agent();
  auto busybox = busybox_root(dir, "busybox-root");
  fs::create_directories(busybox + "/proc");
  fs::create_directories(busybox + "/workspace");
  std::vector<std::vector<std::string>> containers = {
    {"--bind",
     busybox,
     "/",
     "--setenv",
     "PATH",
     "/bin",
     "--setenv",
     "BUILDKITE_CONTAINER_ID",
     "0",
     "--proc",
     "/proc",
     "--bind",
     j.context_dir(),
     "/workspace",
     "--",
     "/workspace/baton/bin/baton",
     "bootstrap",
     "--",
     "sh",
     "-c",
     "echo \"busybox root as uid $(id -u):\" $(ls /)"},
    {"--tmpfs", "/", "--setenv", "BUILDKITE_CONTAINER_ID", "1", "--proc",
     "/proc", "--bind", j.context_dir(), "/workspace", "--",
     "/workspace/baton/bin/baton", "bootstrap", "--",
     "/workspace/baton/bin/baton", "version"},
  };
  std::vector<std::unique_ptr<process>> bootstraps;
  for (size_t id = 0; id < containers.size(); ++id) {
    auto argv = as_nobody();
    argv.insert(argv.end(), bwrap.begin(), bwrap.end());
    argv.insert(argv.end(), containers[id].begin(), containers[id].end());
    bootstraps.push_back(std::make_unique<process>(
      argv, dir / ("container-" + std::to_string(id))));
  }
  for (auto& b : bootstraps)
    EXPECT_EQ(b->wait(), 0) << b->err();
  EXPECT_EQ(j.agent->wait(), 0) << j.agent->err();
  auto nobody = ::geteuid() == 0 ? "65534" : std::to_string(::geteuid());
  EXPECT_EQ(j.log(),
            "~~~ Running container 0 (container-0): sh -c echo \"busybox root "
            "as uid $(id -u):\" $(ls /)\n"
            "busybox root as uid "
              + nobody + ": bin proc workspace\n" + passed_line(0)
              + "~~~ Running container 1 (container-1): "
                "/workspace/baton/bin/baton version\n"
              + run({baton_exe(), "version"}, dir).out + passed_line(1));
  // Neither root has /dev: the commands ran through pipes, and said so.
  EXPECT_NE(bootstraps[1]->err().find("no pty"), std::string::npos)
    << bootstraps[1]->err();
}

namespace {

// Podman in a private store under `dir`: rootful, vfs storage, runc, no
// network, limits a sandbox allows. Removes what it played at the end.
class podman {
public:
  explicit podman(const temp_dir& dir) : dir_(dir) {
    write_file(dir / "containers.conf",
               "[containers]\n"
               "default_ulimits = [\"nofile=1024:1024\", "
               "\"nproc=1024:1024\"]\n"
               "[engine]\nruntime = \"runc\"\n");
    // No registry to search: a short name that is not built here fails at
    // once, whatever the machine's own configuration.
    write_file(dir / "registries.conf", "unqualified-search-registries = []\n");
  }

  ~podman() {
    if (!manifest_.empty())
      (*this)({"kube", "down", manifest_});
  }

  outcome operator()(std::vector<std::string> args,
                     std::chrono::milliseconds timeout = 120s) const {
    // Run from `dir_`: conmon, which podman leaves in its working
    // directory, writes a file named `oom` there when its container is
    // OOM-killed.
    std::vector<std::string> argv = {"/bin/sh",
                                     "-c",
                                     "cd \"$0\" && exec \"$@\"",
                                     dir_.path(),
                                     "/usr/bin/podman",
                                     "--root",
                                     dir_ / "storage",
                                     "--runroot",
                                     dir_ / "run",
                                     "--storage-driver",
                                     "vfs",
                                     "--cgroup-manager",
                                     "cgroupfs",
                                     "--events-backend",
                                     "file"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, dir_,
               {{"CONTAINERS_CONF", dir_ / "containers.conf"},
                {"CONTAINERS_REGISTRIES_CONF", dir_ / "registries.conf"}},
               timeout);
  }

  outcome play(const std::string& manifest) {
    manifest_ = manifest;
    return (*this)({"kube", "play", "--network", "none", "--log-driver",
                    "k8s-file", manifest});
  }

private:
  const temp_dir& dir_;
  std::string manifest_;
};

// A pod spec played by podman as Kubernetes would run its rendered
// manifest. The images are built here FROM scratch: the baton image from
// the committed deploy/Containerfile, and a static busybox under every
// image name the spec uses. Nothing is pulled.
class podman_test : public ::testing::Test {
protected:
  void SetUp() override {
    if (!fs::exists("/usr/bin/podman"))
      GTEST_SKIP() << "podman is not installed";
    auto info = pm({"info", "--format", "{{.Host.OCIRuntime.Name}}"});
    if (info.status != 0)
      GTEST_SKIP() << "podman cannot run here: " << info.err;
    auto context = dir / "agent-image";
    fs::create_directories(context);
    fs::copy_file(BATON_BUNDLE, context + "/baton-bundle.tar.gz");
    auto built = pm({"build", "--quiet", "--network", "none", "-f",
                     std::string{DEPLOY_DIR} + "/Containerfile", "-t",
                     "localhost/baton:test", context});
    ASSERT_EQ(built.status, 0) << built.err;
    busybox_root(dir, "busybox-image/root");
    write_file(dir / "busybox-image/Containerfile",
               "FROM scratch\nCOPY root /\n");
  }

  // Renders `spec` as pod `name`, builds its images, plays it.
  void play(const std::string& spec, const std::string& name) {
    outcome played;
    ASSERT_NO_FATAL_FAILURE(try_play(spec, name, "", played));
    ASSERT_EQ(played.status, 0) << played.out << played.err;
  }

  // As play, but builds no image named `missing` (as the spec names it),
  // and leaves in `played` how podman took the pod.
  void try_play(const std::string& spec, const std::string& name,
                const std::string& missing, outcome& played) {
    auto text = run({baton_exe(), "manifest", spec, "--agent-image",
                     "localhost/baton:test", "--name", name},
                    dir);
    ASSERT_EQ(text.status, 0) << text.err;
    manifest = json::parse(text.out);
    for (auto& c : manifest["spec"]["containers"]) {
      auto container = c["name"].get<std::string>();
      containers.push_back(name + "-" + container);
      auto image = c["image"].get<std::string>();
      if (container == "agent" || image == missing)
        continue;
      auto built = pm({"build", "--quiet", "--network", "none", "-t",
                       "localhost/" + image, dir / "busybox-image"});
      ASSERT_EQ(built.status, 0) << built.err;
    }
    write_file(dir / "pod.json", text.out);
    played = pm.play(dir / "pod.json");
  }

  bool exists(const std::string& container) {
    return pm({"container", "exists", container}).status == 0;
  }

  // The container's exit code, once it has exited.
  std::string exit_code(const std::string& container) {
    auto waited = pm({"wait", container});
    EXPECT_EQ(waited.status, 0) << container << ": " << waited.err;
    return waited.out;
  }

  std::string logs(const std::string& container) {
    auto out = pm({"logs", container});
    EXPECT_EQ(out.status, 0) << out.err;
    return out.out;
  }

  temp_dir dir;
  podman pm{dir};
  /// The manifest last played.
  json manifest;
  /// `<pod>-agent`, then `<pod>-<name>` for each spec container.
  std::vector<std::string> containers;
};

} // namespace

// The acceptance run: the agent container's log equals `baton pod`'s job
// log, and every container exits 0.
TEST_F(podman_test, the_rendered_example_runs_to_the_same_job_log) {
  auto spec = std::string{EXAMPLES_DIR} + "/hello-pod.json";
  auto local = run({baton_exe(), "pod", spec, "--seed", "7"}, dir);
  ASSERT_EQ(local.status, 0) << local.err;
  play(spec, "hello");
  ASSERT_EQ(containers.size(), 4u);
  for (auto& container : containers)
    EXPECT_EQ(exit_code(container), "0\n") << container;
  auto logs = pm({"logs", "hello-agent"});
  ASSERT_EQ(logs.status, 0) << logs.err;
  // The same but for the time each took: the step lines' durations and
  // the summary's.
  auto steady = [](const std::string& log) {
    auto text = zero_durations(log);
    return text.substr(0, text.find("~~~ Job passed after "));
  };
  EXPECT_EQ(steady(logs.out), steady(local.out));
  EXPECT_NE(logs.out.find("~~~ Job passed after "), std::string::npos)
    << logs.out;
  EXPECT_EQ(logs.err, "");
}

// A pod with a service: the pod completes (the service's container exits 0
// once the steps are done) rather than running on, as sidecars do.
TEST_F(podman_test, a_service_pod_completes) {
  play(std::string{EXAMPLES_DIR} + "/service-pod.json", "service");
  ASSERT_EQ(containers.size(), 3u);
  for (auto& container : containers)
    EXPECT_EQ(exit_code(container), "0\n") << container;
  auto job_log = logs("service-agent");
  expect_in_order(job_log,
                  {"~~~ Service 0 (web) ready after ",
                   "pong from the service\n", "~~~ Container 1 (test) passed",
                   "~~~ Service 0 (web) was stopped"});
}

// A pod with a parallel group: both checks' lines reach the agent's job
// log whole and prefixed, and the step after them sees their outputs.
TEST_F(podman_test, a_group_pod_runs_its_checks_at_once) {
  play(std::string{EXAMPLES_DIR} + "/group-pod.json", "group");
  ASSERT_EQ(containers.size(), 5u);
  for (auto& container : containers)
    EXPECT_EQ(exit_code(container), "0\n") << container;
  auto job_log = logs("group-agent");
  EXPECT_NE(job_log.find("[lint] lint: no warnings\n"), std::string::npos)
    << job_log;
  EXPECT_NE(job_log.find("[unit] unit: 41 passed\n"), std::string::npos)
    << job_log;
  expect_in_order(job_log, {"~~~ Container 2 (unit) passed",
                            "package: 41 tests passed, 0 lint warnings\n"});
}

// Stopping the pod, as deleting it on Kubernetes does: SIGTERM to every
// container at once. The agent (PID 1 of its container) interrupts the job,
// the running command's trap runs, the waiting container never starts.
TEST_F(podman_test, stopping_the_pod_cancels_the_job) {
  write_file(dir / "cancel.json", R"({"containers": [
    {"name": "checkout", "image": "busybox:1.36", "command": ["true"]},
    {"name": "build", "image": "busybox:1.36", "command": ["sh", "-c",
     "trap 'echo trapped; exit 143' TERM; echo started; while :; do sleep 0.1; done"]},
    {"name": "test", "image": "busybox:1.36", "command": ["echo", "ran"]}]})");
  play(dir / "cancel.json", "cancel");
  ASSERT_TRUE(wait_until([&] {
    return logs("cancel-agent").find("started\n") != std::string::npos;
  }));
  auto stopped = pm({"pod", "stop", "--time", "60", "cancel"});
  ASSERT_EQ(stopped.status, 0) << stopped.err;
  EXPECT_EQ(exit_code("cancel-agent"), "143\n");
  EXPECT_EQ(exit_code("cancel-checkout"), "0\n");
  EXPECT_EQ(exit_code("cancel-build"), "143\n");
  EXPECT_EQ(exit_code("cancel-test"), "1\n");
  auto job_log = logs("cancel-agent");
  EXPECT_NE(job_log.find("trapped\n"), std::string::npos) << job_log;
  EXPECT_EQ(job_log.find("~~~ Running container 2"), std::string::npos)
    << job_log;
  EXPECT_NE(
    pm({"logs", "cancel-agent"}).err.find("job interrupted with status 143"),
    std::string::npos);
}

// A real OOM kill: the command outgrows its container's memory limit, the
// kernel kills it (not the bootstrap, which survives to report it), and the
// job log says so with the limit.
TEST_F(podman_test, an_oom_killed_command_is_named_with_its_limit) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // A sanitizer's bootstrap alone (shadow memory: 112 MiB of RSS) outgrows
  // the limit before its command runs.
  GTEST_SKIP() << "memory limits mean nothing to a sanitizer build";
#endif
  write_file(dir / "oom.json", R"({"containers": [
    {"name": "hog", "image": "busybox:1.36",
     "resources": {"limits": {"memory": "64Mi"}},
     "command": ["sh", "-c", "echo growing; tail /dev/zero"]}]})");
  play(dir / "oom.json", "oom");
  EXPECT_EQ(exit_code("oom-hog"), "137\n");
  EXPECT_EQ(exit_code("oom-agent"), "137\n");
  auto job_log = logs("oom-agent");
  EXPECT_NE(job_log.find("growing\n~~~ Container 0 (hog) was killed by the "
                         "OOM killer (memory limit 64 MiB) after "),
            std::string::npos)
    << job_log;
  EXPECT_NE(job_log.find("    0  hog  was killed by the OOM killer (memory "
                         "limit 64 MiB)  "),
            std::string::npos)
    << job_log;
}

// An image that does not exist fails the pod in its image check, before
// the agent starts: podman, like the kubelet, pulls each init container's
// image in order and stops at the first it cannot get, so the check of the
// bad image is the first container it never created, and nothing of the
// job ran.
TEST_F(podman_test, a_missing_image_fails_in_its_named_check) {
  write_file(dir / "missing.json", R"({"containers": [
    {"name": "checkout", "image": "busybox:1.36", "command": ["true"]},
    {"name": "build", "image": "missing:1.99", "command": ["true"]},
    {"name": "test", "image": "busybox:1.36", "command": ["true"]}]})");
  outcome played;
  ASSERT_NO_FATAL_FAILURE(
    try_play(dir / "missing.json", "missing", "missing:1.99", played));
  EXPECT_NE(played.status, 0);
  EXPECT_NE(played.err.find("\"missing:1.99\""), std::string::npos)
    << played.err;
  std::vector<std::string> checks;
  for (auto& c : manifest["spec"]["initContainers"])
    checks.push_back(c["name"].get<std::string>());
  ASSERT_EQ(checks,
            (std::vector<std::string>{"install-baton", "image-check-checkout",
                                      "image-check-build"}));
  EXPECT_EQ(manifest["spec"]["initContainers"][2]["image"], "missing:1.99");
  EXPECT_TRUE(exists("missing-image-check-checkout"));
  EXPECT_FALSE(exists("missing-image-check-build"));
  for (auto& container : containers)
    EXPECT_FALSE(exists(container)) << container;
}
