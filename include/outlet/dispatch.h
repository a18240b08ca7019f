// What a dispatch returns to the host application, per hook kind.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "outlet/hook.h"
#include "outlet/json.h"

namespace outlet {

// What one plugin did in a filter chain.
enum class FilterAction { kPass, kModify, kDrop, kFailed };
std::string_view filter_action_name(FilterAction action);

struct FilterStep {
  std::string plugin_id;
  FilterAction action = FilterAction::kPass;
  std::string detail;  // the drop reason, or the failure
};

struct FilterOutcome {
  bool dropped = false;
  Json payload;            // the payload after every modification (unchanged when dropped)
  std::string dropped_by;  // plugin id
  std::string reason;      // drop reason
  std::vector<FilterStep> steps;
};

// One subscriber's answer to a collect hook, in load order.
struct Contribution {
  std::string plugin_id;
  Json value;
};

// Merge helpers for collect results (DESIGN.md "Hook kinds": concat, first-wins, last-wins, OR).
Json merge_concat(
    const std::vector<Contribution>& contributions);  // arrays concatenated; single values appended
Json merge_first_wins(const std::vector<Contribution>& contributions);  // first non-null
Json merge_last_wins(const std::vector<Contribution>& contributions);   // last non-null
bool merge_any(const std::vector<Contribution>& contributions);         // OR of truthy values

// seeds/004 dispatch merge: booleans OR-ed, arrays concatenated, objects merged key
// by key with the same rules, any other value: the first plugin to set it wins.
Json merge_dispatch_results(const std::vector<Contribution>& contributions);

struct DispatchOutcome {
  Json merged;  // object, per merge_dispatch_results
  std::vector<Contribution> results;
};

// Counters for one plugin and hook kind.
struct HookStats {
  uint64_t calls = 0;
  uint64_t failures = 0;
  uint64_t timeouts = 0;
  double p50_us = 0;
  double p90_us = 0;
  double p99_us = 0;
  double max_us = 0;
  // For a Prometheus histogram: calls that took at most each bound (cumulative), and
  // the total time of all calls.
  std::vector<std::pair<double, uint64_t>> latency_le_seconds;
  double latency_sum_seconds = 0;
};

// The bounds HookStats::latency_le_seconds counts at, in seconds (+Inf is `calls`).
const std::vector<double>& latency_bucket_bounds_seconds();

struct PluginCallStats {
  std::array<HookStats, 5> by_kind;  // indexed by HookKind
  uint64_t consecutive_failures = 0;
  uint64_t strikes = 0;  // failures since load (or since re-enable)
  // What the plugin's instance holds (a Lua state's bytes), as of its last call;
  // 0 when the runtime cannot tell (native plugins).
  uint64_t memory_bytes = 0;
};

}  // namespace outlet
