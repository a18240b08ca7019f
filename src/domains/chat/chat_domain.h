// The chat-and-streaming domain of the reference server (seeds/001 and seeds/003):
// its plugin kinds, its event catalogue, and its host functions. In this issue the
// host functions record what plugins asked for; the server wires them to real chat.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "outlet/host.h"
#include "testing/scenario_domain.h"

namespace outlet::chat {

// One call a plugin made to a chat host function.
struct ChatAction {
  std::string plugin_id;
  std::string function;  // chat.send, chat.sendAction, chat.system, chat.moderate
  Json arguments;        // the text, or the moderation object
};

// The plugin kinds of seeds/000, with their validators.
std::vector<PluginKindSpec> chat_plugin_kinds();
// The events of seeds/003 and seeds/001, with payload schemas.
std::vector<EventSpec> chat_events();

class ChatDomain : public ScenarioDomain {
 public:
  static constexpr size_t kMaxRecordedActions = 10000;

  Status declare(Host& host) override;
  std::vector<std::string> recording_names() const override;
  Json recorded(const std::string& name) const override;
  void reset() override;
  // Owncast's user events carry the user itself; Outlet's carry {user}.
  Json owncast_payload(const std::string& event, const Json& payload) const override;

  std::vector<ChatAction> actions() const;
  // Called for every action as it happens (the CLI prints them).
  void on_action(std::function<void(const ChatAction&)> observer) {
    observer_ = std::move(observer);
  }

 private:
  Result<Json> record(const HostCall& call, std::string function, Json arguments);

  mutable std::mutex mutex_;
  // guarded by mutex_; the newest kMaxRecordedActions, so a long run stays bounded
  std::deque<ChatAction> actions_;
  std::function<void(const ChatAction&)> observer_;
};

}  // namespace outlet::chat
