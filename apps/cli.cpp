#include "apps/cli.hpp"

#include "messages/defaults.hpp"
#include "messages/duration.hpp"
#include "messages/error.hpp"

#include <map>

namespace baton {

namespace {

struct option_spec {
  const char* name;
  const char* metavar;
  const char* env;
  /// Empty: no default; `required` says whether it must be given.
  std::string fallback;
  bool required;
  const char* help;
};

/// Where a value came from, for error messages.
struct option_value {
  std::string text;
  std::string source;
};

struct parsed_args {
  std::map<std::string, option_value> values;
  std::vector<std::string> positional;
  std::vector<std::string> command;
};

caf::error invalid(const std::string& text) {
  return make_error(ec::invalid_argument, text);
}

caf::expected<parsed_args>
parse(const char* command, const std::vector<option_spec>& specs,
      const std::vector<std::string>& args, const env_map& env,
      bool allow_command, size_t max_positional) {
  parsed_args result;
  auto find = [&](const std::string& name) -> const option_spec* {
    for (auto& spec : specs)
      if (name == spec.name)
        return &spec;
    return nullptr;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    auto& arg = args[i];
    if (arg == "--") {
      if (!allow_command)
        return invalid(std::string{"baton "} + command
                       + " takes no command after --");
      result.command.assign(args.begin() + static_cast<ptrdiff_t>(i) + 1,
                            args.end());
      break;
    }
    if (arg.compare(0, 2, "--") != 0 || arg.size() == 2) {
      if (result.positional.size() >= max_positional)
        return invalid("unexpected argument '" + arg + "' for baton " + command
                       + " (see baton " + command + " --help)");
      result.positional.push_back(arg);
      continue;
    }
    auto eq = arg.find('=');
    auto name = arg.substr(2, eq == std::string::npos ? std::string::npos
                                                      : eq - 2);
    auto spec = find(name);
    if (spec == nullptr)
      return invalid("unknown option '--" + name + "' for baton " + command
                     + " (see baton " + command + " --help)");
    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (spec->metavar == nullptr) {
      value = "true"; // A flag.
    } else {
      if (i + 1 >= args.size())
        return invalid("option --" + name + " needs a value (" + spec->metavar
                       + ")");
      value = args[++i];
    }
    result.values[name] = {value, "--" + name};
  }
  for (auto& spec : specs) {
    if (result.values.count(spec.name) > 0)
      continue;
    if (spec.env != nullptr) {
      auto i = env.find(spec.env);
      if (i != env.end() && !i->second.empty()) {
        result.values[spec.name] = {i->second, spec.env};
        continue;
      }
    }
    if (spec.required)
      return invalid(std::string{"baton "} + command + " needs --" + spec.name
                     + (spec.env != nullptr
                          ? std::string{" (or "} + spec.env + ")"
                          : std::string{}));
    result.values[spec.name] = {spec.fallback, "the default"};
  }
  return result;
}

caf::error bad_value(const option_value& value, const std::string& expected) {
  return invalid("invalid value '" + value.text + "' for " + value.source
                 + ": expected " + expected);
}

caf::expected<uint64_t> get_uint(const option_value& value, uint64_t min,
                                 uint64_t max) {
  auto expected = "a whole number from " + std::to_string(min) + " to "
                  + std::to_string(max);
  if (value.text.empty() || value.text.size() > 19
      || value.text.find_first_not_of("0123456789") != std::string::npos)
    return bad_value(value, expected);
  auto n = std::stoull(value.text);
  if (n < min || n > max)
    return bad_value(value, expected);
  return n;
}

caf::expected<bool> get_bool(const option_value& value) {
  if (value.text == "true" || value.text == "1")
    return true;
  if (value.text == "false" || value.text == "0" || value.text.empty())
    return false;
  return bad_value(value, "true or false");
}

caf::expected<caf::timespan> get_duration(const option_value& value) {
  auto d = parse_duration(value.text);
  if (!d)
    return bad_value(value, "a duration such as 150ms, 30s, 5m or 1h30m");
  return d;
}

std::string help_text(const char* usage, const char* summary,
                      const std::vector<option_spec>& specs) {
  std::string out = std::string{"Usage: "} + usage + "\n\n" + summary
                    + "\n\nOptions:\n";
  for (auto& spec : specs) {
    std::string left = std::string{"  --"} + spec.name;
    if (spec.metavar != nullptr)
      left += std::string{" "} + spec.metavar;
    if (left.size() < 28)
      left.resize(28, ' ');
    else
      left += "\n" + std::string(28, ' ');
    out += left + spec.help + "\n" + std::string(28, ' ');
    std::string notes;
    if (spec.env != nullptr)
      notes += std::string{"env: "} + spec.env;
    if (!notes.empty())
      notes += "; ";
    if (spec.required)
      notes += "required";
    else if (!spec.fallback.empty())
      notes += "default: " + spec.fallback;
    else
      notes += "default: none";
    out += notes + "\n";
  }
  out += "  -h, --help                print this help\n";
  return out;
}

// The help's note for a socket `name` in the job context directory.
std::string default_socket_note(const char* name) {
  return std::string{"<job context dir>/"} + name;
}

const std::vector<option_spec>& agent_specs() {
  static const std::vector<option_spec> specs = {
    {"containers", "N", "BUILDKITE_CONTAINER_COUNT", "", true,
     "number of bootstrap containers (ids 0..N-1)"},
    {"job-context-dir", "DIR", "BUILDKITE_JOB_CONTEXT_DIR",
     defaults::job_context_dir, false,
     "the volume shared by every container of the pod"},
    {"socket", "PATH", "BATON_SOCKET",
     default_socket_note(defaults::socket_name), false, "where to listen"},
    {"rpc-socket", "PATH", "BATON_RPC_SOCKET",
     default_socket_note(defaults::rpc_socket_name), false,
     "where to serve the reference's RPC dialect to stock Buildkite "
     "clients; 'none' disables it"},
    {"env-file", "FILE", nullptr, "", false,
     "KEY=VALUE lines added over the agent's own environment to make the "
     "job environment"},
    {"log-file", "FILE", nullptr, "stdout", false, "where the job log goes"},
    {"result-file", "FILE", nullptr, "", false,
     "write the job result as JSON here when the job ends"},
    {"start-timeout", "D", "BUILDKITE_KUBERNETES_CONTAINER_START_TIMEOUT",
     format_duration(defaults::start_timeout), false,
     "how long every container has to connect; 0 disables"},
    {"lost-timeout", "D", nullptr, format_duration(defaults::lost_timeout),
     false, "heartbeat silence before a container counts as lost"},
    {"cancel-grace-period", "D", "BUILDKITE_CANCEL_GRACE_PERIOD",
     format_duration(defaults::cancel_grace_period), false,
     "after an interrupt, how long containers get to exit before the job is "
     "terminated"},
    {"handshake-timeout", "D", nullptr,
     format_duration(defaults::handshake_timeout), false,
     "how long a new connection has to say hello and register, and an "
     "exited one to close"},
    {"timestamp-lines", nullptr, "BUILDKITE_TIMESTAMP_LINES", "false", false,
     "start every job-log line with the time (RFC 3339, UTC, milliseconds) "
     "it was read from its command"},
  };
  return specs;
}

const std::vector<option_spec>& bootstrap_specs() {
  static const std::vector<option_spec> specs = {
    {"container-id", "N", "BUILDKITE_CONTAINER_ID", "", true,
     "this container's id (0 is the checkout container)"},
    {"job-context-dir", "DIR", "BUILDKITE_JOB_CONTEXT_DIR",
     defaults::job_context_dir, false,
     "the volume shared by every container of the pod"},
    {"protocol", "NAME", "BATON_PROTOCOL", to_string(dialect::baton), false,
     "baton (baton's own protocol) or buildkite (the reference's RPC "
     "dialect, to join a stock Buildkite runner)"},
    {"socket", "PATH", "BATON_SOCKET",
     default_socket_note(defaults::socket_name) + ", or "
       + defaults::rpc_socket_name + " with --protocol buildkite",
     false, "the agent's socket"},
    {"connect-timeout", "D",
     "BUILDKITE_KUBERNETES_BOOTSTRAP_CONNECTION_TIMEOUT",
     format_duration(defaults::connect_timeout), false,
     "give up connecting to the agent after this long"},
  };
  return specs;
}

const std::vector<option_spec>& pod_specs() {
  static const std::vector<option_spec> specs = {
    {"seed", "N", nullptr, "", false,
     "seed of the start order (default: a random order)"},
    {"log-file", "FILE", nullptr, "stdout", false,
     "passed to the agent: where the job log goes"},
    {"result-file", "FILE", nullptr, "", false,
     "passed to the agent: where the job result goes"},
    {"keep", nullptr, nullptr, "", false,
     "keep the job context directory (it is printed) instead of removing it"},
    {"verbose", nullptr, nullptr, "false", false,
     "show the nodes' info lines too, not only the job log and warnings "
     "(or set BATON_LOG_LEVEL)"},
  };
  return specs;
}

const std::vector<option_spec>& install_specs() {
  static const std::vector<option_spec> specs = {
    {"from", "DIR", nullptr, "", false,
     "the bundle to copy (default: the one this baton runs from)"},
  };
  return specs;
}

const std::vector<option_spec>& manifest_specs() {
  static const std::vector<option_spec> specs = {
    {"agent-image", "IMAGE", "BATON_AGENT_IMAGE",
     std::string{"baton:"} + BATON_VERSION, false,
     "image of the init and agent containers: the bundle "
     "(deploy/Containerfile)"},
    {"name", "NAME", nullptr, "<the spec file's name>", false,
     "the pod's (or the Job's) name"},
    {"kind", "KIND", nullptr, "pod", false,
     "pod, or job for a batch/v1 Job around the pod (backoffLimit 0)"},
    {"ttl-seconds-after-finished", "N", nullptr, "", false,
     "with --kind job: how long Kubernetes keeps the finished Job"},
  };
  return specs;
}

const std::vector<option_spec>& status_specs() {
  static const std::vector<option_spec> specs = {
    {"job-context-dir", "DIR", "BUILDKITE_JOB_CONTEXT_DIR",
     defaults::job_context_dir, false,
     "the volume shared by every container of the pod"},
    {"socket", "PATH", "BATON_SOCKET",
     default_socket_note(defaults::socket_name), false, "the agent's socket"},
    {"json", nullptr, nullptr, "false", false,
     "print the JSON document of the result file instead of a table"},
    {"timeout", "D", nullptr, "5s", false, "how long to wait for the agent"},
  };
  return specs;
}

// The socket path: --socket, else `name` in the job context directory.
std::string socket_path(const option_value& socket,
                        const std::string& context_dir,
                        const char* name = defaults::socket_name) {
  if (socket.source != "the default")
    return socket.text;
  return context_dir + "/" + name;
}

} // namespace

bool wants_help(const std::vector<std::string>& args) {
  for (auto& arg : args) {
    if (arg == "--")
      return false;
    if (arg == "-h" || arg == "--help")
      return true;
  }
  return false;
}

caf::expected<agent_options>
parse_agent_options(const std::vector<std::string>& args, const env_map& env) {
  auto parsed = parse("agent", agent_specs(), args, env, false, 0);
  if (!parsed)
    return std::move(parsed.error());
  auto& v = parsed->values;
  agent_options result;
  auto containers = get_uint(v["containers"], 1, 100000);
  if (!containers)
    return std::move(containers.error());
  result.containers = static_cast<uint32_t>(*containers);
  result.job_context_dir = v["job-context-dir"].text;
  result.socket = socket_path(v["socket"], result.job_context_dir);
  if (v["rpc-socket"].text != "none")
    result.rpc_socket = socket_path(v["rpc-socket"], result.job_context_dir,
                                    defaults::rpc_socket_name);
  if (result.rpc_socket == result.socket)
    return bad_value(v["rpc-socket"],
                     "another path than --socket (" + result.socket + ")");
  result.env_file = v["env-file"].text;
  if (v["log-file"].source != "the default")
    result.log_file = v["log-file"].text;
  result.result_file = v["result-file"].text;
  for (auto [name, out] :
       {std::pair{"start-timeout", &result.start_timeout},
        std::pair{"lost-timeout", &result.lost_timeout},
        std::pair{"cancel-grace-period", &result.cancel_grace_period},
        std::pair{"handshake-timeout", &result.handshake_timeout}}) {
    auto d = get_duration(v[name]);
    if (!d)
      return std::move(d.error());
    *out = *d;
  }
  if (result.lost_timeout.count() == 0)
    return bad_value(v["lost-timeout"], "a positive duration");
  if (result.handshake_timeout.count() == 0)
    return bad_value(v["handshake-timeout"], "a positive duration");
  auto flag = get_bool(v["timestamp-lines"]);
  if (!flag)
    return std::move(flag.error());
  result.timestamp_lines = *flag;
  return result;
}

caf::expected<bootstrap_options>
parse_bootstrap_options(const std::vector<std::string>& args,
                        const env_map& env) {
  auto parsed = parse("bootstrap", bootstrap_specs(), args, env, true, 0);
  if (!parsed)
    return std::move(parsed.error());
  auto& v = parsed->values;
  bootstrap_options result;
  auto id = get_uint(v["container-id"], 0, 99999);
  if (!id)
    return std::move(id.error());
  result.container_id = static_cast<int32_t>(*id);
  result.job_context_dir = v["job-context-dir"].text;
  auto& protocol = v["protocol"];
  if (!from_string(protocol.text, result.protocol))
    return bad_value(protocol, "baton or buildkite");
  result.socket = socket_path(v["socket"], result.job_context_dir,
                              result.protocol == dialect::buildkite
                                ? defaults::rpc_socket_name
                                : defaults::socket_name);
  auto timeout = get_duration(v["connect-timeout"]);
  if (!timeout)
    return std::move(timeout.error());
  result.connect_timeout = *timeout;
  result.command = std::move(parsed->command);
  return result;
}

caf::expected<pod_options>
parse_pod_options(const std::vector<std::string>& args, const env_map& env) {
  auto parsed = parse("pod", pod_specs(), args, env, false, 1);
  if (!parsed)
    return std::move(parsed.error());
  if (parsed->positional.empty())
    return invalid("baton pod needs a pod spec file (see baton pod --help)");
  auto& v = parsed->values;
  pod_options result;
  result.spec_file = parsed->positional[0];
  if (!v["seed"].text.empty()) {
    auto seed = get_uint(v["seed"], 0, UINT64_MAX / 2);
    if (!seed)
      return std::move(seed.error());
    result.seed = *seed;
  }
  if (v["log-file"].source != "the default")
    result.log_file = v["log-file"].text;
  result.result_file = v["result-file"].text;
  auto keep = get_bool(v["keep"]);
  if (!keep)
    return std::move(keep.error());
  result.keep = *keep;
  auto verbose = get_bool(v["verbose"]);
  if (!verbose)
    return std::move(verbose.error());
  result.verbose = *verbose;
  return result;
}

caf::expected<install_options>
parse_install_options(const std::vector<std::string>& args,
                      const env_map& env) {
  auto parsed = parse("install", install_specs(), args, env, false, 1);
  if (!parsed)
    return std::move(parsed.error());
  if (parsed->positional.empty())
    return invalid(
      "baton install needs a directory (see baton install --help)");
  install_options result;
  result.dir = parsed->positional[0];
  result.from = parsed->values["from"].text;
  return result;
}

caf::expected<manifest_options>
parse_manifest_options(const std::vector<std::string>& args,
                       const env_map& env) {
  auto parsed = parse("manifest", manifest_specs(), args, env, false, 1);
  if (!parsed)
    return std::move(parsed.error());
  if (parsed->positional.empty())
    return invalid(
      "baton manifest needs a pod spec file (see baton manifest --help)");
  auto& v = parsed->values;
  manifest_options result;
  result.spec_file = parsed->positional[0];
  if (v["agent-image"].text.empty())
    return bad_value(v["agent-image"], "an image reference");
  result.agent_image = v["agent-image"].text;
  if (v["name"].source != "the default")
    result.name = v["name"].text;
  auto& kind = v["kind"];
  if (kind.text != "pod" && kind.text != "job")
    return bad_value(kind, "pod or job");
  result.kind.job = kind.text == "job";
  auto& ttl = v["ttl-seconds-after-finished"];
  if (!ttl.text.empty()) {
    if (!result.kind.job)
      return invalid("--ttl-seconds-after-finished needs --kind job");
    auto seconds = get_uint(ttl, 0, 31'536'000);
    if (!seconds)
      return std::move(seconds.error());
    result.kind.ttl_seconds_after_finished = static_cast<int64_t>(*seconds);
  }
  return result;
}

caf::expected<status_options>
parse_status_options(const std::vector<std::string>& args, const env_map& env) {
  auto parsed = parse("status", status_specs(), args, env, false, 0);
  if (!parsed)
    return std::move(parsed.error());
  auto& v = parsed->values;
  status_options result;
  result.socket = socket_path(v["socket"], v["job-context-dir"].text);
  auto json = get_bool(v["json"]);
  if (!json)
    return std::move(json.error());
  result.json = *json;
  auto timeout = get_duration(v["timeout"]);
  if (!timeout)
    return std::move(timeout.error());
  result.timeout = *timeout;
  return result;
}

std::string main_help() {
  return "Usage: baton <command> [OPTIONS]\n\n"
         "baton coordinates the containers of one CI job running as a "
         "Kubernetes pod.\n\n"
         "Commands:\n"
         "  agent       the coordinator, in the agent container: hands out "
         "the job\n"
         "              environment, orders the containers, writes the job "
         "log\n"
         "  bootstrap   in each checkout and command container: registers, "
         "waits its\n"
         "              turn, runs the command and streams its output\n"
         "  pod         runs a whole pod from a JSON spec on this machine, "
         "without\n"
         "              Kubernetes\n"
         "  status      shows each container's state, exit status and log "
         "bytes\n"
         "  manifest    renders a pod spec as a Kubernetes Pod manifest\n"
         "  install     copies the bundle this baton runs from into a "
         "directory\n"
         "  version     prints the version\n\n"
         "Run 'baton <command> --help' for the options of a command.\n";
}

std::string agent_help() {
  return help_text(
    "baton agent --containers N [OPTIONS]",
    "Coordinates the job: listens on the socket in the job context "
    "directory,\nhands every container the job environment, lets them run "
    "one after another,\nwrites their output to the job log and exits with "
    "the job's status (255 for\na lost or never-connected container). "
    "SIGTERM or SIGINT interrupts the job;\na second one, or the end of the "
    "grace period, terminates it.",
    agent_specs());
}

std::string bootstrap_help() {
  return help_text(
    "baton bootstrap --container-id N [OPTIONS] [-- COMMAND [ARGS...]]",
    "Registers with the agent, waits for this container's turn, runs the "
    "command\n(default: $BUILDKITE_SHELL \"$BUILDKITE_COMMAND\", the shell "
    "defaulting to\n/bin/sh -e -c), streams its output to the job log and "
    "to stdout, and exits\nwith its status. SIGTERM, SIGINT, SIGHUP and "
    "SIGQUIT are logged and ignored:\nthe agent decides when to interrupt.\n"
    "Step settings from the environment (after the merge): BATON_SOFT_FAIL "
    "(true or\nstatuses such as 1,3), BATON_ALWAYS (true: runs after a "
    "failure or an interrupt),\nBATON_TIMEOUT (a duration). The command gets "
    "BATON_ENV (a file whose KEY=VALUE\nlines later steps receive), "
    "BATON_JOB_RESULT and BATON_JOB_STATUS. Exits 1 if the\ncommand never "
    "ran or was skipped, 2 if the settings are invalid.",
    bootstrap_specs());
}

std::string pod_help() {
  return help_text(
    "baton pod SPEC.json [OPTIONS]",
    "Runs a pod on this machine: a private job context directory, the agent "
    "and one\nbootstrap per container of the spec, started in a shuffled "
    "order as Kubernetes\nwould. Streams the job log to stdout and exits "
    "with the agent's status.\nSPEC.json: {\"env\": {\"K\": \"V\"}, "
    "\"timestampLines\": false, \"timeout\": \"1h\",\n\"containers\": "
    "[{\"name\": \"checkout\", \"command\": [\"sh\", \"-c\", \"...\"], "
    "\"env\": {...},\n\"workingDir\": \"...\", \"softFail\": [1, 3], "
    "\"always\": false, \"timeout\": \"10m\"}, ...]}\nBy default only the "
    "job log and warnings show; --verbose shows the nodes' info lines.",
    pod_specs());
}

std::string status_help() {
  return help_text("baton status [OPTIONS]",
                   "Asks the agent for the job's status: each container's "
                   "state, protocol,\nexit status and bytes logged so far.",
                   status_specs());
}

std::string install_help() {
  return help_text(
    "baton install DIR [OPTIONS]",
    "Copies the bundle (bin/baton, its libraries and loader) into DIR/baton, "
    "as the\ninit container of a pod does: DIR is the pod's shared volume. "
    "Needs no shell and\nno libc in the image: run it through the bundle's "
    "loader,\n  /baton/lib/ld-linux-x86-64.so.2 /baton/bin/baton install "
    "/workspace\nAn existing DIR/baton is replaced whole.",
    install_specs());
}

std::string manifest_help() {
  return help_text(
    "baton manifest SPEC.json [OPTIONS]",
    "Prints the Kubernetes Pod manifest (JSON) for the pod spec that 'baton "
    "pod' runs\nlocally: an emptyDir at /workspace in every container, an "
    "init container that\ninstalls the bundle there, the agent container, "
    "and each spec container running\nits command through 'baton "
    "bootstrap'. Every spec container needs an \"image\". A\ncontainer's "
    "softFail, always and timeout become its BATON_SOFT_FAIL, BATON_ALWAYS "
    "and\nBATON_TIMEOUT; the spec's timestampLines the agent's "
    "BUILDKITE_TIMESTAMP_LINES, its\ntimeout the activeDeadlineSeconds. "
    "--kind job renders a batch/v1 Job around the pod.",
    manifest_specs());
}

} // namespace baton
