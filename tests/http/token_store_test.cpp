#include "http/token_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "support/test_support.h"

namespace outlet::http {
namespace {

TEST(TokenStoreTest, AnIssuedTokenAuthenticatesWithItsRoleAndNothingElseDoes) {
  auto store = TokenStore::open("");
  ASSERT_TRUE(store.ok());
  auto admin = (*store)->issue(Role::kAdmin, "ops");
  auto reader = (*store)->issue(Role::kRead, "dashboard");
  ASSERT_TRUE(admin.ok() && reader.ok());
  EXPECT_EQ(admin->secret.rfind("olt_", 0), 0u);
  EXPECT_EQ(admin->secret.size(), 4u + 43u);
  EXPECT_NE(admin->secret, reader->secret);
  EXPECT_EQ((*store)->authenticate(admin->secret)->role, Role::kAdmin);
  EXPECT_EQ((*store)->authenticate(reader->secret)->label, "dashboard");
  std::string almost = admin->secret;
  almost.back() = almost.back() == 'a' ? 'b' : 'a';
  EXPECT_FALSE((*store)->authenticate(almost));
  EXPECT_FALSE((*store)->authenticate(""));
  EXPECT_FALSE((*store)->authenticate(admin->secret + " "));
}

TEST(TokenStoreTest, TokensPersistAsHashesAndRevokingOneLasts) {
  outlet::testing::TempDir dir("outlet-tokens");
  const std::string path = (dir.path() / "server.sqlite3").string();
  std::string kept;
  std::string revoked_id;
  {
    auto store = TokenStore::open(path);
    ASSERT_TRUE(store.ok());
    kept = (*store)->issue(Role::kAdmin, "a").value().secret;
    revoked_id = (*store)->issue(Role::kRead, "b").value().info.id;
    ASSERT_TRUE((*store)->revoke(revoked_id).value());
    EXPECT_FALSE((*store)->revoke(revoked_id).value());
  }
  auto reopened = TokenStore::open(path);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->size(), 1u);
  EXPECT_TRUE((*reopened)->authenticate(kept));

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT sha256 FROM api_tokens", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  const std::string stored = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  EXPECT_EQ(stored.size(), 64u) << "a SHA-256 in hex";
  EXPECT_EQ(kept.find(stored), std::string::npos);
}

TEST(TokenStoreTest, ACorruptRowIsRefusedNamingIt) {
  outlet::testing::TempDir dir("outlet-tokens");
  const std::string path = (dir.path() / "server.sqlite3").string();
  { ASSERT_TRUE(TokenStore::open(path).value()->issue(Role::kAdmin, "a").ok()); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE api_tokens SET role = 'root'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = TokenStore::open(path);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().to_string().find("api_tokens[tok_"), std::string::npos);
}

}  // namespace
}  // namespace outlet::http
