#include "dispatch/dispatcher.h"

#include <algorithm>

#include "core/json_schema.h"
#include "core/text.h"

namespace outlet {

struct Dispatcher::Slot {
  std::string id;
  std::shared_ptr<const Manifest> manifest;
  std::unique_ptr<PluginInstance> instance;
  std::vector<Subscription> subscriptions;
  std::array<uint32_t, 5> timeout_ms{};
  int load_index = 0;
  std::shared_ptr<SerialMailbox> mailbox;

  std::mutex call_mutex;  // serializes every call into `instance`
  std::atomic<bool> active{true};
  std::atomic<uint64_t> consecutive_failures{0};
  std::atomic<uint64_t> strikes{0};
  std::atomic<uint64_t> memory_bytes{0};  // the instance's, after its last call
  std::array<HookCounters, 5> counters;
};

// Subscribers per event and kind, precomputed so dispatch does no sorting.
struct Dispatcher::Table {
  struct Entry {
    std::vector<SlotPtr> filters;  // by priority, then id
    std::vector<SlotPtr> notify;   // by load order
    std::vector<SlotPtr> collect;
    std::vector<SlotPtr> dispatch;
  };
  std::map<std::string, Entry, std::less<>> events;

  const Entry* find(std::string_view event) const {
    auto it = events.find(event);
    return it == events.end() ? nullptr : &it->second;
  }
};

namespace {

size_t kind_index(HookKind kind) {
  return static_cast<size_t>(kind);
}

std::string hook_label(HookKind kind, std::string_view event) {
  return std::string(hook_kind_name(kind)) + " " + std::string(event);
}

int priority_of(const std::vector<Subscription>& subscriptions, std::string_view event) {
  for (const Subscription& s : subscriptions) {
    if (s.kind == HookKind::kFilter && s.event == event)
      return s.priority;
  }
  return 100;
}

// The filter verdict protocol: null or {action:"pass"}; {action:"modify", payload};
// {action:"drop", reason?}. Anything else is the plugin's bug.
struct Verdict {
  FilterAction action = FilterAction::kPass;
  Json payload;
  std::string reason;
};

Result<Verdict> read_verdict(Json value) {
  Verdict verdict;
  if (value.is_null())
    return verdict;
  auto invalid = [&](const std::string& why) {
    std::string shown = dump_short(value);
    return Error(ErrorCode::kPluginError,
                 "filter returned " + shown + ": " + why +
                     " (expected nothing, {action:\"pass\"}, {action:\"modify\", payload} or "
                     "{action:\"drop\", reason})");
  };
  if (!value.is_object())
    return invalid("not an object");
  auto action = value.find("action");
  if (action == value.end() || !action->is_string())
    return invalid("no \"action\" string");
  const std::string& name = action->get_ref<const std::string&>();
  if (name == "pass")
    return verdict;
  if (name == "modify") {
    auto payload = value.find("payload");
    if (payload == value.end())
      return invalid("\"modify\" without \"payload\"");
    verdict.action = FilterAction::kModify;
    verdict.payload = std::move(*payload);
    return verdict;
  }
  if (name == "drop") {
    verdict.action = FilterAction::kDrop;
    auto reason = value.find("reason");
    if (reason != value.end() && !reason->is_null()) {
      if (!reason->is_string())
        return invalid("\"reason\" is not a string");
      verdict.reason = reason->get<std::string>();
    }
    return verdict;
  }
  return invalid("unknown action \"" + name + "\"");
}

}  // namespace

Dispatcher::Dispatcher(const EventCatalogue& catalogue, DispatchOptions options,
                       DispatchObservers observers)
    : catalogue_(catalogue),
      options_(options),
      observers_(std::move(observers)),
      table_(std::make_shared<const Table>()),
      pool_(std::make_unique<WorkerPool>(options.worker_threads)) {}

Dispatcher::~Dispatcher() {
  pool_.reset();
}

Status Dispatcher::attach(std::shared_ptr<const Manifest> manifest,
                          std::unique_ptr<PluginInstance> instance,
                          std::vector<Subscription> subscriptions, int load_index) {
  SlotPtr slot =
      make_slot(std::move(manifest), std::move(instance), std::move(subscriptions), load_index);
  std::lock_guard lock(slots_mutex_);
  if (slots_.count(slot->id)) {
    return Error(ErrorCode::kAlreadyExists, "plugin \"" + slot->id + "\" is already attached");
  }
  std::string id = slot->id;
  slots_.emplace(std::move(id), std::move(slot));
  rebuild_table();
  return {};
}

Result<std::function<void()>> Dispatcher::replace(std::shared_ptr<const Manifest> manifest,
                                                  std::unique_ptr<PluginInstance> instance,
                                                  std::vector<Subscription> subscriptions) {
  std::lock_guard lock(slots_mutex_);
  auto it = slots_.find(manifest->id);
  if (it == slots_.end()) {
    return Error(ErrorCode::kNotFound, "plugin \"" + manifest->id + "\" is not attached");
  }
  SlotPtr old = it->second;
  it->second = make_slot(std::move(manifest), std::move(instance), std::move(subscriptions),
                         old->load_index);
  old->active = false;
  rebuild_table();
  return std::function<void()>([old] {
    std::lock_guard call(old->call_mutex);
    old->instance.reset();
  });
}

Dispatcher::SlotPtr Dispatcher::make_slot(std::shared_ptr<const Manifest> manifest,
                                          std::unique_ptr<PluginInstance> instance,
                                          std::vector<Subscription> subscriptions, int load_index) {
  auto slot = std::make_shared<Slot>();
  slot->id = manifest->id;
  slot->manifest = std::move(manifest);
  slot->instance = std::move(instance);
  slot->subscriptions = std::move(subscriptions);
  slot->load_index = load_index;
  slot->memory_bytes = slot->instance ? slot->instance->memory_bytes() : 0;
  slot->mailbox = pool_->make_mailbox(options_.max_queued_per_plugin);
  // A manifest may lower the host's timeouts, never raise them.
  for (HookKind kind : kAllHookKinds) {
    uint32_t limit = options_.timeout_ms[kind_index(kind)];
    auto requested = slot->manifest->limits.timeout_ms.find(kind);
    if (requested != slot->manifest->limits.timeout_ms.end()) {
      limit = std::min(limit, requested->second);
    }
    slot->timeout_ms[kind_index(kind)] = limit;
  }
  return slot;
}

void Dispatcher::detach(std::string_view plugin_id) {
  if (std::function<void()> wait = detach_later(plugin_id))
    wait();
}

std::function<void()> Dispatcher::detach_later(std::string_view plugin_id) {
  SlotPtr slot;
  {
    std::lock_guard lock(slots_mutex_);
    auto it = slots_.find(plugin_id);
    if (it == slots_.end())
      return nullptr;
    slot = it->second;
    slot->active = false;
    slots_.erase(it);
    rebuild_table();
  }
  // Waits for a call in flight, then destroys the instance there and then: it may
  // call back into its host environment while it goes (a Lua __gc, a JS finalizer),
  // and the host frees that environment right after this returns. Queued
  // notifications and table snapshots keep the slot, but see `active == false`.
  return [slot] {
    std::lock_guard call(slot->call_mutex);
    slot->instance.reset();
  };
}

bool Dispatcher::is_active(std::string_view plugin_id) const {
  std::lock_guard lock(slots_mutex_);
  auto it = slots_.find(plugin_id);
  return it != slots_.end() && it->second->active.load(std::memory_order_acquire);
}

void Dispatcher::set_load_order(const std::vector<std::string>& order) {
  std::lock_guard lock(slots_mutex_);
  for (size_t i = 0; i < order.size(); ++i) {
    if (auto it = slots_.find(order[i]); it != slots_.end())
      it->second->load_index = static_cast<int>(i);
  }
  rebuild_table();
}

bool Dispatcher::is_attached(std::string_view plugin_id) const {
  std::lock_guard lock(slots_mutex_);
  return slots_.count(plugin_id) > 0;
}

void Dispatcher::rebuild_table() {
  auto next = std::make_shared<Table>();
  std::vector<SlotPtr> ordered;
  for (const auto& [id, slot] : slots_)
    ordered.push_back(slot);
  std::sort(ordered.begin(), ordered.end(), [](const SlotPtr& a, const SlotPtr& b) {
    return std::tie(a->load_index, a->id) < std::tie(b->load_index, b->id);
  });
  for (const SlotPtr& slot : ordered) {
    for (const Subscription& s : slot->subscriptions) {
      Table::Entry& entry = next->events[s.event];
      switch (s.kind) {
        case HookKind::kFilter:
          entry.filters.push_back(slot);
          break;
        case HookKind::kNotify:
          entry.notify.push_back(slot);
          break;
        case HookKind::kCollect:
          entry.collect.push_back(slot);
          break;
        case HookKind::kDispatch:
          entry.dispatch.push_back(slot);
          break;
        case HookKind::kRequest:
          break;  // requests name their plugin
      }
    }
  }
  for (auto& [event, entry] : next->events) {
    std::stable_sort(entry.filters.begin(), entry.filters.end(),
                     [&event = event](const SlotPtr& a, const SlotPtr& b) {
                       int pa = priority_of(a->subscriptions, event);
                       int pb = priority_of(b->subscriptions, event);
                       return std::tie(pa, a->id) < std::tie(pb, b->id);
                     });
  }
  std::lock_guard lock(table_mutex_);
  table_ = std::move(next);
}

std::shared_ptr<const Dispatcher::Table> Dispatcher::table() const {
  std::lock_guard lock(table_mutex_);
  return table_;
}

Result<Json> Dispatcher::invoke(Slot& slot, HookKind kind, std::string_view event,
                                const Json& payload, int depth) {
  return invoke_with(slot, kind, event, depth, [&](const CallContext& context) {
    return slot.instance->call(context, payload);
  });
}

Result<Json> Dispatcher::invoke_with(Slot& slot, HookKind kind, std::string_view event, int depth,
                                     const std::function<Result<Json>(const CallContext&)>& run) {
  if (!slot.active.load(std::memory_order_acquire)) {
    return Error(ErrorCode::kFailedPrecondition, "plugin \"" + slot.id + "\" is disabled");
  }
  const uint32_t timeout_ms = slot.timeout_ms[kind_index(kind)];
  HookCounters& counters = slot.counters[kind_index(kind)];

  Result<Json> result = Json();
  std::chrono::steady_clock::duration elapsed{};
  {
    std::lock_guard lock(slot.call_mutex);
    if (!slot.active.load(std::memory_order_acquire)) {
      return Error(ErrorCode::kFailedPrecondition, "plugin \"" + slot.id + "\" is disabled");
    }
    counters.calls.fetch_add(1, std::memory_order_relaxed);
    // The clock starts once the call owns the plugin: time spent waiting for another
    // call into the same plugin (calls are serialized) is not this call's time.
    auto start = std::chrono::steady_clock::now();
    CallContext context{
        slot.id, kind, event, depth, start + std::chrono::milliseconds(timeout_ms), timeout_ms};
    try {
      result = run(context);
    } catch (const std::exception& e) {
      result = Error(ErrorCode::kPluginError, std::string("threw an exception: ") + e.what());
    } catch (...) {
      result = Error(ErrorCode::kPluginError, "threw a non-standard exception");
    }
    elapsed = std::chrono::steady_clock::now() - start;
    slot.memory_bytes.store(slot.instance->memory_bytes(), std::memory_order_relaxed);
  }
  auto elapsed_ns =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count());
  counters.latency.record(elapsed_ns);

