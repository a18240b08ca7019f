// The chat-and-streaming domain of the reference server (seeds/001 and seeds/003):
// its plugin kinds, its event catalogue, and its host functions. The host functions
// record what plugins asked for (scenario tests read the recordings); when a live
// chat is attached (ChatRoom, in `outlet serve`), they also act on it.
#pragma once

#include <deque>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "outlet/host.h"
#include "testing/scenario_domain.h"

namespace outlet::chat {

// One call a plugin made to a chat host function.
struct ChatAction {
  std::string plugin_id;
  std::string function;  // chat.send, chat.sendAction, chat.system, chat.moderate, chat.defer
  Json arguments;        // the text, the moderation object, or {delaySeconds, action}
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
  // Where actions go when a live chat runs: its answer becomes the host function's
  // result. Null detaches, after waiting for calls in flight.
  void set_live_handler(std::function<Result<Json>(const ChatAction&)> handler);

 private:
  Result<Json> record(const HostCall& call, std::string function, Json arguments);

  mutable std::mutex mutex_;
  // guarded by mutex_; the newest kMaxRecordedActions, so a long run stays bounded
  std::deque<ChatAction> actions_;
  std::function<void(const ChatAction&)> observer_;
  std::shared_mutex live_mutex_;  // shared by calls, exclusive to change the handler
  std::function<Result<Json>(const ChatAction&)> live_;  // guarded by live_mutex_
};

}  // namespace outlet::chat
