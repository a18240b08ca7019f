// JavaScript plugins on SpiderMonkey (issue #4, seeds/003's authoring API): a
// plugin is a CommonJS file that exports `definePlugin({...})`; subscriptions come
// from the handlers present. Each plugin runs in its own realm on an engine thread
// (js_engine.h), under a deadline and a memory budget.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>

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
  js::EngineOptions engine;
};

class JsRuntime : public Runtime {
 public:
  explicit JsRuntime(JsRuntimeOptions options = {}) : options_(options) {}
  RuntimeKind kind() const override { return RuntimeKind::kJs; }
  Result<std::unique_ptr<PluginInstance>> instantiate(const InstanceSpec& spec) override;

 private:
  // Engine threads start with the first JS plugin, not with the host.
  std::shared_ptr<js::Engine> engine();

  JsRuntimeOptions options_;
  std::mutex mutex_;
  std::shared_ptr<js::Engine> engine_;
};

}  // namespace outlet
