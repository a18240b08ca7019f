#include "outlet/host.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <set>

#include "core/config.h"
#include "core/dependencies.h"
#include "dispatch/dispatcher.h"
#include "dispatch/event_catalogue.h"
#include "host/plugin_watcher.h"
#include "hostapi/plugin_environment.h"
#include "runtime/lua/lua_runtime.h"
#include "runtime/native/native_runtime.h"
#include "runtime/spidermonkey/js_runtime.h"
#include "runtime/spidermonkey/wasm_runtime.h"
#include "storage/settings_store.h"

namespace outlet {

struct Host::Record {
  std::shared_ptr<const Manifest> manifest;
  PluginSource source;
  Lifecycle lifecycle;
  std::unique_ptr<WarningLog> warnings;
  // Alive while the plugin is loaded: its instance calls back into it.
  std::unique_ptr<PluginEnvironment> environment;
  bool attached = false;
  // Why strikes disabled it, kept here too: if saving that to the settings file
  // failed (disk full), the plugin must still stay off until the operator acts.
  std::string strike_reason;
};

// A new instance with its environment, built beside whatever is running.
struct Host::Prepared {
  // Declared first so it is destroyed last: the instance may call into it as it goes.
  std::unique_ptr<PluginEnvironment> environment;
  std::unique_ptr<PluginInstance> instance;
  std::vector<Subscription> subscriptions;
};

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items)
    text += (text.empty() ? "" : ", ") + item;
  return text;
}

std::string describe(const Subscription& s) {
  return std::string(hook_kind_name(s.kind)) + " " + s.event;
}

}  // namespace

// Finishes what a method queued under mutex_ once the lock is released: declare it
// before the method's lock_guard, so it is destroyed after the lock.
class Host::AfterUnlock {
 public:
  explicit AfterUnlock(Host& host) : host_(host) {}
  ~AfterUnlock() { host_.after_unlock(); }
  AfterUnlock(const AfterUnlock&) = delete;
  AfterUnlock& operator=(const AfterUnlock&) = delete;

 private:
  Host& host_;
};

Result<std::unique_ptr<Host>> Host::create(HostOptions options) {
  std::unique_ptr<Host> host(new Host(std::move(options)));
  const HostOptions& o = host->options_;
  if (!o.data_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.data_dir, ec);
    if (ec) {
      return Error(ErrorCode::kUnavailable,
                   "cannot create data directory " + o.data_dir + ": " + ec.message());
    }
  }
  auto settings =
      SettingsStore::open(o.data_dir.empty() ? "" : o.data_dir + "/settings.sqlite3", o.tenant);
  if (!settings.ok())
    return settings.error();
  host->settings_ = std::move(settings).value();
  if (!o.data_dir.empty()) {
    if (Status imported = host->settings_->import_json_file(o.data_dir + "/settings.json");
        !imported.ok()) {
      return imported.error();
    }
  }
  if (o.kv) {
    host->kv_ = o.kv;
  } else if (!o.data_dir.empty()) {
    auto kv = open_sqlite_kv_store(o.data_dir + "/kv.sqlite3");
    if (!kv.ok())
      return kv.error();
    host->kv_ = std::move(kv).value();
  } else {
    host->kv_ = make_memory_kv_store();
  }
  for (PermissionSpec& permission : core_permissions()) {
    if (Status s = host->declare_permission(std::move(permission)); !s.ok())
      return s.error();
  }
  for (HostFunctionSpec& function : core_host_functions()) {
    if (Status s = host->declare_host_function(std::move(function)); !s.ok())
      return s.error();
  }
  auto native = std::make_unique<NativeRuntime>();
  host->native_ = native.get();
  if (Status s = host->add_runtime(std::move(native)); !s.ok())
    return s.error();
  // JS and wasm plugins share one set of SpiderMonkey engine threads.
  auto engines = std::make_shared<js::EngineProvider>();
  if (Status s = host->add_runtime(std::make_unique<JsRuntime>(JsRuntimeOptions{}, engines));
      !s.ok())
    return s.error();
  WasmRuntimeOptions wasm_options;
  wasm_options.wasi = host->options_.wasm_wasi;
  if (Status s = host->add_runtime(std::make_unique<WasmRuntime>(wasm_options, engines)); !s.ok())
    return s.error();
  if (Status s = host->add_runtime(std::make_unique<LuaRuntime>()); !s.ok())
    return s.error();
  return host;
}

Host::Host(HostOptions options) : options_(std::move(options)) {
  if (!options_.log_sink) {
    options_.log_sink = [](const std::string& plugin, std::string_view level,
                           const std::string& message) {
      std::fprintf(stderr, "[%s] %.*s: %s\n", plugin.c_str(), static_cast<int>(level.size()),
                   level.data(), message.c_str());
    };
  }
  catalogue_ = std::make_unique<EventCatalogue>();
  DispatchOptions dispatch;
  dispatch.worker_threads = options_.worker_threads;
  dispatch.strike_limit = options_.strike_limit;
  dispatch.max_emit_depth = options_.max_emit_depth;
  dispatch.max_queued_per_plugin = options_.max_queued_per_plugin;
  dispatch.timeout_ms = options_.timeout_ms;
  DispatchObservers observers;
  observers.on_auto_disable = [this](const std::string& id, const std::string& reason) {
    handle_auto_disable(id, reason);
  };
  observers.on_warning = [this](const std::string& id, const std::string& hook,
                                const std::string& message) { handle_warning(id, hook, message); };
  dispatcher_ = std::make_unique<Dispatcher>(*catalogue_, dispatch, std::move(observers));
}

