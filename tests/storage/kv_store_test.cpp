// One suite run against every backend, so the in-memory store cannot drift from the
// SQLite one that production uses; SQLite-only behaviour (files, reopening) follows.
#include "outlet/kv_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.h"

namespace outlet {
namespace {

namespace fs = std::filesystem;
using outlet::testing::TempDir;

enum class Backend { kMemory, kSqlite };

class KvStoreTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kMemory) {
      store_ = make_memory_kv_store();
      return;
    }
    auto opened = open_sqlite_kv_store((dir_.path() / "kv.db").string());
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    store_ = std::move(*opened);
  }

  // Reads a key that the test expects to exist.
  Json must_get(std::string_view ns, std::string_view key) {
    auto got = store_->get(ns, key);
    EXPECT_TRUE(got.ok()) << got.error().to_string();
    if (!got.ok() || !got->has_value()) {
      ADD_FAILURE() << "missing key " << key;
      return Json();
    }
    return **got;
  }

  void must_set(std::string_view ns, std::string_view key, const Json& value) {
    Status s = store_->set(ns, key, value);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
  }

  std::vector<std::string> keys(std::string_view ns, std::string_view prefix, size_t limit = 0) {
    auto listed = store_->list(ns, prefix, limit);
    EXPECT_TRUE(listed.ok()) << listed.error().to_string();
    std::vector<std::string> out;
    if (listed.ok()) {
      for (const KvEntry& entry : *listed) {
        out.push_back(entry.key);
      }
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<KvStore> store_;
};

constexpr std::string_view kNs = "default/word-filter";

TEST_P(KvStoreTest, GetMissingIsEmptyNotAnError) {
  auto got = store_->get(kNs, "nope");
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_FALSE(got->has_value());
}

TEST_P(KvStoreTest, SetGetOverwrite) {
  must_set(kNs, "color", "red");
  EXPECT_EQ(must_get(kNs, "color"), "red");
  must_set(kNs, "color", Json{{"r", 255}});
  EXPECT_EQ(must_get(kNs, "color"), (Json{{"r", 255}}));
  EXPECT_EQ(keys(kNs, "").size(), 1u);
}

TEST_P(KvStoreTest, RemoveReportsWhetherKeyExisted) {
  must_set(kNs, "a", 1);
  auto removed = store_->remove(kNs, "a");
  ASSERT_TRUE(removed.ok()) << removed.error().to_string();
  EXPECT_TRUE(*removed);
  auto again = store_->remove(kNs, "a");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  auto other_ns = store_->remove("never/used", "a");
  ASSERT_TRUE(other_ns.ok());
  EXPECT_FALSE(*other_ns);
  EXPECT_FALSE(store_->get(kNs, "a")->has_value());
}

TEST_P(KvStoreTest, ListIsPrefixFilteredByteOrderedAndLimited) {
  // Inserted out of order; "a\xC3\xA9" (a, e-acute) sorts after "az" because bytes
  // compare unsigned; "a%" and "a_" would match everything under LIKE.
  for (const char* key : {"b", "az", "a\xC3\xA9", "ab", "a", "a%", "a_", "abc", "aa", "A"}) {
    must_set(kNs, key, key);
  }
  EXPECT_EQ(keys(kNs, "a"),
            (std::vector<std::string>{"a", "a%", "a_", "aa", "ab", "abc", "az", "a\xC3\xA9"}));
  EXPECT_EQ(keys(kNs, "ab"), (std::vector<std::string>{"ab", "abc"}));
  EXPECT_EQ(keys(kNs, "a%"), (std::vector<std::string>{"a%"}));
  EXPECT_EQ(keys(kNs, "a_"), (std::vector<std::string>{"a_"}));
  EXPECT_EQ(keys(kNs, "a", 3), (std::vector<std::string>{"a", "a%", "a_"}));
  EXPECT_EQ(keys(kNs, "", 1), (std::vector<std::string>{"A"}));
  EXPECT_EQ(keys(kNs, "").size(), 10u);
  EXPECT_EQ(keys(kNs, "", 100).size(), 10u);
  EXPECT_TRUE(keys(kNs, "c").empty());
  EXPECT_TRUE(keys(kNs, "abcd").empty());

  auto listed = store_->list(kNs, "ab", 0);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[1].key, "abc");
  EXPECT_EQ((*listed)[1].value, "abc");
}

