#include "storage/settings_store.h"

#include <algorithm>
#include <array>
#include <filesystem>

#include "core/json_text.h"
#include "core/text.h"
#include "outlet/discovery.h"
#include "storage/guarded.h"
#include "storage/sqlite_database.h"

namespace outlet {
namespace {

constexpr size_t kMaxLegacyFileBytes = 64 << 20;

// Lists and maps are JSON text in their columns: they are read whole and never queried.
constexpr std::array<const char*, 1> kMigrations = {
    "CREATE TABLE plugin_settings("
    "tenant TEXT NOT NULL, plugin TEXT NOT NULL, enabled INTEGER NOT NULL, "
    "approved_permissions TEXT NOT NULL, approved_version TEXT NOT NULL, "
    "config TEXT NOT NULL, secrets TEXT NOT NULL, disabled_reason TEXT NOT NULL, "
    "disabled_by_operator INTEGER NOT NULL, PRIMARY KEY(tenant, plugin)) WITHOUT ROWID",
};

enum StatementId { kLoad, kUpsert, kDelete, kStatementCount };

constexpr std::array<const char*, kStatementCount> kStatements = {
    // kLoad
    "SELECT plugin, enabled, approved_permissions, approved_version, config, secrets, "
    "disabled_reason, disabled_by_operator FROM plugin_settings WHERE tenant = ?1",
    // kUpsert
    "INSERT INTO plugin_settings(tenant, plugin, enabled, approved_permissions, "
    "approved_version, config, secrets, disabled_reason, disabled_by_operator) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
    "ON CONFLICT(tenant, plugin) DO UPDATE SET enabled = excluded.enabled, "
    "approved_permissions = excluded.approved_permissions, "
    "approved_version = excluded.approved_version, config = excluded.config, "
    "secrets = excluded.secrets, disabled_reason = excluded.disabled_reason, "
    "disabled_by_operator = excluded.disabled_by_operator",
    // kDelete
    "DELETE FROM plugin_settings WHERE tenant = ?1 AND plugin = ?2",
};

// A column that must hold JSON of one type; anything else names the plugin and column.
template <typename T>
Result<T> read_column(const sqlite::Query& row, int column, const std::string& id,
                      const char* name) {
  const std::string where = "plugin_settings[" + id + "]." + name;
  auto parsed = parse_json_text(row.column_text(column), where);
  if (!parsed.ok()) {
    return Error(ErrorCode::kUnavailable, "settings store is corrupt", {{where, "not JSON"}});
  }
  try {
    return parsed->get<T>();
  } catch (const Json::exception& e) {
    return Error(ErrorCode::kUnavailable, "settings store is corrupt", {{where, e.what()}});
  }
}

}  // namespace

SettingsStore::SettingsStore(std::string path, std::string tenant)
    : path_(std::move(path)), tenant_(std::move(tenant)) {}

SettingsStore::~SettingsStore() = default;

Result<std::unique_ptr<SettingsStore>> SettingsStore::open(const std::string& path,
                                                           const std::string& tenant) {
  std::unique_ptr<SettingsStore> store(new SettingsStore(path, tenant));
  if (path.empty()) {
    return store;
  }
  auto db = sqlite::Database::open(
      path, {.migrations = kMigrations, .statements = kStatements, .create_mode = 0600});
  if (!db.ok()) {
    return Error(db.error().code(), "settings store: " + db.error().message() +
                                        "; fix or move the file away (nothing was changed)");
  }
  store->db_ = std::move(db).value();
  if (Status loaded = store->load(); !loaded.ok()) {
    return loaded.error();
  }
  return store;
}

Status SettingsStore::load() {
  return guarded("settings.load", [&]() -> Status {
    std::lock_guard db_lock(db_->mutex());
    sqlite::Query row(*db_, kLoad, "settings.load");
    row.text(1, tenant_);
    int rc;
    while ((rc = row.step()) == SQLITE_ROW) {
      const std::string id(row.column_text(0));
      PluginSettings settings;
      settings.enabled = row.column_int(1) != 0;
      auto permissions = read_column<std::vector<std::string>>(row, 2, id, "approved_permissions");
      auto config = read_column<Json>(row, 4, id, "config");
      auto secrets = read_column<std::map<std::string, std::string>>(row, 5, id, "secrets");
      if (!permissions.ok()) {
        return permissions.error();
      }
      if (!config.ok()) {
        return config.error();
      }
      if (!secrets.ok()) {
        return secrets.error();
      }
      settings.approved_permissions = std::move(*permissions);
      settings.approved_version = std::string(row.column_text(3));
      settings.config = std::move(*config);
      settings.secrets = std::move(*secrets);
      settings.disabled_reason = std::string(row.column_text(6));
      settings.disabled_by_operator = row.column_int(7) != 0;
      plugins_[id] = std::move(settings);
    }
    return rc == SQLITE_DONE ? ok_status() : Status(row.error());
  });
}

PluginSettings SettingsStore::get(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = plugins_.find(id);
  return it == plugins_.end() ? PluginSettings{} : it->second;
}

std::vector<std::string> SettingsStore::ids() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> ids;
  for (const auto& [id, settings] : plugins_)
    ids.push_back(id);
  return ids;
}

