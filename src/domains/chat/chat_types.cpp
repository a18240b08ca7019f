#include "domains/chat/chat_types.h"

#include <algorithm>

#include "core/text.h"

namespace outlet::chat {
namespace {

Error invalid(const std::string& path, const std::string& rule) {
  return Error(ErrorCode::kInvalidArgument, path + " " + rule, {{path, rule}});
}

Result<std::string> text_field(const Json& object, const std::string& path, const char* name,
                               size_t max_bytes, bool required) {
  const std::string field = path + "." + name;
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    if (required)
      return invalid(field, "is required");
    return std::string();
  }
  if (!it->is_string())
    return invalid(field, "must be a string");
  const auto& text = it->get_ref<const std::string&>();
  if (required && text.empty())
    return invalid(field, "must not be empty");
  if (text.size() > max_bytes)
    return invalid(field, "must be at most " + std::to_string(max_bytes) + " bytes");
  return text;
}

}  // namespace

const std::vector<std::string>& chat_roles() {
  static const std::vector<std::string> roles = {"broadcaster", "moderator", "vip",
                                                 "subscriber",  "viewer",    "bot"};
  return roles;
}

bool ChatUser::has_role(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

bool ChatUser::is_staff() const {
  return has_role("broadcaster") || has_role("moderator");
}

Json ChatUser::api_json() const {
  return {{"id", id}, {"display_name", display_name}, {"roles", roles}};
}

Json ChatUser::plugin_json() const {
  return {{"id", id}, {"displayName", display_name}, {"roles", roles}};
}

Result<ChatUser> parse_api_user(const Json& value, const std::string& path) {
  if (!value.is_object())
    return invalid(path, "must be an object");
  for (const auto& [name, field] : value.items()) {
    if (name != "id" && name != "display_name" && name != "roles") {
      return invalid(path + "." + name, "is not a user field (expected id, display_name or roles)");
    }
  }
  ChatUser user;
  auto id = text_field(value, path, "id", kMaxUserIdBytes, true);
  if (!id.ok())
    return id.error();
  user.id = std::move(*id);
  auto name = text_field(value, path, "display_name", kMaxDisplayNameBytes, false);
  if (!name.ok())
    return name.error();
  user.display_name = name->empty() ? user.id : std::move(*name);
  if (auto roles = value.find("roles"); roles != value.end() && !roles->is_null()) {
    if (!roles->is_array())
      return invalid(path + ".roles", "must be an array of role names");
    for (size_t i = 0; i < roles->size(); ++i) {
      const Json& role = (*roles)[i];
      const std::string role_path = path + ".roles[" + std::to_string(i) + "]";
      const auto& known = chat_roles();
      if (!role.is_string() ||
          std::find(known.begin(), known.end(), role.get<std::string>()) == known.end()) {
        return invalid(role_path,
                       "must be one of broadcaster, moderator, vip, subscriber, "
                       "viewer, bot; got " +
                           dump_short(role));
      }
      // "bot" is the identity of plugins' own messages; a client cannot claim it.
      if (role == "bot")
        return invalid(role_path, "is reserved for plugins' bot users");
      if (!user.has_role(role.get<std::string>()))
        user.roles.push_back(role.get<std::string>());
    }
  }
  if (user.roles.empty())
    user.roles.emplace_back("viewer");
  return user;
}

std::string_view message_kind_name(MessageKind kind) {
  switch (kind) {
    case MessageKind::kChat:
      return "chat";
    case MessageKind::kAction:
      return "action";
    case MessageKind::kSystem:
      return "system";
  }
  return "chat";
}

Json ChatMessage::api_json() const {
  Json json = {{"id", id},
               {"kind", message_kind_name(kind)},
               {"body", body},
               {"user", user.api_json()},
               {"timestamp", iso8601_utc(at_ms)},
               {"at_ms", at_ms}};
  if (!plugin_id.empty())
    json["plugin_id"] = plugin_id;
  return json;
}

Json ChatMessage::plugin_json() const {
  return {
      {"id", id}, {"body", body}, {"user", user.plugin_json()}, {"timestamp", iso8601_utc(at_ms)}};
}

Result<ChatMessage> message_from_api_json(const Json& value) {
  try {
    ChatMessage message;
    message.id = value.at("id").get<std::string>();
    const std::string kind = value.at("kind").get<std::string>();
    message.kind = kind == "action"   ? MessageKind::kAction
                   : kind == "system" ? MessageKind::kSystem
                                      : MessageKind::kChat;
    message.body = value.at("body").get<std::string>();
    const Json& user = value.at("user");
    message.user.id = user.at("id").get<std::string>();
    message.user.display_name = user.at("display_name").get<std::string>();
    message.user.roles = user.at("roles").get<std::vector<std::string>>();
    message.at_ms = value.at("at_ms").get<int64_t>();
    message.plugin_id = value.value("plugin_id", "");
    return message;
  } catch (const Json::exception& e) {
    return Error(ErrorCode::kUnavailable,
                 std::string("stored chat message is corrupt: ") + e.what());
  }
}

bool is_valid_message_id(std::string_view id) {
  if (id.empty() || id.size() > 64)
    return false;
  return std::all_of(id.begin(), id.end(),
                     [](unsigned char c) { return std::isalnum(c) != 0 || c == '_' || c == '-'; });
}

std::string_view sanction_kind_name(SanctionKind kind) {
  return kind == SanctionKind::kBan ? "ban" : "timeout";
}

Json Sanction::api_json() const {
  Json json = {{"user_id", user_id},
               {"action", sanction_kind_name(kind)},
               {"since", iso8601_utc(since_ms)},
               {"reason", reason},
               {"by", by}};
  json["until"] = until_ms == 0 ? Json(nullptr) : Json(iso8601_utc(until_ms));
  return json;
}
}  // namespace outlet::chat
