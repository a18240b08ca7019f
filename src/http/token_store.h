// API tokens for the server's /v1 routes. A token is shown once, when it is made;
// the store keeps only its SHA-256, so a copy of the database grants nothing. Roles:
// `admin` (everything) and `read` (GET only). Checking a token costs the same
// whichever byte of it is wrong (constant-time comparison).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "outlet/result.h"

namespace outlet::sqlite {
class Database;
}

namespace outlet::http {

enum class Role { kRead, kAdmin };
std::string_view role_name(Role role);
std::optional<Role> parse_role(std::string_view name);

struct TokenInfo {
  std::string id;  // public handle, e.g. for revoking; not a secret
  Role role = Role::kRead;
  std::string label;
  int64_t created_unix = 0;
};

struct IssuedToken {
  TokenInfo info;
  std::string secret;  // "olt_" + 43 characters; shown once
};

class TokenStore {
 public:
  // The tokens table lives in the server's database at `path` (created owner-only).
  // An empty path keeps tokens in memory (tests).
  static Result<std::unique_ptr<TokenStore>> open(const std::string& path);
  ~TokenStore();

  Result<IssuedToken> issue(Role role, std::string label);
  // The token's info if the secret is one of ours.
  std::optional<TokenInfo> authenticate(std::string_view secret) const;
  std::vector<TokenInfo> list() const;
  // false if there is no such token id.
  Result<bool> revoke(const std::string& id);
  size_t size() const;

 private:
  struct Entry {
    TokenInfo info;
    std::array<unsigned char, 32> hash;
  };
  TokenStore() = default;
  Status load();

  std::unique_ptr<sqlite::Database> db_;  // null when in memory
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;  // guarded by mutex_
};

}  // namespace outlet::http