Status SettingsStore::update(const std::string& id,
                             const std::function<void(PluginSettings&)>& change) {
  std::lock_guard lock(mutex_);
  auto it = plugins_.find(id);
  PluginSettings next = it == plugins_.end() ? PluginSettings{} : it->second;
  change(next);
  if (db_) {
    Status written = guarded("settings.update", [&]() -> Status {
      std::lock_guard db_lock(db_->mutex());
      return db_->transaction("settings.update", [&] { return write_row(id, next); });
    });
    if (!written.ok()) {
      return written;
    }
  }
  plugins_[id] = std::move(next);
  return {};
}

Status SettingsStore::write_row(const std::string& id, const PluginSettings& settings) {
  const std::string permissions = Json(settings.approved_permissions).dump();
  const std::string config = dump_json(settings.config);
  const std::string secrets = Json(settings.secrets).dump();
  sqlite::Query upsert(*db_, kUpsert, "settings.update");
  upsert.text(1, tenant_).text(2, id).integer(3, settings.enabled ? 1 : 0);
  upsert.text(4, permissions).text(5, settings.approved_version).text(6, config);
  upsert.text(7, secrets).text(8, settings.disabled_reason);
  upsert.integer(9, settings.disabled_by_operator ? 1 : 0);
  return upsert.run();
}

Status SettingsStore::import_json_file(const std::string& json_path) {
  std::error_code ec;
  if (!db_ || !std::filesystem::exists(json_path, ec))
    return ok_status();
  std::lock_guard lock(mutex_);
  if (!plugins_.empty())
    return ok_status();  // decisions are already here: the file is history
  const std::string what = "settings file " + json_path;
  auto text = read_file_capped(json_path, kMaxLegacyFileBytes);
  if (!text.ok())
    return Error(text.error().code(), what + ": " + text.error().message());
  auto document = parse_json_text(*text, what);
  if (!document.ok())
    return document.error();
  if (!document->is_object() || document->value("version", Json()) != Json(1) ||
      !document->value("plugins", Json()).is_object()) {
    return Error(ErrorCode::kInvalidArgument, what + " cannot be imported",
                 {{"", "must be {\"version\": 1, \"plugins\": {...}}"}});
  }
  std::map<std::string, PluginSettings> imported;
  for (const auto& [id, entry] : (*document)["plugins"].items()) {
    try {
      PluginSettings settings;
      settings.enabled = entry.value("enabled", false);
      settings.approved_permissions =
          entry.value("approvedPermissions", std::vector<std::string>{});
      settings.approved_version = entry.value("approvedVersion", std::string());
      settings.config = entry.value("config", Json());
      settings.secrets = entry.value("secrets", std::map<std::string, std::string>{});
      settings.disabled_reason = entry.value("disabledReason", std::string());
      imported[id] = std::move(settings);
    } catch (const Json::exception& e) {
      return Error(ErrorCode::kInvalidArgument, what + " cannot be imported",
                   {{"plugins." + id, e.what()}});
    }
  }
  Status written = guarded("settings.import", [&]() -> Status {
    std::lock_guard db_lock(db_->mutex());
    return db_->transaction("settings.import", [&]() -> Status {
      for (const auto& [id, settings] : imported) {
        if (Status s = write_row(id, settings); !s.ok())
          return s;
      }
      return ok_status();
    });
  });
  if (!written.ok())
    return written;
  plugins_ = std::move(imported);
  // Renamed, not deleted: the operator can see what was imported, and it is not read again.
  std::filesystem::rename(json_path, json_path + ".imported", ec);
  return ok_status();
}

Status SettingsStore::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  if (db_) {
    Status removed = guarded("settings.remove", [&]() -> Status {
      std::lock_guard db_lock(db_->mutex());
      sqlite::Query erase(*db_, kDelete, "settings.remove");
      erase.text(1, tenant_).text(2, id);
      return erase.run();
    });
    if (!removed.ok()) {
      return removed;
    }
  }
  plugins_.erase(id);
  return {};
}

std::vector<std::string> SettingsStore::missing_grants(const Manifest& manifest) const {
  PluginSettings settings = get(manifest.id);
  std::vector<std::string> missing;
  for (const std::string& permission : manifest.permissions) {
    if (std::find(settings.approved_permissions.begin(), settings.approved_permissions.end(),
                  permission) == settings.approved_permissions.end()) {
      missing.push_back(permission);
    }
  }
  return missing;
}

std::vector<std::string> SettingsStore::effective_grants(const Manifest& manifest) const {
  PluginSettings settings = get(manifest.id);
  std::vector<std::string> granted;
  for (const std::string& permission : manifest.permissions) {
    if (std::find(settings.approved_permissions.begin(), settings.approved_permissions.end(),
                  permission) != settings.approved_permissions.end()) {
      granted.push_back(permission);
    }
  }
  return granted;
}

}  // namespace outlet
