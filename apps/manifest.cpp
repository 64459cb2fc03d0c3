#include "apps/manifest.hpp"

#include "apps/install.hpp"
#include "job/command.hpp"
#include "job/environment.hpp"
#include "job/names.hpp"
#include "messages/defaults.hpp"
#include "messages/duration.hpp"
#include "messages/error.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <set>

namespace baton {

namespace fs = std::filesystem;

namespace {

using nlohmann::json;

// Pod names: DNS-1123 subdomains.
bool is_dns_subdomain(const std::string& name) {
  if (name.empty() || name.size() > 253)
    return false;
  size_t start = 0;
  while (start <= name.size()) {
    auto dot = name.find('.', start);
    auto label = name.substr(start, dot == std::string::npos ? std::string::npos
                                                             : dot - start);
    // Each label: the rule of a container name, a DNS-1123 label.
    if (!is_container_name(label))
      return false;
    if (dot == std::string::npos)
      break;
    start = dot + 1;
  }
  return true;
}

json env_list(const env_map& env) {
  auto out = json::array();
  for (auto& [key, value] : env)
    out.push_back({{"name", key}, {"value", value}});
  return out;
}

json workspace_mount() {
  return json::array({{{"name", "workspace"}, {"mountPath", bundle_mount}}});
}

// Seconds the kubelet waits between SIGTERM and SIGKILL: an upper bound of
// the whole cancel sequence. The agent waits out the job's grace period;
// a bootstrap whose agent is gone may then still give its command the
// cancel signal timeout and itself the cleanup timeout.
caf::expected<int64_t> termination_grace_seconds(const pod_spec& spec) {
  caf::timespan grace = defaults::cancel_grace_period;
  if (auto i = spec.env.find("BUILDKITE_CANCEL_GRACE_PERIOD");
      i != spec.env.end()) {
    auto d = parse_duration(i->second);
    if (!d)
      return make_error(ec::invalid_argument,
                        "pod spec: env.BUILDKITE_CANCEL_GRACE_PERIOD: invalid "
                        "duration '"
                          + i->second + "'");
    grace = *d;
  }
  caf::timespan cancel{0};
  for (size_t id = 0; id < spec.containers.size(); ++id) {
    // What the bootstrap will read: its own environment merged with the
    // job's.
    auto env = merge_environment(spec.containers[id].env, spec.env,
                                 bundle_mount,
                                 std::string{bundle_dir} + "/bin");
    std::vector<std::string> warnings;
    auto config = read_cancel_config(env, warnings);
    for (auto& warning : warnings) {
      // "ignoring NAME='x': why; using 10s": the bootstrap would go on, but
      // a manifest should not be rendered from a mistake.
      if (warning.rfind("ignoring ", 0) != 0)
        continue;
      auto what = warning.substr(9, warning.rfind("; using") - 9);
      return make_error(ec::invalid_argument, "pod spec: containers["
                                                + std::to_string(id)
                                                + "]: " + what);
    }
    cancel = std::max(cancel, config.signal_timeout + config.cleanup_timeout);
  }
  return std::chrono::ceil<std::chrono::seconds>(grace + cancel).count();
}

} // namespace

std::string pod_name_for(const std::string& spec_file) {
  std::string name;
  for (auto c : fs::path{spec_file}.stem().string()) {
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (ok)
      name += c;
    else if (!name.empty() && name.back() != '-')
      name += '-';
  }
  if (name.size() > 63)
    name.resize(63);
  while (!name.empty() && name.back() == '-')
    name.pop_back();
  return name.empty() ? "baton-job" : name;
}

// An image check only starts baton and prints its version: 7 MiB of RSS
// (112 MiB for a sanitizer build, which the limit leaves room for).
constexpr const char* image_check_resources
  = R"({"requests":{"cpu":"10m","memory":"16Mi"},)"
    R"("limits":{"cpu":"100m","memory":"128Mi"}})";

caf::expected<json>
render_manifest(const pod_spec& spec, const std::string& name,
                const std::string& agent_image, const workload& kind) {
  if (!is_dns_subdomain(name))
    return make_error(ec::invalid_argument,
                      "invalid pod name '" + name
                        + "': expected lowercase letters, digits, '-' and "
                          "'.', at most 253");
  auto grace = termination_grace_seconds(spec);
  if (!grace)
    return std::move(grace.error());
  std::string baton = std::string{bundle_dir} + "/bin/baton";
  // The agent image holds the bundle at /baton; its loader is named
  // explicitly because the bundled binary expects to live at bundle_dir.
  auto agent_resources = json::parse(spec.agent_resources);
  json install = {
    {"name", "install-baton"},
    {"image", agent_image},
    {"command",
     {"/baton/lib/ld-linux-x86-64.so.2", "/baton/bin/baton", "install",
      "--from", "/baton", bundle_mount}},
    {"volumeMounts", workspace_mount()},
    {"resources", agent_resources},
  };
  // The job log is the agent's stdout; diagnostics share the container log,
  // so only warnings and errors are written there.
  env_map agent_env = spec.env;
  agent_env["BUILDKITE_CONTAINER_COUNT"]
    = std::to_string(spec.containers.size());
  agent_env.emplace("BATON_LOG_LEVEL", "warn");
  agent_env["BATON_CONTAINER_NAMES"] = container_names(spec);
  agent_env["BATON_SERVICES"] = service_ids(spec);
  if (spec.timestamp_lines)
    agent_env["BUILDKITE_TIMESTAMP_LINES"] = "true";
  json containers = json::array();
  containers.push_back({
    {"name", "agent"},
    {"image", agent_image},
    {"command", {baton, "agent"}},
    {"env", env_list(agent_env)},
    {"volumeMounts", workspace_mount()},
    {"resources", agent_resources},
  });
  std::set<std::string> names;
  for (size_t id = 0; id < spec.containers.size(); ++id) {
    auto& c = spec.containers[id];
    auto where = "pod spec: containers[" + std::to_string(id) + "]";
    if (!is_container_name(c.name) || c.name == "agent"
        || c.name == "install-baton")
      return make_error(ec::invalid_argument,
                        where + ".name: '" + c.name
                          + "' cannot name a Kubernetes container (lowercase "
                            "letters, digits and '-', at most 63, not agent "
                            "or install-baton)");
    if (!names.insert(c.name).second)
      return make_error(ec::invalid_argument,
                        where + ".name: '" + c.name + "' is used twice");
    if (c.image.empty())
      return make_error(ec::invalid_argument,
                        where
                          + ".image: missing (every container needs an "
                            "image on Kubernetes)");
    auto env = container_env(c, id);
    json command = {baton, "bootstrap", "--"};
    for (auto& arg : c.command)
      command.push_back(arg);
    json container = {
      {"name", c.name},
      {"image", c.image},
      {"command", command},
      {"env", env_list(env)},
      {"volumeMounts", workspace_mount()},
    };
    if (!c.working_dir.empty())
      container["workingDir"] = c.working_dir;
    if (!c.resources.empty())
      container["resources"] = json::parse(c.resources);
    containers.push_back(std::move(container));
  }
  json init = json::array({install});
  if (kind.image_checks) {
    // After the install, one check per image, named after the first
    // container that uses it; each runs the installed baton there.
    // A check's name must be free among the step containers' names and
    // the other checks' (never agent or install-baton): a long name cut to
    // fit, or a step itself named image-check-*, could take it.
    std::set<std::string> checked;
    for (size_t id = 0; id < spec.containers.size(); ++id) {
      auto& c = spec.containers[id];
      if (!checked.insert(c.image).second)
        continue;
      auto check = "image-check-" + c.name.substr(0, 63 - 12);
      while (check.back() == '-')
        check.pop_back();
      if (!names.insert(check).second)
        return make_error(ec::invalid_argument,
                          "pod spec: containers[" + std::to_string(id)
                            + "].name: '" + c.name
                            + "' would name its image check '" + check
                            + "', which another container has (shorten or "
                              "rename one, or --skip-image-checks)");
      init.push_back({
        {"name", check},
        {"image", c.image},
        {"command", {baton, "--version"}},
        {"volumeMounts", workspace_mount()},
        {"resources", json::parse(image_check_resources)},
      });
    }
  }
  json labels = {{"app.kubernetes.io/name", "baton"},
                 {"app.kubernetes.io/version", BATON_VERSION}};
  json pod = {
    {"restartPolicy", "Never"},
    {"terminationGracePeriodSeconds", *grace},
    {"volumes",
     json::array({{{"name", "workspace"}, {"emptyDir", json::object()}}})},
    {"initContainers", std::move(init)},
    {"containers", containers},
  };
  // The whole job's time limit: Kubernetes stops the pod (or the Job's
  // pod) after it, SIGTERM first, which cancels the job.
  std::optional<int64_t> deadline;
  if (!spec.timeout.empty())
    deadline
      = std::chrono::ceil<std::chrono::seconds>(*parse_duration(spec.timeout))
          .count();
  if (!kind.job) {
    if (deadline)
      pod["activeDeadlineSeconds"] = *deadline;
    return json{
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", {{"name", name}, {"labels", labels}}},
      {"spec", std::move(pod)},
    };
  }
  // A Job runs the pod once: a failed job is a result, not a reason to
  // try again.
  json job = {
    {"backoffLimit", 0},
    {"template",
     {{"metadata", {{"labels", labels}}}, {"spec", std::move(pod)}}},
  };
  if (deadline)
    job["activeDeadlineSeconds"] = *deadline;
  if (kind.ttl_seconds_after_finished)
    job["ttlSecondsAfterFinished"] = *kind.ttl_seconds_after_finished;
  return json{
    {"apiVersion", "batch/v1"},
    {"kind", "Job"},
    {"metadata", {{"name", name}, {"labels", labels}}},
    {"spec", std::move(job)},
  };
}

int run_manifest(const manifest_options& options) {
  auto spec = read_pod_spec(options.spec_file);
  if (!spec) {
    std::cerr << "baton: " << render(spec.error()) << '\n';
    return 2;
  }
  auto name = options.name.empty() ? pod_name_for(options.spec_file)
                                   : options.name;
  auto kind = options.kind;
  kind.image_checks = !options.skip_image_checks;
  auto manifest = render_manifest(*spec, name, options.agent_image, kind);
  if (!manifest) {
    std::cerr << "baton: " << render(manifest.error()) << '\n';
    return 2;
  }
  std::cout << manifest->dump(2) << '\n';
  return 0;
}

} // namespace baton