  // Native code cannot be interrupted; a call that overran its deadline still
  // fails (its answer is discarded) so every runtime shares one timeout rule.
  // Runtimes that stop calls themselves count from when a call starts on their
  // engine thread, so a wait there behind another plugin is not an overrun.
  if (result.ok() && elapsed > std::chrono::milliseconds(timeout_ms) &&
      !slot.instance->enforces_deadline()) {
    CallContext overrun{slot.id, kind, event, depth, {}, timeout_ms};
    result = Error(ErrorCode::kDeadlineExceeded, overrun.timeout_message());
  }
  if (!result.ok()) {
    record_failure(slot, kind, event, result.error());
    return result;
  }
  // Not a success yet: the caller resets the strike count once the answer itself
  // is valid for its hook (a well-formed verdict, an object for dispatch).
  return result;
}

void Dispatcher::record_success(Slot& slot) {
  slot.consecutive_failures.store(0, std::memory_order_relaxed);
}

void Dispatcher::record_failure(Slot& slot, HookKind kind, std::string_view event,
                                const Error& error) {
  HookCounters& counters = slot.counters[kind_index(kind)];
  counters.failures.fetch_add(1, std::memory_order_relaxed);
  if (error.code() == ErrorCode::kDeadlineExceeded) {
    counters.timeouts.fetch_add(1, std::memory_order_relaxed);
  }
  slot.strikes.fetch_add(1, std::memory_order_relaxed);
  uint64_t consecutive = slot.consecutive_failures.fetch_add(1, std::memory_order_relaxed) + 1;
  std::string hook = hook_label(kind, event);
  if (observers_.on_warning)
    observers_.on_warning(slot.id, hook, error.message());
  // Strikes count on every hook kind (the anchor counts them for filters only).
  if (consecutive >= options_.strike_limit && slot.active.exchange(false)) {
    std::string reason = "auto-disabled after " + std::to_string(consecutive) +
                         " consecutive failures; last: " + hook + ": " + error.message();
    if (observers_.on_auto_disable)
      observers_.on_auto_disable(slot.id, reason);
  }
}

