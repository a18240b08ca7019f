#include "core/semver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace outlet {
namespace {

using ::testing::HasSubstr;

Version V(std::string_view text) {
  auto v = Version::parse(text);
  EXPECT_TRUE(v.ok()) << text << ": " << v.error().message();
  return v.ok() ? *v : Version{};
}

// ---- Version parsing --------------------------------------------------------

TEST(VersionParse, AcceptsValidVersions) {
  // The SemVer spec's examples plus the valid list from its regex test suite.
  const char* cases[] = {
      "0.0.4",
      "1.2.3",
      "10.20.30",
      "1.9.0",
      "1.10.0",
      "1.11.0",
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-0.3.7",
      "1.0.0-x.7.z.92",
      "1.0.0-x-y-z.--",
      "1.0.0-alpha+001",
      "1.0.0+20130313144700",
      "1.0.0-beta+exp.sha.5114f85",
      "1.0.0+21AF26D3----117B344092BD",
      "1.1.2-prerelease+meta",
      "1.1.2+meta",
      "1.1.2+meta-valid",
      "1.0.0-alpha.beta.1",
      "1.0.0-alpha0.valid",
      "1.0.0-alpha.0valid",
      "1.0.0-alpha-a.b-c-somethinglong+build.1-aef.1-its-okay",
      "1.0.0-rc.1+build.1",
      "2.0.0-rc.1+build.123",
      "10.2.3-DEV-SNAPSHOT",
      "1.2.3-SNAPSHOT-123",
      "2.0.0+build.1848",
      "2.0.1-alpha.1227",
      "1.0.0-alpha+beta",
      "1.2.3----RC-SNAPSHOT.12.9.1--.12+788",
      "1.2.3----R-S.12.9.1--.12+meta",
      "1.2.3----RC-SNAPSHOT.12.9.1--.12",
      "1.0.0+0.build.1-rc.10000aaa-kk-0.1",
      "1.0.0-0A.is.legal",
      "18446744073709551615.18446744073709551615.18446744073709551615",
      "1.0.0-18446744073709551615",
  };
  for (const char* text : cases) {
    auto v = Version::parse(text);
    ASSERT_TRUE(v.ok()) << text << ": " << v.error().message();
    EXPECT_EQ(v->to_string(), text);
  }
}

TEST(VersionParse, SplitsFields) {
  Version v = V("1.2.3-alpha.7+build.5");
  EXPECT_EQ(v.major, 1u);
  EXPECT_EQ(v.minor, 2u);
  EXPECT_EQ(v.patch, 3u);
  EXPECT_EQ(v.prerelease, (std::vector<std::string>{"alpha", "7"}));
  EXPECT_EQ(v.build, "build.5");
  EXPECT_EQ(V("18446744073709551615.0.0").major, 18446744073709551615u);
}

TEST(VersionParse, RejectsInvalidVersions) {
  // From the SemVer regex test suite's invalid list, plus our own limits.
  const char* cases[] = {
      "",
      "1",
      "1.2",
      "1.2.3.4",
      "1.2.3-0123",
      "1.2.3-0123.0123",
      "1.1.2+.123",
      "+invalid",
      "-invalid",
      "-invalid+invalid",
      "-invalid.01",
      "alpha",
      "alpha.beta",
      "alpha.beta.1",
      "alpha.1",
      "alpha+beta",
      "alpha_beta",
      "alpha.",
      "alpha..",
      "beta",
      "1.0.0-alpha_beta",
      "-alpha.",
      "1.0.0-alpha..",
      "1.0.0-alpha..1",
      "1.0.0-alpha...1",
      "01.1.1",
      "1.01.1",
      "1.1.01",
      "1.2.3.DEV",
      "1.2-SNAPSHOT",
      "1.2.31.2.3----RC-SNAPSHOT.12.09.1--..12+788",
      "1.2-RC-SNAPSHOT",
      "-1.0.3-gamma+b7718",
      "+justmeta",
      "9.8.7+meta+meta",
      "9.8.7-whatever+meta+meta",
      "99999999999999999999999.999999999999999999.99999999999999999",
      "v1.2.3",
      "V1.2.3",
      "=1.2.3",
      " 1.2.3",
      "1.2.3 ",
      "1.2.3-",
      "1.2.3+",
      "1..3",
      "1.2.x",
      "18446744073709551616.0.0",
      "0.18446744073709551616.0",
      "0.0.18446744073709551616",
      "1.0.0-18446744073709551616",
      "1.2.3-a\xc3\xa9",
  };
  for (const char* text : cases) {
    auto v = Version::parse(text);
    EXPECT_FALSE(v.ok()) << text;
    if (!v.ok()) {
      EXPECT_EQ(v.error().code(), ErrorCode::kInvalidArgument) << text;
    }
  }
  EXPECT_FALSE(
      Version::parse("99999999999999999999999.999999999999999999.99999999999999999----" +
                     std::string("RC-SNAPSHOT.12.09.1--------------------------------..12"))
          .ok());
  // Embedded NUL survives string_view and must not be silently truncated.
  EXPECT_FALSE(Version::parse(std::string_view("1.2.3\0", 6)).ok());
}

TEST(VersionParse, ErrorMessagesSayWhatIsWrong) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"1.2", "\"1.2\" is not a semantic version (expected MAJOR.MINOR.PATCH)"},
      {"", "\"\" is not a semantic version (expected MAJOR.MINOR.PATCH)"},
      {"v1.2.3", "\"v1.2.3\" is not a semantic version: a leading \"v\" is not allowed"},
      {"01.2.3", "\"01.2.3\" is not a semantic version: major version \"01\" has a leading zero"},
      {"1.a.3", "\"1.a.3\" is not a semantic version: minor version \"a\" is not a number"},
      {"1.2.99999999999999999999",
       "\"1.2.99999999999999999999\" is not a semantic version: patch version "
       "\"99999999999999999999\" is too large"},
      {"1.2.3-01",
       "\"1.2.3-01\" is not a semantic version: prerelease identifier \"01\" has a "
       "leading zero"},
      {"1.2.3-a..b",
       "\"1.2.3-a..b\" is not a semantic version: prerelease \"a..b\" has an empty "
       "identifier"},
      {"1.2.3+", "\"1.2.3+\" is not a semantic version: build metadata is empty"},
      {"1.2.3-a_b",
       "\"1.2.3-a_b\" is not a semantic version: prerelease identifier \"a_b\" may "
       "only contain [0-9A-Za-z-]"},
      // Control characters are escaped, not echoed into logs.
      {"1.2.3-\n",
       "\"1.2.3-\\x0a\" is not a semantic version: prerelease identifier \"\\x0a\" may "
       "only contain [0-9A-Za-z-]"},
  };
  for (const Case& c : cases) {
    auto v = Version::parse(c.text);
    ASSERT_FALSE(v.ok()) << c.text;
    EXPECT_EQ(v.error().message(), c.message);
  }
}

