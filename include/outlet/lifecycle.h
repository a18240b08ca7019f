// Plugin lifecycle states (seeds/002): discovered → validated → blocked | loading →
// ready → loaded → failed | unloading → unloaded → disabled. Every transition is
// checked against the table in lifecycle.cpp and carries a reason when it is bad news.
#pragma once

#include <chrono>
#include <deque>
#include <string>
#include <string_view>

#include "outlet/result.h"

namespace outlet {

enum class PluginState {
  kDiscovered,  // a manifest was found
  kValidated,   // the manifest and kind rules passed
  kBlocked,     // cannot activate: missing dependency, conflict, cycle, or unapproved grants
  kLoading,     // the runtime is instantiating the plugin
  kReady,       // instantiated; subscriptions checked against the manifest
  kLoaded,      // subscribed: receiving events
  kFailed,      // loading failed, or auto-disabled after strikes
  kUnloading,
  kUnloaded,
  kDisabled,  // switched off by the operator
};

std::string_view plugin_state_name(PluginState state);
bool is_transition_allowed(PluginState from, PluginState to);

struct StateChange {
  PluginState from;
  PluginState to;
  std::string reason;
  std::chrono::system_clock::time_point at;
};

// One plugin's state with a bounded history. Not thread-safe: the owner locks.
class Lifecycle {
 public:
  PluginState state() const { return state_; }
  // Why the plugin is blocked, failed or disabled ("" otherwise).
  const std::string& reason() const { return reason_; }
  const std::deque<StateChange>& history() const { return history_; }

  // Refuses a transition the table does not allow (a programmer error, reported as a value).
  Result<StateChange> transition(PluginState to, std::string reason = "");

 private:
  static constexpr size_t kHistoryLimit = 32;
  PluginState state_ = PluginState::kDiscovered;
  std::string reason_;
  std::deque<StateChange> history_;
};

}  // namespace outlet
