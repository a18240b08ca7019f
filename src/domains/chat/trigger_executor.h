// Bot triggers, live (seeds/001): the active plugins' triggers in one TriggerMatcher,
// the matched trigger's `chat.trigger` request, and the action its handler answers,
// carried out on the chat. Also cooldowns, timer triggers while the stream is live,
// and actions deferred by `chat.defer`.
//
// Order per message: every moderate trigger (a gate: one that answers delete,
// timeout or ban ends the message's run), then the first command, keyword or pattern
// that matches. Per event: the first event trigger naming it. "First" is the
// matcher's order: plugins by id, each plugin's triggers as its manifest lists them.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "dispatch/timer_queue.h"
#include "dispatch/trigger_matcher.h"
#include "domains/chat/chat_types.h"
#include "outlet/host.h"

namespace outlet::chat {

// What triggers do to the chat; the ChatRoom implements it. `by` is the plugin id.
class ChatActions {
 public:
  virtual ~ChatActions() = default;
  virtual Result<ChatMessage> send_as_bot(const std::string& plugin_id, MessageKind kind,
                                          const std::string& text) = 0;
  virtual Result<bool> delete_message(const std::string& id, const std::string& by) = 0;
  virtual Result<Sanction> sanction(const std::string& user_id, SanctionKind kind, int64_t seconds,
                                    const std::string& reason, const std::string& by) = 0;
};

class TriggerExecutor {
 public:
  static constexpr size_t kMaxDeferredPerPlugin = 100;

  TriggerExecutor(Host& host, ChatActions& actions, std::function<int64_t()> now_ms);
  ~TriggerExecutor();  // stop()
  TriggerExecutor(const TriggerExecutor&) = delete;
  TriggerExecutor& operator=(const TriggerExecutor&) = delete;

  // The active plugins or their manifests changed: the next use rebuilds the matcher
  // (and, while live, the timers are rescheduled at once).
  void invalidate();
  // An accepted message (stored, broadcast, notified).
  void on_message(const ChatMessage& message);
  void on_event(std::string_view event, const Json& payload);
  // Timer triggers fire on their interval while live.
  void set_live(bool live);
  // `chat.defer`: runs `action` (a trigger answer) for `plugin_id` after `delay_ms`.
  Status defer(const std::string& plugin_id, int64_t delay_ms, Json action);
  // The active triggers with their counters, for GET /v1/chat/triggers.
  Json describe();
  // Stops timers and deferred actions; nothing runs afterwards.
  void stop();

 private:
  struct Counters {
    uint64_t matched = 0;
    uint64_t cooled_down = 0;  // matched within a cooldown: no call
    uint64_t failed = 0;       // the call failed (the host counts a strike)
    uint64_t executed = 0;     // actions carried out (none included)
    uint64_t refused = 0;      // answers the host would not carry out
    std::string last_problem;
  };
  // The context an answer is carried out in: the message and user it is about.
  struct Subject {
    const ChatMessage* message = nullptr;
    const ChatUser* user = nullptr;
  };

  std::shared_ptr<const TriggerMatcher> matcher();
  std::shared_ptr<const TriggerMatcher> rebuild();
  bool cooldown_allows(const TriggerRef& trigger, const std::string& user_id);
  // Calls the trigger's plugin and carries out its answer; true when the answer gated
  // the message (delete, timeout or ban).
  bool fire(const TriggerRef& trigger, Json payload, const Subject& subject);
  bool carry_out(const PluginStatus& status, const std::string& key, const Json& answer,
                 const Subject& subject);
  void refuse(const std::string& key, const std::string& problem);
  Counters& counters(const std::string& key);  // requires mutex_
  void reschedule_timers();
  void schedule_timer(const std::string& key, uint32_t interval_seconds);  // requires mutex_
  void fire_timer(const std::string& key);

  Host& host_;
  ChatActions& actions_;
  std::function<int64_t()> now_ms_;

  std::mutex mutex_;
  std::shared_ptr<const TriggerMatcher> matcher_;                // guarded; null: rebuild
  uint64_t generation_ = 0;                                      // guarded; per invalidate()
  std::map<std::string, std::string> build_problems_;            // guarded; plugin → why
  std::unordered_map<std::string, Counters> counters_;           // guarded; by trigger key
  std::unordered_map<std::string, int64_t> last_fired_;          // guarded; cooldown keys
  std::map<std::string, TimerQueue::TaskId> timers_;             // guarded; by trigger key
  std::unordered_map<std::string, size_t> deferred_per_plugin_;  // guarded
  bool live_ = false;                                            // guarded
  bool timers_stale_ = false;                                    // guarded
  std::atomic<bool> stopped_{false};
  TimerQueue queue_;  // last: its thread stops first
};

// "<plugin>/<trigger id>", the name a trigger goes by in counters and the API.
std::string trigger_key(const TriggerRef& trigger);

}  // namespace outlet::chat
