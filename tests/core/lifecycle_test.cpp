#include "outlet/lifecycle.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace outlet {
namespace {

using ::testing::HasSubstr;
using S = PluginState;

TEST(LifecycleTest, StartsDiscovered) {
  Lifecycle lifecycle;
  EXPECT_EQ(lifecycle.state(), S::kDiscovered);
  EXPECT_EQ(lifecycle.reason(), "");
  EXPECT_TRUE(lifecycle.history().empty());
}

TEST(LifecycleTest, WalksTheWholeLifeFromDiscoveredToDisabled) {
  Lifecycle lifecycle;
  const S path[] = {S::kValidated, S::kLoading,  S::kReady,   S::kLoaded,
                    S::kUnloading, S::kUnloaded, S::kDisabled};
  S previous = S::kDiscovered;
  for (S next : path) {
    SCOPED_TRACE(std::string(plugin_state_name(next)));
    EXPECT_TRUE(is_transition_allowed(previous, next));
    auto change = lifecycle.transition(next);
    ASSERT_TRUE(change.ok()) << change.error().to_string();
    EXPECT_EQ(change->from, previous);
    EXPECT_EQ(change->to, next);
    EXPECT_EQ(lifecycle.state(), next);
    previous = next;
  }
  ASSERT_EQ(lifecycle.history().size(), std::size(path));
  EXPECT_EQ(lifecycle.history().front().from, S::kDiscovered);
  EXPECT_EQ(lifecycle.history().back().to, S::kDisabled);
}

TEST(LifecycleTest, RefusedTransitionNamesBothStatesAndChangesNothing) {
  Lifecycle lifecycle;
  auto change = lifecycle.transition(S::kLoaded, "skip ahead");
  ASSERT_FALSE(change.ok());
  EXPECT_EQ(change.error().code(), ErrorCode::kFailedPrecondition);
  EXPECT_THAT(change.error().to_string(),
              HasSubstr("cannot move a plugin from discovered to loaded"));
  EXPECT_EQ(lifecycle.state(), S::kDiscovered);
  EXPECT_TRUE(lifecycle.history().empty());
}

TEST(LifecycleTest, TableRefusesShortcuts) {
  EXPECT_FALSE(is_transition_allowed(S::kValidated, S::kLoaded));
  EXPECT_FALSE(is_transition_allowed(S::kLoaded, S::kUnloaded));  // must pass unloading
  EXPECT_FALSE(is_transition_allowed(S::kUnloading, S::kDisabled));
  EXPECT_FALSE(is_transition_allowed(S::kBlocked, S::kLoading));  // must re-validate
  EXPECT_FALSE(is_transition_allowed(S::kDisabled, S::kLoading));
  EXPECT_FALSE(is_transition_allowed(S::kLoaded, S::kLoaded));
}

TEST(LifecycleTest, ReasonIsKeptOnlyForBlockedFailedAndDisabled) {
  Lifecycle lifecycle;
  ASSERT_TRUE(lifecycle.transition(S::kValidated, "looks fine").ok());
  EXPECT_EQ(lifecycle.reason(), "");
  ASSERT_TRUE(lifecycle.transition(S::kBlocked, "requires \"lib\"").ok());
  EXPECT_EQ(lifecycle.reason(), "requires \"lib\"");
  ASSERT_TRUE(lifecycle.transition(S::kValidated).ok());
  EXPECT_EQ(lifecycle.reason(), "");
  ASSERT_TRUE(lifecycle.transition(S::kLoading, "starting").ok());
  EXPECT_EQ(lifecycle.reason(), "");
  ASSERT_TRUE(lifecycle.transition(S::kFailed, "trapped").ok());
  EXPECT_EQ(lifecycle.reason(), "trapped");
  ASSERT_TRUE(lifecycle.transition(S::kDisabled, "by the operator").ok());
  EXPECT_EQ(lifecycle.reason(), "by the operator");
  ASSERT_TRUE(lifecycle.transition(S::kValidated).ok());
  EXPECT_EQ(lifecycle.reason(), "");
  // The history keeps what each step was told.
  EXPECT_EQ(lifecycle.history()[3].reason, "starting");
}

TEST(LifecycleTest, HistoryIsBounded) {
  Lifecycle lifecycle;
  ASSERT_TRUE(lifecycle.transition(S::kValidated).ok());
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(lifecycle.transition(S::kBlocked, "round " + std::to_string(i)).ok());
    ASSERT_TRUE(lifecycle.transition(S::kValidated).ok());
  }
  ASSERT_EQ(lifecycle.history().size(), 32u);
  EXPECT_EQ(lifecycle.history().back().to, S::kValidated);
  EXPECT_EQ(lifecycle.history().back().from, S::kBlocked);
  EXPECT_EQ(lifecycle.history()[30].reason, "round 49");  // the newest are kept
}

TEST(LifecycleTest, EveryStateHasAName) {
  EXPECT_EQ(plugin_state_name(S::kDiscovered), "discovered");
  EXPECT_EQ(plugin_state_name(S::kBlocked), "blocked");
  EXPECT_EQ(plugin_state_name(S::kUnloading), "unloading");
  EXPECT_EQ(plugin_state_name(S::kDisabled), "disabled");
}

}  // namespace
}  // namespace outlet
