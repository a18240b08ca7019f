// One wasm plugin's live side, as its natives see it: the objects of its
// instance (kernel memory, the plugin's memory), what Extism keeps for a plugin
// between calls (vars, the last HTTP status), and the host it may call.
// Everything here runs on the plugin's engine thread.
#pragma once

#include <js/RootingAPI.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "dispatch/plugin_instance.h"
#include "outlet/warnings.h"
#include "runtime/spidermonkey/js_engine.h"
#include "runtime/spidermonkey/wasm_abi.h"
#include "runtime/spidermonkey/wasm_glue.h"

namespace outlet::wasm {

// The plugin's objects in its thread's wasm realm.
struct WasmRealm {
  explicit WasmRealm(JSContext* cx)
      : global(cx),
        kernel_memory(cx),
        kernel_begin_call(cx),
        kernel_alloc(cx),
        plugin_memory(cx),
        exports(cx) {}
  JS::PersistentRootedObject global;  // the thread's wasm global, shared
  JS::PersistentRootedObject kernel_memory;
  JS::PersistentRootedValue kernel_begin_call;
  JS::PersistentRootedValue kernel_alloc;
  JS::PersistentRootedObject plugin_memory;  // null when the module exports none
  JS::PersistentRootedObject exports;
};

class WasmGuest {
 public:
  WasmGuest(HostFunctionTable* host, WarningLog* warnings, js::EngineThread* thread,
            uint64_t kernel_limit, size_t max_var_bytes)
      : host_(host),
        warnings_(warnings),
        thread_(thread),
        kernel_limit_(kernel_limit),
        max_var_bytes_(max_var_bytes) {}

  std::unique_ptr<WasmRealm> realm;  // null while unloaded
  std::optional<int32_t> exit_code;  // set by proc_exit during a call

  HostFunctionTable* host() const { return host_; }
  // The hook call running now; null while the plugin loads.
  const CallContext* current_call() const;
  bool has_function(std::string_view name) const;
  void warn(const std::string& message);
  void warn_once(const std::string& key, const std::string& message);
  // A log line through the "log" permission's functions; without it warnings
  // and errors become plugin warnings and the rest is dropped (said once).
  void log(ExtismLogLevel level, const std::string& message);

  bool kernel_view(JSContext* cx, MemoryView& view);
  bool plugin_view(JSContext* cx, MemoryView& view);
  // A block's bytes, for a handle the plugin passed (0 = empty).
  bool read_block(JSContext* cx, uint64_t handle, const char* what, std::string& out);
  // A new kernel block holding `bytes` (0 for none), as the plugin's result.
  bool write_block(JSContext* cx, std::string_view bytes, JS::MutableHandleValue out);
  uint64_t kernel_limit() const { return kernel_limit_; }

  // --- Extism's host-side state ---
  std::map<std::string, std::string>& vars() { return vars_; }
  size_t max_var_bytes() const { return max_var_bytes_; }
  int32_t& http_status() { return http_status_; }
  std::string& http_headers() { return http_headers_; }
  std::string& output_line(int fd) { return fd == 1 ? stdout_line_ : stderr_line_; }
  void exit_with(int32_t code) { exit_code = code; }
  // What the module printed without a final newline goes out at the call's end.
  void flush_output_lines();
  // A new instance starts with no vars and no half-printed lines.
  void forget_instance_state();

 private:
  HostFunctionTable* host_;
  WarningLog* warnings_;
  js::EngineThread* thread_;
  uint64_t kernel_limit_;
  size_t max_var_bytes_;
  std::map<std::string, std::string> vars_;
  int32_t http_status_ = 0;
  std::string http_headers_;
  std::string stdout_line_, stderr_line_;
  std::set<std::string> warned_;
};

}  // namespace outlet::wasm
