#include "outlet/warnings.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace outlet {
namespace {

using ::testing::EndsWith;
using ::testing::StartsWith;

TEST(WarningLogTest, RepeatsAreCountedNotDuplicated) {
  WarningLog log;
  EXPECT_TRUE(log.add("filter chat.message.received", "timed out"));
  auto first = log.entries();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_FALSE(log.add("filter chat.message.received", "timed out"));
  EXPECT_FALSE(log.add("filter chat.message.received", "timed out"));

  auto entries = log.entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].hook, "filter chat.message.received");
  EXPECT_EQ(entries[0].message, "timed out");
  EXPECT_EQ(entries[0].count, 3u);
  EXPECT_EQ(entries[0].first_seen, first[0].first_seen);
  EXPECT_GE(entries[0].last_seen, first[0].last_seen);
}

TEST(WarningLogTest, SameMessageFromAnotherHookIsSeparate) {
  WarningLog log;
  EXPECT_TRUE(log.add("load", "boom"));
  EXPECT_TRUE(log.add("emit", "boom"));
  EXPECT_EQ(log.entries().size(), 2u);
}

TEST(WarningLogTest, EntriesAreMostRecentlySeenFirst) {
  WarningLog log;
  log.add("load", "a");
  log.add("load", "b");
  log.add("load", "c");
  log.add("load", "a");
  auto entries = log.entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].message, "a");
  EXPECT_EQ(entries[1].message, "c");
  EXPECT_EQ(entries[2].message, "b");
}

TEST(WarningLogTest, FullLogEvictsTheLeastRecentlySeen) {
  WarningLog log(3);
  log.add("load", "a");
  log.add("load", "b");
  log.add("load", "c");
  log.add("load", "a");  // a is fresh again; b is now the stalest
  EXPECT_TRUE(log.add("load", "d"));
  auto entries = log.entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].message, "d");
  EXPECT_EQ(entries[1].message, "a");
  EXPECT_EQ(entries[2].message, "c");
  EXPECT_TRUE(log.add("load", "b"));  // evicted, so new again
}

TEST(WarningLogTest, EvictionFollowsRecencyOverManyRounds) {
  // Adds in a tight loop land within the clock's resolution; recency must
  // still decide, never the insertion slot.
  WarningLog log(2);
  for (int i = 0; i < 1000; ++i) {
    log.add("load", "keep");
    log.add("load", "new " + std::to_string(i));
    log.add("load", "keep");
    log.add("load", "newer " + std::to_string(i));
    auto entries = log.entries();
    ASSERT_EQ(entries.size(), 2u);
    ASSERT_EQ(entries[0].message, "newer " + std::to_string(i)) << "round " << i;
    ASSERT_EQ(entries[1].message, "keep") << "round " << i;
  }
}

TEST(WarningLogTest, LongMessagesAreTruncated) {
  WarningLog log;
  log.add("load", std::string(10000, 'x'));
  auto entries = log.entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_THAT(entries[0].message, StartsWith(std::string(2048, 'x')));
  EXPECT_THAT(entries[0].message, EndsWith("…"));
  EXPECT_EQ(entries[0].message.size(), 2048 + std::string("…").size());
  // Two long messages differing only past the cap count as one.
  EXPECT_FALSE(log.add("load", std::string(10000, 'x') + "tail"));
}

TEST(WarningLogTest, TotalCountsRepeatsAndEvictedEntries) {
  WarningLog log(1);
  log.add("load", "a");
  log.add("load", "a");
  log.add("load", "b");
  log.add("load", "c");
  EXPECT_EQ(log.total(), 4u);
  EXPECT_EQ(log.entries().size(), 1u);
  log.clear();
  EXPECT_TRUE(log.entries().empty());
}

TEST(WarningLogTest, ZeroCapacityKeepsNothingButCounts) {
  WarningLog log(0);
  EXPECT_TRUE(log.add("load", "a"));
  EXPECT_TRUE(log.entries().empty());
  EXPECT_EQ(log.total(), 1u);
}

TEST(WarningLogTest, ConcurrentAddsAreAllCounted) {
  WarningLog log(10);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&log, t] {
      for (int i = 0; i < 1000; ++i)
        log.add("notify", "thread " + std::to_string(t % 2));
    });
  }
  for (std::thread& thread : threads)
    thread.join();
  EXPECT_EQ(log.total(), 4000u);
  auto entries = log.entries();
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].count + entries[1].count, 4000u);
}

}  // namespace
}  // namespace outlet