FilterOutcome Dispatcher::filter(std::string_view event, Json payload) {
  FilterOutcome outcome;
  std::shared_ptr<const Table> snapshot = table();
  const Table::Entry* entry = snapshot->find(event);
  if (entry != nullptr && !entry->filters.empty()) {
    // Looked up only when a filter modifies: passing costs no catalogue lock.
    std::shared_ptr<const EventSpec> spec;
    bool spec_looked_up = false;
    outcome.steps.reserve(entry->filters.size());
    for (const SlotPtr& slot : entry->filters) {
      if (!slot->active.load(std::memory_order_acquire))
        continue;
      Result<Json> answer = invoke(*slot, HookKind::kFilter, event, payload, 0);
      if (!answer.ok()) {
        // seeds/003: filters fail open: skip this plugin, keep the payload.
        if (slot->active.load(std::memory_order_acquire) ||
            answer.error().code() != ErrorCode::kFailedPrecondition) {
          outcome.steps.push_back({slot->id, FilterAction::kFailed, answer.error().message()});
        }
        continue;
      }
      Result<Verdict> verdict = read_verdict(std::move(answer).value());
      if (!verdict.ok()) {
        record_failure(*slot, HookKind::kFilter, event, verdict.error());
        outcome.steps.push_back({slot->id, FilterAction::kFailed, verdict.error().message()});
        continue;
      }
      if (verdict->action == FilterAction::kModify && !spec_looked_up) {
        spec = catalogue_.find(event);
        spec_looked_up = true;
      }
      if (verdict->action == FilterAction::kModify && spec && spec->compiled) {
        std::vector<SchemaIssue> issues = spec->compiled->validate(verdict->payload);
        if (!issues.empty()) {
          Error broken(ErrorCode::kPluginError,
                       "filter modified the payload into one that breaks the schema of " +
                           std::string(event) + ": " +
                           (issues[0].path.empty() ? "(root)" : issues[0].path) + ": " +
                           issues[0].rule);
          record_failure(*slot, HookKind::kFilter, event, broken);
          outcome.steps.push_back({slot->id, FilterAction::kFailed, broken.message()});
          continue;
        }
      }
      record_success(*slot);
      switch (verdict->action) {
        case FilterAction::kPass:
        case FilterAction::kFailed:
          outcome.steps.push_back({slot->id, FilterAction::kPass, ""});
          break;
        case FilterAction::kModify:
          payload = std::move(verdict->payload);
          outcome.steps.push_back({slot->id, FilterAction::kModify, ""});
          break;
        case FilterAction::kDrop:
          outcome.steps.push_back({slot->id, FilterAction::kDrop, verdict->reason});
          outcome.dropped = true;
          outcome.dropped_by = slot->id;
          outcome.reason = verdict->reason;
          outcome.payload = std::move(payload);
          return outcome;
      }
    }
  }
  outcome.payload = std::move(payload);
  return outcome;
}

