#include "hostapi/plugin_environment.h"

namespace outlet {

std::string_view log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

Json PluginServices::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

void PluginServices::set_config(Json config) {
  std::lock_guard lock(mutex_);
  config_ = std::move(config);
}

std::optional<std::string> PluginServices::secret(const std::string& name) const {
  std::lock_guard lock(mutex_);
  auto it = secrets_.find(name);
  if (it == secrets_.end())
    return std::nullopt;
  return it->second;
}

void PluginServices::set_secrets(std::map<std::string, std::string> secrets) {
  std::lock_guard lock(mutex_);
  secrets_ = std::move(secrets);
}

PluginEnvironment::PluginEnvironment(std::shared_ptr<const Manifest> manifest,
                                     std::vector<const HostFunctionSpec*> granted,
                                     std::unique_ptr<PluginServices> services)
    : manifest_(std::move(manifest)), granted_(std::move(granted)), services_(std::move(services)) {
  for (const HostFunctionSpec* spec : granted_)
    names_.push_back(spec->name);
}

Result<Json> PluginEnvironment::invoke(size_t index, const Json& args, const CallContext& context) {
  if (index >= granted_.size()) {
    return Error(ErrorCode::kPermissionDenied, "no such host function");
  }
  HostCall call{context.plugin_id, *manifest_, context.kind,   context.event,
                context.depth,     *services_, context.emitted};
  try {
    return granted_[index]->handler(call, args);
  } catch (const std::exception& e) {
    // A host function's bug must not unwind through a guest's stack.
    return Error(ErrorCode::kInternal, granted_[index]->name + " failed: " + e.what());
  }
}

}  // namespace outlet
