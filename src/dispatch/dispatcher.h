// Delivers events to loaded plugins by hook kind (DESIGN.md, "Hook kinds").
//
// Threading: filter, collect, dispatch and request run on the caller's thread
// (no thread hop on the hot path); notify runs on a fixed worker pool. Every call
// into one plugin takes that plugin's call mutex, so calls into one plugin are
// serialized whichever thread makes them, and different plugins run in parallel.
// An emit re-enters as a notify, which only queues: a plugin that emits to
// itself mid-call gets the event after the current call returns, never a deadlock.
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "dispatch/call_stats.h"
#include "dispatch/event_catalogue.h"
#include "dispatch/plugin_instance.h"
#include "dispatch/worker_pool.h"
#include "outlet/dispatch.h"
#include "outlet/manifest.h"

namespace outlet {

struct DispatchOptions {
  size_t worker_threads = 2;
  // Consecutive failures (on any hook kind) before a plugin is auto-disabled.
  uint32_t strike_limit = 5;
  // An emit at this depth is dropped (seeds/003 MaxEmitDepth).
  int max_emit_depth = 8;
  // Notifications waiting for one plugin; more are dropped with a warning.
  size_t max_queued_per_plugin = 10000;
  // Per-call timeouts by HookKind; these are also the maxima a manifest may lower.
  std::array<uint32_t, 5> timeout_ms = {500, 50, 100, 100, 5000};
};

struct DispatchObservers {
  // A plugin reached the strike limit; it no longer receives calls.
  std::function<void(const std::string& plugin_id, const std::string& reason)> on_auto_disable;
  // A call failed or an event was dropped; `hook` is e.g. "filter chat.message.received".
  std::function<void(const std::string& plugin_id, const std::string& hook,
                     const std::string& message)>
      on_warning;
};

class Dispatcher {
 public:
  Dispatcher(const EventCatalogue& catalogue, DispatchOptions options, DispatchObservers observers);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Starts delivering `subscriptions` to `instance`. `load_index` orders collect,
  // dispatch and notify delivery (activation order).
  Status attach(std::shared_ptr<const Manifest> manifest, std::unique_ptr<PluginInstance> instance,
                std::vector<Subscription> subscriptions, int load_index);
  // Stops delivery; waits for a call in flight; queued notifications are dropped.
  void detach(std::string_view plugin_id);
  // Stops delivery at once without waiting, and returns what waits for the call in
  // flight (empty if the plugin was not attached). For callers holding a lock that
  // the plugin's call might need: they release it, then wait.
  std::function<void()> detach_later(std::string_view plugin_id);
  // Swaps in a new instance of an attached plugin in one step, so no event finds
  // the plugin missing (hot reload). The new instance keeps the old one's load
  // order and starts with fresh strikes; the returned function waits for the old
  // instance's call in flight and destroys it, as detach_later's does.
  Result<std::function<void()>> replace(std::shared_ptr<const Manifest> manifest,
                                        std::unique_ptr<PluginInstance> instance,
                                        std::vector<Subscription> subscriptions);
  bool is_attached(std::string_view plugin_id) const;
  // Renumbers collect/dispatch/notify order to follow `order` (activation order).
  void set_load_order(const std::vector<std::string>& order);
  // Attached and not stopped by strikes.
  bool is_active(std::string_view plugin_id) const;

  FilterOutcome filter(std::string_view event, Json payload);
  // Queues the event for every notify subscriber; returns how many were queued.
  size_t notify(std::string_view event, Json payload, int depth = 0);
  std::vector<Contribution> collect(std::string_view event, const Json& payload);
  DispatchOutcome dispatch(std::string_view event, const Json& payload);
  Result<Json> request(std::string_view plugin_id, std::string_view event, const Json& payload);
  // A function the plugin exports, by name, under the request hook's limits.
  Result<std::string> call_export(std::string_view plugin_id, std::string_view name,
                                  std::string_view input);

  // Blocks until every queued notification (and everything they emitted) ran.
  void wait_idle();

  std::optional<PluginCallStats> stats(std::string_view plugin_id) const;
  std::vector<std::string> subscribers(std::string_view event, HookKind kind) const;
  const DispatchOptions& options() const { return options_; }
  int max_emit_depth() const { return options_.max_emit_depth; }

 private:
  struct Slot;
  struct Table;
  using SlotPtr = std::shared_ptr<Slot>;

  std::shared_ptr<const Table> table() const;
  void rebuild_table();  // requires slots_mutex_
  SlotPtr make_slot(std::shared_ptr<const Manifest> manifest,
                    std::unique_ptr<PluginInstance> instance,
                    std::vector<Subscription> subscriptions, int load_index);
  Result<Json> invoke(Slot& slot, HookKind kind, std::string_view event, const Json& payload,
                      int depth);
  // One serialized, timed, counted call into the slot's instance.
  Result<Json> invoke_with(Slot& slot, HookKind kind, std::string_view event, int depth,
                           const std::function<Result<Json>(const CallContext&)>& run);
  void record_failure(Slot& slot, HookKind kind, std::string_view event, const Error& error);
  void record_success(Slot& slot);

  const EventCatalogue& catalogue_;
  DispatchOptions options_;
  DispatchObservers observers_;

  mutable std::mutex slots_mutex_;
  std::map<std::string, SlotPtr, std::less<>> slots_;  // guarded by slots_mutex_
  mutable std::mutex table_mutex_;
  std::shared_ptr<const Table> table_;  // guarded by table_mutex_; replaced, never mutated

  // Declared last: destroyed first, so queued work finishes while slots still exist.
  std::unique_ptr<WorkerPool> pool_;
};

}  // namespace outlet
