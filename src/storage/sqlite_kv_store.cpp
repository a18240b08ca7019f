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

// Long enough to ride out another process's checkpoint or a `sqlite3` shell poking at the
// file; short enough that a stuck lock surfaces as an error instead of a hung plugin call.
constexpr int kBusyTimeoutMs = 5000;

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

ErrorCode code_for(int rc) {
  switch (rc & 0xFF) {  // primary code of an extended result code
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_TOOBIG:
      return ErrorCode::kResourceExhausted;
    // Locks, I/O and damaged files are the environment's doing, not a bug in Outlet; an
    // operator can fix them (free the lock, restore the file) without a new build.
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return ErrorCode::kUnavailable;
    default:
      return ErrorCode::kInternal;
  }
}

Error sqlite_error(std::string_view what, sqlite3* db, int rc) {
  // sqlite3_errmsg(nullptr) is "out of memory", which is the only way db is null here.
  return Error(code_for(rc), std::string(what) + ": " + sqlite3_errmsg(db));
}

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

// One use of a cached statement. Bind and step errors are latched so a call reads as a
// straight line and checks once. Resetting on scope exit matters: a statement left
// mid-step holds its read transaction open, which pins an old snapshot for every later
// call on this connection and stops WAL checkpoints.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt, std::string_view op) : db_(db), stmt_(stmt), op_(op) {}
  ~Query() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  // SQLITE_STATIC: the views outlive the Query, which unbinds them on destruction.
  Query& text(int index, std::string_view value) {
    if (rc_ == SQLITE_OK) {
      // A null pointer would bind SQL NULL, and `key >= NULL` matches nothing; an empty
      // string_view may well have a null data().
      const char* data = value.data() != nullptr ? value.data() : "";
      rc_ = sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_STATIC, SQLITE_UTF8);
    }
    return *this;
  }
  Query& integer(int index, int64_t value) {
    if (rc_ == SQLITE_OK) {
      rc_ = sqlite3_bind_int64(stmt_, index, value);
    }
    return *this;
  }

  // SQLITE_ROW, SQLITE_DONE, or an error code that error() then describes.
  int step() {
    if (rc_ != SQLITE_OK) {
      return rc_;
    }
    const int rc = sqlite3_step(stmt_);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
      rc_ = rc;
    }
    return rc;
  }
  Error error() const { return sqlite_error(op_, db_, rc_); }

  std::string_view column_text(int column) const {
    // sqlite3_column_text before sqlite3_column_bytes: the other order may measure a
    // value that the text conversion then replaces.
    const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    const int size = sqlite3_column_bytes(stmt_, column);
    return data == nullptr ? std::string_view() : std::string_view(data, size);
  }
  int64_t column_int(int column) const { return sqlite3_column_int64(stmt_, column); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  std::string_view op_;
  int rc_ = SQLITE_OK;
};

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
    const std::string what = "open " + quote(path);
    if (path.find('\0') != std::string::npos) {
      return Error(ErrorCode::kInvalidArgument, what + ": path contains a NUL byte");
    }
    // Created first so it owns the handle, which SQLite allocates even when the open fails.
    std::unique_ptr<SqliteKvStore> store(new SqliteKvStore());
    // NOMUTEX: this class serializes every use of the connection with its own mutex, so
    // SQLite's per-connection mutex would only be taken uncontended.
    const int rc =
        sqlite3_open_v2(path.c_str(), &store->db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) {
      return sqlite_error(what, store->db_, rc);
    }
    if (Status s = store->configure(what); !s.ok()) {
      return s.error();
    }
    return std::unique_ptr<KvStore>(std::move(store));
  }

  ~SqliteKvStore() override {
    for (sqlite3_stmt* stmt : stmts_) {
      sqlite3_finalize(stmt);  // null is a harmless no-op
    }
    sqlite3_close(db_);
  }

  Result<std::optional<Json>> get(std::string_view ns, std::string_view key) override {
    constexpr std::string_view op = "kv.get";
    return guarded(op, [&]() -> Result<std::optional<Json>> {
      if (Status s = check_kv_key(op, key); !s.ok()) {
        return s.error();
      }
      std::lock_guard lock(mu_);
      Query q(db_, stmts_[kGet], op);
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
      std::lock_guard lock(mu_);
      Query q(db_, stmts_[kSet], op);
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
      std::lock_guard lock(mu_);
      Query q(db_, stmts_[kRemove], op);
      q.text(1, ns).text(2, key);
      if (q.step() != SQLITE_DONE) {
        return q.error();
      }
      return sqlite3_changes64(db_) > 0;
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
      std::lock_guard lock(mu_);
      Query q(db_, stmts_[upper ? kListRange : kListFrom], op);
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
      std::lock_guard lock(mu_);
      Query q(db_, stmts_[kClear], op);
      q.text(1, ns);
      if (q.step() != SQLITE_DONE) {
        return q.error();
      }
      return static_cast<size_t>(sqlite3_changes64(db_));
    });
  }

  Result<uint64_t> size_bytes(std::string_view ns) override {
    constexpr std::string_view op = "kv.size_bytes";
    return guarded(op, [&]() -> Result<uint64_t> {
      std::lock_guard lock(mu_);
      Query q(db_, stmts_[kSize], op);
      q.text(1, ns);
      if (q.step() != SQLITE_ROW) {
        return q.error();
      }
      return static_cast<uint64_t>(q.column_int(0));
    });
  }

 private:
  SqliteKvStore() = default;

  Status exec(const std::string& what, const char* sql) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) {
      return sqlite_error(what, db_, rc);
    }
    return ok_status();
  }

  // Runs a statement that returns one row and hands back its first column as text.
  Result<std::string> query_text(const std::string& what, const char* sql) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql, -1, &raw, nullptr);
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
    if (rc != SQLITE_OK) {
      return sqlite_error(what, db_, rc);
    }
    rc = sqlite3_step(stmt.get());
    if (rc != SQLITE_ROW) {
      return sqlite_error(what, db_, rc);
    }
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
    return std::string(text == nullptr ? "" : text);
  }

  Status configure(const std::string& what) {
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
    // SQLite silently falls back to read-only when the file is write-protected; better to
    // refuse at open than to fail every later set.
    if (sqlite3_db_readonly(db_, "main") == 1) {
      return Error(ErrorCode::kUnavailable, what + ": database file is read-only");
    }
    // WAL: readers never block the writer, and a commit is one append to the -wal file.
    // The first statement that reads the file, so a non-database fails here.
    Result<std::string> mode = query_text(what, "PRAGMA journal_mode=WAL");
    if (!mode.ok()) {
      return mode.error();
    }
    if (*mode != "wal") {
      return Error(ErrorCode::kUnavailable,
                   what + ": journal_mode is \"" + *mode + "\", WAL is required");
    }
    // NORMAL, not FULL. In WAL mode a commit has been write()n to the -wal file before
    // sqlite3_step returns, so it sits in the OS page cache and survives the process dying
    // in any way, kill -9 included (tests/storage/sqlite_crash_test.cpp). FULL adds an
    // fsync per commit, which only helps if the kernel crashes or the machine loses power;
    // even then NORMAL keeps the file consistent (WAL frame checksums drop the torn tail)
    // and loses only the last commits. Plugin state is not worth an fsync on every write.
    if (Status s = exec(what, "PRAGMA synchronous=NORMAL"); !s.ok()) {
      return s;
    }
    if (Status s = migrate(what); !s.ok()) {
      return s;
    }
    for (int id = 0; id < kStatementCount; ++id) {
      // PERSISTENT: these live as long as the connection, so SQLite should not take their
      // memory from the lookaside pool meant for short-lived statements.
      const int rc = sqlite3_prepare_v3(db_, kStatementSql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                        &stmts_[id], nullptr);
      if (rc != SQLITE_OK) {
        return sqlite_error(what + ": preparing statements", db_, rc);
      }
    }
    return ok_status();
  }

  // BEGIN IMMEDIATE takes the write lock before reading user_version, so two processes
  // opening a fresh file at once cannot both run the same migration.
  Status migrate(const std::string& what) {
    if (Status s = exec(what, "BEGIN IMMEDIATE"); !s.ok()) {
      return s;
    }
    Status result = migrate_in_transaction(what);
    if (result.ok()) {
      result = exec(what, "COMMIT");
    }
    if (!result.ok()) {
      // Any error already says what failed; a failing rollback would add nothing useful.
      sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
    return result;
  }

  Status migrate_in_transaction(const std::string& what) {
    Result<std::string> text = query_text(what, "PRAGMA user_version");
    if (!text.ok()) {
      return text.error();
    }
    const long long version = std::stoll(*text);  // user_version is a signed 32-bit field
    if (version < 0) {
      return Error(
          ErrorCode::kFailedPrecondition,
          what + ": schema version " + std::to_string(version) + " was not written by Outlet");
    }
    if (version > kSchemaVersion) {
      return Error(ErrorCode::kFailedPrecondition, what + ": schema version " +
                                                       std::to_string(version) +
                                                       " is newer than this build supports (" +
                                                       std::to_string(kSchemaVersion) + ")");
    }
    if (version == kSchemaVersion) {
      return ok_status();
    }
    for (auto v = static_cast<int>(version); v < kSchemaVersion; ++v) {
      if (Status s =
              exec(what + ": migrating schema to version " + std::to_string(v + 1), kMigrations[v]);
          !s.ok()) {
        return s;
      }
    }
    const std::string set_version = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
    return exec(what, set_version.c_str());
  }

  std::mutex mu_;
  sqlite3* db_ = nullptr;
  std::array<sqlite3_stmt*, kStatementCount> stmts_{};
};

}  // namespace

Result<std::unique_ptr<KvStore>> open_sqlite_kv_store(const std::string& path) {
  return guarded("open", [&] { return SqliteKvStore::open(path); });
}

}  // namespace outlet
