// outlet demo: a simulated chat stream through the example plugins. Every message
// is shown passing, modified or dropped, with which plugin did what; state lives in
// SQLite in a data directory, read back at the end.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "cli_host.h"
#include "commands.h"
#include "core/text.h"
#include "event_pump.h"

namespace outlet::cli {
namespace {

Json message(const std::string& user, const std::string& name, const std::string& body,
             const std::string& role = "viewer") {
  return {{"event", "chat.message.received"},
          {"payload",
           {{"user", {{"id", user}, {"displayName", name}, {"roles", {role}}}}, {"body", body}}}};
}

Json user_event(const std::string& event, const std::string& user, const std::string& name) {
  return {{"event", event}, {"payload", {{"user", {{"id", user}, {"displayName", name}}}}}};
}

std::vector<Json> simulated_stream() {
  std::vector<Json> stream = {
      {{"event", "stream.started"}, {"payload", {{"title", "Outlet launch stream"}}}},
      user_event("chat.user.joined", "u-alice", "alice"),
      user_event("chat.user.joined", "u-bob", "bob"),
      message("u-alice", "alice", "hi everyone!"),
      message("u-bob", "bob", "darn, I missed the start"),
      message("u-alice", "alice", "!echo welcome bob"),
      user_event("chat.user.joined", "u-spam", "spammer"),
      message("u-spam", "spammer", "FREE followers at https://scam.xyz/now"),
      message("u-mod", "mod", "rules are at https://example.com/rules", "moderator"),
      message("u-bob", "bob", "what the heck is a plugin host"),
      message("u-alice", "alice", "!announce giveaway in 5 minutes", "broadcaster"),
      message("u-alice", "alice", "!count"),
      user_event("chat.user.parted", "u-spam", "spammer"),
      {{"event", "stream.stopped"}, {"payload", Json::object()}},
  };
  // Chat messages get ids in stream order, as a chat service would assign them.
  int next_id = 0;
  for (Json& event : stream) {
    if (event["event"] == "chat.message.received") {
      event["payload"]["id"] = "m" + std::to_string(++next_id);
    }
  }
  return stream;
}

int demo(std::string data_dir, bool json) {
  bool temporary = data_dir.empty();
  if (temporary) {
    std::string pattern = (std::filesystem::temp_directory_path() / "outlet-demo-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      return 2;
    }
    data_dir = pattern;
  }
  HostOptions options;
  options.data_dir = data_dir;
  options.log_sink = [](const std::string&, std::string_view, const std::string&) {};
  auto chat_host = make_chat_host(options);
  if (!chat_host.ok()) {
    print_error(chat_host.error());
    return 2;
  }
  Host& host = *chat_host->host;
  std::string plugins = examples_dir();
  auto report = host.discover(plugins);
  if (!report.ok()) {
    print_error(report.error());
    return 2;
  }
  for (const DiscoveryProblem& problem : report->problems) {
    print_error(problem.error, problem.folder + ": ");
  }
  bool color = !json && isatty(STDOUT_FILENO);
  if (!json) {
    std::printf("Outlet demo: %zu example plugins from %s\n", report->plugins.size(),
                plugins.c_str());
    std::printf("State (grants, config, KV) in SQLite under %s\n\n", data_dir.c_str());
  }
  int failures = approve_and_enable_all(host, *report);
  for (const PluginStatus& status : host.statuses()) {
    if (!json) {
      std::printf("  %-16s %s  [%s]\n", status.id.c_str(),
                  std::string(plugin_state_name(status.state)).c_str(),
                  [&] {
                    std::string p;
                    for (const auto& g : status.approved_permissions)
                      p += (p.empty() ? "" : ", ") + g;
                    return p;
                  }()
                      .c_str());
    }
    if (status.state != PluginState::kLoaded) {
      std::fprintf(stderr, "%s did not load: %s\n", status.id.c_str(), status.reason.c_str());
      ++failures;
    }
  }
  if (!json)
    std::printf("\n");
  EventPump pump(*chat_host, json, color);
  size_t number = 0;
  for (const Json& event : simulated_stream()) {
    if (!pump.process(event, ++number))
      ++failures;
    if (!json)
      std::printf("\n");
  }
  host.wait_idle();
  if (!json) {
    auto counts = host.kv().list(host.kv_namespace("message-counter"), "", 0);
    std::printf("message-counter's KV namespace, read back from %s/kv.sqlite3:\n",
                data_dir.c_str());
    if (counts.ok()) {
      for (const KvEntry& entry : *counts) {
        std::printf("  %-14s %s\n", entry.key.c_str(), dump_json(entry.value).c_str());
      }
    }
    std::printf("\nNext: write your own plugin (README.md, \"Five-minute tour\").\n");
  }
  chat_host->host.reset();
  if (temporary) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir, ec);
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

void add_demo_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand(
      "demo", "Run a simulated chat stream through the example plugins and show what each did");
  auto data_dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  command->add_option("--data-dir", *data_dir,
                      "Keep the demo's state here (default: a temporary directory, removed after)");
  command->add_flag("--json", *json, "Print one JSON object per event");
  command->callback([&exit_code, data_dir, json] { exit_code = demo(*data_dir, *json); });
}

}  // namespace outlet::cli
