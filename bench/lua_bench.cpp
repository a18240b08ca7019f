// The Lua runtime's figures (issue #3), each beside a baseline in the same run:
// a Lua filter call through the Host against the same Lua function called with
// the plain Lua C API; a chain of Lua filters against native ones; a guest -> host
// call (outlet.kv.get) against a native plugin's; loading 1,000 Lua plugins.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <lua.hpp>

#include "domains/chat/chat_domain.h"
#include "outlet/host.h"

namespace outlet {
namespace {

Json chat_message() {
  return Json::parse(
      R"({"id":"m1","user":{"id":"u-alice","displayName":"alice"},"body":"hello everyone, how is it going?"})");
}

// The same work in every Lua filter: look at the body, pass.
constexpr const char* kLuaFilter =
    "return { filter_chat_message = function(m) local b = m.body; return nil end }";

std::filesystem::path bench_dir() {
  static std::filesystem::path dir = [] {
    std::filesystem::path path =
        std::filesystem::temp_directory_path() / ("outlet-bench-" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    return path;
  }();
  return dir;
}

std::string write_lua_plugin(const std::string& id, const std::string& code,
                             const Json& permissions = Json::array()) {
  std::filesystem::path folder = bench_dir() / id;
  std::filesystem::create_directories(folder);
  std::ofstream(folder / "plugin.json") << Json{
      {"id", id},
      {"name", id},
      {"version", "1.0.0"},
      {"kind", "bot-module"},
      {"runtime", "lua"},
      {"entrypoint", "plugin.lua"},
      {"permissions", permissions}}.dump();
  std::ofstream(folder / "plugin.lua") << code;
  return folder.string();
}

std::unique_ptr<Host> make_host() {
  HostOptions options;
  options.log_sink = [](const std::string&, std::string_view, const std::string&) {};
  auto host = std::move(Host::create(options)).value();
  chat::ChatDomain domain;
  (void)domain.declare(*host);
  return host;
}

void add_lua(Host& host, const std::string& id, const std::string& code,
             const Json& permissions = Json::array()) {
  auto plugin = read_plugin_folder(write_lua_plugin(id, code, permissions), host.vocabulary());
  if (!plugin.ok() || !host.add_plugin(*plugin).ok() || !host.approve(id).ok() ||
      !host.enable(id).ok() || host.status(id)->state != PluginState::kLoaded) {
    std::fprintf(stderr, "cannot load %s\n", id.c_str());
    std::abort();
  }
}

void add_native_filter(Host& host, const std::string& id) {
  (void)host.register_native_plugin(id, [] {
    auto plugin = std::make_unique<NativePlugin>();
    plugin->filter("chat.message.received", [](const Json& m, PluginContext&) -> Result<Json> {
      benchmark::DoNotOptimize(m.find("body"));
      return Json();
    });
    return plugin;
  });
  (void)host.add_builtin({{"id", id},
                          {"name", id},
                          {"version", "1.0.0"},
                          {"kind", "bot-module"},
                          {"runtime", "native"},
                          {"entrypoint", "builtin.cpp"}});
  (void)host.enable(id);
}

// --- One Lua filter call, 100-byte message ---

// The plain Lua C API: the same function, the message built as a Lua table by
// hand (what any embedding must do) and called with lua_pcall.
void BM_Baseline_LuaCApi_FilterCall(benchmark::State& state) {
  lua_State* L = luaL_newstate();
  luaL_openlibs(L);
  luaL_dostring(L, "return function(m) local b = m.body; return nil end");
  int function = luaL_ref(L, LUA_REGISTRYINDEX);
  Json message = chat_message();
  for (auto _ : state) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, function);
    lua_createtable(L, 0, 3);
    const std::string& id = message["id"].get_ref<const std::string&>();
    lua_pushlstring(L, id.data(), id.size());
    lua_setfield(L, -2, "id");
    lua_createtable(L, 0, 2);
    for (const char* key : {"id", "displayName"}) {
      const std::string& value = message["user"][key].get_ref<const std::string&>();
      lua_pushlstring(L, value.data(), value.size());
      lua_setfield(L, -2, key);
    }
    lua_setfield(L, -2, "user");
    const std::string& body = message["body"].get_ref<const std::string&>();
    lua_pushlstring(L, body.data(), body.size());
    lua_setfield(L, -2, "body");
    lua_pcall(L, 1, 1, 0);
    benchmark::DoNotOptimize(lua_type(L, -1));
    lua_pop(L, 1);
  }
  lua_close(L);
}
BENCHMARK(BM_Baseline_LuaCApi_FilterCall);

void BM_Host_LuaFilterCall(benchmark::State& state) {
  auto host = make_host();
  add_lua(*host, "lua-filter", kLuaFilter);
  Json message = chat_message();
  for (auto _ : state) {
    FilterOutcome outcome = host->filter("chat.message.received", std::move(message));
    message = std::move(outcome.payload);
  }
}
BENCHMARK(BM_Host_LuaFilterCall);

// --- A chain of 10 filters: native plugins, then Lua plugins ---

void BM_Baseline_NativeFilterChain_10(benchmark::State& state) {
  auto host = make_host();
  for (int i = 0; i < 10; ++i)
    add_native_filter(*host, "native-" + std::to_string(i));
  Json message = chat_message();
  for (auto _ : state) {
    FilterOutcome outcome = host->filter("chat.message.received", std::move(message));
    message = std::move(outcome.payload);
  }
}
BENCHMARK(BM_Baseline_NativeFilterChain_10);

void BM_Host_LuaFilterChain_10(benchmark::State& state) {
  auto host = make_host();
  for (int i = 0; i < 10; ++i)
    add_lua(*host, "lua-chain-" + std::to_string(i), kLuaFilter);
  Json message = chat_message();
  for (auto _ : state) {
    FilterOutcome outcome = host->filter("chat.message.received", std::move(message));
    message = std::move(outcome.payload);
  }
}
BENCHMARK(BM_Host_LuaFilterChain_10);

// --- Guest -> host: 100 kv.get calls per request, reported per kv.get ---

void BM_Baseline_NativeKvGet(benchmark::State& state) {
  auto host = make_host();
  (void)host->register_native_plugin("native-kv", [] {
    auto plugin = std::make_unique<NativePlugin>();
    plugin->request("chat.trigger", [](const Json&, PluginContext& context) -> Result<Json> {
      for (int i = 0; i < 100; ++i)
        benchmark::DoNotOptimize(context.kv_get("k"));
      return Json();
    });
    return plugin;
  });
  (void)host->add_builtin({{"id", "native-kv"},
                           {"name", "native-kv"},
                           {"version", "1.0.0"},
                           {"kind", "bot-module"},
                           {"runtime", "native"},
                           {"entrypoint", "builtin.cpp"},
                           {"permissions", {"storage.kv"}}});
  (void)host->approve("native-kv");
  (void)host->enable("native-kv");
  (void)host->kv().set(host->kv_namespace("native-kv"), "k", "a value");
  for (auto _ : state)
    benchmark::DoNotOptimize(host->request("native-kv", "chat.trigger", Json::object()));
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_Baseline_NativeKvGet);

void BM_Host_LuaKvGet(benchmark::State& state) {
  auto host = make_host();
  add_lua(*host, "lua-kv",
          "return { on_chat_trigger = function() for i = 1, 100 do "
          "local v = outlet.kv.get('k') end end }",
          Json::array({"storage.kv"}));
  (void)host->kv().set(host->kv_namespace("lua-kv"), "k", "a value");
  for (auto _ : state)
    benchmark::DoNotOptimize(host->request("lua-kv", "chat.trigger", Json::object()));
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_Host_LuaKvGet);

// --- Loading 1,000 Lua plugins: time per plugin, and memory per idle plugin ---

size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(::sysconf(_SC_PAGESIZE));
}

