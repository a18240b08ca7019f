#include "core/dependencies.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "core/semver.h"

namespace outlet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

Relationship relation(std::string id, std::string range = "") {
  Relationship relationship;
  relationship.id = std::move(id);
  relationship.version_range_text = range;
  if (!range.empty()) {
    auto parsed = VersionRange::parse(range);
    EXPECT_TRUE(parsed.ok()) << range;
    if (parsed.ok()) {
      relationship.version_range = std::make_shared<const VersionRange>(std::move(parsed).value());
    }
  }
  return relationship;
}

// Builds manifests that outlive the resolution (a deque keeps addresses stable).
class Plugins {
 public:
  Manifest& add(std::string id, LoadPriority priority = LoadPriority::kDefault,
                std::string version = "1.0.0") {
    Manifest& m = manifests_.emplace_back();
    m.id = std::move(id);
    m.version_text = version;
    auto parsed = Version::parse(version);
    EXPECT_TRUE(parsed.ok()) << version;
    if (parsed.ok())
      m.version = std::make_shared<const Version>(std::move(parsed).value());
    m.load_priority = priority;
    return m;
  }

  Resolution resolve() const {
    std::vector<const Manifest*> candidates;
    for (const Manifest& m : manifests_)
      candidates.push_back(&m);
    return resolve_dependencies(candidates);
  }

 private:
  std::deque<Manifest> manifests_;
};

TEST(DependenciesTest, OrdersByLoadPriorityThenId) {
  Plugins plugins;
  plugins.add("charlie");
  plugins.add("alpha", LoadPriority::kLow);
  plugins.add("delta");
  plugins.add("bravo", LoadPriority::kHigh);
  plugins.add("echo", LoadPriority::kBootstrap);
  Resolution resolution = plugins.resolve();
  EXPECT_THAT(resolution.order, ElementsAre("echo", "bravo", "charlie", "delta", "alpha"));
  EXPECT_THAT(resolution.blocked, IsEmpty());
  EXPECT_THAT(resolution.cycles, IsEmpty());
  EXPECT_THAT(resolution.warnings, IsEmpty());
}

TEST(DependenciesTest, RequiredDependencyActivatesFirstEvenWithLowerPriority) {
  Plugins plugins;
  plugins.add("app", LoadPriority::kBootstrap).relationships.required = {relation("lib")};
  plugins.add("lib", LoadPriority::kLow);
  Resolution resolution = plugins.resolve();
  EXPECT_THAT(resolution.order, ElementsAre("lib", "app"));
  EXPECT_THAT(resolution.blocked, IsEmpty());
}

TEST(DependenciesTest, MissingRequiredDependencyBlocksAndNamesIt) {
  Plugins plugins;
  plugins.add("app").relationships.required = {relation("lib", "^1.0.0")};
  plugins.add("other");
  Resolution resolution = plugins.resolve();
  EXPECT_THAT(
      resolution.blocked,
      ElementsAre(Pair("app", "requires \"lib\" ^1.0.0, which is not installed or not enabled")));
  EXPECT_THAT(resolution.order, ElementsAre("other"));
}

TEST(DependenciesTest, VersionRangeMismatchBlocksAndNamesTheInstalledVersion) {
  Plugins plugins;
  plugins.add("app").relationships.required = {relation("lib", "^2.0.0")};
  plugins.add("lib", LoadPriority::kDefault, "1.4.0");
  Resolution resolution = plugins.resolve();
  EXPECT_THAT(resolution.blocked,
              ElementsAre(Pair("app", "requires \"lib\" ^2.0.0, but version 1.4.0 is installed")));
  EXPECT_THAT(resolution.order, ElementsAre("lib"));
}

TEST(DependenciesTest, VersionRangeMatchActivates) {
  Plugins plugins;
  plugins.add("app").relationships.required = {relation("lib", "^2.0.0")};
  plugins.add("lib", LoadPriority::kDefault, "2.3.1");
  Resolution resolution = plugins.resolve();
  EXPECT_THAT(resolution.blocked, IsEmpty());
  EXPECT_THAT(resolution.order, ElementsAre("lib", "app"));
}

