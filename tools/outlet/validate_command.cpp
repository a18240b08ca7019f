// outlet validate <plugin-dir>... [--config FILE]: every manifest and config error at once.
#include <cstdio>

#include "cli_host.h"
#include "commands.h"
#include "core/config.h"
#include "core/json_text.h"
#include "outlet/discovery.h"

namespace outlet::cli {
namespace {

int validate(const std::vector<std::string>& dirs, const std::string& config_file) {
  auto chat_host = make_chat_host({});
  if (!chat_host.ok()) {
    print_error(chat_host.error());
    return 2;
  }
  ManifestVocabulary vocabulary = chat_host->host->vocabulary();
  int failures = 0;
  for (const std::string& dir : dirs) {
    auto plugin = read_plugin_folder(dir, vocabulary);
    if (!plugin.ok()) {
      print_error(plugin.error(), dir + ": ");
      ++failures;
      continue;
    }
    const Manifest& manifest = plugin->parsed.manifest;
    bool ok = true;
    for (const ErrorDetail& warning : plugin->parsed.warnings) {
      std::fprintf(stderr, "%s: warning: %s: %s\n", dir.c_str(), warning.path.c_str(),
                   warning.rule.c_str());
    }
    if (Status added = chat_host->host->add_plugin(*plugin); !added.ok()) {
      print_error(added.error(), dir + ": ");
      ok = false;
    }
    if (!config_file.empty()) {
      auto text = read_file_capped(config_file, 1 << 20);
      auto config = text.ok() ? parse_json_text(*text, config_file) : Result<Json>(text.error());
      if (!config.ok()) {
        print_error(config.error(), dir + ": ");
        ok = false;
      } else if (auto checked = validate_config(manifest, *config); !checked.ok()) {
        print_error(checked.error(), dir + ": ");
        ok = false;
      }
    }
    if (ok) {
      std::printf("%s: ok (%s %s, %s, %s runtime)\n", dir.c_str(), manifest.id.c_str(),
                  manifest.version_text.c_str(), manifest.kind.c_str(),
                  std::string(runtime_kind_name(manifest.runtime)).c_str());
    } else {
      ++failures;
    }
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

void add_validate_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand(
      "validate",
      "Check plugin folders: manifest, kind rules, entrypoint, and optionally a config");
  auto dirs = std::make_shared<std::vector<std::string>>();
  auto config = std::make_shared<std::string>();
  command->add_option("plugin-dir", *dirs, "Plugin folders (each with plugin.json)")->required();
  command->add_option("--config", *config, "A JSON config file to validate against the schema");
  command->callback([&exit_code, dirs, config] { exit_code = validate(*dirs, *config); });
}

}  // namespace outlet::cli
