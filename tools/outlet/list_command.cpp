// outlet list <plugins-dir> [--data-dir D]: plugins by kind, with state, grants and warnings.
#include <cstdio>

#include "cli_host.h"
#include "commands.h"

namespace outlet::cli {
namespace {

int list(const std::string& plugins_dir, const std::string& data_dir, bool json) {
  HostOptions options;
  options.data_dir = data_dir;
  auto chat_host = make_chat_host(options);
  if (!chat_host.ok()) {
    print_error(chat_host.error());
    return 2;
  }
  Host& host = *chat_host->host;
  auto report = host.discover(plugins_dir);
  if (!report.ok()) {
    print_error(report.error());
    return 2;
  }
  (void)host.start();
  if (json) {
    Json out = {{"plugins", Json::object()}, {"total", 0}, {"problems", Json::array()}};
    size_t total = 0;
    for (const auto& [group, plugins] : host.plugins_by_group()) {
      out["plugins"][group] = Json::array();
      for (const PluginMetadata& m : plugins) {
        auto status = host.status(m.id);
        out["plugins"][group].push_back({{"id", m.id},
                                         {"name", m.name},
                                         {"version", m.version},
                                         {"runtime", runtime_kind_name(m.runtime)},
                                         {"state", plugin_state_name(status->state)},
                                         {"reason", status->reason},
                                         {"enabled", status->enabled},
                                         {"missing_grants", status->missing_grants},
                                         {"warnings", status->warnings.size()}});
        ++total;
      }
    }
    out["total"] = total;
    for (const DiscoveryProblem& problem : report->problems) {
      out["problems"].push_back({{"folder", problem.folder}, {"error", problem.error.to_string()}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return report->problems.empty() ? 0 : 1;
  }
  size_t total = 0;
  for (const auto& [group, plugins] : host.plugins_by_group()) {
    std::printf("%s (%zu)\n", group.c_str(), plugins.size());
    for (const PluginMetadata& m : plugins) {
      auto status = host.status(m.id);
      std::printf("  %-24s %-8s %-7s %-10s%s\n", m.id.c_str(), m.version.c_str(),
                  std::string(runtime_kind_name(m.runtime)).c_str(),
                  std::string(plugin_state_name(status->state)).c_str(),
                  status->enabled ? " enabled" : "");
      if (!status->reason.empty())
        std::printf("      reason: %s\n", status->reason.c_str());
      if (!status->missing_grants.empty()) {
        std::string missing;
        for (const std::string& p : status->missing_grants)
          missing += (missing.empty() ? "" : ", ") + p;
        std::printf("      needs approval: %s\n", missing.c_str());
      }
      for (const Warning& w : status->warnings) {
        std::printf("      warning (%s, x%llu): %s\n", w.hook.c_str(),
                    static_cast<unsigned long long>(w.count), w.message.c_str());
      }
      ++total;
    }
  }
  std::printf("total: %zu\n", total);
  for (const DiscoveryProblem& problem : report->problems) {
    print_error(problem.error, problem.folder + ": ");
  }
  return report->problems.empty() ? 0 : 1;
}

}  // namespace

void add_list_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand(
      "list", "List the plugins of a directory by kind, with state and warnings");
  auto dir = std::make_shared<std::string>();
  auto data_dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  command->add_option("plugins-dir", *dir, "A plugins directory (one folder per plugin)")
      ->required();
  command->add_option("--data-dir", *data_dir,
                      "Where grants, enabled set and config are kept (default: none)");
  command->add_flag("--json", *json, "Print JSON (grouped by kind, with a total)");
  command->callback(
      [&exit_code, dir, data_dir, json] { exit_code = list(*dir, *data_dir, *json); });
}

}  // namespace outlet::cli
