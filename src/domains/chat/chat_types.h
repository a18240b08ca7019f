// The values of live chat: users, messages and sanctions, with the two JSON shapes
// each one has. The /v1 API speaks snake_case (`display_name`); plugins see the
// payloads of seeds/003 (`displayName`), which the event catalogue's schemas describe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "outlet/json.h"
#include "outlet/result.h"

namespace outlet::chat {

inline constexpr size_t kMaxChatText = 4096;
inline constexpr size_t kMaxUserIdBytes = 128;
inline constexpr size_t kMaxDisplayNameBytes = 128;
inline constexpr int64_t kMaxTimeoutSeconds = int64_t{14} * 24 * 3600;
inline constexpr size_t kMaxReasonBytes = 256;     // a sanction's reason, cut beyond
inline constexpr int64_t kMaxDeferSeconds = 3600;  // chat.defer's longest delay

// The roles a chat user may hold, in order of rank.
const std::vector<std::string>& chat_roles();

struct ChatUser {
  std::string id;
  std::string display_name;
  std::vector<std::string> roles;  // from chat_roles(); empty means viewer

  bool has_role(std::string_view role) const;
  // Broadcasters and moderators: what a plugin may not time out or ban.
  bool is_staff() const;
  Json api_json() const;     // {id, display_name, roles}
  Json plugin_json() const;  // {id, displayName, roles}
};

// Reads a user from the API ({id, display_name?, roles?}); a bad field is named by
// `path` and the rule it breaks. Unknown fields are refused so that typos show.
Result<ChatUser> parse_api_user(const Json& value, const std::string& path);

enum class MessageKind { kChat, kAction, kSystem };
std::string_view message_kind_name(MessageKind kind);

struct ChatMessage {
  std::string id;
  MessageKind kind = MessageKind::kChat;
  ChatUser user;
  std::string body;
  int64_t at_ms = 0;      // Unix time in milliseconds
  std::string plugin_id;  // set when a plugin sent it (its bot identity)

  Json api_json() const;     // {id, kind, body, user, timestamp, plugin_id?}
  Json plugin_json() const;  // the chat.message.received payload: {id, body, user, timestamp}
};

// A message as stored (api_json) read back; the store is trusted but checked.
Result<ChatMessage> message_from_api_json(const Json& value);

// A message id a client chose: 1 to 64 of [A-Za-z0-9_-], so ids are safe in URLs.
bool is_valid_message_id(std::string_view id);

enum class SanctionKind { kTimeout, kBan };

struct Sanction {
  std::string user_id;
  SanctionKind kind = SanctionKind::kTimeout;
  int64_t since_ms = 0;
  int64_t until_ms = 0;  // a ban: 0, until lifted
  std::string reason;
  std::string by;  // "operator", or the plugin's id

  bool active_at(int64_t now_ms) const { return until_ms == 0 || now_ms < until_ms; }
  Json api_json() const;
};

std::string_view sanction_kind_name(SanctionKind kind);

}  // namespace outlet::chat
