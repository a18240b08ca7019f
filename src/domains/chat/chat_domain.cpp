#include "domains/chat/chat_domain.h"

#include <map>

#include "core/json_schema.h"
#include "core/text.h"
#include "domains/chat/chat_types.h"
#include "hostapi/args.h"

namespace outlet::chat {
namespace {

Json user_schema() {
  return {{"type", "object"},
          {"required", {"id"}},
          {"properties",
           {{"id", {{"type", "string"}, {"minLength", 1}}},
            {"displayName", {{"type", "string"}}},
            {"roles",
             {{"type", "array"},
              {"items",
               {{"enum", {"broadcaster", "moderator", "subscriber", "vip", "viewer", "bot"}}}}}}}}};
}

Json message_schema() {
  return {{"type", "object"},
          {"required", {"body", "user"}},
          {"properties",
           {{"id", {{"type", "string"}}},
            {"body", {{"type", "string"}, {"maxLength", 4096}}},
            {"user", user_schema()},
            {"timestamp", {{"type", "string"}}},
            {"channel", {{"type", "string"}}}}}};
}

Json user_event_schema() {
  return {{"type", "object"}, {"required", {"user"}}, {"properties", {{"user", user_schema()}}}};
}

// Every property of a widget's config must have a default, so a freshly placed
// widget renders without the operator filling in anything (seeds/000 default_config).
std::vector<ErrorDetail> validate_widget(const Manifest& manifest) {
  if (manifest.config_schema.is_null()) {
    return {{"config", "a widget needs a config schema with defaults"}};
  }
  std::vector<ErrorDetail> problems;
  const Json& properties = manifest.config_schema.value("properties", Json::object());
  for (const auto& [name, schema] : properties.items()) {
    if (!schema.is_object() || !schema.contains("default")) {
      problems.push_back({"config.properties." + name, "a widget setting needs a default"});
    }
  }
  return problems;
}

// seeds/000: an automation node exposes JSON-Schema input and output schemas.
std::vector<ErrorDetail> validate_automation_node(const Manifest& manifest) {
  std::vector<ErrorDetail> problems;
  for (const char* key : {"inputSchema", "outputSchema"}) {
    std::string path = std::string("kindData.") + key;
    auto it =
        manifest.kind_data.is_object() ? manifest.kind_data.find(key) : manifest.kind_data.end();
    if (!manifest.kind_data.is_object() || it == manifest.kind_data.end()) {
      problems.push_back({path, "an automation node needs an " + std::string(key)});
      continue;
    }
    auto compiled = JsonSchema::compile(*it);
    if (!compiled.ok())
      problems.push_back({path, compiled.error().message()});
  }
  return problems;
}

// seeds/001: a bot module reacts to chat; it needs at least one trigger or handler
// to be worth installing, which the subscription check enforces at load. Here:
// timer triggers need chat.send to say anything.
std::vector<ErrorDetail> validate_bot_module(const Manifest& manifest) {
  std::vector<ErrorDetail> problems;
  for (size_t i = 0; i < manifest.triggers.size(); ++i) {
    if (manifest.triggers[i].type == TriggerType::kTimer && !manifest.has_permission("chat.send")) {
      problems.push_back({"triggers[" + std::to_string(i) + "]",
                          "a timer trigger needs permission \"chat.send\" to post its message"});
    }
  }
  return problems;
}

}  // namespace

std::vector<PluginKindSpec> chat_plugin_kinds() {
  return {
      {"widget", "widgets", "An overlay widget with a config schema with defaults.",
       validate_widget},
      {"bot-module", "bot_modules", "A chat bot module: filters, triggers and handlers.",
       validate_bot_module},
      {"platform", "platforms", "A streaming platform connection.", nullptr},
      {"event-source", "events", "A source of platform events.", nullptr},
      {"automation-node", "automation_nodes", "A node in the automation builder.",
       validate_automation_node},
  };
}

std::vector<EventSpec> chat_events() {
  using K = HookKind;
  std::vector<EventSpec> events = {
      {"chat.message.received",
       {K::kFilter, K::kNotify},
       message_schema(),
       "A chat message arrived; filters may pass, modify or drop it."},
      {"chat.message.deleted",
       {K::kNotify},
       {{"type", "object"}, {"required", {"id"}}, {"properties", {{"id", {{"type", "string"}}}}}},
       "A message was removed by a moderator or a plugin."},
      {"chat.user.joined", {K::kNotify}, user_event_schema(), "A user joined the chat."},
      {"chat.user.parted", {K::kNotify}, user_event_schema(), "A user left the chat."},
      {"chat.user.renamed", {K::kNotify}, user_event_schema(), "A user changed display name."},
      {"stream.started", {K::kNotify}, {{"type", "object"}}, "The stream went live."},
      {"stream.stopped", {K::kNotify}, {{"type", "object"}}, "The stream went offline."},
      {"stream.title.changed", {K::kNotify}, {{"type", "object"}}, "The stream title changed."},
      {"chat.trigger",
       {K::kRequest},
       {{"type", "object"}},
       "A bot trigger matched; the handler returns an action (seeds/001)."},
      {"http.request",
       {K::kRequest},
       {{"type", "object"}},
       "An HTTP request under /plugins/<id>/ (seeds/003)."},
  };
  // Typed handler names as seeds/003 spells them (onChatMessage, onUserJoined, ...);
  // the other events keep the names derived from theirs (on_stream_started, ...).
  const std::map<std::string, std::string> handler_names = {
      {"chat.message.received", "chat_message"}, {"chat.message.deleted", "message_deleted"},
      {"chat.user.joined", "user_joined"},       {"chat.user.parted", "user_parted"},
      {"chat.user.renamed", "user_renamed"},
  };
  for (EventSpec& event : events) {
    if (auto it = handler_names.find(event.name); it != handler_names.end())
      event.handler_name = it->second;
  }
  return events;
}

Result<Json> ChatDomain::record(const HostCall& call, std::string function, Json arguments) {
  ChatAction action{std::string(call.plugin_id), std::move(function), std::move(arguments)};
  {
    std::lock_guard lock(mutex_);
    actions_.push_back(action);
    if (actions_.size() > kMaxRecordedActions)
      actions_.pop_front();
  }
  if (observer_)
    observer_(action);
  std::shared_lock lock(live_mutex_);
  if (live_)
    return live_(action);
  return Json(true);
}

void ChatDomain::set_live_handler(std::function<Result<Json>(const ChatAction&)> handler) {
  std::unique_lock lock(live_mutex_);
  live_ = std::move(handler);
}

Status ChatDomain::declare(Host& host) {
  for (PluginKindSpec& kind : chat_plugin_kinds()) {
    if (Status s = host.declare_kind(std::move(kind)); !s.ok())
      return s;
  }
  for (EventSpec& event : chat_events()) {
    if (Status s = host.declare_event(std::move(event)); !s.ok())
      return s;
  }
  auto text_function = [this](const std::string& name, std::string capability,
                              std::string description) {
    return HostFunctionSpec{name, std::move(capability), std::move(description),
                            [this, name](const HostCall& call, const Json& args) -> Result<Json> {
                              HostArgs a(name, args);
                              if (Status s = a.expect_count(1, 1); !s.ok())
                                return s.error();
                              auto text = a.string_at(0, "text", kMaxChatText);
                              if (!text.ok())
                                return text.error();
                              if (text->empty())
                                return a.invalid(0, "text", "must not be empty");
                              return record(call, name, *text);
                            }};
  };
  std::vector<HostFunctionSpec> functions = {
      text_function("chat.send", "chat.send", "Posts a chat message as the plugin's bot user."),
      text_function("chat.sendAction", "chat.send", "Posts an action (/me) message."),
      text_function("chat.system", "chat.system", "Posts a system message."),
      {"chat.moderate", "chat.moderate",
       "Moderates: {action: delete|timeout|ban, messageId?, userId?, durationSeconds?, reason?}.",
       [this](const HostCall& call, const Json& args) -> Result<Json> {
         HostArgs a("chat.moderate", args);
         if (Status s = a.expect_count(1, 1); !s.ok())
           return s.error();
         const Json& request = a.at(0);
         if (!request.is_object())
           return a.invalid(0, "request", "must be an object");
         // value("action", "") throws on a non-string; a plugin may send anything.
         const Json& action_value = request.value("action", Json());
         std::string action = action_value.is_string() ? action_value.get<std::string>() : "";
         auto missing = [&](const char* field) {
           return a.invalid(0, "request", std::string("needs \"") + field + "\" for " + action);
         };
         if (action == "delete") {
           if (!request.contains("messageId") || !request["messageId"].is_string()) {
             return missing("messageId");
           }
         } else if (action == "timeout" || action == "ban") {
           if (!request.contains("userId") || !request["userId"].is_string()) {
             return missing("userId");
           }
           if (action == "timeout") {
             const Json& seconds = request.value("durationSeconds", Json());
             if (!seconds.is_number_integer() || seconds.get<int64_t>() < 1 ||
                 seconds.get<int64_t>() > kMaxTimeoutSeconds) {
               return a.invalid(0, "request",
                                "needs \"durationSeconds\" from 1 to 1209600 for timeout");
             }
           }
         } else {
           return a.invalid(0, "request",
                            "\"action\" must be \"delete\", \"timeout\" or \"ban\", got " +
                                dump_short(request.value("action", Json())));
         }
         return record(call, "chat.moderate", request);
       }},
      {"chat.defer", "chat.send",
       "Carries out a trigger answer {action, message?, duration?, user_id?, message_id?} "
       "after delaySeconds (1 to 3600), as ctx.defer() does in seeds/001.",
       [this](const HostCall& call, const Json& args) -> Result<Json> {
         HostArgs a("chat.defer", args);
         if (Status s = a.expect_count(2, 2); !s.ok())
           return s.error();
         const Json& delay = a.at(0);
         if (!delay.is_number_integer() || delay.get<int64_t>() < 1 ||
             delay.get<int64_t>() > kMaxDeferSeconds) {
           return a.invalid(0, "delaySeconds", "must be whole seconds from 1 to 3600");
         }
         const Json& action = a.at(1);
         if (!action.is_object() || !action.contains("action") || !action["action"].is_string())
           return a.invalid(1, "action", "must be an object with a string \"action\"");
         return record(call, "chat.defer", {{"delaySeconds", delay}, {"action", action}});
       }},
  };
  for (HostFunctionSpec& function : functions) {
    if (Status s = host.declare_host_function(std::move(function)); !s.ok())
      return s;
  }
  return {};
}

std::vector<std::string> ChatDomain::recording_names() const {
  // chatSystems: the name Owncast plugin projects' tests use for systemMessages.
  return {"chatSends", "chatActions", "systemMessages", "chatSystems", "moderations", "deferred"};
}

Json ChatDomain::owncast_payload(const std::string& event, const Json& payload) const {
  bool user_event = event == "chat.user.joined" || event == "chat.user.parted";
  if (user_event && payload.is_object() && !payload.contains("user") && payload.contains("id"))
    return Json{{"user", payload}};
  // The plugin SDK's first releases name a message's user by a string.
  if (event == "chat.message.received" && payload.is_object() && payload.contains("user") &&
      payload["user"].is_string()) {
    Json message = payload;
    message["user"] = {{"id", payload["user"]}, {"displayName", payload["user"]}};
    return message;
  }
  return payload;
}

Json ChatDomain::recorded(const std::string& name) const {
  const char* function = name == "chatSends"        ? "chat.send"
                         : name == "chatActions"    ? "chat.sendAction"
                         : name == "systemMessages" ? "chat.system"
                         : name == "chatSystems"    ? "chat.system"
                         : name == "moderations"    ? "chat.moderate"
                         : name == "deferred"       ? "chat.defer"
                                                    : nullptr;
  if (function == nullptr)
    return nullptr;
  Json list = Json::array();
  std::lock_guard lock(mutex_);
  for (const ChatAction& action : actions_) {
    if (action.function == function)
      list.push_back(action.arguments);
  }
  return list;
}

void ChatDomain::reset() {
  std::lock_guard lock(mutex_);
  actions_.clear();
}

std::vector<ChatAction> ChatDomain::actions() const {
  std::lock_guard lock(mutex_);
  return {actions_.begin(), actions_.end()};
}

}  // namespace outlet::chat
