// Lua 5.4 plugins (DESIGN.md: one lua_State per plugin instance, the sandbox
// policy as data in sandbox_policy.cpp). A plugin file returns a table of
// handlers; subscriptions come from which handlers exist.
#pragma once

#include <cstddef>

#include "runtime/runtime.h"

namespace outlet {

struct LuaRuntimeOptions {
  // The most memory one plugin's state may hold; a manifest may ask for less.
  size_t max_memory_bytes = size_t{64} << 20;
  // How long the plugin file's top-level code may run while it loads.
  uint32_t load_timeout_ms = 1000;
  // The largest plugin source file.
  size_t max_source_bytes = size_t{4} << 20;
};

class LuaRuntime : public Runtime {
 public:
  explicit LuaRuntime(LuaRuntimeOptions options = {}) : options_(options) {}
  RuntimeKind kind() const override { return RuntimeKind::kLua; }
  Result<std::unique_ptr<PluginInstance>> instantiate(const InstanceSpec& spec) override;

 private:
  LuaRuntimeOptions options_;
};

}  // namespace outlet
