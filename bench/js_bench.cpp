// The JavaScript runtime's figures (issue #4), each beside a baseline in the same
// run: a JS filter call through the Host against the same function called with
// the plain SpiderMonkey API on the same thread; a chain of JS filters against
// native ones; a guest -> host call (outlet.kv.get); loading 1,000 JS plugins.
#include <benchmark/benchmark.h>
#include <js/CallAndConstruct.h>
#include <js/CompilationAndEvaluation.h>
#include <js/Initialization.h>
#include <js/PropertyAndElement.h>
#include <js/SourceText.h>
#include <jsapi.h>

#include <cstring>

#include "bench_support.h"
#include "runtime/spidermonkey/js_engine.h"

namespace outlet {
namespace {

using bench::chat_message;
using bench::make_host;

// The same work in every JS filter: look at the body, pass.
constexpr const char* kJsFilter =
    "module.exports = { filterChatMessage(m) { const b = m.body; return null; } };";

void add_js(Host& host, const std::string& id, const std::string& code,
            const Json& permissions = Json::array()) {
  bench::add_folder(host, id, bench::write_plugin(id, "js", "plugin.js", code, permissions));
}

// --- One JS filter call, 100-byte message ---

// The plain SpiderMonkey API: the same function, the message built as a JS
// object by hand (what any embedding must do) and called with JS::Call, on the
// benchmark's own thread (no hand-over to an engine thread).
void BM_Baseline_SpiderMonkey_FilterCall(benchmark::State& state) {
  static const JSClass global_class = {"global", JSCLASS_GLOBAL_FLAGS, &JS::DefaultGlobalClassOps};
  js::initialize_spidermonkey();
  JSContext* cx = JS_NewContext(JS::DefaultHeapMaxBytes);
  JS::InitSelfHostedCode(cx);
  {
    JS::RealmOptions options;
    JS::RootedObject global(
        cx, JS_NewGlobalObject(cx, &global_class, nullptr, JS::FireOnNewGlobalHook, options));
    JSAutoRealm realm(cx, global);
    JS::InitRealmStandardClasses(cx);
    const char* source = "(function (m) { const b = m.body; return null; })";
    JS::CompileOptions compile(cx);
    JS::SourceText<mozilla::Utf8Unit> text;
    (void)text.init(cx, source, std::strlen(source), JS::SourceOwnership::Borrowed);
    JS::RootedValue function(cx), result(cx);
    (void)JS::Evaluate(cx, compile, text, &function);
    Json message = chat_message();
    for (auto _ : state) {
      JS::RootedObject m(cx, JS_NewPlainObject(cx)), user(cx, JS_NewPlainObject(cx));
      auto put = [&](JS::HandleObject object, const char* name, const std::string& value) {
        JS::RootedValue v(cx, JS::StringValue(JS_NewStringCopyN(cx, value.data(), value.size())));
        (void)JS_DefineProperty(cx, object, name, v, JSPROP_ENUMERATE);
      };
      put(m, "id", message["id"].get_ref<const std::string&>());
      put(user, "id", message["user"]["id"].get_ref<const std::string&>());
      put(user, "displayName", message["user"]["displayName"].get_ref<const std::string&>());
      (void)JS_DefineProperty(cx, m, "user", user, JSPROP_ENUMERATE);
      put(m, "body", message["body"].get_ref<const std::string&>());
      JS::RootedValueArray<1> arguments(cx);
      arguments[0].setObject(*m);
      (void)JS::Call(cx, JS::UndefinedHandleValue, function, arguments, &result);
      benchmark::DoNotOptimize(result.get().asRawBits());
    }
  }
  JS_DestroyContext(cx);
}
BENCHMARK(BM_Baseline_SpiderMonkey_FilterCall);

void BM_Host_JsFilterCall(benchmark::State& state) {
  auto host = make_host();
  add_js(*host, "js-filter", kJsFilter);
  bench::run_filter_chain(*host, state);
}
BENCHMARK(BM_Host_JsFilterCall);

// --- A chain of 10 JS filters (the native chain is in lua_bench.cpp) ---

void BM_Host_JsFilterChain_10(benchmark::State& state) {
  auto host = make_host();
  for (int i = 0; i < 10; ++i)
    add_js(*host, "js-chain-" + std::to_string(i), kJsFilter);
  bench::run_filter_chain(*host, state);
}
BENCHMARK(BM_Host_JsFilterChain_10);

// --- Guest -> host: 100 kv.get calls per request, reported per kv.get ---

void BM_Host_JsKvGet(benchmark::State& state) {
  auto host = make_host();
  add_js(
      *host, "js-kv",
      "const { outlet } = require('outlet');\n"
      "module.exports = { onChatTrigger() { for (let i = 0; i < 100; i++) outlet.kv.get('k'); } };",
      Json::array({"storage.kv"}));
  (void)host->kv().set(host->kv_namespace("js-kv"), "k", "a value");
  for (auto _ : state)
    benchmark::DoNotOptimize(host->request("js-kv", "chat.trigger", Json::object()));
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_Host_JsKvGet);

// --- Loading 1,000 JS plugins: time and memory per plugin ---

void BM_Host_Load1000JsPlugins(benchmark::State& state) {
  constexpr int kPlugins = 1000;
  for (int i = 0; i < kPlugins; ++i)
    bench::write_plugin("js-many-" + std::to_string(i), "js", "plugin.js", kJsFilter);
  double heap_per_plugin = 0, engine_per_plugin = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto host = make_host();
    add_js(*host, "js-warm", kJsFilter);  // engine threads started: not a per-plugin cost
    size_t before = bench::heap_in_use();
    state.ResumeTiming();
    for (int i = 0; i < kPlugins; ++i) {
      std::string id = "js-many-" + std::to_string(i);
      bench::add_folder(*host, id, (bench::bench_dir() / id).string());
    }
    state.PauseTiming();
    heap_per_plugin = static_cast<double>(bench::heap_in_use() - before) / kPlugins;
    engine_per_plugin = 0;
    for (const PluginStatus& status : host->statuses())
      engine_per_plugin += static_cast<double>(status.stats->memory_bytes);
    engine_per_plugin /= kPlugins + 1;
    host.reset();
    state.ResumeTiming();
  }
  state.counters["realm_bytes_per_plugin"] = engine_per_plugin;
  state.counters["heap_bytes_per_plugin"] = heap_per_plugin;
  state.SetItemsProcessed(state.iterations() * kPlugins);
}
BENCHMARK(BM_Host_Load1000JsPlugins)->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace
}  // namespace outlet
