#include "core/suggest.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace outlet {
namespace {

const std::vector<std::string> kPermissions = {"chat.send",   "storage.kv", "network.fetch",
                                               "events.emit", "log",        "config.read"};

TEST(SuggestTest, FindsTheClosestCandidate) {
  EXPECT_EQ(closest_match("chat.sned", kPermissions), "chat.send");
  EXPECT_EQ(closest_match("storage.vk", kPermissions), "storage.kv");
  EXPECT_EQ(closest_match("netwrk.fetch", kPermissions), "network.fetch");
  EXPECT_EQ(closest_match("lg", kPermissions), "log");
}

TEST(SuggestTest, ExactMatchIsItsOwnSuggestion) {
  EXPECT_EQ(closest_match("log", kPermissions), "log");
}

TEST(SuggestTest, PrefersTheNearestOfSeveral) {
  EXPECT_EQ(closest_match("hihg", {"high", "higher", "low"}), "high");
  EXPECT_EQ(closest_match("lows", {"high", "low", "lower"}), "low");
}

TEST(SuggestTest, FarWordsGetNoSuggestion) {
  EXPECT_EQ(closest_match("database", kPermissions), "");
  EXPECT_EQ(closest_match("xyz", {"abc"}), "");
  EXPECT_EQ(closest_match("chat.moderate", kPermissions), "");
}

TEST(SuggestTest, EmptyAndHugeInputsGetNoSuggestion) {
  EXPECT_EQ(closest_match("", kPermissions), "");
  EXPECT_EQ(closest_match("log", {}), "");
  EXPECT_EQ(closest_match(std::string(129, 'l'), {std::string(129, 'l')}), "");
}

TEST(SuggestTest, LongWordsAllowMoreEdits) {
  // A 12-character word gets a budget of 4 edits; a 6-character one only 2.
  EXPECT_EQ(closest_match("atomaton-nod", {"automation-node"}), "automation-node");
  EXPECT_EQ(closest_match("wigdte", {"widget"}), "");
}

TEST(SuggestTest, DidYouMeanFormatsTheHint) {
  EXPECT_EQ(did_you_mean("chat.sned", kPermissions), " (did you mean \"chat.send\"?)");
  EXPECT_EQ(did_you_mean("database", kPermissions), "");
}

}  // namespace
}  // namespace outlet
