// The per-plugin TTL cache, on an injected clock so expiry is exact and instant.
#include "hostapi/ttl_cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

namespace outlet {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class TtlCacheTest : public ::testing::Test {
 protected:
  TtlCache make(size_t max_entries, size_t max_bytes) {
    return TtlCache(max_entries, max_bytes, [this] { return now_; });
  }
  void advance(std::chrono::milliseconds by) { now_ += by; }

  std::chrono::steady_clock::time_point now_ = std::chrono::steady_clock::time_point{} + 1h;
};

// key.size() + value.dump().size(): what the cache charges for an entry.
size_t cost(const std::string& key, const Json& value) {
  return key.size() + value.dump().size();
}

TEST_F(TtlCacheTest, ReturnsAValueUntilItsTtlPasses) {
  TtlCache cache = make(10, 1000);
  ASSERT_TRUE(cache.set("k", Json{{"v", 1}}, 100ms).ok());

  advance(99ms);
  EXPECT_EQ(cache.get("k"), (Json{{"v", 1}}));
  advance(1ms);
  EXPECT_EQ(cache.get("k"), std::nullopt) << "an entry is gone at exactly its expiry";
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST_F(TtlCacheTest, MissingKeyIsAbsent) {
  TtlCache cache = make(10, 1000);
  EXPECT_EQ(cache.get("nothing"), std::nullopt);
}

TEST_F(TtlCacheTest, SetReplacesTheValueTtlAndAccounting) {
  TtlCache cache = make(10, 1000);
  ASSERT_TRUE(cache.set("k", Json("short"), 10ms).ok());
  ASSERT_TRUE(cache.set("k", Json("a longer value"), 1000ms).ok());

  advance(500ms);
  EXPECT_EQ(cache.get("k"), Json("a longer value"));
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(cache.bytes(), cost("k", Json("a longer value")));
}

TEST_F(TtlCacheTest, RemoveSaysWhetherTheKeyExisted) {
  TtlCache cache = make(10, 1000);
  ASSERT_TRUE(cache.set("k", Json(1), 1s).ok());
  EXPECT_TRUE(cache.remove("k"));
  EXPECT_FALSE(cache.remove("k"));
  EXPECT_EQ(cache.get("k"), std::nullopt);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST_F(TtlCacheTest, RefusesAnEntryLargerThanTheWholeBudget) {
  TtlCache cache = make(10, 50);
  ASSERT_TRUE(cache.set("small", Json(1), 1s).ok());

  Status status = cache.set("big", Json(std::string(60, 'x')), 1s);

  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_THAT(status.error().message(), HasSubstr("exceeds the cache's 50-byte budget"));
  EXPECT_THAT(status.error().message(),
              HasSubstr(std::to_string(cost("big", Json(std::string(60, 'x')))) + " bytes"));
  EXPECT_EQ(cache.get("small"), Json(1)) << "a refused entry must not evict anything";
}

TEST_F(TtlCacheTest, WhenFullOfEntriesEvictsTheOneClosestToExpiry) {
  TtlCache cache = make(3, 1000);
  ASSERT_TRUE(cache.set("late", Json(1), 300ms).ok());
  ASSERT_TRUE(cache.set("soon", Json(2), 100ms).ok());
  ASSERT_TRUE(cache.set("middle", Json(3), 200ms).ok());

  ASSERT_TRUE(cache.set("new", Json(4), 50ms).ok());

  EXPECT_EQ(cache.size(), 3u);
  EXPECT_EQ(cache.get("soon"), std::nullopt);
  EXPECT_EQ(cache.get("late"), Json(1));
  EXPECT_EQ(cache.get("middle"), Json(3));
  EXPECT_EQ(cache.get("new"), Json(4));
}

TEST_F(TtlCacheTest, WhenOverTheByteBudgetEvictsUntilTheNewEntryFits) {
  // Each entry costs 1 + 12 = 13 bytes; the budget holds three.
  const Json value(std::string(10, 'v'));
  ASSERT_EQ(cost("a", value), 13u);
  TtlCache cache = make(100, 40);
  ASSERT_TRUE(cache.set("a", value, 100ms).ok());
  ASSERT_TRUE(cache.set("b", value, 300ms).ok());
  ASSERT_TRUE(cache.set("c", value, 200ms).ok());

  ASSERT_TRUE(cache.set("d", value, 400ms).ok());

  EXPECT_LE(cache.bytes(), 40u);
  EXPECT_EQ(cache.get("a"), std::nullopt);
  EXPECT_EQ(cache.get("b"), value);
  EXPECT_EQ(cache.get("c"), value);
  EXPECT_EQ(cache.get("d"), value);
}

TEST_F(TtlCacheTest, SetPurgesEveryExpiredEntryAndKeepsLiveOnes) {
  TtlCache cache = make(3, 1000);
  ASSERT_TRUE(cache.set("live", Json(1), 1000ms).ok());
  ASSERT_TRUE(cache.set("dying", Json(2), 10ms).ok());
  ASSERT_TRUE(cache.set("dead", Json(3), 5ms).ok());
  advance(20ms);

  ASSERT_TRUE(cache.set("new", Json(4), 500ms).ok());

  EXPECT_EQ(cache.size(), 2u) << "both expired entries go, not just enough to make room";
  EXPECT_EQ(cache.bytes(), cost("live", Json(1)) + cost("new", Json(4)));
  EXPECT_EQ(cache.get("live"), Json(1));
  EXPECT_EQ(cache.get("new"), Json(4));
}

TEST_F(TtlCacheTest, BytesTrackEveryEntry) {
  TtlCache cache = make(10, 1000);
  ASSERT_TRUE(cache.set("one", Json(1), 1s).ok());
  ASSERT_TRUE(cache.set("two", Json::array({1, 2}), 1s).ok());
  EXPECT_EQ(cache.bytes(), cost("one", Json(1)) + cost("two", Json::array({1, 2})));
  cache.remove("one");
  EXPECT_EQ(cache.bytes(), cost("two", Json::array({1, 2})));
}

TEST(TtlCacheRealClockTest, UsesTheSteadyClockWhenNoneIsInjected) {
  TtlCache cache(10, 1000);
  ASSERT_TRUE(cache.set("k", Json(1), std::chrono::hours(1)).ok());
  EXPECT_EQ(cache.get("k"), Json(1));
  ASSERT_TRUE(cache.set("gone", Json(1), std::chrono::milliseconds(0)).ok());
  EXPECT_EQ(cache.get("gone"), std::nullopt);
}

}  // namespace
}  // namespace outlet