TEST(DependenciesTest, ConflictBlocksTheDeclaringPlugin) {
  Plugins plugins;
  plugins.add("newcomer").relationships.conflicts = {relation("incumbent")};
  plugins.add("incumbent", LoadPriority::kDefault, "3.1.0");
  Resolution resolution = plugins.resolve();
  EXPECT_THAT(resolution.blocked,
              ElementsAre(Pair("newcomer",
                               "conflicts with \"incumbent\", which is active (version 3.1.0)")));
  EXPECT_THAT(resolution.order, ElementsAre("incumbent"));
}

TEST(DependenciesTest, ConflictOutsideTheVersionRangeDoesNotBlock) {
  Plugins plugins;
  plugins.add("newcomer").relationships.conflicts = {relation("incumbent", "<2.0.0")};
  plugins.add("incumbent", LoadPriority::kDefault, "3.1.0");
  Resolution resolution = plugins.resolve();
  EXPECT_THAT(resolution.blocked, IsEmpty());
  EXPECT_THAT(resolution.order, ElementsAre("incumbent", "newcomer"));
}

TEST(DependenciesTest, AConflictWithABlockedPluginDoesNotBlockWhateverTheIdOrder) {
  // "a" sorts before "c": judged in id order, "a" would see "c" as active.
  Plugins plugins;
  plugins.add("a-plugin").relationships.conflicts = {relation("c-plugin")};
  plugins.add("c-plugin").relationships.required = {relation("z-missing")};
  Resolution resolution = plugins.resolve();
  EXPECT_THAT(resolution.blocked,
              ElementsAre(Pair("c-plugin",
                               "requires \"z-missing\", which is not installed or not enabled")));
  EXPECT_THAT(resolution.order, ElementsAre("a-plugin"));
}

TEST(DependenciesTest, AConflictWithACycleMemberDoesNotBlock) {
  Plugins plugins;
  plugins.add("a-plugin").relationships.conflicts = {relation("loop-one")};
  plugins.add("loop-one").relationships.required = {relation("loop-two")};
  plugins.add("loop-two").relationships.required = {relation("loop-one")};
  Resolution resolution = plugins.resolve();
  EXPECT_FALSE(resolution.blocked.count("a-plugin"));
  EXPECT_THAT(resolution.order, ElementsAre("a-plugin"));
}

TEST(DependenciesTest, MutuallyConflictingPluginsAreBothBlockedUntilTheOperatorChooses) {
  Plugins plugins;
  plugins.add("left").relationships.conflicts = {relation("right")};
  plugins.add("right").relationships.conflicts = {relation("left")};
  Resolution resolution = plugins.resolve();
  EXPECT_EQ(resolution.blocked.size(), 2u);
  EXPECT_THAT(resolution.order, IsEmpty());
}

TEST(DependenciesTest, APluginBlockedByAConflictStrandsItsDependents) {
  Plugins plugins;
  plugins.add("newcomer").relationships.conflicts = {relation("incumbent")};
  plugins.add("incumbent");
  plugins.add("addon").relationships.required = {relation("newcomer")};
  Resolution resolution = plugins.resolve();
  EXPECT_THAT(resolution.blocked["addon"], HasSubstr("requires \"newcomer\", which is blocked"));
  EXPECT_THAT(resolution.order, ElementsAre("incumbent"));
}

TEST(DependenciesTest, BlockedDependencyBlocksDependentsTransitively) {
  Plugins plugins;
  plugins.add("top").relationships.required = {relation("middle")};
  plugins.add("middle").relationships.required = {relation("bottom")};
  plugins.add("bystander");
  Resolution resolution = plugins.resolve();
  EXPECT_THAT(resolution.blocked,
              UnorderedElementsAre(
                  Pair("middle", "requires \"bottom\", which is not installed or not enabled"),
                  Pair("top", "requires \"middle\", which is blocked")));
  EXPECT_THAT(resolution.order, ElementsAre("bystander"));
}