void BM_Host_Load1000LuaPlugins(benchmark::State& state) {
  const int count = 1000;
  for (int i = 0; i < count; ++i)
    write_lua_plugin("many-" + std::to_string(i), kLuaFilter);
  double lua_bytes = 0, resident = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto host = make_host();
    std::vector<DiscoveredPlugin> plugins;
    for (int i = 0; i < count; ++i) {
      plugins.push_back(
          std::move(read_plugin_folder((bench_dir() / ("many-" + std::to_string(i))).string(),
                                       host->vocabulary())
                        .value()));
      (void)host->add_plugin(plugins.back());
      (void)host->approve(plugins.back().parsed.manifest.id);
    }
    size_t before = resident_bytes();
    state.ResumeTiming();
    for (int i = 0; i < count; ++i)
      (void)host->enable("many-" + std::to_string(i));
    state.PauseTiming();
    resident = static_cast<double>(resident_bytes() - before) / count;
    lua_bytes = 0;
    for (int i = 0; i < count; ++i)
      lua_bytes +=
          static_cast<double>(host->status("many-" + std::to_string(i))->stats->memory_bytes);
    lua_bytes /= count;
    host.reset();
    state.ResumeTiming();
  }
  state.counters["lua_state_bytes_per_plugin"] = lua_bytes;
  state.counters["resident_bytes_per_plugin"] = resident;
  state.SetItemsProcessed(state.iterations() * count);
}
BENCHMARK(BM_Host_Load1000LuaPlugins)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace outlet