TEST(VersionParse, CapsLength) {
  std::string longest = "1.0.0-" + std::string(kMaxVersionTextLength - 6, 'a');
  EXPECT_TRUE(Version::parse(longest).ok());
  auto v = Version::parse(longest + "a");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.error().message(), "version is 257 characters long; the limit is 256");
}

// ---- Version ordering -------------------------------------------------------

TEST(VersionOrder, FollowsSpecPrecedence) {
  // Each list is strictly increasing (SemVer 2.0.0 section 11).
  const std::vector<std::vector<const char*>> chains = {
      {"1.0.0", "2.0.0", "2.1.0", "2.1.1"},
      {"1.9.0", "1.10.0", "1.11.0"},
      {"1.0.0-alpha", "1.0.0"},
      {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
       "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"},
      {"1.0.0-0", "1.0.0-1", "1.0.0-9", "1.0.0-10", "1.0.0-18446744073709551615", "1.0.0--",
       "1.0.0-A", "1.0.0-a"},
      {"0.0.0-0", "0.0.0", "0.0.1-0", "0.0.1", "18446744073709551615.0.0"},
  };
  for (const auto& chain : chains) {
    for (size_t i = 0; i < chain.size(); ++i) {
      for (size_t j = 0; j < chain.size(); ++j) {
        Version a = V(chain[i]);
        Version b = V(chain[j]);
        EXPECT_EQ(a <=> b, i <=> j) << chain[i] << " vs " << chain[j];
        EXPECT_EQ(a == b, i == j) << chain[i] << " vs " << chain[j];
      }
    }
  }
}

