#include "http/token_store.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <chrono>

#include "storage/guarded.h"
#include "storage/sqlite_database.h"

namespace outlet::http {
namespace {

constexpr std::string_view kPrefix = "olt_";
constexpr size_t kSecretBytes = 32;

constexpr std::array<const char*, 1> kMigrations = {
    "CREATE TABLE api_tokens(id TEXT PRIMARY KEY, sha256 TEXT NOT NULL, role TEXT NOT NULL, "
    "label TEXT NOT NULL, created INTEGER NOT NULL)",
};

enum StatementId { kLoad, kInsert, kDelete, kStatementCount };

constexpr std::array<const char*, kStatementCount> kStatements = {
    "SELECT id, sha256, role, label, created FROM api_tokens ORDER BY created, id",
    "INSERT INTO api_tokens(id, sha256, role, label, created) VALUES(?1, ?2, ?3, ?4, ?5)",
    "DELETE FROM api_tokens WHERE id = ?1",
};

Status init_sodium() {
  static const int rc = sodium_init();  // thread-safe, idempotent; < 0 only on failure
  if (rc < 0)
    return Error(ErrorCode::kUnavailable, "libsodium could not be initialized");
  return ok_status();
}

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> out{};
  crypto_hash_sha256(out.data(), reinterpret_cast<const unsigned char*>(text.data()), text.size());
  return out;
}

std::string to_hex(const unsigned char* data, size_t size) {
  std::string out(size * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, size);
  out.pop_back();
  return out;
}

bool from_hex(std::string_view hex, std::array<unsigned char, 32>& out) {
  size_t written = 0;
  return sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &written,
                        nullptr) == 0 &&
         written == out.size();
}

std::string random_text(size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string out(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), raw.data(), raw.size(),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(out.find('\0'));
  sodium_memzero(raw.data(), raw.size());
  return out;
}

}  // namespace

std::string_view role_name(Role role) {
  return role == Role::kAdmin ? "admin" : "read";
}

std::optional<Role> parse_role(std::string_view name) {
  if (name == "admin")
    return Role::kAdmin;
  if (name == "read")
    return Role::kRead;
  return std::nullopt;
}

TokenStore::~TokenStore() = default;

Result<std::unique_ptr<TokenStore>> TokenStore::open(const std::string& path) {
  if (Status s = init_sodium(); !s.ok())
    return s.error();
  std::unique_ptr<TokenStore> store(new TokenStore());
  if (path.empty())
    return store;
  auto db = sqlite::Database::open(
      path, {.migrations = kMigrations, .statements = kStatements, .create_mode = 0600});
  if (!db.ok())
    return db.error();
  store->db_ = std::move(db).value();
  if (Status s = store->load(); !s.ok())
    return s.error();
  return store;
}

Status TokenStore::load() {
  return guarded("tokens.load", [&]() -> Status {
    std::lock_guard db_lock(db_->mutex());
    sqlite::Query row(*db_, kLoad, "tokens.load");
    int rc;
    while ((rc = row.step()) == SQLITE_ROW) {
      Entry entry;
      entry.info.id = std::string(row.column_text(0));
      auto role = parse_role(row.column_text(2));
      if (!role || !from_hex(row.column_text(1), entry.hash)) {
        return Error(ErrorCode::kUnavailable, "token store is corrupt",
                     {{"api_tokens[" + entry.info.id + "]", "bad role or hash"}});
      }
      entry.info.role = *role;
      entry.info.label = std::string(row.column_text(3));
      entry.info.created_unix = row.column_int(4);
      entries_.push_back(std::move(entry));
    }
    return rc == SQLITE_DONE ? ok_status() : Status(row.error());
  });
}

Result<IssuedToken> TokenStore::issue(Role role, std::string label) {
  IssuedToken token;
  token.secret = std::string(kPrefix) + random_text(kSecretBytes);
  token.info.id = "tok_" + random_text(9);
  token.info.role = role;
  token.info.label = std::move(label);
  token.info.created_unix = std::chrono::duration_cast<std::chrono::seconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  Entry entry{token.info, sha256(token.secret)};
  std::lock_guard lock(mutex_);
  if (db_) {
    Status stored = guarded("tokens.issue", [&]() -> Status {
      const std::string hex = to_hex(entry.hash.data(), entry.hash.size());
      std::lock_guard db_lock(db_->mutex());
      sqlite::Query insert(*db_, kInsert, "tokens.issue");
      insert.text(1, entry.info.id).text(2, hex).text(3, role_name(role));
      insert.text(4, entry.info.label).integer(5, entry.info.created_unix);
      return insert.run();
    });
    if (!stored.ok())
      return stored.error();
  }
  entries_.push_back(std::move(entry));
  return token;
}

std::optional<TokenInfo> TokenStore::authenticate(std::string_view secret) const {
  const auto presented = sha256(secret);
  std::lock_guard lock(mutex_);
  // Every entry is compared in full, so the time taken says nothing about which
  // token came close.
  const Entry* found = nullptr;
  for (const Entry& entry : entries_) {
    if (sodium_memcmp(entry.hash.data(), presented.data(), presented.size()) == 0)
      found = &entry;
  }
  if (found == nullptr)
    return std::nullopt;
  return found->info;
}

std::vector<TokenInfo> TokenStore::list() const {
  std::lock_guard lock(mutex_);
  std::vector<TokenInfo> out;
  for (const Entry& entry : entries_)
    out.push_back(entry.info);
  return out;
}

Result<bool> TokenStore::revoke(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& entry) { return entry.info.id == id; });
  if (it == entries_.end())
    return false;
  if (db_) {
    Status removed = guarded("tokens.revoke", [&]() -> Status {
      std::lock_guard db_lock(db_->mutex());
      sqlite::Query erase(*db_, kDelete, "tokens.revoke");
      erase.text(1, id);
      return erase.run();
    });
    if (!removed.ok())
      return removed.error();
  }
  entries_.erase(it);
  return true;
}

size_t TokenStore::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace outlet::http
