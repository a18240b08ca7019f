// The Lua runtime's figures (issue #3), each beside a baseline in the same run:
// a Lua filter call through the Host against the same Lua function called with
// the plain Lua C API; a chain of Lua filters against native ones; a guest -> host
// call (outlet.kv.get) against a native plugin's; loading 1,000 Lua plugins.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <filesystem>
#include <lua.hpp>

#include "bench_support.h"

namespace outlet {
namespace {

using bench::add_native;
using bench::add_native_filter;
using bench::bench_dir;
using bench::chat_message;
using bench::heap_in_use;
using bench::make_host;

// The same work in every Lua filter: look at the body, pass.
constexpr const char* kLuaFilter =
    "return { filter_chat_message = function(m) local b = m.body; return nil end }";

std::string write_lua_plugin(const std::string& id, const std::string& code,
                             const Json& permissions = Json::array()) {
  return bench::write_plugin(id, "lua", "plugin.lua", code, permissions);
}

void add_lua(Host& host, const std::string& id, const std::string& code,
             const Json& permissions = Json::array()) {
  bench::add_folder(host, id, write_lua_plugin(id, code, permissions));
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
  bench::add_native_kv_reader(*host, "native-kv");
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

// --- Starting a host with 1,000 enabled Lua plugins: time and memory per plugin ---

constexpr int kManyPlugins = 1000;

// Registers the 1,000 plugin folders with `host` (without enabling them).
void add_many_plugins(Host& host) {
  for (int i = 0; i < kManyPlugins; ++i) {
    std::string id = "many-" + std::to_string(i);
    (void)host.add_plugin(
        read_plugin_folder((bench_dir() / id).string(), host.vocabulary()).value());
  }
}

// A data directory in which 1,000 Lua plugins are approved and enabled, made once.
std::string many_plugins_data_dir() {
  static std::string dir = [] {
    for (int i = 0; i < kManyPlugins; ++i)
      write_lua_plugin("many-" + std::to_string(i), kLuaFilter);
    std::string data = (bench_dir() / "many-data").string();
    auto host = make_host(data);
    add_many_plugins(*host);
    for (int i = 0; i < kManyPlugins; ++i) {
      std::string id = "many-" + std::to_string(i);
      (void)host->approve(id);
      (void)host->enable(id);
    }
    return data;
  }();
  return dir;
}

// What a restart costs: every enabled plugin instantiated by one start().
void BM_Host_Start1000LuaPlugins(benchmark::State& state) {
  std::string data = many_plugins_data_dir();
  double heap_per_plugin = 0, lua_per_plugin = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto host = make_host(data);
    add_many_plugins(*host);
    size_t before = heap_in_use();
    state.ResumeTiming();
    (void)host->start();
    state.PauseTiming();
    heap_per_plugin = static_cast<double>(heap_in_use() - before) / kManyPlugins;
    lua_per_plugin = 0;
    for (const PluginStatus& status : host->statuses()) {
      if (status.state != PluginState::kLoaded) {
        std::fprintf(stderr, "%s did not load: %s\n", status.id.c_str(), status.reason.c_str());
        std::abort();
      }
      lua_per_plugin += static_cast<double>(status.stats->memory_bytes);
    }
    lua_per_plugin /= kManyPlugins;
    host.reset();
    state.ResumeTiming();
  }
  state.counters["lua_state_bytes_per_plugin"] = lua_per_plugin;
  state.counters["heap_bytes_per_plugin"] = heap_per_plugin;
  state.SetItemsProcessed(state.iterations() * kManyPlugins);
}
BENCHMARK(BM_Host_Start1000LuaPlugins)->Unit(benchmark::kMillisecond)->Iterations(3);

// What an operator's enable costs when 1,000 plugins are registered: the host
// re-resolves dependencies and load order over all of them.
void BM_Host_EnableOneOf1000(benchmark::State& state) {
  auto host = make_host(many_plugins_data_dir());
  add_many_plugins(*host);
  (void)host->start();
  for (auto _ : state) {
    (void)host->disable("many-0");
    (void)host->enable("many-0");
  }
  state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(BM_Host_EnableOneOf1000)->Unit(benchmark::kMillisecond);

// --- How far past its deadline a runaway call returns ---
//
// Each case is a request handler with a 20 ms limit doing something that never
// finishes in time; the figure is the time from the deadline to the host having
// its error back (the issue asks for "a few milliseconds" at most).

struct RunawayCase {
  const char* name;
  const char* code;  // the handler's body
};

constexpr RunawayCase kRunaways[] = {
    {"loop", "while true do end"},
    {"pcall_loop", "while true do pcall(function() while true do end end) end"},
    {"pattern", "string.find(string.rep('a', 60), string.rep('a*', 60) .. 'b')"},
    {"gsub_big", "local s = string.rep('ab', 4e6) for i = 1, 100 do s:gsub('a', 'cc') end"},
    {"rep_big", "for i = 1, 100 do local s = string.rep('x', 3e7) end"},
    {"upper_big", "local s = string.rep('x', 2e7) for i = 1, 100 do s:upper() end"},
    {"sort_big", "local t = {} for i = 1, 1e6 do t[i] = -i end table.sort(t)"},
    {"concat_big",
     "local t = {} for i = 1, 1e6 do t[i] = 'abc' end for i = 1, 100 do table.concat(t) end"},
    {"utf8_len_big", "local s = string.rep('\\u{e9}', 1e7) for i = 1, 100 do utf8.len(s) end"},
    {"move_huge", "table.move({}, 1, 1e12, 1)"},
    {"concat_op_loop", "local s = string.rep('x', 3e7) while true do local t = s .. 'y' end"},
    {"sub_loop", "local s = string.rep('x', 3e7) while true do local t = s:sub(2) end"},
    {"format_q",
     "local s = string.rep('\\0', 250000) for i = 1, 1000 do string.format('%q', s) end"},
};

void BM_Host_LuaRunawayOverrun(benchmark::State& state) {
  const RunawayCase& runaway = kRunaways[state.range(0)];
  state.SetLabel(runaway.name);
  auto host = make_host();
  std::string id = std::string("runaway-") + runaway.name;
  std::replace(id.begin(), id.end(), '_', '-');  // plugin ids have no underscores
  std::string folder = bench::write_plugin(
      id, "lua", "plugin.lua",
      std::string("return { on_chat_trigger = function() ") + runaway.code + " end }",
      Json::array(), {{"limits", {{"timeoutMs", {{"request", 20}}}}}});
  auto plugin = read_plugin_folder(folder, host->vocabulary());
  if (!plugin.ok() || !host->add_plugin(*plugin).ok() || !host->enable(id).ok()) {
    state.SkipWithError("the runaway plugin did not load");
    return;
  }
  double worst = 0, total = 0;
  int64_t runs = 0;
  for (auto _ : state) {
    auto start = std::chrono::steady_clock::now();
    auto answer = host->request(id, "chat.trigger", Json::object());
    double overrun =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count() -
        20.0;
    if (answer.ok()) {
      state.SkipWithError("the runaway finished in time: not a runaway");
      break;
    }
    worst = std::max(worst, overrun);
    total += overrun;
    ++runs;
    (void)host->enable(id);  // strikes would disable it after five
  }
  state.counters["overrun_ms_mean"] = runs ? total / static_cast<double>(runs) : 0;
  state.counters["overrun_ms_worst"] = worst;
}
BENCHMARK(BM_Host_LuaRunawayOverrun)
    ->DenseRange(0, std::size(kRunaways) - 1)
    ->Iterations(4)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace outlet