TEST(VersionOrder, IgnoresBuildMetadata) {
  EXPECT_EQ(V("1.0.0+a") <=> V("1.0.0+b"), std::strong_ordering::equal);
  EXPECT_TRUE(V("1.0.0+a") == V("1.0.0"));
  EXPECT_TRUE(V("1.0.0-rc.1+x") == V("1.0.0-rc.1+y"));
  EXPECT_TRUE(V("1.0.0-rc.1+x") < V("1.0.0+a"));
}

TEST(VersionOrder, HandBuiltNumericIdentifiersCompareByValue) {
  // Not producible by parse(), but the comparison must still be numeric.
  Version a{1, 0, 0, {"007"}, ""};
  Version b{1, 0, 0, {"10"}, ""};
  Version huge{1, 0, 0, {"99999999999999999999999"}, ""};
  EXPECT_LT(a, b);
  EXPECT_LT(b, huge);
}

// ---- Ranges -----------------------------------------------------------------

struct RangeCase {
  const char* range;
  std::vector<const char*> in;
  std::vector<const char*> out;
};

void CheckRanges(const std::vector<RangeCase>& cases) {
  for (const RangeCase& c : cases) {
    auto r = VersionRange::parse(c.range);
    ASSERT_TRUE(r.ok()) << c.range << ": " << r.error().message();
    EXPECT_EQ(r->text(), c.range);
    for (const char* v : c.in)
      EXPECT_TRUE(r->contains(V(v))) << v << " should be in " << c.range;
    for (const char* v : c.out) {
      EXPECT_FALSE(r->contains(V(v))) << v << " should not be in " << c.range;
    }
  }
}

TEST(VersionRange, AnyAndWildcards) {
  CheckRanges({
      {"*", {"0.0.0", "1.2.3", "18446744073709551615.0.0"}, {"1.0.0-alpha"}},
      {"", {"0.0.0", "9.9.9"}, {"1.0.0-alpha"}},
      {"   ", {"0.0.0"}, {}},
      {"x", {"0.0.0", "5.0.0"}, {}},
      {"X", {"5.0.0"}, {}},
      {"x.x.x", {"5.0.0"}, {}},
      {"1.x", {"1.0.0", "1.99.99"}, {"0.99.99", "2.0.0", "2.0.0-0", "1.5.0-beta"}},
      {"1.X", {"1.0.0", "1.99.99"}, {"2.0.0"}},
      {"1.x.x", {"1.0.0", "1.99.99"}, {"2.0.0"}},
      {"1.2.*", {"1.2.0", "1.2.99"}, {"1.1.99", "1.3.0", "1.3.0-0"}},
      {"1.2.x", {"1.2.0", "1.2.99"}, {"1.3.0"}},
  });
}

TEST(VersionRange, PartialVersions) {
  CheckRanges({
      {"1", {"1.0.0", "1.99.99"}, {"0.9.9", "2.0.0", "2.0.0-0"}},
      {"1.2", {"1.2.0", "1.2.99"}, {"1.1.99", "1.3.0", "1.3.0-alpha"}},
      {"=1.2", {"1.2.0", "1.2.99"}, {"1.3.0"}},
      {"1.2.3", {"1.2.3", "1.2.3+build"}, {"1.2.2", "1.2.4", "1.2.3-alpha"}},
      {"=1.2.3", {"1.2.3"}, {"1.2.4"}},
      {"1.2.3+build.7", {"1.2.3"}, {"1.2.4"}},
      // Bounds past uint64's end disappear instead of overflowing.
      {"18446744073709551615",
       {"18446744073709551615.0.0", "18446744073709551615.7.7"},
       {"18446744073709551614.9.9"}},
      {"1.18446744073709551615", {"1.18446744073709551615.0"}, {"2.0.0"}},
  });
}

