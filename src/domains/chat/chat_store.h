// Where live chat keeps what must outlive a restart: the recent history (bounded)
// and the sanctions in force, per tenant, in SQLite (data_dir/chat.sqlite3).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "domains/chat/chat_types.h"
#include "outlet/result.h"

namespace outlet::sqlite {
class Database;
}

namespace outlet::chat {

class ChatStore {
 public:
  // `path` empty: a database in memory (tests, `outlet demo`). The history keeps at
  // least `history_limit` messages per tenant and at most a tenth more (trimming is
  // batched so an append stays one insert).
  static Result<std::unique_ptr<ChatStore>> open(const std::string& path, std::string tenant,
                                                 size_t history_limit);
  ~ChatStore();
  ChatStore(const ChatStore&) = delete;
  ChatStore& operator=(const ChatStore&) = delete;

  // A message id already stored is kAlreadyExists.
  Status append(const ChatMessage& message);
  // False when no message has that id.
  Result<bool> remove(const std::string& id);
  // The newest `limit` messages, oldest first.
  Result<std::vector<ChatMessage>> recent(size_t limit) const;

  Status put_sanction(const Sanction& sanction);
  Result<bool> remove_sanction(const std::string& user_id);
  Result<std::vector<Sanction>> sanctions() const;

  size_t history_limit() const { return history_limit_; }

 private:
  ChatStore(std::string tenant, size_t history_limit);
  Status trim();  // requires db_->mutex()

  std::unique_ptr<sqlite::Database> db_;
  std::string tenant_;
  size_t history_limit_;
  size_t appended_since_trim_ = 0;  // guarded by db_->mutex()
};

}  // namespace outlet::chat
