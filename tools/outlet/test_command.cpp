// outlet test <plugin-dir>...: runs each plugin's __tests__/*.test.json scenarios.
#include <cstdio>

#include "cli_host.h"
#include "commands.h"

namespace outlet::cli {
namespace {

int test(const std::vector<std::string>& dirs, const std::string& format,
         const std::string& filter) {
  ScenarioOptions options = scenario_options();
  options.name_filter = filter;
  std::vector<TestReport> reports;
  bool failed = false;
  for (const std::string& dir : dirs) {
    auto report = run_plugin_tests(dir, options);
    if (!report.ok()) {
      TestReport broken;
      broken.plugin_dir = dir;
      broken.errors.push_back(report.error().to_string());
      reports.push_back(std::move(broken));
      failed = true;
      continue;
    }
    failed |= !report->ok();
    reports.push_back(std::move(report).value());
  }
  std::string output = format == "json"    ? format_report_json(reports)
                       : format == "junit" ? format_report_junit(reports)
                                           : format_report_human(reports);
  std::fputs(output.c_str(), stdout);
  return failed ? 1 : 0;
}

}  // namespace

void add_test_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand(
      "test",
      "Run a plugin's JSON scenario tests (__tests__/*.test.json) against the real runtime");
  auto dirs = std::make_shared<std::vector<std::string>>();
  auto format = std::make_shared<std::string>("human");
  auto filter = std::make_shared<std::string>();
  command->add_option("plugin-dir", *dirs, "Plugin folders")->required();
  command->add_option("--format", *format, "human (default), json, or junit")
      ->check(CLI::IsMember({"human", "json", "junit"}));
  command->add_option("--filter", *filter, "Run only scenarios whose name contains this text");
  command->callback(
      [&exit_code, dirs, format, filter] { exit_code = test(*dirs, *format, *filter); });
}

}  // namespace outlet::cli
