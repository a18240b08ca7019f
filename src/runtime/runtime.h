// The one interface every plugin runtime implements (DESIGN.md principle 1): given a
// manifest and the plugin's files, produce an instance the dispatcher can call.
// Backends: native/ (C++ compiled into the host); lua/ and spidermonkey/ follow.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "dispatch/plugin_instance.h"
#include "outlet/event.h"
#include "outlet/manifest.h"
#include "outlet/result.h"
#include "outlet/warnings.h"

namespace outlet {

struct InstanceSpec {
  std::shared_ptr<const Manifest> manifest;
  std::string root;             // plugin folder ("" for built-ins)
  std::string entrypoint_path;  // resolved inside root
  // The granted host functions; owned by the host and outlives the instance.
  HostFunctionTable* host = nullptr;
  // The events the host (and this plugin's manifest) declares, so an SDK can map
  // typed handler names (`on_chat_message`) to events.
  std::vector<std::shared_ptr<const EventSpec>> events;
  // Where load-time problems that are not fatal go (e.g. an unknown handler name).
  WarningLog* warnings = nullptr;
};

class Runtime {
 public:
  virtual ~Runtime() = default;
  virtual RuntimeKind kind() const = 0;
  virtual Result<std::unique_ptr<PluginInstance>> instantiate(const InstanceSpec& spec) = 0;
};

}  // namespace outlet
