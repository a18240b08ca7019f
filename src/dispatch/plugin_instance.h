// What the dispatcher calls: one loaded plugin, whatever language it is written
// in. Runtimes (src/runtime) create these; the dispatcher serializes calls into
// each one, so an implementation need not be thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "outlet/hook.h"
#include "outlet/json.h"
#include "outlet/manifest.h"
#include "outlet/result.h"

namespace outlet {

using SteadyTime = std::chrono::steady_clock::time_point;

// One call into a plugin: which hook, and the limits it runs under.
struct CallContext {
  std::string_view plugin_id;
  HookKind kind = HookKind::kNotify;
  std::string_view event;
  int depth = 0;            // emit depth: 0 for events the host dispatched
  SteadyTime deadline{};    // runtimes that can interrupt guest code stop it here
  uint32_t timeout_ms = 0;  // the limit behind `deadline`, for messages
  // Events emitted so far in this call (the host caps them per call); one call
  // runs on one thread, so a plain counter suffices.
  mutable uint32_t emitted = 0;

  bool past_deadline() const { return std::chrono::steady_clock::now() >= deadline; }
  // The one wording of a timeout, whichever runtime noticed it.
  std::string timeout_message() const;
};

// The host functions one plugin was granted, by index. Runtimes expose exactly
// these to guest code (DESIGN.md principle 3: an ungranted function does not exist).
class HostFunctionTable {
 public:
  virtual ~HostFunctionTable() = default;
  virtual const std::vector<std::string>& function_names() const = 0;
  virtual Result<Json> invoke(size_t index, const Json& args, const CallContext& context) = 0;
  // By name, for native plugins and tests; an ungranted name is kPermissionDenied.
  Result<Json> invoke(std::string_view name, const Json& args, const CallContext& context);
};

class PluginInstance {
 public:
  virtual ~PluginInstance() = default;
  // The hooks the plugin's code implements (compared with the manifest at load).
  virtual std::vector<Subscription> subscriptions() const = 0;
  // Handles one hook. Returns the handler's value (null = nothing); a failure of
  // the plugin's code is an Error (kPluginError, kDeadlineExceeded, kResourceExhausted).
  virtual Result<Json> call(const CallContext& context, const Json& payload) = 0;
  // Calls a function the plugin exports by name with raw bytes in and out (the
  // Extism model: `outlet call`, or an application using a plugin as a library).
  // Runtimes whose plugins export no such functions say so.
  virtual Result<std::string> call_export(const CallContext& context, std::string_view name,
                                          std::string_view input) {
    (void)context;
    (void)input;
    return Error(ErrorCode::kFailedPrecondition,
                 "only wasm plugins export functions to call by name (asked for \"" +
                     std::string(name) + "\")");
  }
  // True when the runtime stops the call at its deadline itself, counted from
  // when the call really starts (the JS and wasm engine threads); otherwise the
  // dispatcher fails any call that overran, measured from before it.
  virtual bool enforces_deadline() const { return false; }
  // Memory attributed to this instance, when the runtime can tell (0 otherwise).
  virtual uint64_t memory_bytes() const { return 0; }
};

}  // namespace outlet
