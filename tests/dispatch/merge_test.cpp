// Merge helpers for collect and dispatch results (DESIGN.md "Hook kinds").
#include <gtest/gtest.h>

#include <vector>

#include "outlet/dispatch.h"

namespace outlet {
namespace {

std::vector<Contribution> from(std::vector<Json> values) {
  std::vector<Contribution> contributions;
  int i = 0;
  for (Json& value : values) {
    contributions.push_back({"plugin-" + std::to_string(i++), std::move(value)});
  }
  return contributions;
}

TEST(MergeConcatTest, ConcatenatesArraysAndAppendsSingleValuesInOrder) {
  Json merged =
      merge_concat(from({Json::array({1, 2}), Json("three"), Json::array({4}), Json{{"five", 5}}}));
  EXPECT_EQ(merged, (Json::array({1, 2, "three", 4, {{"five", 5}}})));
}

TEST(MergeConcatTest, SkipsNullsAndKeepsNestedArraysWhole) {
  Json merged = merge_concat(from({Json(), Json::array({Json::array({1, 2})}), Json()}));
  EXPECT_EQ(merged, Json::array({Json::array({1, 2})}));
}

TEST(MergeConcatTest, NothingGivesAnEmptyArray) {
  EXPECT_EQ(merge_concat({}), Json::array());
  EXPECT_EQ(merge_concat(from({Json(), Json::array()})), Json::array());
}

TEST(MergeFirstWinsTest, ReturnsTheFirstNonNullValue) {
  EXPECT_EQ(merge_first_wins(from({Json(), Json(false), Json("later")})), Json(false));
  EXPECT_EQ(merge_first_wins(from({Json(), Json()})), Json());
  EXPECT_EQ(merge_first_wins({}), Json());
}

TEST(MergeLastWinsTest, ReturnsTheLastNonNullValue) {
  EXPECT_EQ(merge_last_wins(from({Json("first"), Json(0), Json()})), Json(0));
  EXPECT_EQ(merge_last_wins(from({Json()})), Json());
  EXPECT_EQ(merge_last_wins({}), Json());
}

TEST(MergeAnyTest, IsTrueWhenAnyValueIsTruthy) {
  EXPECT_TRUE(merge_any(from({Json(false), Json(true)})));
  EXPECT_TRUE(merge_any(from({Json(), Json(1)})));
  EXPECT_TRUE(merge_any(from({Json("yes")})));
  EXPECT_TRUE(merge_any(from({Json::array({0})})));
  EXPECT_TRUE(merge_any(from({Json{{"k", false}}})));
}

TEST(MergeAnyTest, IsFalseWhenEveryValueIsFalsy) {
  EXPECT_FALSE(merge_any({}));
  EXPECT_FALSE(merge_any(
      from({Json(false), Json(), Json(0), Json(0.0), Json(""), Json::array(), Json::object()})));
}

TEST(MergeDispatchResultsTest, OrsBooleansConcatenatesArraysAndFirstScalarWins) {
  Json merged = merge_dispatch_results(from({
      Json{{"consume", false}, {"actions", {"a"}}, {"flash", "first"}, {"count", 1}},
      Json{{"consume", true}, {"actions", {"b", "c"}}, {"flash", "second"}, {"count", 2}},
      Json{{"consume", false}, {"actions", Json::array()}},
  }));
  EXPECT_EQ(
      merged,
      (Json{{"consume", true}, {"actions", {"a", "b", "c"}}, {"flash", "first"}, {"count", 1}}));
}

TEST(MergeDispatchResultsTest, MergesNestedObjectsKeyByKeyWithTheSameRules) {
  Json merged = merge_dispatch_results(from({
      Json{{"ui", {{"patches", {"p1"}}, {"dirty", false}, {"title", "A"}}}},
      Json{{"ui", {{"patches", {"p2"}}, {"dirty", true}, {"title", "B"}, {"extra", 1}}}},
  }));
  EXPECT_EQ(
      merged,
      (Json{{"ui", {{"patches", {"p1", "p2"}}, {"dirty", true}, {"title", "A"}, {"extra", 1}}}}));
}

TEST(MergeDispatchResultsTest, NullIsUnsetSoALaterValueFillsIt) {
  Json merged = merge_dispatch_results(from({Json{{"flash", nullptr}}, Json{{"flash", "late"}}}));
  EXPECT_EQ(merged, (Json{{"flash", "late"}}));
}

TEST(MergeDispatchResultsTest, MismatchedTypesKeepTheFirstAndNonObjectsAreIgnored) {
  Json merged = merge_dispatch_results(from({
      Json{{"consume", true}, {"actions", {"a"}}},
      Json("not an object"),
      Json{{"consume", "yes"}, {"actions", "b"}},
  }));
  EXPECT_EQ(merged, (Json{{"consume", true}, {"actions", {"a"}}}));
}

TEST(MergeDispatchResultsTest, NothingGivesAnEmptyObject) {
  EXPECT_EQ(merge_dispatch_results({}), Json::object());
}

TEST(FilterActionNameTest, NamesEveryAction) {
  EXPECT_EQ(filter_action_name(FilterAction::kPass), "pass");
  EXPECT_EQ(filter_action_name(FilterAction::kModify), "modify");
  EXPECT_EQ(filter_action_name(FilterAction::kDrop), "drop");
  EXPECT_EQ(filter_action_name(FilterAction::kFailed), "failed");
}

}  // namespace
}  // namespace outlet