TEST_P(KvStoreTest, ListPrefixesNearTheTopOfTheByteRange) {
  const std::string max_char = "\xF4\x8F\xBF\xBF";  // U+10FFFF, the largest UTF-8 sequence
  must_set(kNs, max_char, 1);
  must_set(kNs, max_char + "x", 2);
  must_set(kNs, "\x7F", 3);
  must_set(kNs, "\xC2\x80", 4);  // U+0080: first byte just above \x7F
  EXPECT_EQ(keys(kNs, max_char), (std::vector<std::string>{max_char, max_char + "x"}));
  EXPECT_EQ(keys(kNs, "\xF4"), (std::vector<std::string>{max_char, max_char + "x"}));
  EXPECT_EQ(keys(kNs, "\x7F"), (std::vector<std::string>{"\x7F"}));
  // Prefixes no valid key can start with: they have no or an odd upper bound, but are
  // not errors.
  EXPECT_TRUE(keys(kNs, "\xFF").empty());
  EXPECT_TRUE(keys(kNs, "\xF4\xFF\xFF").empty());
  EXPECT_TRUE(keys(kNs, "\xFF\xFF").empty());
}

TEST_P(KvStoreTest, KeysMayContainNul) {
  const std::string with_nul("a\0b", 3);
  must_set(kNs, with_nul, "nul");
  must_set(kNs, "a", "plain");
  EXPECT_EQ(must_get(kNs, with_nul), "nul");
  EXPECT_EQ(must_get(kNs, "a"), "plain");
  EXPECT_EQ(keys(kNs, std::string("a\0", 2)), (std::vector<std::string>{with_nul}));
  auto size = store_->size_bytes(kNs);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 3u + 5u + 1u + 7u);  // "a\0b" + "\"nul\"", "a" + "\"plain\""
}

TEST_P(KvStoreTest, NamespacesAreIsolated) {
  must_set("default/a", "k", "from a");
  must_set("default/b", "k", "from b");
  // A backend that joined ns and key with "/" would make these two the same key.
  must_set("x", "y/z", "x|y/z");
  must_set("x/y", "z", "x/y|z");

  EXPECT_EQ(must_get("default/a", "k"), "from a");
  EXPECT_EQ(must_get("default/b", "k"), "from b");
  EXPECT_EQ(must_get("x", "y/z"), "x|y/z");
  EXPECT_EQ(must_get("x/y", "z"), "x/y|z");
  EXPECT_FALSE(store_->get("x", "z")->has_value());
  EXPECT_FALSE(store_->get("default", "a/k")->has_value());
  EXPECT_FALSE(store_->get("default/", "k")->has_value());

  EXPECT_EQ(keys("default/a", ""), (std::vector<std::string>{"k"}));
  EXPECT_EQ(keys("x", ""), (std::vector<std::string>{"y/z"}));
  EXPECT_TRUE(keys("default", "").empty());

  ASSERT_TRUE(*store_->remove("default/a", "k"));
  EXPECT_EQ(must_get("default/b", "k"), "from b");
}

TEST_P(KvStoreTest, JsonValueTypesRoundTrip) {
  const Json values[] = {
      nullptr,
      true,
      false,
      0,
      42,
      -7,
      std::numeric_limits<int64_t>::min(),
      std::numeric_limits<int64_t>::max(),
      std::numeric_limits<uint64_t>::max(),
      1.5,
      0.1,
      -2.5e-300,
      1e300,
      "",
      "plain",
      "unicode: \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 and \"quotes\" \\ \n",
      Json::array(),
      Json::object(),
      Json::parse(R"({"a": [1, 2.5, "three", null, {"b": {"c": [true, false]}}], "": 0})"),
  };
  for (size_t i = 0; i < std::size(values); ++i) {
    const std::string key = "v" + std::to_string(i);
    must_set(kNs, key, values[i]);
    const Json got = must_get(kNs, key);
    EXPECT_EQ(got, values[i]) << "value " << values[i].dump();
    // Not type() itself: nlohmann parses a non-negative integer as unsigned.
    EXPECT_EQ(got.is_number_integer(), values[i].is_number_integer()) << values[i].dump();
    EXPECT_EQ(got.is_number_float(), values[i].is_number_float()) << values[i].dump();
  }
  // Integers never come back as floats, nor floats as integers.
  must_set(kNs, "int", 3);
  EXPECT_TRUE(must_get(kNs, "int").is_number_integer());
  EXPECT_EQ(must_get(kNs, "int").get<int64_t>(), 3);
  must_set(kNs, "float", 3.0);
  EXPECT_TRUE(must_get(kNs, "float").is_number_float());
  EXPECT_EQ(must_get(kNs, "float").get<double>(), 3.0);
  EXPECT_EQ(must_get(kNs, "v10").get<double>(), 0.1);  // bit-exact, not merely close
}

