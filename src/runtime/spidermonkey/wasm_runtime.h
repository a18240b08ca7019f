// WebAssembly plugins on SpiderMonkey (issue #4): the Extism plugin ABI
// (docs/wasm-abi.md), so a plugin built with any Extism PDK runs unmodified.
// Each plugin gets its own realm on an engine thread (js_engine.h), its own
// instance of the kernel module (wasm_kernel/kernel.c) as `extism:host/env`, and
// its granted host functions as `extism:host/user`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/runtime.h"
#include "runtime/spidermonkey/js_engine.h"

namespace outlet {

struct WasmRuntimeOptions {
  // The most memory one plugin may hold: its own linear memory gets 3/4 of it,
  // the kernel's memory (inputs, outputs, host results) 1/4. A manifest may ask
  // for less.
  size_t max_memory_bytes = size_t{128} << 20;
  size_t max_module_bytes = size_t{64} << 20;
  // Elements one table may hold (each 8 to 16 bytes of the host's memory).
  uint64_t max_table_elements = 100'000;
  // The plugin's start function, `_initialize` and `register` share this.
  uint32_t load_timeout_ms = 1000;
  // What var_set may keep per plugin (Extism's default).
  size_t max_var_bytes = size_t{1} << 20;
  size_t max_output_bytes = size_t{16} << 20;
  // WASI preview 1 without capabilities: no files, sockets, arguments or
  // environment; stdout and stderr go to the plugin's log; clocks and random
  // work. Off, a module that imports WASI fails to load (as in Extism).
  bool wasi = true;
  // Compiled modules kept for reuse (by content), so a reload or a second
  // instance of the same file skips compilation.
  size_t compiled_module_cache_entries = 64;
};

class CompiledModuleCache;

class WasmRuntime : public Runtime {
 public:
  // `engines` is shared with the host's JS runtime; null: an engine of its own.
  explicit WasmRuntime(WasmRuntimeOptions options = {},
                       std::shared_ptr<js::EngineProvider> engines = nullptr);
  ~WasmRuntime() override;
  RuntimeKind kind() const override { return RuntimeKind::kWasm; }
  Result<std::unique_ptr<PluginInstance>> instantiate(const InstanceSpec& spec) override;

 private:
  WasmRuntimeOptions options_;
  std::shared_ptr<js::EngineProvider> engines_;
  std::shared_ptr<CompiledModuleCache> modules_;
};

}  // namespace outlet
