// The native runtime: plugins written in C++ and compiled into the host, bound to
// a manifest by plugin id.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "outlet/native_plugin.h"
#include "runtime/runtime.h"

namespace outlet {

class NativeRuntime : public Runtime {
 public:
  Status register_plugin(std::string id, NativePluginFactory factory);
  bool has_plugin(std::string_view id) const;

  RuntimeKind kind() const override { return RuntimeKind::kNative; }
  Result<std::unique_ptr<PluginInstance>> instantiate(const InstanceSpec& spec) override;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, NativePluginFactory, std::less<>> factories_;  // guarded by mutex_
};

}  // namespace outlet
