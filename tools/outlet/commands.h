// The `outlet` subcommands; each registers itself on the CLI11 app and returns
// the process exit status through `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace outlet::cli {

void add_validate_command(CLI::App& app, int& exit_code);
void add_list_command(CLI::App& app, int& exit_code);
void add_test_command(CLI::App& app, int& exit_code);
void add_run_command(CLI::App& app, int& exit_code);
void add_demo_command(CLI::App& app, int& exit_code);
void add_call_command(CLI::App& app, int& exit_code);
void add_serve_command(CLI::App& app, int& exit_code);

}  // namespace outlet::cli
