#include "actors/deploy.hpp"

#include "actors/bootstrap.hpp"
#include "actors/environment.hpp"

#include "messages/defaults.hpp"
#include "messages/duration.hpp"
#include "messages/error.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <set>

#include <climits>
#include <fcntl.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <unistd.h>

namespace baton {

namespace fs = std::filesystem;

namespace {

using nlohmann::json;

caf::error io_error(const std::string& what, const std::error_code& err) {
  return make_error(ec::system_error, what + ": " + err.message());
}

// Kubernetes container names: DNS-1123 labels.
bool is_dns_label(const std::string& name) {
  if (name.empty() || name.size() > 63 || name.front() == '-'
      || name.back() == '-')
    return false;
  for (auto c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return false;
  return true;
}

// Pod names: DNS-1123 subdomains.
bool is_dns_subdomain(const std::string& name) {
  if (name.empty() || name.size() > 253)
    return false;
  size_t start = 0;
  while (start <= name.size()) {
    auto dot = name.find('.', start);
    auto label = name.substr(start, dot == std::string::npos ? std::string::npos
                                                             : dot - start);
    if (!is_dns_label(label))
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
                                 bundle_mount, std::string{bundle_dir} + "/bin");
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

std::string executable_path() {
  // AT_EXECFN: the path given to execve, needing no /proc.
  auto execfn = reinterpret_cast<const char*>(::getauxval(AT_EXECFN));
  char buf[PATH_MAX];
  if (execfn != nullptr && ::realpath(execfn, buf) != nullptr)
    return buf;
  auto n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n > 0)
    return std::string{buf, static_cast<size_t>(n)};
  return execfn != nullptr ? execfn : "baton";
}

std::string own_bundle_root() {
  // <root>/bin/baton, or <root>/lib/ld-linux-*.so.2 through the loader.
  return fs::path{executable_path()}.parent_path().parent_path().string();
}

caf::expected<std::string> install_bundle(const std::string& from,
                                          const std::string& dir) {
  std::error_code err;
  fs::path source{from};
  if (!fs::is_regular_file(source / "bin" / "baton", err)
      || !fs::is_directory(source / "lib", err))
    return make_error(ec::invalid_argument,
                      "no bundle at '" + from
                        + "': expected bin/baton and lib/ (pass --from DIR)");
  if (!fs::is_directory(dir, err))
    return make_error(ec::invalid_argument,
                      "cannot install into '" + dir + "': "
                        + (err ? err.message() : "not a directory"));
  // Copy beside the target, then rename: a reader never sees half a bundle.
  auto temp_name = fs::path{dir} / ".baton-install-XXXXXX";
  auto temp_text = temp_name.string();
  if (::mkdtemp(temp_text.data()) == nullptr)
    return make_error(ec::system_error, "cannot write into '" + dir
                                          + "': " + std::strerror(errno));
  fs::path temp{temp_text};
  // Its own error code: `err` still holds the failure being reported.
  auto cleanup = [&] {
    std::error_code ignored;
    fs::remove_all(temp, ignored);
  };
  size_t files = 0;
  uintmax_t bytes = 0;
  for (auto sub : {"bin", "lib"}) {
    fs::copy(source / sub, temp / sub, fs::copy_options::recursive, err);
    if (err) {
      cleanup();
      return io_error("cannot copy '" + (source / sub).string() + "' into '"
                        + dir + "'",
                      err);
    }
  }
  for (auto& entry : fs::recursive_directory_iterator(temp, err)) {
    if (entry.is_regular_file()) {
      ++files;
      bytes += entry.file_size();
    }
  }
  // Every uid of the pod runs it.
  fs::permissions(temp, fs::perms{0755}, err);
  auto target = fs::path{dir} / "baton";
  // Into place in one step: a fresh directory by rename, an old bundle by
  // an atomic exchange, so a container starting now sees one or the other.
  auto moved = ::rename(temp.c_str(), target.c_str());
  if (moved != 0 && (errno == EEXIST || errno == ENOTEMPTY))
    moved = ::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, target.c_str(),
                        RENAME_EXCHANGE);
  auto err_no = errno;
  // Either the copy that failed to move, or the old bundle swapped out.
  cleanup();
  if (moved != 0)
    return make_error(ec::system_error, "cannot install into '"
                                          + target.string()
                                          + "': " + std::strerror(err_no));
  return "installed the bundle into " + target.string() + ": "
         + std::to_string(files) + " files, " + std::to_string(bytes / 1024)
         + " KiB";
}

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

caf::expected<json> render_manifest(const pod_spec& spec,
                                    const std::string& name,
                                    const std::string& agent_image) {
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
  json install = {
    {"name", "install-baton"},
    {"image", agent_image},
    {"command",
     {"/baton/lib/ld-linux-x86-64.so.2", "/baton/bin/baton", "install",
      "--from", "/baton", bundle_mount}},
    {"volumeMounts", workspace_mount()},
  };
  // The job log is the agent's stdout; diagnostics share the container log,
  // so only warnings and errors are written there.
  env_map agent_env = spec.env;
  agent_env["BUILDKITE_CONTAINER_COUNT"] =
    std::to_string(spec.containers.size());
  agent_env.emplace("BATON_LOG_LEVEL", "warn");
  json containers = json::array();
  containers.push_back({
    {"name", "agent"},
    {"image", agent_image},
    {"command", {baton, "agent"}},
    {"env", env_list(agent_env)},
    {"volumeMounts", workspace_mount()},
  });
  std::set<std::string> names;
  for (size_t id = 0; id < spec.containers.size(); ++id) {
    auto& c = spec.containers[id];
    auto where = "pod spec: containers[" + std::to_string(id) + "]";
    if (!is_dns_label(c.name) || c.name == "agent"
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
                        where + ".image: missing (every container needs an "
                                "image on Kubernetes)");
    env_map env = c.env;
    env["BUILDKITE_CONTAINER_ID"] = std::to_string(id);
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
    containers.push_back(std::move(container));
  }
  return json{
    {"apiVersion", "v1"},
    {"kind", "Pod"},
    {"metadata",
     {{"name", name},
      {"labels",
       {{"app.kubernetes.io/name", "baton"},
        {"app.kubernetes.io/version", BATON_VERSION}}}}},
    {"spec",
     {{"restartPolicy", "Never"},
      {"terminationGracePeriodSeconds", *grace},
      {"volumes", json::array({{{"name", "workspace"}, {"emptyDir", json::object()}}})},
      {"initContainers", json::array({install})},
      {"containers", containers}}},
  };
}

int run_install(const install_options& options) {
  auto from = options.from.empty() ? own_bundle_root() : options.from;
  auto done = install_bundle(from, options.dir);
  if (!done) {
    std::cerr << "baton: " << render(done.error()) << '\n';
    return 1;
  }
  std::cout << *done << '\n';
  return 0;
}

int run_manifest(const manifest_options& options) {
  auto spec = read_pod_spec(options.spec_file);
  if (!spec) {
    std::cerr << "baton: " << render(spec.error()) << '\n';
    return 2;
  }
  auto name = options.name.empty() ? pod_name_for(options.spec_file)
                                   : options.name;
  auto manifest = render_manifest(*spec, name, options.agent_image);
  if (!manifest) {
    std::cerr << "baton: " << render(manifest.error()) << '\n';
    return 2;
  }
  std::cout << manifest->dump(2) << '\n';
  return 0;
}

} // namespace baton
