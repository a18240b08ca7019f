// What the operator decided for each plugin: enabled or not, which of its declared
// permissions are approved (grants), its config, and its secrets. Persisted as one
// JSON file written atomically (temp file, fsync, rename, fsync of the folder), so
// a crash leaves either the old file or the new one, never a torn one.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "outlet/json.h"
#include "outlet/manifest.h"
#include "outlet/result.h"

namespace outlet {

struct PluginSettings {
  bool enabled = false;
  std::vector<std::string> approved_permissions;
  std::string approved_version;  // the version the grants were given to
  Json config;                   // null = defaults
  std::map<std::string, std::string> secrets;
  std::string disabled_reason;  // why the host (not the operator) disabled it, e.g. strikes

  bool operator==(const PluginSettings&) const = default;
};

class SettingsStore {
 public:
  // Opens `path`, creating it on first write. An unreadable or corrupt file is an
  // error: refusing to start beats silently dropping the operator's decisions.
  // An empty path keeps everything in memory.
  static Result<std::unique_ptr<SettingsStore>> open(const std::string& path);

  PluginSettings get(const std::string& id) const;
  std::vector<std::string> ids() const;
  // Applies `change` and persists; on a write failure nothing changes.
  Status update(const std::string& id, const std::function<void(PluginSettings&)>& change);
  Status remove(const std::string& id);

  // The declared permissions the operator has not approved (empty = fully granted).
  std::vector<std::string> missing_grants(const Manifest& manifest) const;
  // The permissions the sandbox gets: declared ∩ approved.
  std::vector<std::string> effective_grants(const Manifest& manifest) const;

  const std::string& path() const { return path_; }

 private:
  explicit SettingsStore(std::string path) : path_(std::move(path)) {}
  Status persist(const std::map<std::string, PluginSettings>& plugins) const;

  std::string path_;
  mutable std::mutex mutex_;
  std::map<std::string, PluginSettings> plugins_;  // guarded by mutex_
};

// Writes `content` to `path` atomically and durably.
Status write_file_atomically(const std::string& path, const std::string& content);

}  // namespace outlet