Host::~Host() {
  // First: a reload must not start while the rest goes.
  watcher_.reset();
  if (dispatcher_)
    dispatcher_->wait_idle();
  dispatcher_.reset();
}

// --- Domain declarations ---

Status Host::declare_kind(PluginKindSpec kind) {
  std::lock_guard lock(mutex_);
  return kinds_.add(std::move(kind));
}

Status Host::declare_event(EventSpec event) {
  return catalogue_->declare(std::move(event));
}

Status Host::declare_host_function(HostFunctionSpec function) {
  std::lock_guard lock(mutex_);
  if (function.name.empty() || !function.handler) {
    return Error(ErrorCode::kInvalidArgument, "a host function needs a name and a handler");
  }
  for (const HostFunctionSpec& existing : functions_) {
    if (existing.name == function.name) {
      return Error(ErrorCode::kAlreadyExists,
                   "host function \"" + function.name + "\" is already declared");
    }
  }
  bool known = std::any_of(permissions_.begin(), permissions_.end(),
                           [&](const PermissionSpec& p) { return p.name == function.capability; });
  if (!known)
    permissions_.push_back({function.capability, function.description});
  functions_.push_back(std::move(function));
  return {};
}

Status Host::declare_permission(PermissionSpec permission) {
  std::lock_guard lock(mutex_);
  for (const PermissionSpec& existing : permissions_) {
    if (existing.name == permission.name)
      return {};
  }
  permissions_.push_back(std::move(permission));
  return {};
}

Status Host::register_native_plugin(std::string id, NativePluginFactory factory) {
  return native_->register_plugin(std::move(id), std::move(factory));
}

Status Host::add_runtime(std::unique_ptr<Runtime> runtime) {
  std::lock_guard lock(mutex_);
  RuntimeKind kind = runtime->kind();
  if (runtimes_.count(kind)) {
    return Error(ErrorCode::kAlreadyExists,
                 "a " + std::string(runtime_kind_name(kind)) + " runtime is already installed");
  }
  runtimes_[kind] = std::move(runtime);
  return {};
}

ManifestVocabulary Host::vocabulary() const {
  std::lock_guard lock(mutex_);
  return vocabulary_locked();
}

ManifestVocabulary Host::vocabulary_locked() const {
  ManifestVocabulary vocabulary;
  for (const PermissionSpec& permission : permissions_) {
    vocabulary.permissions.insert(permission.name);
  }
  for (const std::string& kind : kinds_.ids())
    vocabulary.kinds.insert(kind);
  vocabulary.host_version = kOutletVersion;
  return vocabulary;
}

// --- Plugins ---

Result<DiscoveryReport> Host::discover(const std::string& plugins_dir) {
  auto report = discover_plugins(plugins_dir, vocabulary());
  if (!report.ok())
    return report.error();
  std::vector<DiscoveredPlugin> accepted;
  for (DiscoveredPlugin& plugin : report->plugins) {
    if (Status added = add_plugin(plugin); !added.ok()) {
      report->problems.push_back({plugin.root, added.error()});
    } else {
      accepted.push_back(std::move(plugin));
    }
  }
  report->plugins = std::move(accepted);
  return report;
}

Status Host::add_plugin(const DiscoveredPlugin& plugin) {
  auto manifest = std::make_shared<const Manifest>(plugin.parsed.manifest);
  PluginSource source{plugin.root, plugin.root, plugin.entrypoint_path};
  AfterUnlock after_unlock(*this);
  std::lock_guard lock(mutex_);
  if (Status added = registry_.add(manifest, source); !added.ok())
    return added;
  auto record = std::make_unique<Record>();
  record->manifest = manifest;
  record->source = source;
  record->warnings = std::make_unique<WarningLog>(options_.warning_capacity);
  for (const ErrorDetail& warning : plugin.parsed.warnings) {
    record->warnings->add("manifest", warning.path + ": " + warning.rule);
  }
  Record& stored = *record;
  records_[manifest->id] = std::move(record);
  advance(stored, PluginState::kValidated, "");
  if (watcher_) {
    if (Status watched = watcher_->watch(manifest->id, source.root); !watched.ok())
      stored.warnings->add("reload", watched.error().message());
  }
  return {};
}