TEST(VersionRange, Comparators) {
  CheckRanges({
      {">1.2.3", {"1.2.4", "2.0.0"}, {"1.2.3", "1.2.2", "1.2.4-alpha"}},
      {">=1.2.3", {"1.2.3", "1.2.4"}, {"1.2.2", "1.2.3-rc.1"}},
      {"<1.2.3", {"1.2.2", "0.0.0"}, {"1.2.3", "1.2.3-rc.1", "1.2.2-rc.1"}},
      {"<=1.2.3", {"1.2.3", "1.2.2"}, {"1.2.4"}},
      {">1", {"2.0.0"}, {"1.99.99", "2.0.0-0", "2.0.0-alpha"}},
      {">1.2", {"1.3.0"}, {"1.2.99", "1.3.0-0"}},
      {">=1", {"1.0.0"}, {"0.99.99"}},
      {">=1.2", {"1.2.0"}, {"1.1.99"}},
      {"<1", {"0.99.99"}, {"1.0.0", "1.0.0-0"}},
      {"<1.2", {"1.1.99"}, {"1.2.0", "1.2.0-0"}},
      {"<=1", {"1.99.99"}, {"2.0.0", "2.0.0-0"}},
      {"<=1.2", {"1.2.99"}, {"1.3.0", "1.3.0-0"}},
      {"<=1.x", {"1.99.99"}, {"2.0.0"}},
      {">=*", {"0.0.0", "3.0.0"}, {}},
      {"<=*", {"0.0.0", "3.0.0"}, {}},
      {">*", {}, {"0.0.0", "3.0.0", "0.0.0-0"}},
      {"<*", {}, {"0.0.0", "3.0.0", "0.0.0-0"}},
      {">18446744073709551615", {}, {"18446744073709551615.0.0"}},
      {"<=18446744073709551615", {"18446744073709551615.9.9"}, {}},
      {">= 1.2.3", {"1.2.3"}, {"1.2.2"}},
      {"> 1.2.3", {"1.2.4"}, {"1.2.3"}},
  });
}

TEST(VersionRange, Caret) {
  CheckRanges({
      {"^1.2.3", {"1.2.3", "1.9.9", "1.2.3+b"}, {"1.2.2", "2.0.0", "2.0.0-0", "1.3.0-beta"}},
      {"^0.2.3", {"0.2.3", "0.2.99"}, {"0.2.2", "0.3.0", "0.3.0-0"}},
      {"^0.0.3", {"0.0.3"}, {"0.0.2", "0.0.4", "0.0.4-0"}},
      {"^0.0", {"0.0.0", "0.0.99"}, {"0.1.0"}},
      {"^0", {"0.0.0", "0.99.99"}, {"1.0.0"}},
      {"^1.2", {"1.2.0", "1.99.99"}, {"1.1.99", "2.0.0"}},
      {"^1", {"1.0.0", "1.99.99"}, {"0.99.99", "2.0.0"}},
      {"^1.x", {"1.0.0", "1.99.99"}, {"2.0.0"}},
      {"^0.x", {"0.0.0", "0.99.99"}, {"1.0.0"}},
      {"^*", {"0.0.0", "99.0.0"}, {}},
      {"^1.2.3-beta.2",
       {"1.2.3-beta.2", "1.2.3-beta.11", "1.2.3", "1.9.0"},
       {"1.2.3-beta.1", "1.2.3-alpha", "1.2.4-beta", "2.0.0"}},
      {"^0.0.3-beta", {"0.0.3-beta", "0.0.3-pr.2", "0.0.3"}, {"0.0.4", "0.0.4-0"}},
      {"^ 1.2.3", {"1.5.0"}, {"2.0.0"}},
      {"^18446744073709551615.0.0", {"18446744073709551615.9.9"}, {}},
      {"^0.0.18446744073709551615", {"0.0.18446744073709551615"}, {"0.1.0"}},
  });
}

