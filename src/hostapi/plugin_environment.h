// One plugin's view of the host: the host functions it was granted (its
// HostFunctionTable) and the per-plugin state behind the core capabilities.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dispatch/plugin_instance.h"
#include "hostapi/ttl_cache.h"
#include "outlet/host_function.h"
#include "outlet/kv_store.h"
#include "outlet/warnings.h"

namespace outlet {

enum class LogLevel { kDebug, kInfo, kWarn, kError };
std::string_view log_level_name(LogLevel level);

struct PluginServices {
  std::string plugin_id;
  KvStore* kv = nullptr;
  std::string kv_namespace;  // "<tenant>/<plugin id>": plugins never share one
  std::unique_ptr<TtlCache> cache;
  WarningLog* warnings = nullptr;
  std::function<void(const std::string& plugin_id, LogLevel level, const std::string& message)> log;
  // Re-enters dispatch as a notification at depth + 1 (host wiring).
  std::function<Result<Json>(const HostCall& call, const std::string& event, Json payload)> emit;
  // Whether the host or another plugin declares `event` (host wiring; unset: no one).
  std::function<bool(const std::string& event)> declared_by_others;

  Json config() const;
  void set_config(Json config);
  std::optional<std::string> secret(const std::string& name) const;
  void set_secrets(std::map<std::string, std::string> secrets);

 private:
  mutable std::mutex mutex_;
  Json config_ = Json::object();                // guarded by mutex_
  std::map<std::string, std::string> secrets_;  // guarded by mutex_
};

class PluginEnvironment : public HostFunctionTable {
 public:
  PluginEnvironment(std::shared_ptr<const Manifest> manifest,
                    std::vector<const HostFunctionSpec*> granted,
                    std::unique_ptr<PluginServices> services);

  const std::vector<std::string>& function_names() const override { return names_; }
  Result<Json> invoke(size_t index, const Json& args, const CallContext& context) override;
  using HostFunctionTable::invoke;

  PluginServices& services() { return *services_; }
  const Manifest& manifest() const { return *manifest_; }

 private:
  std::shared_ptr<const Manifest> manifest_;
  std::vector<const HostFunctionSpec*> granted_;
  std::vector<std::string> names_;
  std::unique_ptr<PluginServices> services_;
};

// The host functions of the core capabilities: log, storage.kv, cache,
// events.emit, config.read, secrets.read.
std::vector<HostFunctionSpec> core_host_functions();
std::vector<PermissionSpec> core_permissions();

}  // namespace outlet