TEST_P(KvStoreTest, KeyLimitsAndValidation) {
  must_set(kNs, std::string(kKvMaxKeyBytes, 'k'), 1);
  EXPECT_EQ(must_get(kNs, std::string(kKvMaxKeyBytes, 'k')), 1);

  Status too_long = store_->set(kNs, std::string(kKvMaxKeyBytes + 1, 'k'), 1);
  ASSERT_FALSE(too_long.ok());
  EXPECT_EQ(too_long.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(too_long.error().message().find("kv.set"), std::string::npos);
  EXPECT_NE(too_long.error().message().find("1024 bytes"), std::string::npos)
      << too_long.error().message();

  Status empty = store_->set(kNs, "", 1);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), ErrorCode::kInvalidArgument);

  for (const char* bad : {
           "\xC3\x28",          // lead byte without continuation
           "\x80",              // lone continuation byte
           "\xC0\xAF",          // overlong '/'
           "\xE0\x80\xAF",      // overlong, three bytes
           "\xED\xA0\x80",      // UTF-16 surrogate
           "\xF4\x90\x80\x80",  // above U+10FFFF
           "\xF5\x80\x80\x80",  // invalid lead byte
           "ab\xE2\x82",        // truncated at the end
           "\xFF",
       }) {
    Status s = store_->set(kNs, bad, 1);
    ASSERT_FALSE(s.ok()) << "accepted key " << ::testing::PrintToString(std::string(bad));
    EXPECT_EQ(s.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(s.error().message().find("UTF-8"), std::string::npos) << s.error().message();
  }

  auto get_bad = store_->get(kNs, "\xC0\xAF");
  ASSERT_FALSE(get_bad.ok());
  EXPECT_EQ(get_bad.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(get_bad.error().message().find("kv.get"), std::string::npos);
  auto remove_long = store_->remove(kNs, std::string(kKvMaxKeyBytes + 1, 'k'));
  ASSERT_FALSE(remove_long.ok());
  EXPECT_EQ(remove_long.error().code(), ErrorCode::kInvalidArgument);

  EXPECT_EQ(keys(kNs, "").size(), 1u);  // nothing rejected was stored
}

TEST_P(KvStoreTest, ValueLimitsAndValidation) {
  // A JSON string serializes with two quote characters.
  const Json at_limit = std::string(kKvMaxValueBytes - 2, 'v');
  must_set(kNs, "big", at_limit);
  EXPECT_EQ(must_get(kNs, "big"), at_limit);

  Status too_big = store_->set(kNs, "bigger", std::string(kKvMaxValueBytes - 1, 'v'));
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_NE(too_big.error().message().find("1 MiB"), std::string::npos)
      << too_big.error().message();
  EXPECT_FALSE(store_->get(kNs, "bigger")->has_value());

  Status bad_utf8 = store_->set(kNs, "s", Json{{"text", "\xC3\x28"}});
  ASSERT_FALSE(bad_utf8.ok());
  EXPECT_EQ(bad_utf8.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad_utf8.error().message().find("UTF-8"), std::string::npos);

  // A rejected overwrite leaves the old value in place.
  Status overwrite = store_->set(kNs, "big", std::string(kKvMaxValueBytes, 'v'));
  ASSERT_FALSE(overwrite.ok());
  EXPECT_EQ(must_get(kNs, "big"), at_limit);
}

TEST_P(KvStoreTest, ClearRemovesOnlyThatNamespace) {
  for (int i = 0; i < 5; ++i) {
    must_set("p/one", "k" + std::to_string(i), i);
  }
  must_set("p/two", "k0", "kept");
  must_set("p", "k0", "kept too");

  auto cleared = store_->clear("p/one");
  ASSERT_TRUE(cleared.ok()) << cleared.error().to_string();
  EXPECT_EQ(*cleared, 5u);
  EXPECT_TRUE(keys("p/one", "").empty());
  EXPECT_FALSE(store_->get("p/one", "k0")->has_value());
  EXPECT_EQ(*store_->size_bytes("p/one"), 0u);
  EXPECT_EQ(must_get("p/two", "k0"), "kept");
  EXPECT_EQ(must_get("p", "k0"), "kept too");

  auto again = store_->clear("p/one");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0u);

  must_set("p/one", "k0", "back");  // a cleared namespace is usable again
  EXPECT_EQ(must_get("p/one", "k0"), "back");
}

