// The one interface every plugin runtime implements (DESIGN.md principle 1): given a
// manifest and the plugin's files, produce an instance the dispatcher can call.
// Backends: native/ (C++ compiled into the host); lua/ and spidermonkey/ follow.
#pragma once

#include <memory>
#include <string>

#include "dispatch/plugin_instance.h"
#include "outlet/manifest.h"
#include "outlet/result.h"

namespace outlet {

struct InstanceSpec {
  std::shared_ptr<const Manifest> manifest;
  std::string root;             // plugin folder ("" for built-ins)
  std::string entrypoint_path;  // resolved inside root
  // The granted host functions; owned by the host and outlives the instance.
  HostFunctionTable* host = nullptr;
};

class Runtime {
 public:
  virtual ~Runtime() = default;
  virtual RuntimeKind kind() const = 0;
  virtual Result<std::unique_ptr<PluginInstance>> instantiate(const InstanceSpec& spec) = 0;
};

}  // namespace outlet
