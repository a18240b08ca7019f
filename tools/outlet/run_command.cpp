// outlet run <plugins-dir> [--events FILE]: loads a plugins directory and pushes
// JSON-lines events through it, printing what each plugin did.
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "cli_host.h"
#include "commands.h"
#include "core/json_text.h"
#include "event_pump.h"

namespace outlet::cli {
namespace {

struct RunOptions {
  std::string plugins_dir;
  std::string events = "-";
  std::string data_dir;
  std::vector<std::string> configs;  // "ID=FILE"
  std::string secrets_file;
  bool enable_all = false;
  bool json = false;
  bool watch = false;
};

Result<Json> read_json_file(const std::string& path) {
  auto text = read_file_capped(path, 1 << 20);
  if (!text.ok())
    return text.error();
  return parse_json_text(*text, path);
}

// Config files (validated against each plugin's schema; nothing is stored on
// error) and a secrets file {"plugin-id": {"name": "value"}}.
Status apply_operator_files(Host& host, const RunOptions& o) {
  for (const std::string& entry : o.configs) {
    size_t equals = entry.find('=');
    if (equals == std::string::npos || equals == 0) {
      return Error(ErrorCode::kInvalidArgument,
                   "--config \"" + entry + "\": expected PLUGIN-ID=FILE.json");
    }
    std::string id = entry.substr(0, equals);
    auto config = read_json_file(entry.substr(equals + 1));
    if (!config.ok())
      return config.error();
    if (Status s = host.set_config(id, *config); !s.ok())
      return s;
  }
  if (o.secrets_file.empty())
    return {};
  auto secrets = read_json_file(o.secrets_file);
  if (!secrets.ok())
    return secrets.error();
  if (!secrets->is_object()) {
    return Error(ErrorCode::kInvalidArgument, o.secrets_file + " is invalid",
                 {{"", "must be {\"plugin-id\": {\"name\": \"value\"}}"}});
  }
  for (const auto& [id, names] : secrets->items()) {
    if (!names.is_object()) {
      return Error(ErrorCode::kInvalidArgument, o.secrets_file + " is invalid",
                   {{id, "must be an object of name: string value"}});
    }
    for (const auto& [name, value] : names.items()) {
      if (!value.is_string()) {
        // The value itself is never echoed: it is a secret.
        return Error(ErrorCode::kInvalidArgument, o.secrets_file + " is invalid",
                     {{id + "." + name, "must be a string"}});
      }
      if (Status s = host.set_secret(id, name, value.get<std::string>()); !s.ok())
        return s;
    }
  }
  return {};
}

int run(const RunOptions& o) {
  HostOptions host_options;
  host_options.data_dir = o.data_dir;
  auto chat_host = make_chat_host(host_options);
  if (!chat_host.ok()) {
    print_error(chat_host.error());
    return 2;
  }
  Host& host = *chat_host->host;
  auto report = host.discover(o.plugins_dir);
  if (!report.ok()) {
    print_error(report.error());
    return 2;
  }
  for (const DiscoveryProblem& problem : report->problems) {
    print_error(problem.error, problem.folder + ": ");
  }
  if (Status s = apply_operator_files(host, o); !s.ok()) {
    print_error(s.error());
    return 2;
  }
  if (o.enable_all)
    (void)approve_and_enable_all(host, *report);
  if (Status s = host.start(); !s.ok())
    print_error(s.error());
  if (o.watch) {
    // Edit a plugin while events stream in: it reloads when its files change.
    if (Status s = host.watch_plugin_files(); !s.ok())
      print_error(s.error());
  }
  for (const PluginStatus& status : host.statuses()) {
    if (status.state != PluginState::kLoaded) {
      std::fprintf(stderr, "%s: %s%s\n", status.id.c_str(),
                   std::string(plugin_state_name(status.state)).c_str(),
                   status.reason.empty() ? (status.enabled ? "" : " (not enabled; --enable-all)")
                                         : (": " + status.reason).c_str());
    }
  }
  std::ifstream file;
  if (o.events != "-") {
    file.open(o.events);
    if (!file) {
      std::fprintf(stderr, "error: cannot read events file %s\n", o.events.c_str());
      return 2;
    }
  }
  std::istream& in = o.events == "-" ? std::cin : file;
  EventPump pump(*chat_host, o.json, !o.json && isatty(STDOUT_FILENO));
  std::string line;
  size_t number = 0, bad = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    auto event = parse_json_text(line, "line " + std::to_string(number));
    if (!event.ok()) {
      std::fprintf(stderr, "line %zu: not valid JSON: %s\n", number,
                   event.error().details()[0].rule.c_str());
      ++bad;
      continue;
    }
    if (!pump.process(*event, number))
      ++bad;
  }
  host.wait_idle();
  return bad == 0 ? 0 : 1;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand(
      "run",
      "Load a plugins directory and push events (JSON lines: {\"event\", \"payload\"}) through it");
  auto o = std::make_shared<RunOptions>();
  command->add_option("plugins-dir", o->plugins_dir, "A plugins directory")->required();
  command->add_option("--events", o->events,
                      "A JSON-lines file of events, or - for stdin (default)");
  command->add_option("--data-dir", o->data_dir,
                      "Keep grants, enabled set, config and KV here (SQLite); default: in memory");
  command->add_option("--config", o->configs,
                      "PLUGIN-ID=FILE.json: the plugin's config, validated against its schema "
                      "(repeatable)");
  command->add_option("--secrets", o->secrets_file,
                      "A JSON file {\"plugin-id\": {\"name\": \"value\"}} of secrets for "
                      "secrets.get (never printed)");
  command->add_flag("--enable-all", o->enable_all,
                    "Approve every plugin's declared permissions and enable it");
  command->add_flag("--json", o->json, "Print one JSON object per event");
  command->add_flag("--watch", o->watch,
                    "Reload a plugin when its files change (a failed reload keeps the running "
                    "version and prints why)");
  command->callback([&exit_code, o] { exit_code = run(*o); });
}

}  // namespace outlet::cli
