// baton: one binary, a subcommand per node of the pod.

#include "apps/cli.hpp"
#include "job/environment.hpp"

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  using namespace baton;
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "-h" || args[0] == "--help"
      || args[0] == "help") {
    std::cout << main_help();
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version")
    args[0] = "version";
  auto& table = subcommands();
  auto command = std::find_if(table.begin(), table.end(),
                              [&](auto& x) { return args[0] == x.name; });
  if (command == table.end()) {
    std::cerr << "baton: unknown command '" << args[0]
              << "' (see baton --help)\n";
    return 2;
  }
  args.erase(args.begin());
  return command->main(args, own_environment());
}
