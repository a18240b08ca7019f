// What the runtime benchmarks share: a host with the chat domain, plugin folders
// written to a temporary directory, native baselines and the heap counter.
#pragma once

#include <benchmark/benchmark.h>
#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "domains/chat/chat_domain.h"
#include "outlet/host.h"

namespace outlet::bench {

// The 100-byte chat message every filter figure uses.
inline Json chat_message() {
  return Json::parse(
      R"({"id":"m1","user":{"id":"u-alice","displayName":"alice"},"body":"hello everyone, how is it going?"})");
}

inline std::filesystem::path bench_dir() {
  static std::filesystem::path dir = [] {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("outlet-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  return dir;
}

// Writes a plugin folder: plugin.json for `runtime` (with `extra` fields merged
// in) and the entrypoint `file`.
inline std::string write_plugin(const std::string& id, const std::string& runtime,
                                const std::string& file, const std::string& code,
                                const Json& permissions = Json::array(),
                                const Json& extra = Json::object()) {
  std::filesystem::path folder = bench_dir() / id;
  std::filesystem::create_directories(folder);
  Json manifest = {{"id", id},
                   {"name", id},
                   {"version", "1.0.0"},
                   {"kind", "bot-module"},
                   {"runtime", runtime},
                   {"entrypoint", file},
                   {"permissions", permissions}};
  manifest.update(extra);
  std::ofstream(folder / "plugin.json") << manifest.dump();
  std::ofstream(folder / file) << code;
  return folder.string();
}

// A host with the chat domain; with `data_dir`, settings persist there.
inline std::unique_ptr<Host> make_host(const std::string& data_dir = "") {
  HostOptions options;
  options.data_dir = data_dir;
  options.log_sink = [](const std::string&, std::string_view, const std::string&) {};
  auto host = std::move(Host::create(options)).value();
  chat::ChatDomain domain;
  (void)domain.declare(*host);
  return host;
}

// Adds, approves and enables the plugin in `folder`; aborts if it does not load.
inline void add_folder(Host& host, const std::string& id, const std::string& folder) {
  auto plugin = read_plugin_folder(folder, host.vocabulary());
  if (!plugin.ok() || !host.add_plugin(*plugin).ok() || !host.approve(id).ok() ||
      !host.enable(id).ok() || host.status(id)->state != PluginState::kLoaded) {
    std::fprintf(stderr, "cannot load %s: %s\n", id.c_str(),
                 host.status(id) ? host.status(id)->reason.c_str() : "");
    std::abort();
  }
}

// A native plugin registered and enabled as a built-in with `permissions` granted.
inline void add_native(Host& host, const std::string& id, NativePluginFactory factory,
                       const Json& permissions = Json::array()) {
  (void)host.register_native_plugin(id, std::move(factory));
  (void)host.add_builtin({{"id", id},
                          {"name", id},
                          {"version", "1.0.0"},
                          {"kind", "bot-module"},
                          {"runtime", "native"},
                          {"entrypoint", "builtin.cpp"},
                          {"permissions", permissions}});
  (void)host.approve(id);
  (void)host.enable(id);
}

// The native baseline of every filter: look at the body, pass.
inline void add_native_filter(Host& host, const std::string& id) {
  add_native(host, id, [] {
    auto plugin = std::make_unique<NativePlugin>();
    plugin->filter("chat.message.received", [](const Json& m, PluginContext&) -> Result<Json> {
      benchmark::DoNotOptimize(m.find("body"));
      return Json();
    });
    return plugin;
  });
}

// A native plugin answering chat.trigger with 100 kv.get calls.
inline void add_native_kv_reader(Host& host, const std::string& id) {
  add_native(
      host, id,
      [] {
        auto plugin = std::make_unique<NativePlugin>();
        plugin->request("chat.trigger", [](const Json&, PluginContext& context) -> Result<Json> {
          for (int i = 0; i < 100; ++i)
            benchmark::DoNotOptimize(context.kv_get("k"));
          return Json();
        });
        return plugin;
      },
      Json::array({"storage.kv"}));
}

// Runs the filter chain once per iteration, the payload passed along.
inline void run_filter_chain(Host& host, benchmark::State& state) {
  Json message = chat_message();
  for (auto _ : state) {
    FilterOutcome outcome = host.filter("chat.message.received", std::move(message));
    message = std::move(outcome.payload);
  }
}

// Heap bytes in use (malloc's own count: unlike RSS it drops when memory is freed).
inline size_t heap_in_use() {
  return mallinfo2().uordblks;
}

}  // namespace outlet::bench