Status Host::watch_plugin_files(std::chrono::milliseconds quiet_period) {
  std::lock_guard lock(mutex_);
  if (watcher_)
    return Error(ErrorCode::kAlreadyExists, "plugin files are already watched");
  auto watcher = PluginWatcher::start(
      [this](const std::string& id) {
        if (Status reloaded = reload(id); reloaded.ok())
          options_.log_sink(id, "info", "reloaded: its files changed");
      },
      quiet_period);
  if (!watcher.ok())
    return watcher.error();
  for (auto& [id, record] : records_) {
    if (record->source.root.empty())
      continue;
    if (Status watched = (*watcher)->watch(id, record->source.root); !watched.ok())
      return watched;
  }
  watcher_ = std::move(watcher).value();
  return {};
}

Status Host::add_builtin(const Json& manifest_document) {
  auto parsed = parse_manifest(manifest_document, vocabulary());
  if (!parsed.ok())
    return parsed.error();
  DiscoveredPlugin plugin{"", "", "", std::move(parsed).value()};
  auto manifest = std::make_shared<const Manifest>(plugin.parsed.manifest);
  PluginSource source{"built-in", "", ""};
  AfterUnlock after_unlock(*this);
  std::lock_guard lock(mutex_);
  if (Status added = registry_.add(manifest, source); !added.ok())
    return added;
  auto record = std::make_unique<Record>();
  record->manifest = manifest;
  record->source = source;
  record->warnings = std::make_unique<WarningLog>(options_.warning_capacity);
  Record& stored = *record;
  records_[manifest->id] = std::move(record);
  advance(stored, PluginState::kValidated, "");
  return {};
}

Host::Record* Host::find(const std::string& id) {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : it->second.get();
}

const Host::Record* Host::find(const std::string& id) const {
  auto it = records_.find(id);
  return it == records_.end() ? nullptr : it->second.get();
}

static Error unknown_plugin(const std::string& id) {
  return Error(ErrorCode::kNotFound, "no plugin \"" + id + "\" is installed");
}

Status Host::approve(const std::string& id,
                     const std::optional<std::vector<std::string>>& permissions) {
  AfterUnlock after_unlock(*this);
  std::lock_guard lock(mutex_);
  Record* record = find(id);
  if (record == nullptr)
    return unknown_plugin(id);
  const Manifest& manifest = *record->manifest;
  std::vector<std::string> approved = permissions.value_or(manifest.permissions);
  for (const std::string& permission : approved) {
    if (!manifest.has_permission(permission)) {
      return Error(ErrorCode::kInvalidArgument,
                   "cannot approve \"" + permission + "\" for \"" + id +
                       "\": its manifest does not declare it",
                   {{"permissions",
                     "only declared permissions can be approved: " + join(manifest.permissions)}});
    }
  }
  if (Status s = settings_->update(id,
                                   [&](PluginSettings& settings) {
                                     settings.approved_permissions = approved;
                                     settings.approved_version = manifest.version_text;
                                   });
      !s.ok()) {
    return s;
  }
  return reconcile();
}

Status Host::enable(const std::string& id) {
  AfterUnlock after_unlock(*this);
  std::lock_guard lock(mutex_);
  Record* record = find(id);
  if (record == nullptr)
    return unknown_plugin(id);
  if (Status s = settings_->update(id,
                                   [](PluginSettings& settings) {
                                     settings.enabled = true;
                                     settings.disabled_reason.clear();
                                     settings.disabled_by_operator = false;
                                   });
      !s.ok()) {
    return s;
  }
  record->strike_reason.clear();
  return reconcile();
}

Status Host::disable(const std::string& id) {
  AfterUnlock after_unlock(*this);
  std::lock_guard lock(mutex_);
  Record* record = find(id);
  if (record == nullptr)
    return unknown_plugin(id);
  // The operator's decision replaces an earlier auto-disable: its reason is history now.
  if (Status s = settings_->update(id,
                                   [](PluginSettings& settings) {
                                     settings.enabled = false;
                                     settings.disabled_reason.clear();
                                     settings.disabled_by_operator = true;
                                   });
      !s.ok()) {
    return s;
  }
  record->strike_reason.clear();
  unload(*record);
  advance(*record, PluginState::kDisabled, "disabled by the operator");
  return reconcile();
}