TEST_P(KvStoreTest, SizeBytesCountsKeysAndSerializedValues) {
  auto size = [&](std::string_view ns) {
    auto result = store_->size_bytes(ns);
    EXPECT_TRUE(result.ok()) << result.error().to_string();
    return result.ok() ? *result : uint64_t{0};
  };
  EXPECT_EQ(size(kNs), 0u);
  must_set(kNs, "ab", Json{{"x", 1}});  // 2 + len({"x":1}) = 2 + 7
  EXPECT_EQ(size(kNs), 9u);
  must_set(kNs, "\xC3\xA9", "\xE2\x82\xAC");  // bytes, not characters: 2 + 5
  EXPECT_EQ(size(kNs), 16u);
  must_set(kNs, "ab", 12345);  // overwrite: 2 + 5
  EXPECT_EQ(size(kNs), 14u);
  must_set("other", "ab", 1);
  EXPECT_EQ(size(kNs), 14u);
  EXPECT_EQ(size("other"), 3u);
  ASSERT_TRUE(*store_->remove(kNs, "ab"));
  EXPECT_EQ(size(kNs), 7u);
  EXPECT_EQ(size("nobody"), 0u);
}

TEST_P(KvStoreTest, ConcurrentSetAndGetFromFourThreads) {
  constexpr int kThreads = 4;
  constexpr int kOps = 200;
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  std::vector<std::string> failures(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string ns = "t/" + std::to_string(t);
      for (int i = 0; i < kOps && failures[t].empty(); ++i) {
        const std::string key = "k" + std::to_string(i);
        const Json value = {{"t", t}, {"i", i}};
        if (Status s = store_->set(ns, key, value); !s.ok()) {
          failures[t] = s.error().to_string();
          break;
        }
        // A key every thread writes: whatever wins must be one whole value.
        if (Status s = store_->set("shared", "last", value); !s.ok()) {
          failures[t] = s.error().to_string();
          break;
        }
        auto got = store_->get(ns, key);
        if (!got.ok() || !got->has_value() || **got != value) {
          failures[t] = "read back mismatch at " + key;
        }
        auto shared = store_->get("shared", "last");
        if (!shared.ok() || !shared->has_value() || !(*shared)->contains("i")) {
          failures[t] = "shared value torn";
        }
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(failures[t], "") << "thread " << t;
    EXPECT_EQ(keys("t/" + std::to_string(t), "").size(), static_cast<size_t>(kOps));
  }
}

INSTANTIATE_TEST_SUITE_P(Memory, KvStoreTest, ::testing::Values(Backend::kMemory));
INSTANTIATE_TEST_SUITE_P(Sqlite, KvStoreTest, ::testing::Values(Backend::kSqlite));

// --- SQLite only ---

// Runs one statement through a separate raw connection, as an operator's sqlite3 shell
// would, and returns the last column of its last row.
std::string raw_query(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  std::string out = "<error>";
  if (sqlite3_open(path.c_str(), &db) == SQLITE_OK) {
    sqlite3_exec(
        db, sql,
        [](void* result, int columns, char** values, char**) {
          // The last column: the only one of a PRAGMA, the `detail` of a query plan row.
          const char* value = values[columns - 1];
          *static_cast<std::string*>(result) = value == nullptr ? "NULL" : value;
          return 0;
        },
        &out, nullptr);
  }
  sqlite3_close(db);
  return out;
}

TEST(SqliteKvStoreTest, ReopenPersists) {
  TempDir dir;
  const std::string path = (dir.path() / "kv.db").string();
  {
    auto store = open_sqlite_kv_store(path);
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    ASSERT_TRUE((*store)->set("ns", "kept", Json{{"n", 1}}).ok());
    ASSERT_TRUE((*store)->set("ns", "gone", 2).ok());
    ASSERT_TRUE(*(*store)->remove("ns", "gone"));
  }
  auto store = open_sqlite_kv_store(path);
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  auto got = (*store)->get("ns", "kept");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ(**got, (Json{{"n", 1}}));
  EXPECT_FALSE((*store)->get("ns", "gone")->has_value());
  EXPECT_EQ((*store)->list("ns", "", 0)->size(), 1u);
}

TEST(SqliteKvStoreTest, UsesWalAndRecordsSchemaVersion) {
  TempDir dir;
  const std::string path = (dir.path() / "kv.db").string();
  auto store = open_sqlite_kv_store(path);
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  EXPECT_EQ(raw_query(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw_query(path, "PRAGMA user_version"), "1");
  // The shape of kListRange in sqlite_kv_store.cpp: the schema must let prefix listing be
  // a range on the primary key, not a scan (and no temporary B-tree for ORDER BY).
  const std::string plan =
      raw_query(path,
                "EXPLAIN QUERY PLAN SELECT key, value FROM kv WHERE ns = 'a' AND key >= 'b' AND "
                "key < 'c' ORDER BY key LIMIT 10");
  EXPECT_EQ(plan, "SEARCH kv USING PRIMARY KEY (ns=? AND key>? AND key<?)");
}

TEST(SqliteKvStoreTest, OpenOnUnwritablePathFailsClearly) {
  TempDir dir;
  // A path below a regular file cannot be created, even by root (for whom a read-only
  // directory would not be).
  const fs::path file = dir.path() / "plain-file";
  std::ofstream(file) << "x";
  const std::string path = (file / "kv.db").string();
  auto store = open_sqlite_kv_store(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(store.error().message(), "open \"" + path + "\": unable to open database file");
}

TEST(SqliteKvStoreTest, OpenOnNonDatabaseFileFailsClearly) {
  TempDir dir;
  const std::string path = (dir.path() / "not-a.db").string();
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 4096; ++i) {
      out << static_cast<char>(i * 7 + 3);
    }
  }
  auto store = open_sqlite_kv_store(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), ErrorCode::kUnavailable);
  EXPECT_NE(store.error().message().find("open \"" + path + "\""), std::string::npos)
      << store.error().message();
  EXPECT_NE(store.error().message().find("file is not a database"), std::string::npos)
      << store.error().message();
}

