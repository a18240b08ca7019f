// One SQLite connection as Outlet's stores use it: WAL, a busy timeout, a schema
// migrated by an append-only list, statements prepared once, and errors as values.
// Not thread-safe: each store serializes its use of the connection (mutex()).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "outlet/result.h"

namespace outlet::sqlite {

ErrorCode code_for(int rc);
Error sqlite_error(std::string_view what, sqlite3* db, int rc);

struct DatabaseOptions {
  // migrations[v] upgrades the schema from version v to v + 1 (PRAGMA user_version).
  // Append only: files in the field are at every older version and replay the tail.
  std::span<const char* const> migrations;
  // Statements prepared once at open and used by index through Query.
  std::span<const char* const> statements;
  // Permissions of a file this open creates (with its -wal and -shm), e.g. 0600 for
  // a store holding secrets; an existing file keeps its own.
  uint32_t create_mode = 0644;
};

// The path of a private database that lives in memory and goes with its connection.
inline constexpr const char* kInMemory = ":memory:";

class Database {
 public:
  static Result<std::unique_ptr<Database>> open(const std::string& path,
                                                const DatabaseOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* handle() const { return db_; }
  sqlite3_stmt* statement(size_t index) const { return statements_[index]; }
  std::mutex& mutex() { return mutex_; }

  Status exec(std::string_view what, const char* sql);
  // Runs a statement that returns one row and hands back its first column as text.
  Result<std::string> query_text(std::string_view what, const char* sql);
  // BEGIN IMMEDIATE; body; COMMIT, or ROLLBACK if anything failed. The caller holds mutex().
  Status transaction(std::string_view what, const std::function<Status()>& body);

 private:
  Database() = default;
  Status configure(const std::string& what, const DatabaseOptions& options);
  Status migrate_in_transaction(const std::string& what, std::span<const char* const> migrations);

  sqlite3* db_ = nullptr;
  bool in_memory_ = false;
  std::vector<sqlite3_stmt*> statements_;
  std::mutex mutex_;
};

// One use of a prepared statement. Bind and step errors are latched so a call reads
// as a straight line and checks once. Resetting on scope exit matters: a statement
// left mid-step holds its read transaction open, which pins an old snapshot for every
// later call on this connection and stops WAL checkpoints.
class Query {
 public:
  Query(const Database& db, size_t statement, std::string_view op)
      : db_(db.handle()), stmt_(db.statement(statement)), op_(op) {}
  ~Query() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  // SQLITE_STATIC: the views outlive the Query, which unbinds them on destruction.
  Query& text(int index, std::string_view value);
  Query& integer(int index, int64_t value);

  // SQLITE_ROW, SQLITE_DONE, or an error code that error() then describes.
  int step();
  // Steps a statement that returns no rows.
  Status run();
  Error error() const { return sqlite_error(op_, db_, rc_); }

  std::string_view column_text(int column) const;
  int64_t column_int(int column) const { return sqlite3_column_int64(stmt_, column); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  std::string_view op_;
  int rc_ = SQLITE_OK;
};

}  // namespace outlet::sqlite
