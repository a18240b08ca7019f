#include "runtime/native/native_runtime.h"

namespace outlet {
namespace {

class NativeInstance : public PluginInstance {
 public:
  NativeInstance(std::unique_ptr<NativePlugin> plugin, HostFunctionTable& host)
      : plugin_(std::move(plugin)), host_(host) {}

  std::vector<Subscription> subscriptions() const override {
    std::vector<Subscription> list;
    for (const NativePlugin::Handler& handler : plugin_->handlers()) {
      list.push_back(handler.subscription);
    }
    return list;
  }

  Result<Json> call(const CallContext& context, const Json& payload) override {
    for (const NativePlugin::Handler& handler : plugin_->handlers()) {
      if (handler.subscription.kind == context.kind &&
          handler.subscription.event == context.event) {
        PluginContext plugin_context(host_, context);
        return handler.function(payload, plugin_context);
      }
    }
    return Error(ErrorCode::kNotFound, "no " + std::string(hook_kind_name(context.kind)) +
                                           " handler for \"" + std::string(context.event) + "\"");
  }

 private:
  std::unique_ptr<NativePlugin> plugin_;
  HostFunctionTable& host_;
};

}  // namespace

Status NativeRuntime::register_plugin(std::string id, NativePluginFactory factory) {
  std::lock_guard lock(mutex_);
  if (factories_.count(id)) {
    return Error(ErrorCode::kAlreadyExists, "native plugin \"" + id + "\" is already registered");
  }
  factories_.emplace(std::move(id), std::move(factory));
  return {};
}

bool NativeRuntime::has_plugin(std::string_view id) const {
  std::lock_guard lock(mutex_);
  return factories_.count(id) > 0;
}

Result<std::unique_ptr<PluginInstance>> NativeRuntime::instantiate(const InstanceSpec& spec) {
  NativePluginFactory factory;
  {
    std::lock_guard lock(mutex_);
    auto it = factories_.find(spec.manifest->id);
    if (it == factories_.end()) {
      return Error(ErrorCode::kNotFound,
                   "no native plugin \"" + spec.manifest->id +
                       "\" is compiled into this host (native plugins are C++ registered by the "
                       "host application)");
    }
    factory = it->second;
  }
  if (spec.host == nullptr) {
    return Error(ErrorCode::kInternal, "instantiate without a host function table");
  }
  std::unique_ptr<NativePlugin> plugin = factory();
  if (!plugin) {
    return Error(ErrorCode::kPluginError,
                 "native plugin \"" + spec.manifest->id + "\" factory returned nothing");
  }
  return std::unique_ptr<PluginInstance>(new NativeInstance(std::move(plugin), *spec.host));
}

}  // namespace outlet