TEST(SqliteKvStoreTest, DamagedDatabaseGivesAnErrorNotACrash) {
  TempDir dir;
  const std::string path = (dir.path() / "kv.db").string();
  {
    auto store = open_sqlite_kv_store(path);
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    for (int i = 0; i < 500; ++i) {
      ASSERT_TRUE((*store)->set("ns", "k" + std::to_string(i), std::string(100, 'v')).ok());
    }
  }  // the last connection to close checkpoints the WAL into the main file
  {
    // Keep page 1 (header and schema) so the file still opens, and scramble the pages of
    // the table, as a bad disk or a stray writer would.
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(4096);  // SQLite's default page size
    for (int i = 0; i < 64 * 1024; ++i) {
      file.put(static_cast<char>(i * 31 + 17));
    }
  }
  auto store = open_sqlite_kv_store(path);
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  auto listed = (*store)->list("ns", "", 0);
  ASSERT_FALSE(listed.ok());
  EXPECT_EQ(listed.error().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(listed.error().message(), "kv.list: database disk image is malformed");
  auto got = (*store)->get("ns", "k1");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().message(), "kv.get: database disk image is malformed");
}

TEST(SqliteKvStoreTest, OpenRefusesNewerSchema) {
  TempDir dir;
  const std::string path = (dir.path() / "kv.db").string();
  ASSERT_TRUE(open_sqlite_kv_store(path).ok());
  raw_query(path, "PRAGMA user_version = 99");
  auto store = open_sqlite_kv_store(path);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(store.error().message().find("schema version 99"), std::string::npos)
      << store.error().message();
}

TEST(SqliteKvStoreTest, BusyTimeoutWaitsForAnotherWriter) {
  TempDir dir;
  const std::string path = (dir.path() / "kv.db").string();
  auto store = open_sqlite_kv_store(path);
  ASSERT_TRUE(store.ok()) << store.error().to_string();

  // Another connection (an operator's shell, a second host) holds the write lock for a
  // moment; set() must wait it out rather than fail with "database is locked".
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  std::thread release([other] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr);
  });
  Status s = (*store)->set("ns", "k", 1);
  release.join();
  sqlite3_close(other);
  EXPECT_TRUE(s.ok()) << s.error().to_string();
}

}  // namespace
}  // namespace outlet
