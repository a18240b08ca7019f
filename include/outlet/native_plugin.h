// Native plugins: C++ compiled into the host application. They register and run
// through the same Runtime interface, manifest, grants and dispatch as Lua, JS and
// WASM plugins (seeds/000 dog-fooding; proxy-wasm's "null VM"). They are trusted
// code: a native handler cannot be interrupted, so a slow one is failed after it
// returns (its answer discarded, a strike counted) rather than stopped.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "outlet/hook.h"
#include "outlet/json.h"
#include "outlet/manifest.h"
#include "outlet/result.h"

namespace outlet {

class HostFunctionTable;
struct CallContext;

// What a native handler sees during one call. Host functions go through the same
// grant check as every runtime: an ungranted one fails with kPermissionDenied.
class PluginContext {
 public:
  PluginContext(HostFunctionTable& host, const CallContext& call) : host_(host), call_(call) {}

  Result<Json> call(std::string_view function, const Json& args);

  std::string_view plugin_id() const;
  std::string_view event() const;
  HookKind kind() const;

  // Shorthands for the core capabilities.
  Status log(std::string_view level, std::string_view message);
  Result<Json> kv_get(std::string_view key);
  Status kv_set(std::string_view key, const Json& value);
  Status emit(std::string_view event, const Json& payload);
  Result<Json> config();

 private:
  HostFunctionTable& host_;
  const CallContext& call_;
};

using NativeHandler = std::function<Result<Json>(const Json& payload, PluginContext& context)>;

// One instance of a native plugin: the handlers its code implements.
class NativePlugin {
 public:
  NativePlugin& on(std::string event, NativeHandler handler);  // notify
  NativePlugin& filter(std::string event, NativeHandler handler, int priority = 100);
  NativePlugin& collect(std::string event, NativeHandler handler);
  NativePlugin& dispatch(std::string event, NativeHandler handler);
  NativePlugin& request(std::string event, NativeHandler handler);

  struct Handler {
    Subscription subscription;
    NativeHandler function;
  };
  const std::vector<Handler>& handlers() const { return handlers_; }

 private:
  NativePlugin& add(HookKind kind, std::string event, NativeHandler handler, int priority);
  std::vector<Handler> handlers_;
};

// Makes a fresh instance (each instance has its own state).
using NativePluginFactory = std::function<std::unique_ptr<NativePlugin>()>;

// Filter verdicts (seeds/003 filter.pass / modify / drop).
Json filter_pass();
Json filter_modify(Json payload);
Json filter_drop(std::string reason);

}  // namespace outlet
