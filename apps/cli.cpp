#include "apps/cli.hpp"

#include "job/names.hpp"
#include "messages/defaults.hpp"
#include "messages/duration.hpp"
#include "messages/error.hpp"

#include <algorithm>
#include <functional>
#include <iostream>
#include <optional>

namespace baton {

namespace {

/// An option's value and where it came from, for error messages.
struct option_value {
  std::string text;
  /// "--name", the environment variable, or "the default".
  std::string source;
  /// Neither given on the command line nor set in the environment.
  bool defaulted = false;
};

/// Stores an option's value into the options struct of its subcommand, or
/// says why it cannot. Setters run in the order of the specs, so a default
/// may derive from an option listed above (a socket from the directory).
template <class Options>
using setter = std::function<caf::error(Options&, const option_value&)>;

template <class Options>
struct option_spec {
  const char* name;
  /// What the value is, in the help; null for a flag.
  const char* metavar;
  const char* env;
  /// Empty: no default; `required` says whether it must be given.
  std::string fallback;
  bool required;
  const char* help;
  setter<Options> set;
};

/// A subcommand's command line: its options, the one argument it may take
/// and the command after `--`.
template <class Options>
struct command_line {
  const char* name;
  std::vector<option_spec<Options>> options;
  /// The argument it needs ("a pod spec file"), stored in `argument`;
  /// null if it takes none.
  const char* needs = nullptr;
  std::string Options::*argument = nullptr;
  /// Where the command after `--` goes; null if it takes none.
  std::vector<std::string> Options::*command = nullptr;
};

caf::error invalid(const std::string& text) {
  return make_error(ec::invalid_argument, text);
}

caf::error bad_value(const option_value& value, const std::string& expected) {
  return invalid("invalid value '" + value.text + "' for " + value.source
                 + ": expected " + expected);
}

template <class Options>
caf::expected<Options> parse(const command_line<Options>& line,
                             const std::vector<std::string>& args,
                             const env_map& env) {
  std::string command = line.name;
  auto see_help = " (see baton " + command + " --help)";
  std::vector<std::optional<option_value>> given(line.options.size());
  std::vector<std::string> positional;
  Options result;
  for (size_t i = 0; i < args.size(); ++i) {
    auto& arg = args[i];
    if (arg == "--") {
      if (line.command == nullptr)
        return invalid("baton " + command + " takes no command after --");
      result.*line.command = {args.begin() + static_cast<ptrdiff_t>(i) + 1,
                              args.end()};
      break;
    }
    if (arg.compare(0, 2, "--") != 0 || arg.size() == 2) {
      if (line.needs == nullptr || !positional.empty())
        return invalid("unexpected argument '" + arg + "' for baton " + command
                       + see_help);
      positional.push_back(arg);
      continue;
    }
    auto eq = arg.find('=');
    auto name = arg.substr(2, eq == std::string::npos ? std::string::npos
                                                      : eq - 2);
    auto spec = std::find_if(line.options.begin(), line.options.end(),
                             [&](auto& x) { return name == x.name; });
    if (spec == line.options.end())
      return invalid("unknown option '--" + name + "' for baton " + command
                     + see_help);
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
    given[static_cast<size_t>(spec - line.options.begin())]
      = option_value{value, "--" + name};
  }
  for (size_t i = 0; i < line.options.size(); ++i) {
    auto& spec = line.options[i];
    if (!given[i] && spec.env != nullptr) {
      auto var = env.find(spec.env);
      if (var != env.end() && !var->second.empty())
        given[i] = option_value{var->second, spec.env};
    }
    if (!given[i] && spec.required)
      return invalid("baton " + command + " needs --" + spec.name
                     + (spec.env != nullptr
                          ? std::string{" (or "} + spec.env + ")"
                          : std::string{}));
  }
  for (size_t i = 0; i < line.options.size(); ++i) {
    auto& spec = line.options[i];
    auto value = given[i] ? *given[i]
                          : option_value{spec.fallback, "the default", true};
    if (auto err = spec.set(result, value))
      return err;
  }
  if (line.needs != nullptr) {
    if (positional.empty())
      return invalid("baton " + command + " needs " + line.needs + see_help);
    result.*line.argument = positional[0];
  }
  return result;
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

// -- setters ------------------------------------------------------------------

/// The value as it is.
template <class Options>
setter<Options> text(std::string Options::*field) {
  return [=](Options& out, const option_value& value) {
    out.*field = value.text;
    return caf::error{};
  };
}

/// The value if one was given; the field's own default otherwise (the
/// help's default only describes it: "stdout").
template <class Options>
setter<Options> text_if_given(std::string Options::*field) {
  return [=](Options& out, const option_value& value) {
    if (!value.defaulted)
      out.*field = value.text;
    return caf::error{};
  };
}

/// A whole number in [min, max].
template <class Options, class T>
setter<Options> whole(T Options::*field, uint64_t min, uint64_t max) {
  return [=](Options& out, const option_value& value) -> caf::error {
    auto n = get_uint(value, min, max);
    if (!n)
      return std::move(n.error());
    out.*field = static_cast<T>(*n);
    return {};
  };
}

/// `true`/`1` or `false`/`0`; a flag given is `true`.
template <class Options>
setter<Options> boolean(bool Options::*field) {
  return [=](Options& out, const option_value& value) -> caf::error {
    if (value.text == "true" || value.text == "1")
      out.*field = true;
    else if (value.text == "false" || value.text == "0" || value.text.empty())
      out.*field = false;
    else
      return bad_value(value, "true or false");
    return {};
  };
}

/// A duration such as 30s; `positive` refuses 0.
template <class Options>
setter<Options> duration(caf::timespan Options::*field, bool positive = false) {
  return [=](Options& out, const option_value& value) -> caf::error {
    auto d = parse_duration(value.text);
    if (!d)
      return bad_value(value, "a duration such as 150ms, 30s, 5m or 1h30m");
    if (positive && d->count() == 0)
      return bad_value(value, "a positive duration");
    out.*field = *d;
    return {};
  };
}

// The help's note for a socket `name` in the job context directory.
std::string default_socket_note(const char* name) {
  return std::string{"<job context dir>/"} + name;
}

/// A socket's path: the value if given, else `name` in the job context
/// directory `dir` (an option listed above it).
std::string socket_path(const option_value& value, const std::string& dir,
                        const char* name) {
  return value.defaulted ? dir + "/" + name : value.text;
}

template <class Options>
std::string help_text(const char* usage, const char* summary,
                      const std::vector<option_spec<Options>>& specs) {
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

// -- the subcommands' command lines ------------------------------------------

const command_line<agent_options>& agent_line() {
  using o = agent_options;
  static const command_line<o> line{
    "agent",
    {
      {"containers", "N", "BUILDKITE_CONTAINER_COUNT", "", true,
       "number of bootstrap containers (ids 0..N-1)",
       whole(&o::containers, 1, 100000)},
      {"container-names", "NAMES", "BATON_CONTAINER_NAMES", "container-<id>",
       false,
       "the containers' Kubernetes names, comma-separated in id order, for "
       "the job log, the result and the status",
       [](o& out, const option_value& value) -> caf::error {
         if (value.defaulted)
           return {};
         auto names = parse_container_names(value.text, out.containers);
         if (!names)
           return invalid("invalid value for " + value.source + ": "
                          + render(names.error()));
         out.container_names = std::move(*names);
         return {};
       }},
      {"services", "IDS", "BATON_SERVICES", "each container says", false,
       "the ids of the service containers, comma-separated, or 'none': the "
       "steps wait for them before they connect",
       [](o& out, const option_value& value) -> caf::error {
         if (value.defaulted)
           return {};
         auto ids = parse_service_ids(value.text, out.containers);
         if (!ids)
           return invalid("invalid value for " + value.source + ": "
                          + render(ids.error()));
         out.services = std::move(*ids);
         out.services_known = true;
         return {};
       }},
      {"job-context-dir", "DIR", "BUILDKITE_JOB_CONTEXT_DIR",
       defaults::job_context_dir, false,
       "the volume shared by every container of the pod",
       text(&o::job_context_dir)},
      {"socket", "PATH", "BATON_SOCKET",
       default_socket_note(defaults::socket_name), false, "where to listen",
       [](o& out, const option_value& value) {
         out.socket = socket_path(value, out.job_context_dir,
                                  defaults::socket_name);
         return caf::error{};
       }},
      {"rpc-socket", "PATH", "BATON_RPC_SOCKET",
       default_socket_note(defaults::rpc_socket_name), false,
       "where to serve the reference's RPC dialect to stock Buildkite "
       "clients; 'none' disables it",
       [](o& out, const option_value& value) -> caf::error {
         if (value.text == "none")
           return {};
         out.rpc_socket = socket_path(value, out.job_context_dir,
                                      defaults::rpc_socket_name);
         if (out.rpc_socket == out.socket)
           return bad_value(value,
                            "another path than --socket (" + out.socket + ")");
         return {};
       }},
      {"env-file", "FILE", nullptr, "", false,
       "KEY=VALUE lines added over the agent's own environment to make the "
       "job environment",
       text(&o::env_file)},
      {"log-file", "FILE", nullptr, "stdout", false, "where the job log goes",
       text_if_given(&o::log_file)},
      {"result-file", "FILE", nullptr, "", false,
       "write the job result as JSON here when the job ends",
       text(&o::result_file)},
      {"start-timeout", "D", "BUILDKITE_KUBERNETES_CONTAINER_START_TIMEOUT",
       format_duration(defaults::start_timeout), false,
       "how long every container has to connect; 0 disables",
       duration(&o::start_timeout)},
      {"lost-timeout", "D", nullptr, format_duration(defaults::lost_timeout),
       false, "heartbeat silence before a container counts as lost",
       duration(&o::lost_timeout, true)},
      {"cancel-grace-period", "D", "BUILDKITE_CANCEL_GRACE_PERIOD",
       format_duration(defaults::cancel_grace_period), false,
       "after an interrupt, how long containers get to exit before the job "
       "is terminated",
       duration(&o::cancel_grace_period)},
      {"handshake-timeout", "D", nullptr,
       format_duration(defaults::handshake_timeout), false,
       "how long a new connection has to say hello and register, and an "
       "exited one to close",
       duration(&o::handshake_timeout, true)},
      {"timestamp-lines", nullptr, "BUILDKITE_TIMESTAMP_LINES", "false", false,
       "start every job-log line with the time (RFC 3339, UTC, "
       "milliseconds) it was read from its command",
       boolean(&o::timestamp_lines)},
      {"no-summary", nullptr, "BATON_NO_SUMMARY", "false", false,
       "leave the job summary out of the end of the job log (the step lines "
       "stay)",
       boolean(&o::no_summary)},
    }};
  return line;
}

const command_line<bootstrap_options>& bootstrap_line() {
  using o = bootstrap_options;
  static const command_line<o> line{
    "bootstrap",
    {
      {"container-id", "N", "BUILDKITE_CONTAINER_ID", "", true,
       "this container's id (0 is the checkout container)",
       whole(&o::container_id, 0, 99999)},
      {"job-context-dir", "DIR", "BUILDKITE_JOB_CONTEXT_DIR",
       defaults::job_context_dir, false,
       "the volume shared by every container of the pod",
       text(&o::job_context_dir)},
      {"protocol", "NAME", "BATON_PROTOCOL", to_string(dialect::baton), false,
       "baton (baton's own protocol) or buildkite (the reference's RPC "
       "dialect, to join a stock Buildkite runner)",
       [](o& out, const option_value& value) -> caf::error {
         if (!from_string(value.text, out.protocol))
           return bad_value(value, "baton or buildkite");
         return {};
       }},
      {"socket", "PATH", "BATON_SOCKET",
       default_socket_note(defaults::socket_name) + ", or "
         + defaults::rpc_socket_name + " with --protocol buildkite",
       false, "the agent's socket",
       [](o& out, const option_value& value) {
         auto name = out.protocol == dialect::buildkite
                       ? defaults::rpc_socket_name
                       : defaults::socket_name;
         out.socket = socket_path(value, out.job_context_dir, name);
         return caf::error{};
       }},
      {"connect-timeout", "D",
       "BUILDKITE_KUBERNETES_BOOTSTRAP_CONNECTION_TIMEOUT",
       format_duration(defaults::connect_timeout), false,
       "give up connecting to the agent after this long",
       duration(&o::connect_timeout)},
    },
    nullptr,
    nullptr,
    &o::command};
  return line;
}

const command_line<pod_options>& pod_line() {
  using o = pod_options;
  static const command_line<o> line{
    "pod",
    {
      {"seed", "N", nullptr, "", false,
       "seed of the start order (default: a random order)",
       [](o& out, const option_value& value) -> caf::error {
         if (value.text.empty())
           return {};
         auto seed = get_uint(value, 0, UINT64_MAX / 2);
         if (!seed)
           return std::move(seed.error());
         out.seed = *seed;
         return {};
       }},
      {"log-file", "FILE", nullptr, "stdout", false,
       "passed to the agent: where the job log goes",
       text_if_given(&o::log_file)},
      {"result-file", "FILE", nullptr, "", false,
       "passed to the agent: where the job result goes", text(&o::result_file)},
      {"keep", nullptr, nullptr, "", false,
       "keep the job context directory (it is printed) instead of removing "
       "it",
       boolean(&o::keep)},
      {"verbose", nullptr, nullptr, "false", false,
       "show the nodes' info lines too, not only the job log and warnings "
       "(or set BATON_LOG_LEVEL)",
       boolean(&o::verbose)},
      {"no-summary", nullptr, nullptr, "false", false,
       "passed to the agent: leave the job summary out of the job log (or "
       "set BATON_NO_SUMMARY, which the agent inherits)",
       boolean(&o::no_summary)},
    },
    "a pod spec file",
    &o::spec_file};
  return line;
}

const command_line<install_options>& install_line() {
  using o = install_options;
  static const command_line<o> line{
    "install",
    {
      {"from", "DIR", nullptr, "", false,
       "the bundle to copy (default: the one this baton runs from)",
       text(&o::from)},
    },
    "a directory",
    &o::dir};
  return line;
}

const command_line<manifest_options>& manifest_line() {
  using o = manifest_options;
  static const command_line<o> line{
    "manifest",
    {
      {"agent-image", "IMAGE", "BATON_AGENT_IMAGE",
       std::string{"baton:"} + BATON_VERSION, false,
       "image of the init and agent containers: the bundle "
       "(deploy/Containerfile)",
       [](o& out, const option_value& value) -> caf::error {
         if (value.text.empty())
           return bad_value(value, "an image reference");
         out.agent_image = value.text;
         return {};
       }},
      {"name", "NAME", nullptr, "<the spec file's name>", false,
       "the pod's (or the Job's) name", text_if_given(&o::name)},
      {"skip-image-checks", nullptr, nullptr, "false", false,
       "leave out the init containers that check each step image can be "
       "pulled and run",
       boolean(&o::skip_image_checks)},
      {"kind", "KIND", nullptr, "pod", false,
       "pod, or job for a batch/v1 Job around the pod (backoffLimit 0)",
       [](o& out, const option_value& value) -> caf::error {
         if (value.text != "pod" && value.text != "job")
           return bad_value(value, "pod or job");
         out.kind.job = value.text == "job";
         return {};
       }},
      {"ttl-seconds-after-finished", "N", nullptr, "", false,
       "with --kind job: how long Kubernetes keeps the finished Job",
       [](o& out, const option_value& value) -> caf::error {
         if (value.text.empty())
           return {};
         if (!out.kind.job)
           return invalid("--ttl-seconds-after-finished needs --kind job");
         auto seconds = get_uint(value, 0, 31'536'000);
         if (!seconds)
           return std::move(seconds.error());
         out.kind.ttl_seconds_after_finished = static_cast<int64_t>(*seconds);
         return {};
       }},
    },
    "a pod spec file",
    &o::spec_file};
  return line;
}

const command_line<status_options>& status_line() {
  using o = status_options;
  static const command_line<o> line{
    "status",
    {
      {"job-context-dir", "DIR", "BUILDKITE_JOB_CONTEXT_DIR",
       defaults::job_context_dir, false,
       "the volume shared by every container of the pod",
       // The directory only places the default socket.
       [](o& out, const option_value& value) {
         out.socket = value.text + "/" + defaults::socket_name;
         return caf::error{};
       }},
      {"socket", "PATH", "BATON_SOCKET",
       default_socket_note(defaults::socket_name), false, "the agent's socket",
       text_if_given(&o::socket)},
      {"json", nullptr, nullptr, "false", false,
       "print the JSON document of the result file instead of a table",
       boolean(&o::json)},
      {"timeout", "D", nullptr, "5s", false, "how long to wait for the agent",
       duration(&o::timeout)},
    }};
  return line;
}

/// A subcommand's main: its help if asked, else its options parsed and
/// run; 2 on bad arguments.
template <class Options, const command_line<Options>& (*Line)(),
          std::string (*Help)(), int (*Run)(const Options&)>
int main_of(const std::vector<std::string>& args, const env_map& env) {
  if (wants_help(args)) {
    std::cout << Help();
    return 0;
  }
  auto options = parse(Line(), args, env);
  if (!options) {
    std::cerr << "baton: " << render(options.error()) << '\n';
    return 2;
  }
  return Run(*options);
}

/// A subcommand's options, for the check against the README.
template <class Options, const command_line<Options>& (*Line)()>
std::vector<option_doc> options_of() {
  std::vector<option_doc> result;
  for (auto& spec : Line().options)
    result.push_back({spec.name, spec.env == nullptr ? "" : spec.env});
  return result;
}

std::vector<option_doc> no_options() {
  return {};
}

int print_version(const std::vector<std::string>&, const env_map&) {
  std::cout << "baton " << BATON_VERSION << '\n';
  return 0;
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
  return parse(agent_line(), args, env);
}

caf::expected<bootstrap_options>
parse_bootstrap_options(const std::vector<std::string>& args,
                        const env_map& env) {
  return parse(bootstrap_line(), args, env);
}

caf::expected<pod_options>
parse_pod_options(const std::vector<std::string>& args, const env_map& env) {
  return parse(pod_line(), args, env);
}

caf::expected<install_options>
parse_install_options(const std::vector<std::string>& args,
                      const env_map& env) {
  return parse(install_line(), args, env);
}

caf::expected<manifest_options>
parse_manifest_options(const std::vector<std::string>& args,
                       const env_map& env) {
  return parse(manifest_line(), args, env);
}

caf::expected<status_options>
parse_status_options(const std::vector<std::string>& args, const env_map& env) {
  return parse(status_line(), args, env);
}

const std::vector<subcommand>& subcommands() {
  using agent = agent_options;
  using bootstrap = bootstrap_options;
  using pod = pod_options;
  using status = status_options;
  using manifest = manifest_options;
  using install = install_options;
  static const std::vector<subcommand> table = {
    {"agent",
     "the coordinator, in the agent container: hands out the job\n"
     "environment, orders the containers, writes the job log",
     main_of<agent, agent_line, agent_help, run_agent>,
     options_of<agent, agent_line>},
    {"bootstrap",
     "in each checkout and command container: registers, waits its\n"
     "turn, runs the command and streams its output",
     main_of<bootstrap, bootstrap_line, bootstrap_help, run_bootstrap>,
     options_of<bootstrap, bootstrap_line>},
    {"pod",
     "runs a whole pod from a JSON spec on this machine, without\n"
     "Kubernetes",
     main_of<pod, pod_line, pod_help, run_pod>, options_of<pod, pod_line>},
    {"status", "shows each container's state, exit status and log bytes",
     main_of<status, status_line, status_help, run_status>,
     options_of<status, status_line>},
    {"manifest", "renders a pod spec as a Kubernetes Pod manifest",
     main_of<manifest, manifest_line, manifest_help, run_manifest>,
     options_of<manifest, manifest_line>},
    {"install", "copies the bundle this baton runs from into a directory",
     main_of<install, install_line, install_help, run_install>,
     options_of<install, install_line>},
    {"version", "prints the version", print_version, no_options},
  };
  return table;
}

std::string main_help() {
  std::string out = "Usage: baton <command> [OPTIONS]\n\n"
                    "baton coordinates the containers of one CI job running "
                    "as a Kubernetes pod.\n\n"
                    "Commands:\n";
  for (auto& cmd : subcommands()) {
    std::string left = std::string{"  "} + cmd.name;
    left.resize(14, ' ');
    // Continuation lines of the summary line up under its first.
    std::string summary = cmd.summary;
    for (auto i = summary.find('\n'); i != std::string::npos;
         i = summary.find('\n', i + 15))
      summary.insert(i + 1, std::string(14, ' '));
    out += left + summary + "\n";
  }
  out += "\nRun 'baton <command> --help' for the options of a command.\n";
  return out;
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
    agent_line().options);
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
    "failure or an interrupt),\nBATON_TIMEOUT (a duration); for a service, "
    "BATON_SERVICE (true: runs beside the\nsteps until they are done), "
    "BATON_READY (tcp:[HOST:]PORT, or a command that exits\n0 once ready), "
    "BATON_READY_TIMEOUT (a duration (default 60s)) and\nBATON_SERVICE_LOG "
    "(job: a service's output goes into the job log too); for a\nparallel "
    "group, BATON_GROUP (a name: consecutive steps of one group run at\n"
    "once) and BATON_GROUP_FAIL_FAST (true: a failure cancels the group's "
    "running\nsteps). The command gets BATON_ENV (a file whose KEY=VALUE "
    "lines later steps\nreceive), BATON_JOB_RESULT and BATON_JOB_STATUS. "
    "Exits 1 if the command never ran\nor was skipped, 2 if the settings are "
    "invalid; a service the job stopped exits 0.",
    bootstrap_line().options);
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
    "\"always\": false, \"timeout\": \"10m\"}, ...]}\nA service: "
    "{\"service\": true, \"ready\": \"tcp:5432\", \"readyTimeout\": "
    "\"60s\", \"log\": \"job\"}.\nBy default only the "
    "job log and warnings show; --verbose shows the nodes' info lines.",
    pod_line().options);
}

std::string status_help() {
  return help_text("baton status [OPTIONS]",
                   "Asks the agent for the job's status: each container's "
                   "role, state,\nprotocol, exit status and bytes logged so "
                   "far.",
                   status_line().options);
}

std::string install_help() {
  return help_text(
    "baton install DIR [OPTIONS]",
    "Copies the bundle (bin/baton, its libraries and loader) into DIR/baton, "
    "as the\ninit container of a pod does: DIR is the pod's shared volume. "
    "Needs no shell and\nno libc in the image: run it through the bundle's "
    "loader,\n  /baton/lib/ld-linux-x86-64.so.2 /baton/bin/baton install "
    "/workspace\nAn existing DIR/baton is replaced whole.",
    install_line().options);
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
    "and\nBATON_TIMEOUT, a service's service, ready, readyTimeout and log "
    "its\nBATON_SERVICE, BATON_READY, BATON_READY_TIMEOUT and "
    "BATON_SERVICE_LOG (the agent\ngets the services' ids as BATON_SERVICES), "
    "a step's group and failFast its\nBATON_GROUP and BATON_GROUP_FAIL_FAST; "
    "the spec's timestampLines the agent's\nBUILDKITE_TIMESTAMP_LINES, its "
    "timeout the activeDeadlineSeconds. --kind job\nrenders a batch/v1 Job "
    "around the pod.",
    manifest_line().options);
}

} // namespace baton
