#include "domains/chat/chat_store.h"

#include <array>

#include "core/json_text.h"
#include "storage/guarded.h"
#include "storage/sqlite_database.h"

namespace outlet::chat {
namespace {

constexpr std::array<const char*, 1> kMigrations = {
    "CREATE TABLE chat_messages(seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL, "
    "id TEXT NOT NULL, message TEXT NOT NULL, UNIQUE(tenant, id));"
    "CREATE INDEX chat_messages_by_tenant ON chat_messages(tenant, seq);"
    "CREATE TABLE chat_sanctions(tenant TEXT NOT NULL, user_id TEXT NOT NULL, "
    "kind TEXT NOT NULL, since_ms INTEGER NOT NULL, until_ms INTEGER NOT NULL, "
    "reason TEXT NOT NULL, by TEXT NOT NULL, PRIMARY KEY(tenant, user_id)) WITHOUT ROWID",
};

enum StatementId {
  kInsert,
  kDelete,
  kRecent,
  kTrim,
  kPutSanction,
  kDeleteSanction,
  kSanctions,
  kStatementCount
};

constexpr std::array<const char*, kStatementCount> kStatements = {
    // kInsert
    "INSERT INTO chat_messages(tenant, id, message) VALUES(?1, ?2, ?3)",
    // kDelete
    "DELETE FROM chat_messages WHERE tenant = ?1 AND id = ?2",
    // kRecent
    "SELECT message FROM (SELECT seq, message FROM chat_messages WHERE tenant = ?1 "
    "ORDER BY seq DESC LIMIT ?2) ORDER BY seq",
    // kTrim: everything older than the newest ?2
    "DELETE FROM chat_messages WHERE tenant = ?1 AND seq < (SELECT seq FROM chat_messages "
    "WHERE tenant = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2 - 1)",
    // kPutSanction
    "INSERT INTO chat_sanctions(tenant, user_id, kind, since_ms, until_ms, reason, by) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(tenant, user_id) DO UPDATE SET "
    "kind = excluded.kind, since_ms = excluded.since_ms, until_ms = excluded.until_ms, "
    "reason = excluded.reason, by = excluded.by",
    // kDeleteSanction
    "DELETE FROM chat_sanctions WHERE tenant = ?1 AND user_id = ?2",
    // kSanctions
    "SELECT user_id, kind, since_ms, until_ms, reason, by FROM chat_sanctions WHERE tenant = ?1",
};

}  // namespace

ChatStore::ChatStore(std::string tenant, size_t history_limit)
    : tenant_(std::move(tenant)), history_limit_(history_limit) {}

ChatStore::~ChatStore() = default;

Result<std::unique_ptr<ChatStore>> ChatStore::open(const std::string& path, std::string tenant,
                                                   size_t history_limit) {
  if (history_limit == 0) {
    return Error(ErrorCode::kInvalidArgument, "chat history limit must be at least 1",
                 {{"history_limit", "must be at least 1"}});
  }
  std::unique_ptr<ChatStore> store(new ChatStore(std::move(tenant), history_limit));
  auto db = sqlite::Database::open(
      path.empty() ? sqlite::kInMemory : path,
      {.migrations = kMigrations, .statements = kStatements, .create_mode = 0600});
  if (!db.ok())
    return Error(db.error().code(), "chat store: " + db.error().message());
  store->db_ = std::move(db).value();
  return store;
}

Status ChatStore::append(const ChatMessage& message) {
  return guarded("chat.append", [&]() -> Status {
    const std::string text = message.api_json().dump();
    std::lock_guard lock(db_->mutex());
    sqlite::Query insert(*db_, kInsert, "chat.append");
    insert.text(1, tenant_).text(2, message.id).text(3, text);
    if (Status s = insert.run(); !s.ok()) {
      if (s.error().message().find("UNIQUE") != std::string::npos) {
        return Error(ErrorCode::kAlreadyExists,
                     "a message with id \"" + message.id + "\" is already in the history",
                     {{"id", "must be unique"}});
      }
      return s;
    }
    if (++appended_since_trim_ > history_limit_ / 10) {
      appended_since_trim_ = 0;
      return trim();
    }
    return ok_status();
  });
}

Status ChatStore::trim() {
  sqlite::Query trim(*db_, kTrim, "chat.trim");
  trim.text(1, tenant_).integer(2, static_cast<int64_t>(history_limit_));
  return trim.run();
}

Result<bool> ChatStore::remove(const std::string& id) {
  return guarded("chat.remove", [&]() -> Result<bool> {
    std::lock_guard lock(db_->mutex());
    sqlite::Query remove(*db_, kDelete, "chat.remove");
    remove.text(1, tenant_).text(2, id);
    if (Status s = remove.run(); !s.ok())
      return s.error();
    return sqlite3_changes(db_->handle()) > 0;
  });
}

Result<std::vector<ChatMessage>> ChatStore::recent(size_t limit) const {
  return guarded("chat.recent", [&]() -> Result<std::vector<ChatMessage>> {
    std::lock_guard lock(db_->mutex());
    sqlite::Query rows(*db_, kRecent, "chat.recent");
    rows.text(1, tenant_).integer(2, static_cast<int64_t>(limit));
    std::vector<ChatMessage> messages;
    int rc;
    while ((rc = rows.step()) == SQLITE_ROW) {
      auto json = parse_json_text(rows.column_text(0), "chat_messages.message");
      if (!json.ok())
        return Error(ErrorCode::kUnavailable, "chat store is corrupt: " + json.error().message());
      auto message = message_from_api_json(*json);
      if (!message.ok())
        return message.error();
      messages.push_back(std::move(message).value());
    }
    if (rc != SQLITE_DONE)
      return rows.error();
    return messages;
  });
}

Status ChatStore::put_sanction(const Sanction& sanction) {
  return guarded("chat.sanction", [&]() -> Status {
    std::lock_guard lock(db_->mutex());
    sqlite::Query put(*db_, kPutSanction, "chat.sanction");
    put.text(1, tenant_)
        .text(2, sanction.user_id)
        .text(3, sanction_kind_name(sanction.kind))
        .integer(4, sanction.since_ms)
        .integer(5, sanction.until_ms)
        .text(6, sanction.reason)
        .text(7, sanction.by);
    return put.run();
  });
}

Result<bool> ChatStore::remove_sanction(const std::string& user_id) {
  return guarded("chat.lift", [&]() -> Result<bool> {
    std::lock_guard lock(db_->mutex());
    sqlite::Query remove(*db_, kDeleteSanction, "chat.lift");
    remove.text(1, tenant_).text(2, user_id);
    if (Status s = remove.run(); !s.ok())
      return s.error();
    return sqlite3_changes(db_->handle()) > 0;
  });
}

Result<std::vector<Sanction>> ChatStore::sanctions() const {
  return guarded("chat.sanctions", [&]() -> Result<std::vector<Sanction>> {
    std::lock_guard lock(db_->mutex());
    sqlite::Query rows(*db_, kSanctions, "chat.sanctions");
    rows.text(1, tenant_);
    std::vector<Sanction> sanctions;
    int rc;
    while ((rc = rows.step()) == SQLITE_ROW) {
      Sanction sanction;
      sanction.user_id = std::string(rows.column_text(0));
      sanction.kind = rows.column_text(1) == "ban" ? SanctionKind::kBan : SanctionKind::kTimeout;
      sanction.since_ms = rows.column_int(2);
      sanction.until_ms = rows.column_int(3);
      sanction.reason = std::string(rows.column_text(4));
      sanction.by = std::string(rows.column_text(5));
      sanctions.push_back(std::move(sanction));
    }
    if (rc != SQLITE_DONE)
      return rows.error();
    return sanctions;
  });
}

}  // namespace outlet::chat
