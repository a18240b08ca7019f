// Host functions: what plugins may call back into, grouped by capability
// (DESIGN.md "Plugin contract"). The host declares each with the permission that
// unlocks it; a plugin sees a function only if its manifest declares that
// permission and the operator approved it.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "outlet/hook.h"
#include "outlet/json.h"
#include "outlet/manifest.h"
#include "outlet/result.h"

namespace outlet {

struct PluginServices;

// The caller of a host function: which plugin, during which hook.
struct HostCall {
  std::string_view plugin_id;
  const Manifest& manifest;
  HookKind kind;
  std::string_view event;
  int depth;  // emit depth of the event being handled
  // The calling plugin's own state (KV namespace, cache, config, secrets); used by
  // the core capabilities in src/hostapi, opaque to domain host functions.
  PluginServices& services;
  // Events this call has emitted so far (for the per-call emit limit).
  uint32_t& emitted_in_call;
};

// Arguments arrive as a JSON array of the guest's positional arguments.
using HostFunctionHandler = std::function<Result<Json>(const HostCall& call, const Json& args)>;

struct HostFunctionSpec {
  std::string name;        // e.g. "kv.get", "chat.send"
  std::string capability;  // the permission that unlocks it, e.g. "storage.kv"
  std::string description;
  HostFunctionHandler handler;
};

// A permission with no host function of its own (e.g. "http.serve").
struct PermissionSpec {
  std::string name;
  std::string description;
};

}  // namespace outlet
