// JavaScript plugins on SpiderMonkey (issue #4, seeds/003's authoring API): a
// plugin is a CommonJS file that exports `definePlugin({...})`; subscriptions come
// from the handlers present. Each plugin runs in its own realm on an engine thread
// (js_engine.h), under a deadline and a memory budget.
#pragma once

#include <cstddef>
#include <memory>

#include "runtime/runtime.h"
#include "runtime/spidermonkey/js_engine.h"

namespace outlet {

struct JsRuntimeOptions {
  // The most memory one plugin may hold (GC heap and malloc'd memory); a
  // manifest may ask for less.
  size_t max_memory_bytes = size_t{128} << 20;
  // How long the plugin's top-level code (its modules) may run while it loads.
  uint32_t load_timeout_ms = 1000;
  size_t max_source_bytes = size_t{4} << 20;  // one module file
  size_t max_modules = 256;                   // files one plugin may require
};

class JsRuntime : public Runtime {
 public:
  // `engines` is shared with the host's wasm runtime; null: an engine of its own.
  explicit JsRuntime(JsRuntimeOptions options = {},
                     std::shared_ptr<js::EngineProvider> engines = nullptr)
      : options_(options),
        engines_(engines ? std::move(engines) : std::make_shared<js::EngineProvider>()) {}
  RuntimeKind kind() const override { return RuntimeKind::kJs; }
  Result<std::unique_ptr<PluginInstance>> instantiate(const InstanceSpec& spec) override;

 private:
  JsRuntimeOptions options_;
  std::shared_ptr<js::EngineProvider> engines_;
};

}  // namespace outlet
