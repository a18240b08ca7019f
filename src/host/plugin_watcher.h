// Hot reload: watches plugin folders with inotify and asks for a reload once a
// plugin's files have been quiet for a moment (editors write in several steps:
// a temporary file, a rename, a chmod).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "outlet/result.h"

namespace outlet {

class PluginWatcher {
 public:
  using Reload = std::function<void(const std::string& plugin_id)>;

  // Starts the watching thread. `reload` runs on it, with no lock of the watcher held.
  static Result<std::unique_ptr<PluginWatcher>> start(Reload reload,
                                                      std::chrono::milliseconds quiet_period);
  ~PluginWatcher();  // stops the thread; no reload runs after it returns
  PluginWatcher(const PluginWatcher&) = delete;
  PluginWatcher& operator=(const PluginWatcher&) = delete;

  // Watches `directory` (not recursively) on behalf of `plugin_id`.
  Status watch(const std::string& plugin_id, const std::string& directory);
  void unwatch(const std::string& plugin_id);

 private:
  PluginWatcher(Reload reload, std::chrono::milliseconds quiet_period, int inotify_fd, int wake_fd);
  void run();
  void read_events();

  Reload reload_;
  std::chrono::milliseconds quiet_period_;
  int inotify_fd_;
  int wake_fd_;  // an eventfd: written to stop the thread

  std::mutex mutex_;
  std::map<int, std::set<std::string>> ids_by_watch_;                 // guarded by mutex_
  std::map<std::string, std::set<int>> watches_by_id_;                // guarded by mutex_
  std::map<std::string, std::chrono::steady_clock::time_point> due_;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace outlet