size_t Dispatcher::notify(std::string_view event, Json payload, int depth) {
  if (depth >= options_.max_emit_depth)
    return 0;
  std::shared_ptr<const Table> snapshot = table();
  const Table::Entry* entry = snapshot->find(event);
  if (entry == nullptr || entry->notify.empty())
    return 0;
  auto shared = std::make_shared<const Json>(std::move(payload));
  auto name = std::make_shared<const std::string>(event);
  size_t queued = 0;
  for (const SlotPtr& slot : entry->notify) {
    if (!slot->active.load(std::memory_order_acquire))
      continue;
    bool posted = slot->mailbox->post([this, slot, shared, name, depth] {
      if (!slot->active.load(std::memory_order_acquire))
        return;
      if (invoke(*slot, HookKind::kNotify, *name, *shared, depth).ok())
        record_success(*slot);
    });
    if (!posted) {
      // Not a strike: the plugin may only be slow. The host drops, warns, moves on.
      if (observers_.on_warning) {
        observers_.on_warning(
            slot->id, hook_label(HookKind::kNotify, event),
            "dropped a notification: " + std::to_string(options_.max_queued_per_plugin) +
                " are already waiting for this plugin");
      }
      continue;
    }
    ++queued;
  }
  return queued;
}

std::vector<Contribution> Dispatcher::collect(std::string_view event, const Json& payload) {
  std::vector<Contribution> contributions;
  std::shared_ptr<const Table> snapshot = table();
  const Table::Entry* entry = snapshot->find(event);
  if (entry == nullptr)
    return contributions;
  for (const SlotPtr& slot : entry->collect) {
    if (!slot->active.load(std::memory_order_acquire))
      continue;
    Result<Json> answer = invoke(*slot, HookKind::kCollect, event, payload, 0);
    if (answer.ok())
      record_success(*slot);
    if (answer.ok() && !answer->is_null()) {
      contributions.push_back({slot->id, std::move(answer).value()});
    }
  }
  return contributions;
}

