// outlet: validate, list, test, run, demo and call plugins, and serve them, from the command line.
#include <CLI/CLI.hpp>

#include "commands.h"
#include "outlet/host.h"

int main(int argc, char** argv) {
  CLI::App app{
      "Outlet: a sandboxed plugin host. Plugins react to events, filter data and call "
      "back only into the host functions an operator granted."};
  app.set_version_flag("--version", std::string("outlet ") + outlet::kOutletVersion);
  app.require_subcommand(1);
  int exit_code = 0;
  outlet::cli::add_validate_command(app, exit_code);
  outlet::cli::add_list_command(app, exit_code);
  outlet::cli::add_test_command(app, exit_code);
  outlet::cli::add_run_command(app, exit_code);
  outlet::cli::add_demo_command(app, exit_code);
  outlet::cli::add_call_command(app, exit_code);
  outlet::cli::add_serve_command(app, exit_code);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