Status Host::reload(const std::string& id) {
  AfterUnlock after_unlock(*this);
  std::lock_guard lock(mutex_);
  Record* record = find(id);
  if (record == nullptr)
    return unknown_plugin(id);
  auto failed = [&](const Error& error) -> Status {
    Error reported(error.code(),
                   "reload failed, the running version keeps going: " + error.message(),
                   error.details());
    if (record->warnings->add("reload", reported.to_string()))
      options_.log_sink(id, "warn", reported.to_string());
    return reported;
  };
  // 1. The plugin's files as they are now (built-ins have none).
  std::shared_ptr<const Manifest> manifest = record->manifest;
  PluginSource source = record->source;
  if (!record->source.root.empty()) {
    auto read = read_plugin_folder(record->source.root, vocabulary_locked());
    if (!read.ok())
      return failed(read.error());
    if (read->parsed.manifest.id != id) {
      return failed(
          Error(ErrorCode::kInvalidArgument, "the manifest's id changed",
                {{"id", "was \"" + id + "\", is now \"" + read->parsed.manifest.id + "\""}}));
    }
    manifest = std::make_shared<const Manifest>(read->parsed.manifest);
    source = PluginSource{read->root, read->root, read->entrypoint_path};
  }
  if (!record->attached || !dispatcher_->is_attached(id)) {
    if (Status swapped = swap_registration(*record, manifest, source); !swapped.ok())
      return failed(swapped.error());
    return reconcile();
  }
  // 2. New permissions wait for the operator; until then the old version runs.
  std::vector<std::string> grants = settings_->effective_grants(*manifest);
  std::vector<std::string> missing;
  for (const std::string& permission : manifest->permissions) {
    if (std::find(grants.begin(), grants.end(), permission) == grants.end())
      missing.push_back(permission);
  }
  if (!missing.empty()) {
    return failed(Error(ErrorCode::kFailedPrecondition,
                        "the new version asks for permissions not yet approved: " + join(missing)));
  }
  // 3. The new instance is built beside the old, which keeps serving meanwhile.
  Prepared prepared;
  if (Status ready = prepare(*record, manifest, source, prepared); !ready.ok())
    return failed(ready.error());
  catalogue_->remove_declared_by(id);
  if (Status declared = declare_plugin_events(*manifest); !declared.ok()) {
    (void)declare_plugin_events(*record->manifest);
    return failed(declared.error());
  }
  warn_about_undeclared(*record, prepared.subscriptions);
  // 4. One step swaps them; the old finishes its call in flight, then goes.
  auto replaced = dispatcher_->replace(manifest, std::move(prepared.instance),
                                       std::move(prepared.subscriptions));
  if (!replaced.ok()) {
    catalogue_->remove_declared_by(id);
    (void)declare_plugin_events(*record->manifest);
    return failed(replaced.error());
  }
  std::shared_ptr<PluginEnvironment> old_environment = std::move(record->environment);
  std::function<void()> wait = std::move(replaced).value();
  retired_.emplace_back(std::this_thread::get_id(), [wait, old_environment]() mutable {
    wait();
    old_environment.reset();
  });
  record->environment = std::move(prepared.environment);
  (void)swap_registration(*record, manifest, source);
  // Observers that keep something derived from the manifest (the chat server's
  // trigger set) hear of the new version as a change from loaded to loaded.
  pending_changes_.emplace_back(id, StateChange{PluginState::kLoaded, PluginState::kLoaded,
                                                "reloaded version " + manifest->version_text,
                                                std::chrono::system_clock::now()});
  return {};
}

Status Host::swap_registration(Record& record, std::shared_ptr<const Manifest> manifest,
                               const PluginSource& source) {
  if (record.manifest != manifest) {
    if (Status removed = registry_.remove(manifest->id); !removed.ok())
      return removed;
    if (Status added = registry_.add(manifest, source); !added.ok()) {
      (void)registry_.add(record.manifest, record.source);
      return added;
    }
  }
  record.manifest = std::move(manifest);
  record.source = source;
  return {};
}

Status Host::set_config(const std::string& id, const Json& config) {
  std::lock_guard lock(mutex_);
  Record* record = find(id);
  if (record == nullptr)
    return unknown_plugin(id);
  auto validated = validate_config(*record->manifest, config);
  if (!validated.ok())
    return validated.error();
  if (Status s =
          settings_->update(id, [&](PluginSettings& settings) { settings.config = *validated; });
      !s.ok()) {
    return s;
  }
  if (record->environment)
    record->environment->services().set_config(*validated);
  return {};
}

Status Host::set_secret(const std::string& id, const std::string& name, const std::string& value) {
  std::lock_guard lock(mutex_);
  Record* record = find(id);
  if (record == nullptr)
    return unknown_plugin(id);
  if (Status s =
          settings_->update(id, [&](PluginSettings& settings) { settings.secrets[name] = value; });
      !s.ok()) {
    return s;
  }
  if (record->environment) {
    record->environment->services().set_secrets(settings_->get(id).secrets);
  }
  return {};
}

Status Host::start() {
  AfterUnlock after_unlock(*this);
  std::lock_guard lock(mutex_);
  return reconcile();
}

