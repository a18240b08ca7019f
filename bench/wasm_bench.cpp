// The WebAssembly runtime's figures (issue #4), each beside a baseline in the
// same run: a wasm filter call through the Host against the native filter and
// the JS one; reading a 100-byte and a 4 KiB input through the kernel; a
// chain of 10 wasm filters; a guest -> host call (kv.get); instantiating a
// plugin whose module is already compiled (the cache is warm).
#include <benchmark/benchmark.h>

#include <filesystem>

#include "bench_support.h"
#include "runtime/spidermonkey/wasm_runtime.h"

namespace outlet {
namespace {

namespace fs = std::filesystem;
using bench::make_host;

std::string module_path() {
  return std::string(OUTLET_WASM_MODULES_DIR) + "/bench_filter.wasm";
}

// Every instance imports kv.get (for the guest -> host figure), so each needs storage.kv.
void add_wasm(Host& host, const std::string& id) {
  std::string folder =
      bench::write_plugin(id, "wasm", "plugin.wasm", "", Json::array({"storage.kv"}));
  fs::copy_file(module_path(), fs::path(folder) / "plugin.wasm",
                fs::copy_options::overwrite_existing);
  bench::add_folder(host, id, folder);
}

// --- One filter call, 100-byte message ---

void BM_Baseline_Native_FilterCall(benchmark::State& state) {
  auto host = make_host();
  bench::add_native_filter(*host, "native-filter");
  bench::run_filter_chain(*host, state);
}
BENCHMARK(BM_Baseline_Native_FilterCall);

void BM_Host_WasmFilterCall(benchmark::State& state) {
  auto host = make_host();
  add_wasm(*host, "wasm-filter");
  bench::run_filter_chain(*host, state);
}
BENCHMARK(BM_Host_WasmFilterCall);

void BM_Host_WasmFilterChain_10(benchmark::State& state) {
  auto host = make_host();
  for (int i = 0; i < 10; ++i)
    add_wasm(*host, "wasm-chain-" + std::to_string(i));
  bench::run_filter_chain(*host, state);
}
BENCHMARK(BM_Host_WasmFilterChain_10);

// --- Reading the input through the kernel: 100 bytes against 4 KiB; the
// difference is what 4 KiB more input costs a plugin to read ---

void read_input(benchmark::State& state, const char* export_name) {
  auto host = make_host();
  add_wasm(*host, "wasm-reader");
  std::string input(static_cast<size_t>(state.range(0)), 'x');
  for (auto _ : state)
    benchmark::DoNotOptimize(host->call_export("wasm-reader", export_name, input));
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
// The same call into an export that does not read its input: the host's part.
void BM_Baseline_WasmUnreadInput(benchmark::State& state) {
  read_input(state, "noop");
}
BENCHMARK(BM_Baseline_WasmUnreadInput)->Arg(100)->Arg(4096);
void BM_Host_WasmReadInput(benchmark::State& state) {
  read_input(state, "read_input");
}
BENCHMARK(BM_Host_WasmReadInput)->Arg(100)->Arg(4096);

// --- Guest -> host: 100 kv.get calls per request, reported per kv.get ---

void BM_Host_WasmKvGet(benchmark::State& state) {
  auto host = make_host();
  add_wasm(*host, "wasm-kv");
  (void)host->kv().set(host->kv_namespace("wasm-kv"), "k", "a value");
  for (auto _ : state)
    benchmark::DoNotOptimize(host->request("wasm-kv", "chat.trigger", Json::object()));
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_Host_WasmKvGet);

// --- Instantiating a plugin whose module is compiled already: a realm, the
// kernel's instance and the plugin's, `_initialize` and the handler table ---

class KvGetOnly : public HostFunctionTable {
 public:
  const std::vector<std::string>& function_names() const override { return names_; }
  Result<Json> invoke(size_t, const Json&, const CallContext&) override { return Json(); }

 private:
  std::vector<std::string> names_{"kv.get"};
};

void BM_Runtime_WasmInstantiateWarm(benchmark::State& state) {
  std::string folder = bench::write_plugin("wasm-instantiate", "wasm", "plugin.wasm", "");
  fs::copy_file(module_path(), fs::path(folder) / "plugin.wasm",
                fs::copy_options::overwrite_existing);
  auto manifest = parse_manifest_text(
      R"({"id":"wasm-instantiate","name":"w","version":"1.0.0","kind":"bot-module",
          "runtime":"wasm","entrypoint":"plugin.wasm"})",
      ManifestVocabulary{});
  KvGetOnly functions;
  WarningLog warnings;
  InstanceSpec spec;
  spec.manifest = std::make_shared<const Manifest>(manifest->manifest);
  spec.root = folder;
  spec.entrypoint_path = folder + "/plugin.wasm";
  spec.host = &functions;
  spec.warnings = &warnings;
  WasmRuntime runtime;
  auto first = runtime.instantiate(spec);  // compiles, fills the cache, starts the engine
  if (!first.ok()) {
    state.SkipWithError(first.error().to_string().c_str());
    return;
  }
  for (auto _ : state) {
    auto instance = runtime.instantiate(spec);
    benchmark::DoNotOptimize(instance);
    state.PauseTiming();
    instance = Error(ErrorCode::kInternal, "released");
    state.ResumeTiming();
  }
}
BENCHMARK(BM_Runtime_WasmInstantiateWarm)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace outlet
