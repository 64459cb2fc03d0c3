// baton: one binary, a subcommand per node of the pod.

#include "actors/cli.hpp"
#include "actors/deploy.hpp"
#include "actors/environment.hpp"
#include "actors/nodes.hpp"
#include "messages/error.hpp"

#include <iostream>
#include <string>
#include <vector>

namespace {

template <class Options, class Parse, class Run>
int dispatch(const std::vector<std::string>& args, const std::string& help,
             Parse parse, Run run) {
  if (baton::wants_help(args)) {
    std::cout << help;
    return 0;
  }
  auto options = parse(args, baton::own_environment());
  if (!options) {
    std::cerr << "baton: " << baton::render(options.error()) << '\n';
    return 2;
  }
  return run(*options);
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help"
      || args[0] == "help") {
    std::cout << baton::main_help();
    return args.empty() ? 2 : 0;
  }
  auto command = args[0];
  args.erase(args.begin());
  if (command == "agent")
    return dispatch<baton::agent_options>(args, baton::agent_help(),
                                          baton::parse_agent_options,
                                          baton::run_agent);
  if (command == "bootstrap")
    return dispatch<baton::bootstrap_options>(args, baton::bootstrap_help(),
                                              baton::parse_bootstrap_options,
                                              baton::run_bootstrap);
  if (command == "pod")
    return dispatch<baton::pod_options>(args, baton::pod_help(),
                                        baton::parse_pod_options,
                                        baton::run_pod);
  if (command == "status")
    return dispatch<baton::status_options>(args, baton::status_help(),
                                           baton::parse_status_options,
                                           baton::run_status);
  if (command == "manifest")
    return dispatch<baton::manifest_options>(args, baton::manifest_help(),
                                             baton::parse_manifest_options,
                                             baton::run_manifest);
  if (command == "install")
    return dispatch<baton::install_options>(args, baton::install_help(),
                                            baton::parse_install_options,
                                            baton::run_install);
  if (command == "version" || command == "--version") {
    std::cout << "baton " << BATON_VERSION << '\n';
    return 0;
  }
  std::cerr << "baton: unknown command '" << command
            << "' (see baton --help)\n";
  return 2;
}
