#include "runtime/spidermonkey/wasm_natives.h"

// GCC 12 reports JS::Rooted linking itself into the context's root list (and
// unlinking in its destructor, which GCC does not follow) as a dangling pointer.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif

#include <jsfriendapi.h>

#include <algorithm>

#include "core/json_text.h"
#include "core/text.h"

namespace outlet::wasm {

JS::Value make_native(JSContext* cx, JSNative function, const char* name, int32_t data,
                      WasmGuest* guest) {
  JSFunction* created = ::js::NewFunctionWithReserved(cx, function, 0, 0, name);
  if (created == nullptr)
    return JS::UndefinedValue();
  JSObject* object = JS_GetFunctionObject(created);
  ::js::SetFunctionNativeReserved(object, kNativeDataSlot, JS::Int32Value(data));
  ::js::SetFunctionNativeReserved(object, kNativeGuestSlot, JS::PrivateValue(guest));
  return JS::ObjectValue(*object);
}

WasmGuest* guest_of(const JS::CallArgs& args) {
  JS::Value slot = ::js::GetFunctionNativeReserved(&args.callee(), kNativeGuestSlot);
  return slot.isUndefined() ? nullptr : static_cast<WasmGuest*>(slot.toPrivate());
}

static bool invoke_host(JSContext* cx, WasmGuest& instance, size_t index,
                        const JS::CallArgs& args) {
  const std::string& name = instance.host()->function_names()[index];
  const CallContext* context = instance.current_call();
  if (context == nullptr) {
    return throw_error(cx, name +
                               ": host functions cannot be called while the plugin loads; "
                               "call them from a handler");
  }
  Json arguments = Json::array();
  std::string text;
  size_t given = 0;  // arguments up to the last non-zero handle; 0 handles after it are absent
  for (unsigned i = 0; i < args.length(); ++i) {
    auto handle = to_u64(args[i]);
    if (!handle)
      return throw_error(cx, name + ": argument " + std::to_string(i + 1) + " is not a handle");
    if (!instance.read_block(cx, *handle, name.c_str(), text))
      return false;
    if (*handle == 0) {
      arguments.push_back(nullptr);
      continue;
    }
    given = i + 1;
    auto parsed = parse_json_text(text, "argument " + std::to_string(i + 1));
    if (!parsed.ok()) {
      return throw_error(cx, name + ": argument " + std::to_string(i + 1) +
                                 " is not JSON: " + parsed.error().message());
    }
    arguments.push_back(std::move(parsed).value());
  }
  while (arguments.size() > given)
    arguments.erase(arguments.size() - 1);  // trailing absent arguments, as in JS
  Result<Json> result = instance.host()->invoke(index, arguments, *context);
  if (!js::interrupt_check(cx))
    return false;
  if (!result.ok()) {
    const std::string& message = result.error().message();
    return throw_error(cx, message.rfind(name + ":", 0) == 0 ? message : name + ": " + message);
  }
  // Always a block, "null" included: PDKs that parse results as JSON (Rust's
  // Json<T>) read a 0 handle as empty bytes, which is not JSON.
  return instance.write_block(cx, dump_json(*result), args.rval());
}

bool host_function_native(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  WasmGuest* instance = guest_of(args);
  if (instance == nullptr)
    return throw_error(cx, "the plugin is unloaded");
  auto index = static_cast<size_t>(
      ::js::GetFunctionNativeReserved(&args.callee(), kNativeDataSlot).toInt32());
  return invoke_host(cx, *instance, index, args);
}

// call(name, args): any granted host function by name; the outcome as
// {"ok": true, "value": ...} or {"ok": false, "error": "..."}, never a trap, so
// a plugin can handle a refusal.
bool call_by_name_native(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  WasmGuest* instance = guest_of(args);
  if (instance == nullptr)
    return throw_error(cx, "the plugin is unloaded");
  std::string name, arguments_text;
  if (!instance->read_block(cx, to_u64(args.get(0)).value_or(1), "call(name)", name) ||
      !instance->read_block(cx, to_u64(args.get(1)).value_or(1), "call(args)", arguments_text))
    return false;
  auto answer = [&](const Json& envelope) {
    return instance->write_block(cx, dump_json(envelope), args.rval());
  };
  const CallContext* context = instance->current_call();
  if (context == nullptr) {
    return answer(
        {{"ok", false}, {"error", "host functions cannot be called while the plugin loads"}});
  }
  Json arguments = Json::array();
  if (!arguments_text.empty()) {
    auto parsed = parse_json_text(arguments_text, "args");
    if (!parsed.ok() || !parsed->is_array()) {
      return answer(
          {{"ok", false}, {"error", "call(" + name + "): args must be a JSON array of arguments"}});
    }
    arguments = std::move(parsed).value();
  }
  const auto& names = instance->host()->function_names();
  auto found = std::find(names.begin(), names.end(), name);
  if (found == names.end()) {
    return answer({{"ok", false},
                   {"error", "host function \"" + name +
                                 "\" is not available to this plugin (not declared in its "
                                 "permissions, or not granted)"}});
  }
  Result<Json> result =
      instance->host()->invoke(static_cast<size_t>(found - names.begin()), arguments, *context);
  if (!js::interrupt_check(cx))
    return false;
  if (!result.ok()) {
    const std::string& message = result.error().message();
    return answer({{"ok", false},
                   {"error", message.rfind(name + ":", 0) == 0 ? message : name + ": " + message}});
  }
  return answer({{"ok", true}, {"value", *result}});
}

bool has_native(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  WasmGuest* instance = guest_of(args);
  std::string name;
  if (instance == nullptr ||
      !instance->read_block(cx, to_u64(args.get(0)).value_or(1), "has", name))
    return false;
  args.rval().setInt32(instance->has_function(name) ? 1 : 0);
  return true;
}

// --- extism:host/env, the host's part ---

static constexpr size_t kVarEntryOverhead = 48;  // Extism's accounting per var

bool env_native(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  WasmGuest* instance = guest_of(args);
  if (instance == nullptr)
    return throw_error(cx, "the plugin is unloaded");
  auto which = static_cast<EnvFunction>(
      ::js::GetFunctionNativeReserved(&args.callee(), kNativeDataSlot).toInt32());
  auto handle = [&](unsigned i) { return to_u64(args.get(i)).value_or(1); };
  std::string key, value;
  switch (which) {
    case EnvFunction::kConfigGet: {
      if (!instance->read_block(cx, handle(0), "config_get", key))
        return false;
      const CallContext* context = instance->current_call();
      if (!instance->has_function("config.get") || context == nullptr) {
        if (context != nullptr) {
          instance->warn_once("config",
                              "config_get: the plugin lacks the \"config.read\" "
                              "permission, so it sees no config");
        }
        return set_u64(cx, args.rval(), 0);
      }
      Result<Json> result =
          instance->host()->invoke(std::string_view("config.get"), Json::array({key}), *context);
      if (!result.ok())
        return throw_error(cx, "config_get: " + result.error().message());
      if (result->is_null())
        return set_u64(cx, args.rval(), 0);
      // Extism's config holds strings; other JSON values arrive as JSON text.
      return instance->write_block(
          cx, result->is_string() ? result->get<std::string>() : dump_json(*result), args.rval());
    }
    case EnvFunction::kVarGet: {
      if (!instance->read_block(cx, handle(0), "var_get", key))
        return false;
      auto found = instance->vars().find(key);
      if (found == instance->vars().end())
        return set_u64(cx, args.rval(), 0);
      return instance->write_block(cx, found->second, args.rval());
    }
    case EnvFunction::kVarSet: {
      uint64_t value_handle = handle(1);
      if (!instance->read_block(cx, handle(0), "var_set", key) ||
          !instance->read_block(cx, value_handle, "var_set", value))
        return false;
      auto& vars = instance->vars();
      if (value_handle == 0) {
        vars.erase(key);
        args.rval().setUndefined();
        return true;
      }
      size_t total = key.size() + value.size() + kVarEntryOverhead;
      for (const auto& [k, v] : vars) {
        if (k != key)
          total += k.size() + v.size() + kVarEntryOverhead;
      }
      if (total > instance->max_var_bytes()) {
        return throw_error(cx, "var_set: the plugin's vars would hold " + describe_bytes(total) +
                                   ", more than the " + describe_bytes(instance->max_var_bytes()) +
                                   " allowed");
      }
      vars[key] = std::move(value);
      args.rval().setUndefined();
      return true;
    }
    case EnvFunction::kHttpRequest: {
      std::string request_text, body;
      uint64_t body_handle = handle(1);
      if (!instance->read_block(cx, handle(0), "http_request", request_text) ||
          !instance->read_block(cx, body_handle, "http_request", body))
        return false;
      instance->http_status() = 0;
      instance->http_headers().clear();
      const CallContext* context = instance->current_call();
      if (!instance->has_function("http.fetch") || context == nullptr) {
        return throw_error(cx,
                           "http_request: the plugin lacks the \"network.fetch\" permission "
                           "(or the host offers no HTTP client)");
      }
      auto request = parse_json_text(request_text, "the request");
      if (!request.ok() || !request->is_object() || !request->contains("url") ||
          !(*request)["url"].is_string()) {
        return throw_error(cx,
                           "http_request: the request must be a JSON object with a \"url\" "
                           "string (and optionally \"method\" and \"headers\")");
      }
      Json options = Json::object();
      for (const auto& [field, v] : request->items()) {
        if (field == "method" && (v.is_string() || v.is_null())) {
          if (v.is_string())
            options["method"] = to_upper_ascii(v.get<std::string>());
        } else if (field == "headers" && v.is_object()) {
          options["headers"] = v;
        } else if (field != "url") {
          return throw_error(cx, "http_request: request field \"" + field +
                                     "\" is unknown or has the wrong type (url: string, method: "
                                     "string, headers: object of strings)");
        }
      }
      if (body_handle != 0)
        options["body"] = body;
      Result<Json> response = instance->host()->invoke(
          std::string_view("http.fetch"), Json::array({(*request)["url"], options}), *context);
      if (!js::interrupt_check(cx))
        return false;
      if (!response.ok())
        return throw_error(cx, "http_request: " + response.error().message());
      instance->http_status() = response->value("status", 0);
      instance->http_headers() = dump_json(response->value("headers", Json::object()));
      Json response_body = response->value("body", Json(""));
      return instance->write_block(
          cx,
          response_body.is_string() ? response_body.get<std::string>() : dump_json(response_body),
          args.rval());
    }
    case EnvFunction::kHttpStatusCode:
      args.rval().setInt32(instance->http_status());
      return true;
    case EnvFunction::kHttpHeaders:
      if (instance->http_headers().empty())
        return set_u64(cx, args.rval(), 0);
      return instance->write_block(cx, instance->http_headers(), args.rval());
    case EnvFunction::kLogTrace:
    case EnvFunction::kLogDebug:
    case EnvFunction::kLogInfo:
    case EnvFunction::kLogWarn:
    case EnvFunction::kLogError: {
      if (!instance->read_block(cx, handle(0), "log", value))
        return false;
      auto level = static_cast<ExtismLogLevel>(static_cast<int>(which) -
                                               static_cast<int>(EnvFunction::kLogTrace));
      instance->log(level, value);
      args.rval().setUndefined();
      return true;
    }
    case EnvFunction::kGetLogLevel:
      // Without the "log" permission only warnings and errors go anywhere (to
      // the plugin's warnings), so PDKs can skip formatting the rest.
      args.rval().setInt32(instance->has_function("log.info")
                               ? static_cast<int32_t>(ExtismLogLevel::kTrace)
                               : static_cast<int32_t>(ExtismLogLevel::kWarn));
      return true;
  }
  return throw_error(cx, "unknown kernel function");
}

}  // namespace outlet::wasm
