// The embedding API: what an application creates to host plugins.
//
//   auto host = outlet::Host::create({.data_dir = "/var/lib/app"});
//   (*host)->declare_event({...});            // the application's domain
//   (*host)->declare_host_function({...});
//   (*host)->discover("/var/lib/app/plugins");
//   (*host)->approve("word-filter"); (*host)->enable("word-filter");
//   auto outcome = (*host)->filter("chat.message.received", message);
//
// Thread-safety: every method may be called from any thread. Dispatch methods
// never hold the host's lock while plugin code runs.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "outlet/discovery.h"
#include "outlet/dispatch.h"
#include "outlet/event.h"
#include "outlet/host_function.h"
#include "outlet/kv_store.h"
#include "outlet/lifecycle.h"
#include "outlet/manifest.h"
#include "outlet/native_plugin.h"
#include "outlet/registry.h"
#include "outlet/result.h"
#include "outlet/warnings.h"

namespace outlet {

class Runtime;
class Dispatcher;
class EventCatalogue;
class SettingsStore;
class NativeRuntime;
class PluginWatcher;

inline constexpr const char* kOutletVersion = "0.1.0";
inline constexpr uint32_t kMaxEmitsPerCall = 100;

struct HostOptions {
  // Where settings (grants, enabled set, config) and the SQLite KV live.
  // Empty: nothing is persisted (tests, `outlet test`).
  std::string data_dir;
  std::string tenant = "default";
  // A KV backend of the application's own; default: SQLite in data_dir, else memory.
  std::shared_ptr<KvStore> kv;
  size_t worker_threads = 2;
  uint32_t strike_limit = 5;
  int max_emit_depth = 8;
  // Notifications waiting for one plugin; beyond this they are dropped with a warning.
  size_t max_queued_per_plugin = 10000;
  // Per-call timeouts in ms by hook kind (notify, filter, collect, dispatch,
  // request); a manifest may lower them, never raise them.
  std::array<uint32_t, 5> timeout_ms = {500, 50, 100, 100, 5000};
  size_t warning_capacity = 100;
  // WASI preview 1 for wasm plugins, without capabilities (no files, sockets,
  // arguments or environment; stdout/stderr to the plugin's log). Off, a module
  // that imports WASI does not load.
  bool wasm_wasi = true;
  size_t cache_max_entries = 1000;
  size_t cache_max_bytes = 1 << 20;
  // Receives every plugin log line. Default: stderr, "[plugin] level: message".
  std::function<void(const std::string& plugin_id, std::string_view level,
                     const std::string& message)>
      log_sink;
};

struct PluginStatus {
  std::string id;
  std::shared_ptr<const Manifest> manifest;
  PluginSource source;
  PluginState state = PluginState::kDiscovered;
  std::string reason;  // why blocked / failed / disabled
  bool enabled = false;
  std::vector<std::string> approved_permissions;
  std::vector<std::string> missing_grants;
  Json config;
  std::vector<Warning> warnings;
  std::optional<PluginCallStats> stats;  // while loaded
};

// An event a plugin emitted, as the host saw it (for scenario tests and logs).
struct EmitRecord {
  std::string plugin_id;
  std::string event;
  Json payload;
  int depth = 0;
  bool dropped = false;  // past the emit depth limit
};

class Host {
 public:
  static Result<std::unique_ptr<Host>> create(HostOptions options = {});
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // --- The application's domain (declare before loading plugins) ---
  Status declare_kind(PluginKindSpec kind);
  Status declare_event(EventSpec event);
  Status declare_host_function(HostFunctionSpec function);
  Status declare_permission(PermissionSpec permission);
  Status register_native_plugin(std::string id, NativePluginFactory factory);
  Status add_runtime(std::unique_ptr<Runtime> runtime);
  ManifestVocabulary vocabulary() const;

  // --- Plugins ---
  // Registers every valid plugin folder; problems are returned per folder.
  Result<DiscoveryReport> discover(const std::string& plugins_dir);
  Status add_plugin(const DiscoveredPlugin& plugin);
  // A plugin with no folder (a native built-in), from its manifest document.
  Status add_builtin(const Json& manifest);
  // Approves permissions (default: all the manifest declares) for the current version.
  Status approve(const std::string& id,
                 const std::optional<std::vector<std::string>>& permissions = {});
  Status enable(const std::string& id);
  Status disable(const std::string& id);
  // Reads the plugin's files again and swaps in a fresh instance (KV data is
  // kept). The new instance is built beside the running one, which finishes its
  // call in flight; if the new one cannot load, or asks for permissions not yet
  // approved, the running one stays and the error says why (also as a warning).
  Status reload(const std::string& id);
  // Hot reload: from now on, a plugin whose folder changes is reloaded (as
  // reload()) once its files have been quiet for `quiet_period`. Uses inotify.
  Status watch_plugin_files(
      std::chrono::milliseconds quiet_period = std::chrono::milliseconds(200));
  // Validates against the manifest's schema (defaults applied) before storing.
  Status set_config(const std::string& id, const Json& config);
  Status set_secret(const std::string& id, const std::string& name, const std::string& value);
  // Loads every enabled plugin whose dependencies and grants allow it.
  Status start();

