// outlet call <plugin-dir|file.wasm|file.js> <export-or-handler>: runs one
// function of one plugin and prints what it answered, as the Extism CLI's `call`
// does; for debugging a plugin, or running any Extism plugin directly.
#include <stdlib.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli_host.h"
#include "commands.h"
#include "core/json_text.h"
#include "core/text.h"
#include "runtime/handler_derivation.h"

namespace outlet::cli {
namespace {

namespace fs = std::filesystem;

// A folder for a bare file's manifest, removed when the command ends.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (fs::temp_directory_path() / "outlet-call-XXXXXX").string();
    if (mkdtemp(pattern.data()) != nullptr)
      path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    if (!path_.empty())
      fs::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct CallRequest {
  std::string target;
  std::string function;
  std::string input;  // TEXT, or @FILE
  std::vector<std::string> config;
  bool wasi = false;
};

// A bare .wasm or .js file becomes a plugin folder of its own: its manifest
// grants logging and its config (Extism's config: strings), nothing else.
Result<std::string> wrap_file(const fs::path& file, const fs::path& folder) {
  std::string extension = file.extension().string();
  if (extension != ".wasm" && extension != ".js") {
    return Error(
        ErrorCode::kInvalidArgument,
        "outlet call: " + file.string() + " is not a plugin folder, a .wasm module or a .js file");
  }
  std::string id;
  for (char c : file.stem().string()) {
    char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    id += std::isalnum(static_cast<unsigned char>(lower)) ? lower : '-';
  }
  while (id.size() < 3)
    id += "-x";
  id = "call-" + id;
  std::error_code error;
  fs::copy_file(file, folder / ("plugin" + extension), fs::copy_options::overwrite_existing, error);
  if (error)
    return Error(ErrorCode::kNotFound,
                 "outlet call: cannot read " + file.string() + ": " + error.message());
  Json manifest = {
      {"id", id},
      {"name", file.filename().string()},
      {"version", "0.0.0"},
      {"kind", "bot-module"},
      {"runtime", extension == ".wasm" ? "wasm" : "js"},
      {"entrypoint", "plugin" + extension},
      {"permissions", {"log", "config.read"}},
      {"config", {{"type", "object"}, {"additionalProperties", {{"type", "string"}}}}}};
  std::ofstream(folder / "plugin.json") << manifest.dump(2);
  return id;
}

// "--config k=v": the value as JSON when it is JSON (a plugin folder's schema may
// want a number), else as text; a bare file's config holds only text.
Result<Json> parse_config(const std::vector<std::string>& pairs, bool text_only) {
  Json config = Json::object();
  for (const std::string& pair : pairs) {
    size_t equals = pair.find('=');
    if (equals == std::string::npos || equals == 0) {
      return Error(ErrorCode::kInvalidArgument,
                   "--config " + pair + ": expected KEY=VALUE (e.g. --config greeting=hi)");
    }
    std::string key = pair.substr(0, equals), value = pair.substr(equals + 1);
    auto parsed = parse_json_text(value, "--config " + key);
    config[key] = (!text_only && parsed.ok()) ? std::move(parsed).value() : Json(value);
  }
  return config;
}

// A handler named as the plugin's SDK spells it (on_chat_message,
// filterChatMessage) or as KIND:EVENT (request:chat.trigger).
std::optional<std::pair<HookKind, std::string>> resolve_handler(Host& host,
                                                                const std::string& name) {
  if (size_t colon = name.find(':'); colon != std::string::npos) {
    auto kind = parse_hook_kind(name.substr(0, colon));
    if (!kind)
      return std::nullopt;
    return std::pair{*kind, name.substr(colon + 1)};
  }
  for (const auto& event : host.events()) {
    for (HandlerSpelling spelling : {HandlerSpelling::kSnakeCase, HandlerSpelling::kCamelCase}) {
      std::string typed = spelled_handler_name(*event, spelling);
      bool snake = spelling == HandlerSpelling::kSnakeCase;
      if (name == (snake ? "filter_" : "filter") + typed && event->kinds.count(HookKind::kFilter))
        return std::pair{HookKind::kFilter, event->name};
      if (name == (snake ? "on_" : "on") + typed) {
        if (auto kind = primary_handler_kind(*event))
          return std::pair{*kind, event->name};
      }
    }
  }
  return std::nullopt;
}

int fail(const Error& error) {
  print_error(error);
  return 1;
}

int call(const CallRequest& request) {
  std::string input = request.input;
  if (!input.empty() && input[0] == '@') {
    auto bytes = read_file_capped(input.substr(1), size_t{64} << 20);
    if (!bytes.ok())
      return fail(bytes.error());
    input = std::move(bytes).value();
  }
  fs::path target(request.target);
  bool folder = fs::is_directory(target);
  ScratchDir scratch;
  std::string plugin_dir = target.string();
  if (!folder) {
    auto id = wrap_file(target, scratch.path());
    if (!id.ok())
      return fail(id.error());
    plugin_dir = scratch.path().string();
  }
  auto config = parse_config(request.config, !folder);
  if (!config.ok())
    return fail(config.error());

  HostOptions options;
  // A plugin folder gets what a host gives it; a bare file gets WASI only when
  // asked (the Extism CLI's rule).
  options.wasm_wasi = folder || request.wasi;
  auto chat_host = make_chat_host(options);
  if (!chat_host.ok())
    return fail(chat_host.error());
  Host& host = *chat_host->host;
  auto plugin = read_plugin_folder(plugin_dir, host.vocabulary());
  if (!plugin.ok())
    return fail(plugin.error());
  const std::string id = plugin->parsed.manifest.id;
  const RuntimeKind runtime = plugin->parsed.manifest.runtime;
  if (Status s = host.add_plugin(*plugin); !s.ok())
    return fail(s.error());
  if (Status s = host.approve(id); !s.ok())
    return fail(s.error());
  if (!config->empty()) {
    if (Status s = host.set_config(id, *config); !s.ok())
      return fail(s.error());
  }
  if (Status s = host.enable(id); !s.ok())
    return fail(s.error());
  if (auto status = host.status(id); status->state != PluginState::kLoaded) {
    std::fprintf(stderr, "error: %s did not load: %s\n", id.c_str(), status->reason.c_str());
    return 1;
  }

  // A wasm plugin's exports are called as they are: raw bytes in and out.
  if (runtime == RuntimeKind::kWasm && request.function.find(':') == std::string::npos) {
    auto output = host.call_export(id, request.function, input);
    if (!output.ok())
      return fail(output.error());
    std::fwrite(output->data(), 1, output->size(), stdout);
    if (isatty(STDOUT_FILENO) && (output->empty() || output->back() != '\n'))
      std::fputc('\n', stdout);
    return 0;
  }
  auto handler = resolve_handler(host, request.function);
  if (!handler) {
    return fail(Error(ErrorCode::kNotFound,
                      "no handler named \"" + request.function +
                          "\" (name it as the SDK does, e.g. onChatMessage / on_chat_message, "
                          "or as KIND:EVENT, e.g. request:chat.trigger)"));
  }
  Json payload;
  if (!input.empty()) {
    auto parsed = parse_json_text(input, "--input");
    if (!parsed.ok())
      return fail(parsed.error());
    payload = std::move(parsed).value();
  }
  const auto& [kind, event] = *handler;
  size_t warnings_before = host.status(id)->warnings.size();
  Json answer;
  switch (kind) {
    case HookKind::kRequest: {
      auto result = host.request(id, event, payload);
      if (!result.ok())
        return fail(result.error());
      answer = *result;
      break;
    }
    case HookKind::kFilter: {
      FilterOutcome outcome = host.filter(event, payload);
      answer = outcome.dropped ? Json{{"action", "drop"}, {"reason", outcome.reason}}
                               : Json{{"action", outcome.payload == payload ? "pass" : "modify"},
                                      {"payload", outcome.payload}};
      break;
    }
    case HookKind::kNotify:
      host.notify(event, payload);
      host.wait_idle();
      break;
    case HookKind::kCollect:
      for (const Contribution& contribution : host.collect(event, payload))
        answer = contribution.value;
      break;
    case HookKind::kDispatch:
      answer = host.dispatch(event, payload).merged;
      break;
  }
  // A filter or notification that failed did so quietly (fail open): say so.
  std::optional<PluginStatus> status = host.status(id);
  if (status->warnings.size() > warnings_before || (status->stats && status->stats->strikes > 0)) {
    for (const Warning& warning : status->warnings)
      std::fprintf(stderr, "warning: %s\n", warning.message.c_str());
    if (status->stats && status->stats->strikes > 0)
      return 1;
  }
  if (!answer.is_null())
    std::printf("%s\n", dump_json(answer, 2).c_str());
  return 0;
}

}  // namespace

void add_call_command(CLI::App& app, int& exit_code) {
  auto* command = app.add_subcommand(
      "call",
      "Call one function of a plugin and print its answer: a wasm export (raw bytes in and out, "
      "as the Extism CLI does) or a handler by its SDK name or as KIND:EVENT (JSON in and out)");
  auto request = std::make_shared<CallRequest>();
  command->add_option("plugin", request->target, "A plugin folder, a .wasm module or a .js file")
      ->required();
  command
      ->add_option("function", request->function,
                   "A wasm export (count_vowels), a handler (onChatMessage, filter_chat_message) "
                   "or KIND:EVENT (request:chat.trigger)")
      ->required();
  command->add_option("--input,-i", request->input, "The input: TEXT, or @FILE to read a file");
  command->add_option("--config", request->config,
                      "KEY=VALUE for the plugin's config (repeatable; JSON values for a plugin "
                      "folder, text for a bare file)");
  command->add_flag("--wasi", request->wasi,
                    "Give a bare .wasm file WASI (without files, sockets or environment); plugin "
                    "folders always have it");
  command->callback([&exit_code, request] { exit_code = call(*request); });
}

}  // namespace outlet::cli
