// What the operator decided for each plugin of one tenant: enabled or not, which of
// its declared permissions are approved (grants), its config, and its secrets.
// Persisted in SQLite (one row per plugin, each change one transaction), so a crash
// leaves either the old decision or the new one, never a torn one. The file is
// created owner-only: it holds secrets.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "outlet/json.h"
#include "outlet/manifest.h"
#include "outlet/result.h"

namespace outlet {

namespace sqlite {
class Database;
}

struct PluginSettings {
  bool enabled = false;
  std::vector<std::string> approved_permissions;
  std::string approved_version;  // the version the grants were given to
  Json config;                   // null = defaults
  std::map<std::string, std::string> secrets;
  std::string disabled_reason;        // why the host (not the operator) disabled it, e.g. strikes
  bool disabled_by_operator = false;  // so a restart shows "disabled", not "validated"

  bool operator==(const PluginSettings&) const = default;
};

class SettingsStore {
 public:
  // Opens the database at `path` (created on first use) and reads `tenant`'s rows.
  // An unreadable or corrupt file or row is an error: refusing to start beats
  // silently dropping the operator's decisions. An empty path keeps everything in
  // memory.
  static Result<std::unique_ptr<SettingsStore>> open(const std::string& path,
                                                     const std::string& tenant = "default");
  ~SettingsStore();

  PluginSettings get(const std::string& id) const;
  std::vector<std::string> ids() const;
  // Applies `change` and persists; on a write failure nothing changes.
  Status update(const std::string& id, const std::function<void(PluginSettings&)>& change);
  Status remove(const std::string& id);

  // The declared permissions the operator has not approved (empty = fully granted).
  std::vector<std::string> missing_grants(const Manifest& manifest) const;
  // The permissions the sandbox gets: declared ∩ approved.
  std::vector<std::string> effective_grants(const Manifest& manifest) const;

  // Imports the JSON file earlier versions kept settings in ({"version": 1,
  // "plugins": {...}}) when this tenant has no settings yet, then renames it to
  // "<file>.imported". A file that cannot be read or parsed is an error and is left
  // as it is; so is the store.
  Status import_json_file(const std::string& json_path);

  const std::string& path() const { return path_; }

 private:
  Status write_row(const std::string& id, const PluginSettings& settings);  // in a transaction
  SettingsStore(std::string path, std::string tenant);
  Status load();

  std::string path_;
  std::string tenant_;
  std::unique_ptr<sqlite::Database> db_;  // null when in memory
  mutable std::mutex mutex_;
  std::map<std::string, PluginSettings> plugins_;  // guarded by mutex_
};

}  // namespace outlet