// Walks the lifecycle table from the current state to `target` by the shortest
// legal path, so every observer sees each step (e.g. loaded → unloading →
// unloaded → disabled).
void Host::advance(Record& record, PluginState target, const std::string& reason) {
  PluginState from = record.lifecycle.state();
  if (from == target && record.lifecycle.reason() == reason)
    return;
  std::map<PluginState, PluginState> previous;
  std::deque<PluginState> queue{from};
  std::set<PluginState> seen{from};
  constexpr PluginState kStates[] = {PluginState::kDiscovered, PluginState::kValidated,
                                     PluginState::kBlocked,    PluginState::kLoading,
                                     PluginState::kReady,      PluginState::kLoaded,
                                     PluginState::kFailed,     PluginState::kUnloading,
                                     PluginState::kUnloaded,   PluginState::kDisabled};
  bool found = from == target;
  while (!queue.empty() && !found) {
    PluginState state = queue.front();
    queue.pop_front();
    for (PluginState next : kStates) {
      if (!is_transition_allowed(state, next) || seen.count(next))
        continue;
      seen.insert(next);
      previous[next] = state;
      if (next == target) {
        found = true;
        break;
      }
      queue.push_back(next);
    }
  }
  std::vector<PluginState> path;
  if (from == target) {
    // Same state with a new reason: leave and re-enter through a neighbour.
    for (PluginState next : kStates) {
      if (is_transition_allowed(from, next) && is_transition_allowed(next, target)) {
        path = {next, target};
        break;
      }
    }
  } else if (found) {
    for (PluginState state = target; state != from; state = previous[state])
      path.push_back(state);
    std::reverse(path.begin(), path.end());
  }
  for (size_t i = 0; i < path.size(); ++i) {
    auto change = record.lifecycle.transition(path[i], i + 1 == path.size() ? reason : "");
    if (!change.ok())
      break;
    pending_changes_.emplace_back(record.manifest->id, *change);
  }
}

void Host::after_unlock() {
  // First wait for the calls in flight of the plugins this thread unloaded (and only
  // then let their environments go), so a state observer hearing "unloaded" can rely on it.
  std::vector<std::function<void()>> retired;
  {
    std::lock_guard lock(mutex_);
    auto mine = std::stable_partition(retired_.begin(), retired_.end(), [](const auto& entry) {
      return entry.first != std::this_thread::get_id();
    });
    for (auto it = mine; it != retired_.end(); ++it)
      retired.push_back(std::move(it->second));
    retired_.erase(mine, retired_.end());
  }
  for (auto& finish : retired)
    finish();
  deliver_state_changes();
}

void Host::deliver_state_changes() {
  // An observer that calls back into the host queues more changes; the outer call
  // delivers them after the current ones, so a nested call returns at once.
  thread_local const Host* delivering = nullptr;
  if (delivering == this)
    return;
  for (;;) {
    {
      std::unique_lock delivery(delivery_mutex_, std::try_to_lock);
      // Another thread is delivering; it looks at the queue again after letting go.
      if (!delivery.owns_lock())
        return;
      const Host* previous = delivering;
      delivering = this;
      struct Restore {
        const Host* value;
        ~Restore() { delivering = value; }
      } restore{previous};
      for (;;) {
        std::vector<std::pair<std::string, StateChange>> batch;
        {
          std::lock_guard lock(mutex_);
          batch.swap(pending_changes_);
        }
        if (batch.empty())
          break;
        std::vector<std::function<void(const std::string&, const StateChange&)>> observers;
        {
          std::lock_guard lock(observers_mutex_);
          observers = state_observers_;
        }
        for (const auto& [id, change] : batch) {
          for (auto& observer : observers)
            observer(id, change);
        }
      }
    }
    std::lock_guard lock(mutex_);
    if (pending_changes_.empty())
      return;
  }
}

void Host::unload(Record& record) {
  if (record.attached) {
    advance(record, PluginState::kUnloading, "");
    std::function<void()> wait = dispatcher_->detach_later(record.manifest->id);
    catalogue_->remove_declared_by(record.manifest->id);
    record.attached = false;
    advance(record, PluginState::kUnloaded, "");
    // A call in flight still uses the environment: it goes once that call is over,
    // which after_unlock() waits for when this thread lets go of mutex_.
    std::shared_ptr<PluginEnvironment> environment = std::move(record.environment);
    retired_.emplace_back(std::this_thread::get_id(), [wait, environment]() mutable {
      if (wait)
        wait();
      environment.reset();
    });
  }
  record.environment.reset();
}