DispatchOutcome Dispatcher::dispatch(std::string_view event, const Json& payload) {
  DispatchOutcome outcome;
  std::shared_ptr<const Table> snapshot = table();
  const Table::Entry* entry = snapshot->find(event);
  if (entry != nullptr) {
    for (const SlotPtr& slot : entry->dispatch) {
      if (!slot->active.load(std::memory_order_acquire))
        continue;
      Result<Json> answer = invoke(*slot, HookKind::kDispatch, event, payload, 0);
      if (!answer.ok())
        continue;
      if (answer->is_null()) {
        record_success(*slot);
        continue;
      }
      if (!answer->is_object()) {
        record_failure(
            *slot, HookKind::kDispatch, event,
            Error(ErrorCode::kPluginError, "dispatch handler returned " + dump_short(*answer) +
                                               "; expected an object or nothing"));
        continue;
      }
      record_success(*slot);
      outcome.results.push_back({slot->id, std::move(answer).value()});
    }
  }
  outcome.merged = merge_dispatch_results(outcome.results);
  return outcome;
}

Result<Json> Dispatcher::request(std::string_view plugin_id, std::string_view event,
                                 const Json& payload) {
  SlotPtr slot;
  {
    std::lock_guard lock(slots_mutex_);
    auto it = slots_.find(plugin_id);
    if (it == slots_.end()) {
      return Error(ErrorCode::kNotFound, "plugin \"" + std::string(plugin_id) + "\" is not loaded");
    }
    slot = it->second;
  }
  bool subscribed = std::any_of(
      slot->subscriptions.begin(), slot->subscriptions.end(),
      [&](const Subscription& s) { return s.kind == HookKind::kRequest && s.event == event; });
  if (!subscribed) {
    return Error(ErrorCode::kNotFound, "plugin \"" + slot->id + "\" has no request handler for \"" +
                                           std::string(event) + "\"");
  }
  Result<Json> answer = invoke(*slot, HookKind::kRequest, event, payload, 0);
  if (answer.ok())
    record_success(*slot);
  return answer;
}

