#include "outlet/native_plugin.h"

#include "dispatch/plugin_instance.h"

namespace outlet {

Result<Json> PluginContext::call(std::string_view function, const Json& args) {
  return host_.invoke(function, args, call_);
}

std::string_view PluginContext::plugin_id() const {
  return call_.plugin_id;
}
std::string_view PluginContext::event() const {
  return call_.event;
}
HookKind PluginContext::kind() const {
  return call_.kind;
}

Status PluginContext::log(std::string_view level, std::string_view message) {
  auto result = call("log." + std::string(level), Json::array({message}));
  if (!result.ok())
    return result.error();
  return {};
}

Result<Json> PluginContext::kv_get(std::string_view key) {
  return call("kv.get", Json::array({key}));
}

Status PluginContext::kv_set(std::string_view key, const Json& value) {
  auto result = call("kv.set", Json::array({key, value}));
  if (!result.ok())
    return result.error();
  return {};
}

Status PluginContext::emit(std::string_view event, const Json& payload) {
  auto result = call("events.emit", Json::array({event, payload}));
  if (!result.ok())
    return result.error();
  return {};
}

Result<Json> PluginContext::config() {
  return call("config.get", Json::array());
}

NativePlugin& NativePlugin::add(HookKind kind, std::string event, NativeHandler handler,
                                int priority) {
  handlers_.push_back({Subscription{kind, std::move(event), priority}, std::move(handler)});
  return *this;
}

NativePlugin& NativePlugin::on(std::string event, NativeHandler handler) {
  return add(HookKind::kNotify, std::move(event), std::move(handler), 100);
}
NativePlugin& NativePlugin::filter(std::string event, NativeHandler handler, int priority) {
  return add(HookKind::kFilter, std::move(event), std::move(handler), priority);
}
NativePlugin& NativePlugin::collect(std::string event, NativeHandler handler) {
  return add(HookKind::kCollect, std::move(event), std::move(handler), 100);
}
NativePlugin& NativePlugin::dispatch(std::string event, NativeHandler handler) {
  return add(HookKind::kDispatch, std::move(event), std::move(handler), 100);
}
NativePlugin& NativePlugin::request(std::string event, NativeHandler handler) {
  return add(HookKind::kRequest, std::move(event), std::move(handler), 100);
}

Json filter_pass() {
  return Json{{"action", "pass"}};
}
Json filter_modify(Json payload) {
  return Json{{"action", "modify"}, {"payload", std::move(payload)}};
}
Json filter_drop(std::string reason) {
  return Json{{"action", "drop"}, {"reason", std::move(reason)}};
}

}  // namespace outlet
