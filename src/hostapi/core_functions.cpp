// The core capabilities every host has (the domain adds its own).
#include <chrono>

#include "core/json_schema.h"
#include "core/text.h"
#include "hostapi/args.h"
#include "hostapi/plugin_environment.h"

namespace outlet {
namespace {

constexpr size_t kMaxKeyBytes = 1024;
constexpr size_t kMaxLogBytes = size_t{16} * 1024;
constexpr size_t kMaxListLimit = 1000;
constexpr int64_t kMaxCacheTtlSeconds = int64_t{7} * 24 * 3600;

HostFunctionSpec log_function(LogLevel level) {
  std::string name = "log." + std::string(log_level_name(level));
  return {name, "log", "Writes a line to the host log, tagged with the plugin id.",
          [name, level](const HostCall& call, const Json& args) -> Result<Json> {
            HostArgs a(name, args);
            if (Status s = a.expect_count(1, 1, {"message"}); !s.ok())
              return s.error();
            const Json& line = a.at(0);
            std::string text = line.is_string() ? line.get<std::string>() : dump_json(line);
            std::string message = truncate_utf8(text, kMaxLogBytes);
            if (text.size() > kMaxLogBytes)
              message += " (truncated)";
            if (call.services.log)
              call.services.log(call.services.plugin_id, level, message);
            return Json();
          }};
}

Result<std::string> key_arg(const HostArgs& a) {
  return a.string_at(0, "key", kMaxKeyBytes);
}

std::vector<HostFunctionSpec> kv_functions() {
  return {
      {"kv.get", "storage.kv", "Reads a key from the plugin's own namespace (null if absent).",
       [](const HostCall& call, const Json& args) -> Result<Json> {
         HostArgs a("kv.get", args);
         if (Status s = a.expect_count(1, 1, {"key"}); !s.ok())
           return s.error();
         auto key = key_arg(a);
         if (!key.ok())
           return key.error();
         auto value = call.services.kv->get(call.services.kv_namespace, *key);
         if (!value.ok())
           return value.error();
         return value->value_or(Json());
       }},
      {"kv.set", "storage.kv", "Stores a JSON value under a key in the plugin's namespace.",
       [](const HostCall& call, const Json& args) -> Result<Json> {
         HostArgs a("kv.set", args);
         if (Status s = a.expect_count(2, 2, {"key", "value"}); !s.ok())
           return s.error();
         auto key = key_arg(a);
         if (!key.ok())
           return key.error();
         if (Status s = call.services.kv->set(call.services.kv_namespace, *key, a.at(1)); !s.ok()) {
           return s.error();
         }
         return Json();
       }},
      {"kv.delete", "storage.kv", "Deletes a key; returns whether it existed.",
       [](const HostCall& call, const Json& args) -> Result<Json> {
         HostArgs a("kv.delete", args);
         if (Status s = a.expect_count(1, 1, {"key"}); !s.ok())
           return s.error();
         auto key = key_arg(a);
         if (!key.ok())
           return key.error();
         auto removed = call.services.kv->remove(call.services.kv_namespace, *key);
         if (!removed.ok())
           return removed.error();
         return Json(*removed);
       }},
      {"kv.list", "storage.kv", "Lists keys starting with a prefix (at most 1000).",
       [](const HostCall& call, const Json& args) -> Result<Json> {
         HostArgs a("kv.list", args);
         if (Status s = a.expect_count(0, 2); !s.ok())
           return s.error();
         std::string prefix;
         if (a.has(0) && !a.at(0).is_null()) {
           auto p = a.string_at(0, "prefix", kMaxKeyBytes);
           if (!p.ok())
             return p.error();
           prefix = *p;
         }
         size_t limit = kMaxListLimit;
         if (a.has(1) && !a.at(1).is_null()) {
           if (!a.at(1).is_number_integer() || a.at(1).get<int64_t>() < 1 ||
               a.at(1).get<int64_t>() > static_cast<int64_t>(kMaxListLimit)) {
             return a.invalid(1, "limit", "must be an integer from 1 to 1000");
           }
           limit = a.at(1).get<size_t>();
         }
         auto entries = call.services.kv->list(call.services.kv_namespace, prefix, limit);
         if (!entries.ok())
           return entries.error();
         Json keys = Json::array();
         for (const KvEntry& entry : *entries)
           keys.push_back(entry.key);
         return keys;
       }},
  };
}

std::vector<HostFunctionSpec> cache_functions() {
  return {
      {"cache.get", "cache", "Reads a cached value (null if absent or expired).",
       [](const HostCall& call, const Json& args) -> Result<Json> {
         HostArgs a("cache.get", args);
         if (Status s = a.expect_count(1, 1, {"key"}); !s.ok())
           return s.error();
         auto key = key_arg(a);
         if (!key.ok())
           return key.error();
         return call.services.cache->get(*key).value_or(Json());
       }},
      {"cache.set", "cache", "Caches a value for ttlSeconds (default 60).",
       [](const HostCall& call, const Json& args) -> Result<Json> {
         HostArgs a("cache.set", args);
         if (Status s = a.expect_count(2, 3, {"key", "value", "ttlSeconds"}); !s.ok()) {
           return s.error();
         }
         auto key = key_arg(a);
         if (!key.ok())
           return key.error();
         int64_t ttl = 60;
         if (a.has(2) && !a.at(2).is_null()) {
           if (!a.at(2).is_number() || a.at(2).get<double>() <= 0 ||
               a.at(2).get<double>() > static_cast<double>(kMaxCacheTtlSeconds)) {
             return a.invalid(2, "ttlSeconds", "must be a number above 0 and at most 604800");
           }
           ttl = static_cast<int64_t>(a.at(2).get<double>() * 1000);
         } else {
           ttl *= 1000;
         }
         if (Status s = call.services.cache->set(*key, a.at(1), std::chrono::milliseconds(ttl));
             !s.ok()) {
           return s.error();
         }
         return Json();
       }},
      {"cache.delete", "cache", "Removes a cached value; returns whether it existed.",
       [](const HostCall& call, const Json& args) -> Result<Json> {
         HostArgs a("cache.delete", args);
         if (Status s = a.expect_count(1, 1, {"key"}); !s.ok())
           return s.error();
         auto key = key_arg(a);
         if (!key.ok())
           return key.error();
         return Json(call.services.cache->remove(*key));
       }},
  };
}

// seeds/002: a plugin event is checked on emit: declared by this plugin, direction
// allows the plugin to send it, payload within maxPayloadBytes and its schema.
Status check_emit(const HostCall& call, const std::string& event, const Json& payload) {
  const PluginEventSpec* spec = call.manifest.find_event(event);
  if (spec == nullptr && call.manifest.emits_undeclared_events &&
      !(call.services.declared_by_others && call.services.declared_by_others(event))) {
    if (!is_valid_event_name(event))
      return Error(ErrorCode::kInvalidArgument,
                   "events.emit: \"" + event + "\" is not a valid event name");
    const PluginEventSpec open_event;  // the defaults: any payload up to 64 KiB
    if (size_t bytes = dump_json(payload).size(); bytes > open_event.max_payload_bytes) {
      return Error(ErrorCode::kResourceExhausted, "events.emit: payload of \"" + event + "\" is " +
                                                      std::to_string(bytes) + " bytes, over the " +
                                                      std::to_string(open_event.max_payload_bytes) +
                                                      " allowed for an undeclared event");
    }
    return {};
  }
  if (spec == nullptr) {
    return Error(ErrorCode::kPermissionDenied, "events.emit: event \"" + event +
                                                   "\" is not declared in the events[] of \"" +
                                                   std::string(call.plugin_id) + "\"");
  }
  if (spec->direction != EventDirection::kServerRelay) {
    return Error(ErrorCode::kPermissionDenied,
                 "events.emit: event \"" + event +
                     "\" has a direction that does not let the plugin send it (serverRelay does)");
  }
  size_t bytes = dump_json(payload).size();
  if (bytes > spec->max_payload_bytes) {
    return Error(ErrorCode::kResourceExhausted, "events.emit: payload of \"" + event + "\" is " +
                                                    std::to_string(bytes) +
                                                    " bytes, over its maxPayloadBytes of " +
                                                    std::to_string(spec->max_payload_bytes));
  }
  if (spec->schema) {
    std::vector<SchemaIssue> issues = spec->schema->validate(payload);
    if (!issues.empty()) {
      std::vector<ErrorDetail> details = to_error_details(issues, "payload");
      // Built before `details` is moved: argument evaluation order is unspecified.
      std::string message = "events.emit: payload of \"" + event +
                            "\" does not match its schema: " + details[0].path + ": " +
                            details[0].rule;
      return Error(ErrorCode::kInvalidArgument, std::move(message), std::move(details));
    }
  }
  return {};
}

HostFunctionSpec emit_function() {
  return {"events.emit", "events.emit",
          "Emits one of the plugin's declared events; it re-enters dispatch as a notification.",
          [](const HostCall& call, const Json& args) -> Result<Json> {
            HostArgs a("events.emit", args);
            if (Status s = a.expect_count(1, 2, {"event", "payload"}); !s.ok())
              return s.error();
            auto event = a.string_at(0, "event", 128);
            if (!event.ok())
              return event.error();
            if (Status s = check_emit(call, *event, a.at(1)); !s.ok())
              return s.error();
            return call.services.emit(call, *event, a.at(1));
          }};
}

std::vector<HostFunctionSpec> config_and_secret_functions() {
  return {
      {"config.get", "config.read",
       "Reads the plugin's config (validated, defaults applied), or one key of it.",
       [](const HostCall& call, const Json& args) -> Result<Json> {
         HostArgs a("config.get", args);
         if (Status s = a.expect_count(0, 1); !s.ok())
           return s.error();
         Json config = call.services.config();
         if (!a.has(0) || a.at(0).is_null())
           return config;
         auto key = a.string_at(0, "key", kMaxKeyBytes);
         if (!key.ok())
           return key.error();
         auto it = config.find(*key);
         return it == config.end() ? Json() : *it;
       }},
      {"secrets.get", "secrets.read",
       "Reads an operator-supplied secret (null if unset). Secrets are never logged.",
       [](const HostCall& call, const Json& args) -> Result<Json> {
         HostArgs a("secrets.get", args);
         if (Status s = a.expect_count(1, 1, {"name"}); !s.ok())
           return s.error();
         auto name = a.string_at(0, "name", 256);
         if (!name.ok())
           return name.error();
         auto secret = call.services.secret(*name);
         return secret ? Json(*secret) : Json();
       }},
  };
}

}  // namespace

std::vector<HostFunctionSpec> core_host_functions() {
  std::vector<HostFunctionSpec> functions;
  for (LogLevel level : {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarn, LogLevel::kError}) {
    functions.push_back(log_function(level));
  }
  for (auto& f : kv_functions())
    functions.push_back(std::move(f));
  for (auto& f : cache_functions())
    functions.push_back(std::move(f));
  functions.push_back(emit_function());
  for (auto& f : config_and_secret_functions())
    functions.push_back(std::move(f));
  return functions;
}

std::vector<PermissionSpec> core_permissions() {
  return {
      {"log", "write to the host log"},
      {"storage.kv", "keep data in the plugin's own key-value namespace"},
      {"cache", "keep short-lived values in memory"},
      {"events.emit", "emit the plugin's declared events to other plugins"},
      {"config.read", "read the plugin's operator-set config"},
      {"secrets.read", "read operator-supplied secrets"},
      {"network.fetch", "make outbound HTTP requests to network.allowedHosts"},
      {"http.serve", "serve HTTP under /plugins/<id>/"},
      {"http.sse", "push Server-Sent Events to /plugins/<id>/_sse/<channel>"},
  };
}

}  // namespace outlet