Status Host::reconcile() {
  // 1. Which plugins the operator wants, and which of those lack grants.
  std::vector<const Manifest*> candidates;
  std::map<std::string, std::string> blocked;
  for (auto& [id, record] : records_) {
    PluginSettings settings = settings_->get(id);
    if (!record->strike_reason.empty()) {
      settings.enabled = false;
      settings.disabled_reason = record->strike_reason;
    }
    if (!settings.enabled) {
      if (record->attached)
        unload(*record);
      if (!settings.disabled_reason.empty()) {
        if (record->lifecycle.state() != PluginState::kFailed) {
          advance(*record, PluginState::kFailed, settings.disabled_reason);
        }
      } else if (record->lifecycle.state() != PluginState::kDisabled &&
                 (settings.disabled_by_operator ||
                  (record->lifecycle.state() != PluginState::kValidated &&
                   record->lifecycle.state() != PluginState::kDiscovered))) {
        advance(*record, PluginState::kDisabled, "disabled by the operator");
      }
      continue;
    }
    std::vector<std::string> missing = settings_->missing_grants(*record->manifest);
    if (!missing.empty()) {
      bool upgraded = !settings.approved_version.empty() &&
                      settings.approved_version != record->manifest->version_text;
      blocked[id] = (upgraded ? "version " + record->manifest->version_text +
                                    " asks for permissions not yet approved: "
                              : "waiting for the operator to approve permissions: ") +
                    join(missing);
      continue;
    }
    candidates.push_back(record->manifest.get());
  }
  // 2. Dependencies among the rest.
  Resolution resolution = resolve_dependencies(candidates);
  for (auto& [id, reason] : resolution.blocked)
    blocked[id] = reason;
  for (const std::string& warning : resolution.warnings) {
    for (const Manifest* manifest : candidates) {
      Record* record = find(manifest->id);
      if (warning.find(manifest->id) != std::string::npos)
        record->warnings->add("load", warning);
    }
  }
  for (auto& [id, reason] : blocked) {
    Record* record = find(id);
    if (record->attached)
      unload(*record);
    advance(*record, PluginState::kBlocked, reason);
  }
  // 3. Load in activation order. Dependencies come first, so a plugin whose
  // required dependency did not end up loaded (its load failed, or strikes
  // disabled it) is blocked like one whose dependency is missing.
  for (size_t i = 0; i < resolution.order.size(); ++i) {
    Record* record = find(resolution.order[i]);
    std::string unavailable;
    for (const Relationship& required : record->manifest->relationships.required) {
      const Record* dependency = find(required.id);
      if (dependency == nullptr || !dependency->attached) {
        unavailable = required.id;
        break;
      }
    }
    if (!unavailable.empty()) {
      if (record->attached)
        unload(*record);
      advance(*record, PluginState::kBlocked,
              "requires \"" + unavailable + "\", which failed to load");
      continue;
    }
    if (record->attached)
      continue;
    if (record->lifecycle.state() == PluginState::kFailed &&
        !settings_->get(record->manifest->id).disabled_reason.empty()) {
      continue;
    }
    (void)load(*record, static_cast<int>(i));
  }
  // Plugins loaded in earlier passes take their place in this order too.
  dispatcher_->set_load_order(resolution.order);
  return {};
}

Status Host::check_subscriptions(const Manifest& manifest, std::vector<Subscription>& implemented) {
  if (manifest.subscriptions) {
    const std::vector<Subscription>& declared = *manifest.subscriptions;
    std::vector<std::string> only_declared, only_implemented;
    for (const Subscription& d : declared) {
      if (std::find(implemented.begin(), implemented.end(), d) == implemented.end()) {
        only_declared.push_back(describe(d));
      }
    }
    for (const Subscription& s : implemented) {
      if (std::find(declared.begin(), declared.end(), s) == declared.end()) {
        only_implemented.push_back(describe(s));
      }
    }
    if (!only_declared.empty() || !only_implemented.empty()) {
      std::vector<ErrorDetail> details;
      if (!only_declared.empty()) {
        details.push_back({"subscriptions",
                           "declared in the manifest but not implemented: " + join(only_declared)});
      }
      if (!only_implemented.empty()) {
        details.push_back({"subscriptions",
                           "implemented by the code but not declared: " + join(only_implemented)});
      }
      return Error(ErrorCode::kInvalidArgument,
                   "the manifest's subscriptions and the plugin's handlers disagree",
                   std::move(details));
    }
    // The manifest's priorities win: an operator reads them there.
    for (Subscription& s : implemented) {
      s.priority = std::find(declared.begin(), declared.end(), s)->priority;
    }
  }
  for (const Subscription& s : implemented) {
    std::shared_ptr<const EventSpec> spec = catalogue_->find(s.event);
    if (spec && !spec->kinds.count(s.kind)) {
      std::vector<std::string> kinds;
      for (HookKind kind : spec->kinds)
        kinds.emplace_back(hook_kind_name(kind));
      return Error(
          ErrorCode::kInvalidArgument,
          "cannot " + std::string(hook_kind_name(s.kind)) + " \"" + s.event + "\"",
          {{"subscriptions", "event \"" + s.event + "\" is delivered only as: " + join(kinds)}});
    }
  }
  return {};
}