Result<std::string> Dispatcher::call_export(std::string_view plugin_id, std::string_view name,
                                            std::string_view input) {
  SlotPtr slot;
  {
    std::lock_guard lock(slots_mutex_);
    auto it = slots_.find(plugin_id);
    if (it == slots_.end())
      return Error(ErrorCode::kNotFound, "plugin \"" + std::string(plugin_id) + "\" is not loaded");
    slot = it->second;
  }
  std::string output;
  Result<Json> done =
      invoke_with(*slot, HookKind::kRequest, name, 0, [&](const CallContext& context) {
        Result<std::string> result = slot->instance->call_export(context, name, input);
        if (!result.ok())
          return Result<Json>(result.error());
        output = std::move(result).value();
        return Result<Json>(Json());
      });
  if (!done.ok())
    return done.error();
  record_success(*slot);
  return output;
}

void Dispatcher::wait_idle() {
  pool_->wait_idle();
}

std::optional<PluginCallStats> Dispatcher::stats(std::string_view plugin_id) const {
  SlotPtr slot;
  {
    std::lock_guard lock(slots_mutex_);
    auto it = slots_.find(plugin_id);
    if (it == slots_.end())
      return std::nullopt;
    slot = it->second;
  }
  PluginCallStats stats;
  for (HookKind kind : kAllHookKinds) {
    stats.by_kind[kind_index(kind)] = slot->counters[kind_index(kind)].snapshot();
  }
  stats.consecutive_failures = slot->consecutive_failures.load();
  stats.strikes = slot->strikes.load();
  stats.memory_bytes = slot->memory_bytes.load(std::memory_order_relaxed);
  return stats;
}

std::vector<std::string> Dispatcher::subscribers(std::string_view event, HookKind kind) const {
  std::vector<std::string> ids;
  std::shared_ptr<const Table> snapshot = table();
  const Table::Entry* entry = snapshot->find(event);
  if (entry == nullptr)
    return ids;
  const std::vector<SlotPtr>* list = nullptr;
  switch (kind) {
    case HookKind::kFilter:
      list = &entry->filters;
      break;
    case HookKind::kNotify:
      list = &entry->notify;
      break;
    case HookKind::kCollect:
      list = &entry->collect;
      break;
    case HookKind::kDispatch:
      list = &entry->dispatch;
      break;
    case HookKind::kRequest:
      return ids;
  }
  for (const SlotPtr& slot : *list)
    ids.push_back(slot->id);
  return ids;
}

}  // namespace outlet
