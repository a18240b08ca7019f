#include "core/json_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "outlet/manifest.h"

namespace outlet {
namespace {

using ::testing::HasSubstr;

TEST(JsonTextTest, ParsesValidJson) {
  auto value = parse_json_text(R"({"a": [1, {"b": "c"}]})", "doc");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ((*value)["a"][1]["b"], "c");
}

TEST(JsonTextTest, SyntaxErrorsSayWhere) {
  auto value = parse_json_text("{\"a\": }", "doc.json");
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.error().message(), "doc.json is not valid JSON");
  EXPECT_THAT(value.error().details()[0].rule, HasSubstr("line 1, column 7"));
}

TEST(JsonTextTest, CountsNestingOutsideStringsOnly) {
  EXPECT_EQ(json_nesting_depth(R"([[{"a": [1]}]])", 100), 4u);
  EXPECT_EQ(json_nesting_depth(R"({"a": "[[[[{{{{"})", 100), 1u);
  EXPECT_EQ(json_nesting_depth(R"({"a": "quote \" [[[ "})", 100), 1u);
  EXPECT_EQ(json_nesting_depth(R"(["\\", [[]]])", 100), 3u);
}

TEST(JsonTextTest, RefusesDeepNestingBeforeParsing) {
  // 400,000 levels would overflow the stack when the parsed value is copied.
  std::string deep = std::string(400000, '[') + std::string(400000, ']');
  auto value = parse_json_text(deep, "doc");
  ASSERT_FALSE(value.ok());
  EXPECT_THAT(value.error().to_string(), HasSubstr("nest deeper than 128 levels"));
  std::string fine = std::string(128, '[') + std::string(128, ']');
  EXPECT_TRUE(parse_json_text(fine, "doc").ok());
  std::string over = std::string(129, '[') + std::string(129, ']');
  EXPECT_FALSE(parse_json_text(over, "doc").ok());
}

TEST(JsonTextTest, AManifestWithADeeplyNestedFieldIsRefusedNotACrash) {
  std::string deep = std::string(300000, '[') + std::string(300000, ']');
  std::string text = R"({"id": "deep-one", "name": "x", "version": "1.0.0", "kind": "k",
    "runtime": "native", "entrypoint": "a.cpp", "junk": )" +
                     deep + "}";
  auto parsed = parse_manifest_text(text, {});
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.error().to_string(), HasSubstr("nest deeper than 128 levels"));
}

}  // namespace
}  // namespace outlet