TEST(VersionRange, Tilde) {
  CheckRanges({
      {"~1.2.3", {"1.2.3", "1.2.99"}, {"1.2.2", "1.3.0", "1.3.0-0", "1.2.4-rc"}},
      {"~1.2", {"1.2.0", "1.2.99"}, {"1.1.99", "1.3.0"}},
      {"~1", {"1.0.0", "1.99.99"}, {"0.99.99", "2.0.0", "2.0.0-0"}},
      {"~0.2.3", {"0.2.3", "0.2.9"}, {"0.3.0"}},
      {"~1.2.3-beta.2", {"1.2.3-beta.2", "1.2.3-beta.4", "1.2.5"}, {"1.2.3-beta.1", "1.2.4-beta"}},
      {"~>1.2.3", {"1.2.3", "1.2.9"}, {"1.3.0"}},
      {"~*", {"0.0.0"}, {}},
  });
}

TEST(VersionRange, Hyphen) {
  CheckRanges({
      {"1.2.3 - 2.3.4", {"1.2.3", "2.0.0", "2.3.4"}, {"1.2.2", "2.3.5", "2.3.4-rc", "1.5.0-rc"}},
      {"1.2 - 2.3.4", {"1.2.0", "2.3.4"}, {"1.1.99", "2.3.5"}},
      {"1.2.3 - 2.3", {"1.2.3", "2.3.99"}, {"1.2.2", "2.4.0", "2.4.0-0"}},
      {"1.2.3 - 2", {"1.2.3", "2.99.99"}, {"3.0.0", "3.0.0-0"}},
      {"* - 2", {"0.0.0", "2.9.9"}, {"3.0.0"}},
      {"1.2.3 - *", {"1.2.3", "99.0.0"}, {"1.2.2"}},
      {"1.2.3-rc.1 - 2.0.0-beta",
       {"1.2.3-rc.1", "1.2.3", "2.0.0-alpha.9"},
       {"1.2.3-beta", "2.0.0-beta.1", "2.0.0", "1.5.0-rc"}},
  });
}

TEST(VersionRange, HyphenCombinesWithComparators) {
  // A hyphen range is one AND-ed term (node-semver only allows it alone).
  CheckRanges({{"1 - 3 >1.5", {"1.6.0", "3.9.9"}, {"1.5.9", "4.0.0"}}});
}

TEST(VersionRange, AndOr) {
  CheckRanges({
      {">=1 <2", {"1.0.0", "1.99.99"}, {"0.99.99", "2.0.0", "2.0.0-0"}},
      {">=1.2.3 <1.2.3", {}, {"1.2.3"}},
      {">1.0.0 <=1.0.5 >1.0.2", {"1.0.3", "1.0.5"}, {"1.0.2", "1.0.6"}},
      {"1.x || >=2.5.0 <3 || 5.0.0 - 7.2.3",
       {"1.2.3", "2.5.0", "5.0.0", "7.2.3"},
       {"0.9.0", "2.4.9", "3.0.0", "4.0.0", "7.2.4"}},
      {"^1.2 || ^2.0", {"1.2.0", "2.9.0"}, {"1.1.0", "3.0.0"}},
      {"<1||>2", {"0.5.0", "3.0.0"}, {"1.5.0", "2.9.9"}},
      {"\t>=1\n<2 ", {"1.5.0"}, {"2.0.0"}},
  });
}

TEST(VersionRange, PrereleaseOnlyMatchesOptedInTuple) {
  CheckRanges({
      // Opted in for 1.2.3 prereleases only.
      {">=1.2.3-alpha <2",
       {"1.2.3-alpha", "1.2.3-beta", "1.2.3", "1.5.0"},
       {"1.2.4-alpha", "1.5.0-beta", "1.2.3-0"}},
      {">1.2.3-alpha.3", {"1.2.3-alpha.7", "3.4.5"}, {"1.2.3-alpha.3", "3.4.5-alpha.9"}},
      {"<1.2.3-rc", {"1.2.3-beta", "1.2.2"}, {"1.2.2-beta", "1.2.3-rc"}},
      {"1.2.3-beta.2", {"1.2.3-beta.2", "1.2.3-beta.2+b"}, {"1.2.3-beta.3"}},
      // The opt-in is per AND-set: the first alternative does not unlock the second.
      {"1.2.3-rc.1 || >=2", {"1.2.3-rc.1", "2.0.0"}, {"2.0.1-rc.1"}},
      {">=2 || >=2.0.1-rc.0", {"2.0.1-rc.1"}, {"2.0.2-rc.1"}},
      {"*", {}, {"0.0.0-0", "1.0.0-rc.1"}},
      {">=0.0.0", {}, {"1.0.0-rc.1"}},
  });
}