Status Host::prepare(Record& record, const std::shared_ptr<const Manifest>& manifest_ptr,
                     const PluginSource& source, Prepared& prepared) {
  const Manifest& manifest = *manifest_ptr;
  auto runtime = runtimes_.find(manifest.runtime);
  if (runtime == runtimes_.end()) {
    return Error(
        ErrorCode::kFailedPrecondition,
        "this host has no " + std::string(runtime_kind_name(manifest.runtime)) + " runtime");
  }
  PluginSettings settings = settings_->get(manifest.id);
  auto config = validate_config(manifest, settings.config);
  if (!config.ok())
    return config.error();

  std::vector<std::string> grants = settings_->effective_grants(manifest);
  std::vector<const HostFunctionSpec*> granted;
  for (const HostFunctionSpec& function : functions_) {
    if (std::find(grants.begin(), grants.end(), function.capability) != grants.end()) {
      granted.push_back(&function);
    }
  }
  auto services = std::make_unique<PluginServices>();
  services->plugin_id = manifest.id;
  services->kv = kv_.get();
  services->kv_namespace = kv_namespace(manifest.id);
  services->cache =
      std::make_unique<TtlCache>(options_.cache_max_entries, options_.cache_max_bytes);
  services->warnings = record.warnings.get();
  services->log = [this](const std::string& id, LogLevel level, const std::string& message) {
    options_.log_sink(id, log_level_name(level), message);
  };
  services->emit = [this](const HostCall& call, const std::string& event, Json payload) {
    return emit(call, event, std::move(payload));
  };
  services->declared_by_others = [this, id = manifest.id](const std::string& event) {
    auto spec = catalogue_->find(event);
    return spec != nullptr && spec->declared_by != id;
  };
  services->set_config(*config);
  services->set_secrets(settings.secrets);
  prepared.environment =
      std::make_unique<PluginEnvironment>(manifest_ptr, std::move(granted), std::move(services));

  InstanceSpec spec{manifest_ptr,           source.root,
                    source.entrypoint_path, prepared.environment.get(),
                    catalogue_->all(),      record.warnings.get()};
  // The plugin's own events are declared once it loads; its handlers may name them.
  for (const PluginEventSpec& event : manifest.events) {
    if (!catalogue_->find(event.name)) {
      spec.events.push_back(std::make_shared<const EventSpec>(
          EventSpec{event.name, {HookKind::kNotify}, Json(), event.description, manifest.id}));
    }
  }
  auto created = runtime->second->instantiate(spec);
  if (!created.ok())
    return created.error();
  prepared.instance = std::move(created).value();
  prepared.subscriptions = prepared.instance->subscriptions();
  return check_subscriptions(manifest, prepared.subscriptions);
}

Status Host::declare_plugin_events(const Manifest& manifest) {
  for (const PluginEventSpec& event : manifest.events) {
    EventSpec spec_of_event{event.name,        {HookKind::kNotify}, Json(),
                            event.description, manifest.id,         event.schema};
    if (Status declared = catalogue_->declare(std::move(spec_of_event)); !declared.ok()) {
      catalogue_->remove_declared_by(manifest.id);
      return declared;
    }
  }
  return {};
}

void Host::warn_about_undeclared(Record& record, const std::vector<Subscription>& subscriptions) {
  for (const Subscription& s : subscriptions) {
    if (!catalogue_->find(s.event)) {
      record.warnings->add("load", "subscribes to \"" + s.event +
                                       "\", which neither the host nor a loaded plugin declares "
                                       "(yet)");
    }
  }
}

Status Host::load(Record& record, int load_index) {
  const Manifest& manifest = *record.manifest;
  advance(record, PluginState::kLoading, "");
  auto fail = [&](const Error& error) -> Status {
    record.environment.reset();
    advance(record, PluginState::kFailed, error.to_string());
    record.warnings->add("load", error.to_string());
    return error;
  };
  std::unique_ptr<PluginInstance> instance;
  std::vector<Subscription> subscriptions;
  {
    Prepared prepared;
    if (Status ready = prepare(record, record.manifest, record.source, prepared); !ready.ok())
      return fail(ready.error());
    instance = std::move(prepared.instance);
    subscriptions = std::move(prepared.subscriptions);
    record.environment = std::move(prepared.environment);
  }
  advance(record, PluginState::kReady, "");
  if (Status declared = declare_plugin_events(manifest); !declared.ok()) {
    instance.reset();
    return fail(declared.error());
  }
  warn_about_undeclared(record, subscriptions);
  if (Status attached = dispatcher_->attach(record.manifest, std::move(instance),
                                            std::move(subscriptions), load_index);
      !attached.ok()) {
    catalogue_->remove_declared_by(manifest.id);
    return fail(attached.error());
  }
  record.attached = true;
  advance(record, PluginState::kLoaded, "");
  return {};
}

void Host::handle_auto_disable(const std::string& id, const std::string& reason) {
  AfterUnlock after_unlock(*this);
  std::lock_guard lock(mutex_);
  Record* record = find(id);
  // The strikes belong to the instance that earned them. If the operator disabled,
  // reloaded or re-enabled the plugin since, the attached instance (if any) is a
  // new, active one and this report is stale.
  if (record == nullptr || !record->attached || dispatcher_->is_active(id))
    return;
  record->strike_reason = reason;
  if (Status saved = settings_->update(id,
                                       [&](PluginSettings& settings) {
                                         settings.enabled = false;
                                         settings.disabled_reason = reason;
                                       });
      !saved.ok()) {
    record->warnings->add("strikes", "could not save the auto-disable: " + saved.error().message());
  }
  record->warnings->add("strikes", reason);
  if (record->attached) {
    std::function<void()> wait = dispatcher_->detach_later(id);
    catalogue_->remove_declared_by(id);
    record->attached = false;
    // Another thread may be mid-call in this plugin: its environment goes once that
    // call is over, which after_unlock() waits for when this thread lets go of mutex_.
    std::shared_ptr<PluginEnvironment> environment = std::move(record->environment);
    retired_.emplace_back(std::this_thread::get_id(), [wait, environment]() mutable {
      if (wait)
        wait();
      environment.reset();
    });
  }
  advance(*record, PluginState::kFailed, reason);
  // Plugins that require this one cannot run without it; a plugin it conflicted
  // with may now load.
  (void)reconcile();
}

