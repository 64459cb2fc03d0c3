// baton: one binary, a subcommand per node of the pod.

#include "apps/cli.hpp"
#include "job/environment.hpp"
#include "messages/error.hpp"

#include <iostream>
#include <map>
#include <string>
#include <vector>

namespace {

using args_list = std::vector<std::string>;

// A subcommand: its help, or its options parsed and run.
template <auto Help, auto Parse, auto Run>
int subcommand(const args_list& args) {
  if (baton::wants_help(args)) {
    std::cout << Help();
    return 0;
  }
  auto options = Parse(args, baton::own_environment());
  if (!options) {
    std::cerr << "baton: " << baton::render(options.error()) << '\n';
    return 2;
  }
  return Run(*options);
}

int version(const args_list&) {
  std::cout << "baton " << BATON_VERSION << '\n';
  return 0;
}

using namespace baton;

const std::map<std::string, int (*)(const args_list&)> subcommands = {
  {"agent", subcommand<agent_help, parse_agent_options, run_agent>},
  {"bootstrap",
   subcommand<bootstrap_help, parse_bootstrap_options, run_bootstrap>},
  {"pod", subcommand<pod_help, parse_pod_options, run_pod>},
  {"status", subcommand<status_help, parse_status_options, run_status>},
  {"manifest", subcommand<manifest_help, parse_manifest_options, run_manifest>},
  {"install", subcommand<install_help, parse_install_options, run_install>},
  {"version", version},
  {"--version", version},
};

} // namespace

int main(int argc, char** argv) {
  args_list args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help"
      || args[0] == "help") {
    std::cout << main_help();
    return args.empty() ? 2 : 0;
  }
  auto command = subcommands.find(args[0]);
  if (command == subcommands.end()) {
    std::cerr << "baton: unknown command '" << args[0]
              << "' (see baton --help)\n";
    return 2;
  }
  args.erase(args.begin());
  return command->second(args);
}
