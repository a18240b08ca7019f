#include "outlet/lifecycle.h"

namespace outlet {

std::string_view plugin_state_name(PluginState state) {
  switch (state) {
    case PluginState::kDiscovered:
      return "discovered";
    case PluginState::kValidated:
      return "validated";
    case PluginState::kBlocked:
      return "blocked";
    case PluginState::kLoading:
      return "loading";
    case PluginState::kReady:
      return "ready";
    case PluginState::kLoaded:
      return "loaded";
    case PluginState::kFailed:
      return "failed";
    case PluginState::kUnloading:
      return "unloading";
    case PluginState::kUnloaded:
      return "unloaded";
    case PluginState::kDisabled:
      return "disabled";
  }
  return "unknown";
}

bool is_transition_allowed(PluginState from, PluginState to) {
  using S = PluginState;
  switch (from) {
    case S::kDiscovered:
      return to == S::kValidated || to == S::kFailed || to == S::kDisabled;
    case S::kValidated:
      // -> failed: an auto-disable remembered across a restart, without a fake load.
      return to == S::kBlocked || to == S::kLoading || to == S::kDisabled || to == S::kFailed;
    case S::kBlocked:
      return to == S::kValidated || to == S::kDisabled;
    case S::kLoading:
      return to == S::kReady || to == S::kFailed;
    case S::kReady:
      return to == S::kLoaded || to == S::kFailed || to == S::kUnloading;
    case S::kLoaded:
      return to == S::kUnloading || to == S::kFailed;
    case S::kFailed:
      return to == S::kUnloading || to == S::kValidated || to == S::kDisabled;
    case S::kUnloading:
      return to == S::kUnloaded;
    case S::kUnloaded:
      return to == S::kValidated || to == S::kDisabled || to == S::kDiscovered;
    case S::kDisabled:
      return to == S::kValidated || to == S::kDiscovered;
  }
  return false;
}

Result<StateChange> Lifecycle::transition(PluginState to, std::string reason) {
  if (!is_transition_allowed(state_, to)) {
    return Error(ErrorCode::kFailedPrecondition, "cannot move a plugin from " +
                                                     std::string(plugin_state_name(state_)) +
                                                     " to " + std::string(plugin_state_name(to)));
  }
  StateChange change{state_, to, reason, std::chrono::system_clock::now()};
  state_ = to;
  bool keeps_reason =
      to == PluginState::kBlocked || to == PluginState::kFailed || to == PluginState::kDisabled;
  reason_ = keeps_reason ? std::move(reason) : "";
  history_.push_back(change);
  if (history_.size() > kHistoryLimit)
    history_.pop_front();
  return change;
}

}  // namespace outlet
