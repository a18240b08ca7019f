// Live chat for one tenant: what `outlet serve` runs. A message from a client is
// checked (sanctions), passed through the filter chain, stored, broadcast to the
// connected clients, notified to plugins, and matched against bot triggers; plugins'
// chat host functions (chat.send, chat.moderate, chat.defer) act on it for real.
//
//   auto room = ChatRoom::open(*host, domain, {.store_path = dir + "/chat.sqlite3"});
//   auto id = (*room)->subscribe([](const Json& frame) { ... });   // a client
//   auto outcome = (*room)->post({{"body", "hi"}, {"user", {{"id", "ann"}}}});
//
// Every method may be called from any thread; plugin code never runs under the
// room's lock. Bot messages (a plugin's chat.send, a trigger's send_message) are
// stored and broadcast but not given to plugins again, so two bots cannot talk to
// each other forever.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "domains/chat/chat_domain.h"
#include "domains/chat/chat_store.h"
#include "domains/chat/chat_types.h"
#include "domains/chat/trigger_executor.h"
#include "outlet/host.h"

namespace outlet::chat {

struct ChatRoomOptions {
  std::string store_path;  // empty: in memory
  std::string tenant = "default";
  size_t history_limit = 1000;
  size_t max_tracked_users = 100000;  // beyond: users not present are forgotten, oldest first
  std::function<int64_t()> now_ms;    // Unix ms; default the system clock (tests set it)
};

struct PostOutcome {
  bool accepted = false;
  ChatMessage message;     // as stored (filters may have changed the body)
  std::string dropped_by;  // when a filter dropped it: the plugin and its reason
  std::string reason;
};

// A frame for clients: {type: message|deleted|sanction|lifted|joined|parted|stream, ...}.
using ChatListener = std::function<void(const Json& frame)>;

class ChatRoom : public ChatActions {
 public:
  static Result<std::unique_ptr<ChatRoom>> open(Host& host, ChatDomain& domain,
                                                ChatRoomOptions options);
  ~ChatRoom() override;  // stop()
  ChatRoom(const ChatRoom&) = delete;
  ChatRoom& operator=(const ChatRoom&) = delete;

  // --- Messages ---
  // From a client, in the API's shape: {body, user: {id, display_name?, roles?}, id?}.
  // Bad input is kInvalidArgument naming the field; a sanctioned user kPermissionDenied.
  Result<PostOutcome> post(const Json& message);
  Result<std::vector<ChatMessage>> history(size_t limit) const;

  // --- ChatActions (triggers, plugins' host functions, the operator) ---
  Result<ChatMessage> send_as_bot(const std::string& plugin_id, MessageKind kind,
                                  const std::string& text) override;
  Result<bool> delete_message(const std::string& id, const std::string& by) override;
  // `by` "operator" may sanction anyone; a plugin may not sanction staff.
  Result<Sanction> sanction(const std::string& user_id, SanctionKind kind, int64_t seconds,
                            const std::string& reason, const std::string& by) override;
  Result<bool> lift(const std::string& user_id, const std::string& by);
  std::vector<Sanction> sanctions();  // in force now

  // --- Presence and the stream ---
  Status join(const Json& user);  // the API's user shape
  Status part(const std::string& user_id);
  Json users() const;  // {id, display_name, roles, present, last_seen, messages}
  Status set_live(bool live, const Json& info);
  bool live() const;
  // Any notifiable event of the catalogue, posted by the operator; joins, parts and
  // stream start/stop go through join(), part() and set_live().
  Status post_event(const std::string& event, const Json& payload);

  // --- Clients ---
  uint64_t subscribe(ChatListener listener);
  void unsubscribe(uint64_t id);
  size_t clients() const;

  TriggerExecutor& triggers() { return *triggers_; }
  const std::string& tenant() const { return options_.tenant; }
  // Detaches from the domain's host functions and stops timers; idempotent.
  void stop();

 private:
  struct TrackedUser {
    ChatUser user;
    bool present = false;
    int64_t last_seen_ms = 0;
    uint64_t messages = 0;
  };

  ChatRoom(Host& host, ChatDomain& domain, ChatRoomOptions options);
  Result<Json> perform(const ChatAction& action);  // the domain's live host functions
  void broadcast(const Json& frame);
  std::string new_message_id();
  void touch(const ChatUser& user, bool present, bool counted);                  // requires mutex_
  std::optional<Sanction> sanction_of(const std::string& user_id, int64_t now);  // mutex_
  // Forgets a tenth (absent, longest unseen first; never `keep`); requires mutex_.
  void forget_users(const std::string& keep);

  // How the host's state observer reaches the room while it runs.
  struct Link {
    std::mutex mutex;
    ChatRoom* room = nullptr;  // guarded by mutex; null once stopped
  };

  Host& host_;
  ChatDomain& domain_;
  ChatRoomOptions options_;
  std::shared_ptr<Link> link_;
  std::unique_ptr<ChatStore> store_;
  std::unique_ptr<TriggerExecutor> triggers_;

  mutable std::mutex mutex_;
  std::map<std::string, TrackedUser> users_;                           // guarded
  std::map<std::string, Sanction> sanctions_;                          // guarded
  std::map<uint64_t, std::shared_ptr<const ChatListener>> listeners_;  // guarded
  uint64_t next_listener_ = 1;                                         // guarded
  bool live_ = false;                                                  // guarded
  std::mt19937_64 ids_;                                                // guarded
  bool stopped_ = false;                                               // guarded
};

}  // namespace outlet::chat