TEST(DependenciesTest, RequiresCycleIsReportedAndItsMembersBlocked) {
  Plugins plugins;
  plugins.add("a").relationships.required = {relation("b")};
  plugins.add("b").relationships.required = {relation("a")};
  plugins.add("c");
  plugins.add("d").relationships.required = {relation("a")};
  Resolution resolution = plugins.resolve();
  ASSERT_EQ(resolution.cycles.size(), 1u);
  EXPECT_EQ(format_cycle(resolution.cycles[0]), "a → b → a");
  EXPECT_EQ(resolution.blocked["a"], "dependency cycle: a → b → a");
  EXPECT_EQ(resolution.blocked["b"], "dependency cycle: a → b → a");
  EXPECT_EQ(resolution.blocked["d"], "requires \"a\", which is blocked");
  EXPECT_THAT(resolution.order, ElementsAre("c"));
}

TEST(DependenciesTest, SelfRequirementIsACycle) {
  Plugins plugins;
  plugins.add("loop").relationships.required = {relation("loop")};
  Resolution resolution = plugins.resolve();
  ASSERT_EQ(resolution.cycles.size(), 1u);
  EXPECT_EQ(format_cycle(resolution.cycles[0]), "loop → loop");
  EXPECT_THAT(resolution.order, IsEmpty());
}

TEST(DependenciesTest, OptionalDependencyOrdersButNeverBlocks) {
  Plugins present;
  present.add("app", LoadPriority::kHigh).relationships.optional = {relation("extra")};
  present.add("extra", LoadPriority::kLow);
  Resolution ordered = present.resolve();
  EXPECT_THAT(ordered.order, ElementsAre("extra", "app"));
  EXPECT_THAT(ordered.blocked, IsEmpty());

  Plugins absent;
  absent.add("app").relationships.optional = {relation("extra")};
  Resolution alone = absent.resolve();
  EXPECT_THAT(alone.order, ElementsAre("app"));
  EXPECT_THAT(alone.blocked, IsEmpty());
}

TEST(DependenciesTest, BeforeAndAfterOrderPluginsOfEqualPriority) {
  Plugins before;
  before.add("alpha");
  before.add("zulu").relationships.before = {"alpha"};
  EXPECT_THAT(before.resolve().order, ElementsAre("zulu", "alpha"));

  Plugins after;
  after.add("alpha").relationships.after = {"zulu"};
  after.add("zulu");
  EXPECT_THAT(after.resolve().order, ElementsAre("zulu", "alpha"));

  Plugins none;
  none.add("alpha");
  none.add("zulu");
  EXPECT_THAT(none.resolve().order, ElementsAre("alpha", "zulu"));
}

TEST(DependenciesTest, BeforeDoesNotOverrideLoadPriority) {
  Plugins plugins;
  plugins.add("alpha", LoadPriority::kHigh);
  plugins.add("zulu", LoadPriority::kLow).relationships.before = {"alpha"};
  EXPECT_THAT(plugins.resolve().order, ElementsAre("alpha", "zulu"));
}

TEST(DependenciesTest, BeforeAfterCycleIsAWarningNotABlock) {
  Plugins plugins;
  plugins.add("a").relationships.before = {"b"};
  plugins.add("b").relationships.before = {"a"};
  Resolution resolution = plugins.resolve();
  EXPECT_THAT(resolution.blocked, IsEmpty());
  EXPECT_THAT(resolution.cycles, IsEmpty());
  EXPECT_THAT(resolution.warnings, ElementsAre("before/after cycle ignored: a → b → a"));
  EXPECT_THAT(resolution.order, ElementsAre("a", "b"));
}

TEST(DependenciesTest, FormatCycleClosesTheLoop) {
  EXPECT_EQ(format_cycle({"x", "y", "z"}), "x → y → z → x");
}

}  // namespace
}  // namespace outlet