void Host::handle_warning(const std::string& id, const std::string& hook,
                          const std::string& message) {
  WarningLog* log = nullptr;
  {
    std::lock_guard lock(mutex_);
    if (const Record* record = find(id))
      log = record->warnings.get();
  }
  // Records are never erased while the host lives, so the log outlives this call.
  if (log != nullptr && log->add(hook, message)) {
    options_.log_sink(id, "warn", hook + ": " + message);
  }
}

Result<Json> Host::emit(const HostCall& call, const std::string& event, Json payload) {
  // Depth alone does not bound a fan-out: 10 emits per call over 8 levels is 10^8
  // events. A call may emit this many; the queues below it are bounded too.
  if (++call.emitted_in_call > kMaxEmitsPerCall) {
    return Error(ErrorCode::kResourceExhausted, "events.emit: a call may emit at most " +
                                                    std::to_string(kMaxEmitsPerCall) + " events");
  }
  EmitRecord record{std::string(call.plugin_id), event, payload, call.depth + 1, false};
  if (record.depth >= dispatcher_->max_emit_depth()) {
    record.dropped = true;
    std::string message = "dropped emit of \"" + event + "\" at depth " +
                          std::to_string(record.depth) + " (the limit is " +
                          std::to_string(dispatcher_->max_emit_depth()) + ")";
    if (call.services.warnings && call.services.warnings->add("emit", message)) {
      options_.log_sink(record.plugin_id, "warn", message);
    }
  }
  std::vector<std::function<void(const EmitRecord&)>> observers;
  {
    std::lock_guard lock(observers_mutex_);
    observers = emit_observers_;
  }
  // Called unlocked, so an observer may call back into the host.
  for (auto& observer : observers)
    observer(record);
  if (record.dropped)
    return Json(false);
  dispatcher_->notify(event, std::move(payload), record.depth);
  return Json(true);
}

// --- Status ---

PluginStatus Host::status_of(const Record& record) const {
  PluginStatus status;
  status.id = record.manifest->id;
  status.manifest = record.manifest;
  status.source = record.source;
  status.state = record.lifecycle.state();
  status.reason = record.lifecycle.reason();
  PluginSettings settings = settings_->get(status.id);
  status.enabled = settings.enabled;
  status.approved_permissions = settings.approved_permissions;
  status.missing_grants = settings_->missing_grants(*record.manifest);
  auto config = validate_config(*record.manifest, settings.config);
  status.config = config.ok() ? *config : settings.config;
  status.warnings = record.warnings->entries();
  status.stats = dispatcher_->stats(status.id);
  return status;
}

std::optional<PluginStatus> Host::status(const std::string& id) const {
  std::lock_guard lock(mutex_);
  const Record* record = find(id);
  if (record == nullptr)
    return std::nullopt;
  return status_of(*record);
}

std::vector<PluginStatus> Host::statuses() const {
  std::lock_guard lock(mutex_);
  std::vector<PluginStatus> list;
  for (const auto& [id, record] : records_)
    list.push_back(status_of(*record));
  return list;
}

std::vector<std::shared_ptr<const EventSpec>> Host::events() const {
  return catalogue_->all();
}

std::shared_ptr<const EventSpec> Host::event(std::string_view name) const {
  return catalogue_->find(name);
}

std::map<std::string, std::vector<PluginMetadata>> Host::plugins_by_group() const {
  std::lock_guard lock(mutex_);
  return registry_.by_group();
}

std::string Host::kv_namespace(const std::string& plugin_id) const {
  return options_.tenant + "/" + plugin_id;
}

void Host::on_state_change(std::function<void(const std::string&, const StateChange&)> observer) {
  std::lock_guard lock(observers_mutex_);
  state_observers_.push_back(std::move(observer));
}

void Host::on_emit(std::function<void(const EmitRecord&)> observer) {
  std::lock_guard lock(observers_mutex_);
  emit_observers_.push_back(std::move(observer));
}

// --- Dispatch ---

FilterOutcome Host::filter(std::string_view event, Json payload) {
  return dispatcher_->filter(event, std::move(payload));
}

size_t Host::notify(std::string_view event, Json payload) {
  return dispatcher_->notify(event, std::move(payload), 0);
}

std::vector<Contribution> Host::collect(std::string_view event, const Json& payload) {
  return dispatcher_->collect(event, payload);
}

DispatchOutcome Host::dispatch(std::string_view event, const Json& payload) {
  return dispatcher_->dispatch(event, payload);
}

Result<Json> Host::request(std::string_view plugin_id, std::string_view event,
                           const Json& payload) {
  return dispatcher_->request(plugin_id, event, payload);
}

Result<std::string> Host::call_export(std::string_view plugin_id, std::string_view name,
                                      std::string_view input) {
  return dispatcher_->call_export(plugin_id, name, input);
}

void Host::wait_idle() {
  dispatcher_->wait_idle();
}

}  // namespace outlet
