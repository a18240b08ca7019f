#include "storage/sqlite_database.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "outlet/json.h"

namespace outlet::sqlite {
namespace {

// Long enough to ride out another process's checkpoint or a `sqlite3` shell poking at the
// file; short enough that a stuck lock surfaces as an error instead of a hung call.
constexpr int kBusyTimeoutMs = 5000;

// SQLite creates its files with the process umask; a store of secrets must not be
// readable by anyone else even for the moment between creation and a chmod.
void create_with_mode(const std::string& path, uint32_t mode) {
  for (const std::string& file : {path, path + "-wal", path + "-shm"}) {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd >= 0) {
      ::fchmod(fd, mode);  // the umask may have masked bits off the requested mode
      ::close(fd);
    }
  }
}

}  // namespace

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

Result<std::unique_ptr<Database>> Database::open(const std::string& path,
                                                 const DatabaseOptions& options) {
  const std::string what =
      "open " + Json(path).dump(-1, ' ', false, Json::error_handler_t::replace);
  if (path.find('\0') != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument, what + ": path contains a NUL byte");
  }
  struct stat info {};
  if (path != kInMemory && ::stat(path.c_str(), &info) != 0) {
    create_with_mode(path, options.create_mode);
  }
  // Created first so it owns the handle, which SQLite allocates even when the open fails.
  std::unique_ptr<Database> db(new Database());
  db->in_memory_ = path == kInMemory;
  // NOMUTEX: each store serializes every use of the connection with mutex(), so
  // SQLite's per-connection mutex would only be taken uncontended.
  const int rc =
      sqlite3_open_v2(path.c_str(), &db->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    return sqlite_error(what, db->db_, rc);
  }
  if (Status s = db->configure(what, options); !s.ok()) {
    return s.error();
  }
  return db;
}

Database::~Database() {
  for (sqlite3_stmt* stmt : statements_) {
    sqlite3_finalize(stmt);  // null is a harmless no-op
  }
  sqlite3_close(db_);
}

Status Database::exec(std::string_view what, const char* sql) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    return sqlite_error(what, db_, rc);
  }
  return ok_status();
}

Result<std::string> Database::query_text(std::string_view what, const char* sql) {
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

Status Database::transaction(std::string_view what, const std::function<Status()>& body) {
  if (Status s = exec(what, "BEGIN IMMEDIATE"); !s.ok()) {
    return s;
  }
  Status result = body();
  if (result.ok()) {
    result = exec(what, "COMMIT");
  }
  if (!result.ok()) {
    // Any error already says what failed; a failing rollback would add nothing useful.
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  return result;
}

Status Database::configure(const std::string& what, const DatabaseOptions& options) {
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  // SQLite silently falls back to read-only when the file is write-protected; better to
  // refuse at open than to fail every later write.
  if (sqlite3_db_readonly(db_, "main") == 1) {
    return Error(ErrorCode::kUnavailable, what + ": database file is read-only");
  }
  // WAL: readers never block the writer, and a commit is one append to the -wal file.
  // The first statement that reads the file, so a non-database fails here.
  Result<std::string> mode = query_text(what, "PRAGMA journal_mode=WAL");
  if (!mode.ok()) {
    return mode.error();
  }
  // A database in memory has no file to share and keeps its journal in memory too.
  if (*mode != "wal" && !(in_memory_ && *mode == "memory")) {
    return Error(ErrorCode::kUnavailable,
                 what + ": journal_mode is \"" + *mode + "\", WAL is required");
  }
  // NORMAL, not FULL. In WAL mode a commit has been write()n to the -wal file before
  // sqlite3_step returns, so it sits in the OS page cache and survives the process dying
  // in any way, kill -9 included (tests/storage/sqlite_crash_test.cpp). FULL adds an
  // fsync per commit, which only helps if the kernel crashes or the machine loses power;
  // even then NORMAL keeps the file consistent (WAL frame checksums drop the torn tail)
  // and loses only the last commits.
  if (Status s = exec(what, "PRAGMA synchronous=NORMAL"); !s.ok()) {
    return s;
  }
  // BEGIN IMMEDIATE takes the write lock before reading user_version, so two processes
  // opening a fresh file at once cannot both run the same migration.
  if (Status s =
          transaction(what, [&] { return migrate_in_transaction(what, options.migrations); });
      !s.ok()) {
    return s;
  }
  statements_.assign(options.statements.size(), nullptr);
  for (size_t id = 0; id < options.statements.size(); ++id) {
    // PERSISTENT: these live as long as the connection, so SQLite should not take their
    // memory from the lookaside pool meant for short-lived statements.
    const int rc = sqlite3_prepare_v3(db_, options.statements[id], -1, SQLITE_PREPARE_PERSISTENT,
                                      &statements_[id], nullptr);
    if (rc != SQLITE_OK) {
      return sqlite_error(what + ": preparing statements", db_, rc);
    }
  }
  return ok_status();
}

Status Database::migrate_in_transaction(const std::string& what,
                                        std::span<const char* const> migrations) {
  Result<std::string> text = query_text(what, "PRAGMA user_version");
  if (!text.ok()) {
    return text.error();
  }
  const long long version = std::stoll(*text);  // user_version is a signed 32-bit field
  const auto latest = static_cast<long long>(migrations.size());
  if (version < 0) {
    return Error(
        ErrorCode::kFailedPrecondition,
        what + ": schema version " + std::to_string(version) + " was not written by Outlet");
  }
  if (version > latest) {
    return Error(ErrorCode::kFailedPrecondition,
                 what + ": schema version " + std::to_string(version) +
                     " is newer than this build supports (" + std::to_string(latest) + ")");
  }
  for (auto v = static_cast<size_t>(version); v < migrations.size(); ++v) {
    if (Status s =
            exec(what + ": migrating schema to version " + std::to_string(v + 1), migrations[v]);
        !s.ok()) {
      return s;
    }
  }
  if (version == latest) {
    return ok_status();
  }
  const std::string set_version = "PRAGMA user_version = " + std::to_string(latest);
  return exec(what, set_version.c_str());
}

Query& Query::text(int index, std::string_view value) {
  if (rc_ == SQLITE_OK) {
    // A null pointer would bind SQL NULL, and `key >= NULL` matches nothing; an empty
    // string_view may well have a null data().
    const char* data = value.data() != nullptr ? value.data() : "";
    rc_ = sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_STATIC, SQLITE_UTF8);
  }
  return *this;
}

Query& Query::integer(int index, int64_t value) {
  if (rc_ == SQLITE_OK) {
    rc_ = sqlite3_bind_int64(stmt_, index, value);
  }
  return *this;
}

int Query::step() {
  if (rc_ != SQLITE_OK) {
    return rc_;
  }
  const int rc = sqlite3_step(stmt_);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    rc_ = rc;
  }
  return rc;
}

Status Query::run() {
  if (step() != SQLITE_DONE) {
    return error();
  }
  return ok_status();
}

std::string_view Query::column_text(int column) const {
  // sqlite3_column_text before sqlite3_column_bytes: the other order may measure a
  // value that the text conversion then replaces.
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  const int size = sqlite3_column_bytes(stmt_, column);
  return data == nullptr ? std::string_view() : std::string_view(data, size);
}

}  // namespace outlet::sqlite
