// SQLite KvStore: one connection per store, serialized by a mutex, with every statement
// prepared once at open. One table, kv(ns, key, value), whose primary key (ns, key) is
// also the index that prefix listing walks.
#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>
#include <new>

#include "outlet/kv_store.h"
#include "storage/guarded.h"
#include "storage/sqlite_database.h"

namespace outlet {
namespace {

// Bump when appending to kMigrations. Stored in PRAGMA user_version, so an older build
// refuses a file a newer build has migrated instead of misreading it.
constexpr int kSchemaVersion = 1;

// kMigrations[v] upgrades a database from version v to v + 1. Append only: files in the
// field are at every older version and replay the tail.
constexpr std::array<const char*, kSchemaVersion> kMigrations = {
    "CREATE TABLE kv(ns TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, "
    "PRIMARY KEY(ns, key)) WITHOUT ROWID",
};

enum StatementId {
  kGet,
  kSet,
  kRemove,
  kListRange,
  kListFrom,
  kClear,
  kSize,
  kStatementCount,
};

constexpr std::array<const char*, kStatementCount> kStatementSql = {
    // kGet
    "SELECT value FROM kv WHERE ns = ?1 AND key = ?2",
    // kSet
    "INSERT INTO kv(ns, key, value) VALUES(?1, ?2, ?3) "
    "ON CONFLICT(ns, key) DO UPDATE SET value = excluded.value",
    // kRemove
    "DELETE FROM kv WHERE ns = ?1 AND key = ?2",
    // kListRange: a range on the primary key, not LIKE, which would scan the namespace and
    // treat '%' and '_' in a prefix as wildcards.
    "SELECT key, value FROM kv WHERE ns = ?1 AND key >= ?2 AND key < ?3 ORDER BY key LIMIT ?4",
    // kListFrom: the prefix has no upper bound (empty, or all 0xFF bytes).
    "SELECT key, value FROM kv WHERE ns = ?1 AND key >= ?2 ORDER BY key LIMIT ?3",
    // kClear
    "DELETE FROM kv WHERE ns = ?1",
    // kSize: CAST AS BLOB because length() of TEXT counts characters, and stops at a NUL.
    "SELECT COALESCE(SUM(length(CAST(key AS BLOB)) + length(CAST(value AS BLOB))), 0) "
    "FROM kv WHERE ns = ?1",
};

// Quotes a key for an error message; replace, not throw, since a damaged file may hold
// bytes that are not UTF-8.
std::string quote(std::string_view text) {
  return Json(std::string(text)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The smallest string greater than every string that starts with `prefix`, or nullopt if
// there is none. A trailing 0xFF byte cannot be incremented, so it is dropped and the byte
// before it is incremented instead ("a\xFF" -> "b"); an empty or all-0xFF prefix has no
// bound. The comparison is bytewise: SQLite's BINARY collation is memcmp.
std::optional<std::string> prefix_upper_bound(std::string_view prefix) {
  std::string bound(prefix);
  while (!bound.empty() && static_cast<unsigned char>(bound.back()) == 0xFF) {
    bound.pop_back();
  }
  if (bound.empty()) {
    return std::nullopt;
  }
  bound.back() = static_cast<char>(static_cast<unsigned char>(bound.back()) + 1);
  return bound;
}

Result<Json> parse_stored(std::string_view op, std::string_view key, std::string_view text) {
  Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return Error(ErrorCode::kUnavailable,
                 std::string(op) + ": stored value of key " + quote(key) + " is not valid JSON");
  }
  return value;
}

class SqliteKvStore final : public KvStore {
 public:
  static Result<std::unique_ptr<KvStore>> open(const std::string& path) {
    auto db =
        sqlite::Database::open(path, {.migrations = kMigrations, .statements = kStatementSql});
    if (!db.ok()) {
      return db.error();
    }
    return std::unique_ptr<KvStore>(new SqliteKvStore(std::move(db).value()));
  }

  Result<std::optional<Json>> get(std::string_view ns, std::string_view key) override {
    constexpr std::string_view op = "kv.get";
    return guarded(op, [&]() -> Result<std::optional<Json>> {
      if (Status s = check_kv_key(op, key); !s.ok()) {
        return s.error();
      }
      std::lock_guard lock(db_->mutex());
      sqlite::Query q(*db_, kGet, op);
      q.text(1, ns).text(2, key);
      const int rc = q.step();
      if (rc == SQLITE_DONE) {
        return std::optional<Json>();
      }
      if (rc != SQLITE_ROW) {
        return q.error();
      }
      Result<Json> value = parse_stored(op, key, q.column_text(0));
      if (!value.ok()) {
        return value.error();
      }
      return std::optional<Json>(std::move(*value));
    });
  }

  Status set(std::string_view ns, std::string_view key, const Json& value) override {
    constexpr std::string_view op = "kv.set";
    return guarded(op, [&]() -> Status {
      if (Status s = check_kv_key(op, key); !s.ok()) {
        return s;
      }
      // Serialize before taking the lock: it is the expensive part and touches no shared state.
      Result<std::string> text = serialize_kv_value(op, value);
      if (!text.ok()) {
        return text.error();
      }
      std::lock_guard lock(db_->mutex());
      sqlite::Query q(*db_, kSet, op);
      q.text(1, ns).text(2, key).text(3, *text);
      if (q.step() != SQLITE_DONE) {
        return q.error();
      }
      return ok_status();
    });
  }

  Result<bool> remove(std::string_view ns, std::string_view key) override {
    constexpr std::string_view op = "kv.remove";
    return guarded(op, [&]() -> Result<bool> {
      if (Status s = check_kv_key(op, key); !s.ok()) {
        return s.error();
      }
      std::lock_guard lock(db_->mutex());
      sqlite::Query q(*db_, kRemove, op);
      q.text(1, ns).text(2, key);
      if (q.step() != SQLITE_DONE) {
        return q.error();
      }
      return sqlite3_changes64(db_->handle()) > 0;
    });
  }

  Result<std::vector<KvEntry>> list(std::string_view ns, std::string_view prefix,
                                    size_t limit) override {
    constexpr std::string_view op = "kv.list";
    return guarded(op, [&]() -> Result<std::vector<KvEntry>> {
      const std::optional<std::string> upper = prefix_upper_bound(prefix);
      // A negative LIMIT is SQLite's "no limit".
      const int64_t sql_limit =
          limit == 0 || limit > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
              ? -1
              : static_cast<int64_t>(limit);
      std::vector<KvEntry> out;
      std::lock_guard lock(db_->mutex());
      sqlite::Query q(*db_, upper ? kListRange : kListFrom, op);
      q.text(1, ns).text(2, prefix);
      if (upper) {
        q.text(3, *upper).integer(4, sql_limit);
      } else {
        q.integer(3, sql_limit);
      }
      int rc;
      while ((rc = q.step()) == SQLITE_ROW) {
        const std::string_view key = q.column_text(0);
        Result<Json> value = parse_stored(op, key, q.column_text(1));
        if (!value.ok()) {
          return value.error();
        }
        out.push_back(KvEntry{std::string(key), std::move(*value)});
      }
      if (rc != SQLITE_DONE) {
        return q.error();
      }
      return out;
    });
  }

  Result<size_t> clear(std::string_view ns) override {
    constexpr std::string_view op = "kv.clear";
    return guarded(op, [&]() -> Result<size_t> {
      std::lock_guard lock(db_->mutex());
      sqlite::Query q(*db_, kClear, op);
      q.text(1, ns);
      if (q.step() != SQLITE_DONE) {
        return q.error();
      }
      return static_cast<size_t>(sqlite3_changes64(db_->handle()));
    });
  }

  Result<uint64_t> size_bytes(std::string_view ns) override {
    constexpr std::string_view op = "kv.size_bytes";
    return guarded(op, [&]() -> Result<uint64_t> {
      std::lock_guard lock(db_->mutex());
      sqlite::Query q(*db_, kSize, op);
      q.text(1, ns);
      if (q.step() != SQLITE_ROW) {
        return q.error();
      }
      return static_cast<uint64_t>(q.column_int(0));
    });
  }

 private:
  explicit SqliteKvStore(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {}

  std::unique_ptr<sqlite::Database> db_;
};

}  // namespace

Result<std::unique_ptr<KvStore>> open_sqlite_kv_store(const std::string& path) {
  return guarded("open", [&] { return SqliteKvStore::open(path); });
}

}  // namespace outlet