  std::optional<PluginStatus> status(const std::string& id) const;
  std::vector<PluginStatus> statuses() const;
  std::vector<std::shared_ptr<const EventSpec>> events() const;
  std::shared_ptr<const EventSpec> event(std::string_view name) const;  // null if undeclared
  std::map<std::string, std::vector<PluginMetadata>> plugins_by_group() const;
  KvStore& kv() { return *kv_; }
  std::string kv_namespace(const std::string& plugin_id) const;

  // Every lifecycle step; a reload that swapped in a new instance reports a change
  // from loaded to loaded (its reason names the version).
  void on_state_change(std::function<void(const std::string& id, const StateChange&)> observer);
  void on_emit(std::function<void(const EmitRecord&)> observer);

  // --- Dispatch ---
  FilterOutcome filter(std::string_view event, Json payload);
  size_t notify(std::string_view event, Json payload);
  std::vector<Contribution> collect(std::string_view event, const Json& payload);
  DispatchOutcome dispatch(std::string_view event, const Json& payload);
  Result<Json> request(std::string_view plugin_id, std::string_view event, const Json& payload);
  // Calls a function a wasm plugin exports, by name, with raw bytes in and out
  // (the Extism model), under the request hook's limits; a failure is a strike.
  Result<std::string> call_export(std::string_view plugin_id, std::string_view name,
                                  std::string_view input);
  // Waits until every queued notification (and what it emitted) has run.
  void wait_idle();

 private:
  struct Record;
  explicit Host(HostOptions options);

  Status reconcile();  // requires mutex_
  struct Prepared;
  Status prepare(Record& record, const std::shared_ptr<const Manifest>& manifest,
                 const PluginSource& source, Prepared& out);  // requires mutex_
  Status declare_plugin_events(const Manifest& manifest);     // requires mutex_
  void warn_about_undeclared(Record& record, const std::vector<Subscription>& subscriptions);
  Status swap_registration(Record& record, std::shared_ptr<const Manifest> manifest,
                           const PluginSource& source);                         // requires mutex_
  ManifestVocabulary vocabulary_locked() const;                                 // requires mutex_
  Status load(Record& record, int load_index);                                  // requires mutex_
  void unload(Record& record);                                                  // requires mutex_
  void advance(Record& record, PluginState target, const std::string& reason);  // requires mutex_
  Record* find(const std::string& id);                                          // requires mutex_
  const Record* find(const std::string& id) const;
  Status check_subscriptions(const Manifest& manifest, std::vector<Subscription>& implemented);
  void handle_auto_disable(const std::string& id, const std::string& reason);
  void handle_warning(const std::string& id, const std::string& hook, const std::string& message);
  Result<Json> emit(const HostCall& call, const std::string& event, Json payload);
  PluginStatus status_of(const Record& record) const;  // requires mutex_

  HostOptions options_;
  KindRegistry kinds_;
  PluginRegistry registry_{kinds_};
  std::unique_ptr<EventCatalogue> catalogue_;
  // A deque: loaded plugins keep pointers to these, so a later declaration must not move them.
  std::deque<HostFunctionSpec> functions_;
  std::vector<PermissionSpec> permissions_;
  std::map<RuntimeKind, std::unique_ptr<Runtime>> runtimes_;
  NativeRuntime* native_ = nullptr;
  std::shared_ptr<KvStore> kv_;
  std::unique_ptr<SettingsStore> settings_;

  std::unique_ptr<PluginWatcher> watcher_;  // set once; guarded by mutex_
  mutable std::mutex mutex_;                // guards records_ and registry_
  std::map<std::string, std::unique_ptr<Record>, std::less<>> records_;
  // Work a method queues while holding mutex_ and finishes once it has let go, so
  // that neither waiting for a plugin's call in flight (which may call back into the
  // host) nor observers (which may too) ever run under mutex_.
  class AfterUnlock;    // declared before a method's lock_guard: runs after it is released
  void after_unlock();  // must not be called with mutex_ held
  void deliver_state_changes();
  std::vector<std::pair<std::string, StateChange>> pending_changes_;  // guarded by mutex_
  // Unloaded plugins still to wait for, by the thread that unloaded them; guarded by mutex_.
  std::vector<std::pair<std::thread::id, std::function<void()>>> retired_;
  std::mutex delivery_mutex_;  // held by the one thread delivering pending_changes_

  std::mutex observers_mutex_;
  std::vector<std::function<void(const std::string&, const StateChange&)>> state_observers_;
  std::vector<std::function<void(const EmitRecord&)>> emit_observers_;

  // Declared last: destroyed first, so no plugin call outlives the state above.
  std::unique_ptr<Dispatcher> dispatcher_;
};

}  // namespace outlet