// ---- Range errors -----------------------------------------------------------

TEST(VersionRangeParse, ErrorsNameTheOffendingToken) {
  struct Case {
    const char* range;
    const char* message_part;
  };
  const Case cases[] = {
      {">=1 <", "comparator \"<\" has no version"},
      {">=", "comparator \">=\" has no version"},
      {">= <1", "comparator \">=\" has no version"},
      {"foo", "comparator \"foo\": major version \"foo\" is not a number"},
      {">=1.2.3<2", "comparator \">=1.2.3<2\": patch version \"3<2\" is not a number"},
      {"^01.2", "comparator \"^01.2\": major version \"01\" has a leading zero"},
      {"1.x.3", "comparator \"1.x.3\": a number cannot follow a wildcard"},
      {"1.2.3.4", "comparator \"1.2.3.4\": \"1.2.3.4\" has more than MAJOR.MINOR.PATCH"},
      {"1.2-beta", "comparator \"1.2-beta\": a prerelease or build needs a full"},
      {"v1.2.3", "comparator \"v1.2.3\": a leading \"v\" is not allowed"},
      {"=>1.2.3", "comparator \"=>1.2.3\" has unknown operator \"=>\""},
      {"<>1", "comparator \"<>1\" has unknown operator \"<>\""},
      {"99999999999999999999", "major version \"99999999999999999999\" is too large"},
      {"^1.2.3-01", "prerelease identifier \"01\" has a leading zero"},
      {"1.2.3 -", "hyphen range \"1.2.3 -\" has no upper bound"},
      {"- 1.2.3", "hyphen \"-\" has no lower bound"},
      {"1 - 2 - 3", "hyphen ranges cannot be chained (\"2 -\")"},
      {">1 - 2", "hyphen range bound \">1\" cannot have an operator"},
      {"1 - ~2", "hyphen range bound \"~2\" cannot have an operator"},
      {"1 - 2x", "version \"2x\": major version \"2x\" is not a number"},
      {"1.2.3 ||", "empty alternative around \"||\""},
      {"|| 1.2.3", "empty alternative around \"||\""},
      {"1 || || 2", "empty alternative around \"||\""},
      {"1 | 2", "comparator \"|\": major version \"|\" is not a number"},
      {"1 ||| 2", "comparator \"|\": major version \"|\" is not a number"},
      {"1.2.3 \x1b[31m", "comparator \"\\x1b[31m\""},
  };
  for (const Case& c : cases) {
    auto r = VersionRange::parse(c.range);
    ASSERT_FALSE(r.ok()) << c.range;
    EXPECT_EQ(r.error().code(), ErrorCode::kInvalidArgument);
    EXPECT_THAT(r.error().message(), HasSubstr(c.message_part)) << c.range;
  }
}

TEST(VersionRangeParse, ErrorMessageQuotesTheRange) {
  auto r = VersionRange::parse(">=1 <");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(),
            "invalid version range \">=1 <\": comparator \"<\" has no version");
}

TEST(VersionRangeParse, CapsLength) {
  std::string longest = ">=1.0.0" + std::string(kMaxVersionTextLength - 7, ' ');
  EXPECT_TRUE(VersionRange::parse(longest).ok());
  auto r = VersionRange::parse(longest + " ");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "version range is 257 characters long; the limit is 256");

  // Many tiny alternatives under the cap are fine and stay cheap.
  std::string many;
  for (int i = 0; i < 60; ++i)
    many += "1||";
  many += "1";
  auto ok = VersionRange::parse(many);
  ASSERT_TRUE(ok.ok()) << ok.error().message();
  EXPECT_TRUE(ok->contains(V("1.0.0")));
}

}  // namespace
}  // namespace outlet
