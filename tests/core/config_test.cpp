#include "core/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace outlet {
namespace {

using ::testing::HasSubstr;

Manifest manifest_with_config(Json config) {
  Json document = {{"id", "greeter"},
                   {"name", "Greeter"},
                   {"version", "1.0.0"},
                   {"kind", "bot-module"},
                   {"entrypoint", "main.lua"}};
  if (!config.is_null())
    document["config"] = std::move(config);
  auto parsed = parse_manifest(document, ManifestVocabulary{});
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().to_string());
  return parsed.ok() ? parsed->manifest : Manifest{};
}

Manifest greeter() {
  return manifest_with_config(Json::parse(R"({
    "type": "object",
    "additionalProperties": false,
    "properties": {
      "greeting": {"type": "string", "default": "Hello"},
      "count": {"type": "integer", "minimum": 1, "default": 3},
      "color": {"type": "string", "format": "color", "default": "#000000"},
      "note": {"type": "string"}
    }
  })"));
}

std::string config_error(const Manifest& manifest, const Json& config) {
  Result<Json> result = validate_config(manifest, config);
  EXPECT_FALSE(result.ok()) << "config unexpectedly accepted: " << config.dump();
  if (result.ok())
    return "";
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  return result.error().to_string();
}

TEST(ConfigTest, DefaultsAreAppliedToAbsentFields) {
  Result<Json> filled = validate_config(greeter(), nullptr);
  ASSERT_TRUE(filled.ok()) << filled.error().to_string();
  EXPECT_EQ(*filled, Json({{"greeting", "Hello"}, {"count", 3}, {"color", "#000000"}}));
}

TEST(ConfigTest, GivenValuesWinOverDefaults) {
  Result<Json> filled = validate_config(greeter(), {{"count", 7}, {"note", "hi"}});
  ASSERT_TRUE(filled.ok()) << filled.error().to_string();
  EXPECT_EQ(*filled,
            Json({{"greeting", "Hello"}, {"count", 7}, {"color", "#000000"}, {"note", "hi"}}));
}

TEST(ConfigTest, UnknownKeyIsRejectedWhenAdditionalPropertiesIsFalse) {
  // The validator reports additionalProperties at the object that has the extra
  // key (pinned in json_schema_test.cpp), and names the key in the rule.
  EXPECT_THAT(config_error(greeter(), {{"x", 1}}),
              HasSubstr("\n  config.x: additional property \"x\" is not allowed"));
}

TEST(ConfigTest, WrongTypeNamesThePath) {
  std::string error = config_error(greeter(), {{"count", "three"}});
  EXPECT_THAT(error, HasSubstr("config of \"greeter\" is invalid: 1 error"));
  EXPECT_THAT(error, HasSubstr("\n  config.count: expected type \"integer\", got \"string\""));
}

TEST(ConfigTest, ColorFormatIsEnforced) {
  EXPECT_THAT(config_error(greeter(), {{"color", "#12ab3Z"}}),
              HasSubstr("\n  config.color: must be a color \"#RRGGBB\""));
  Result<Json> accepted = validate_config(greeter(), {{"color", "#12AB3f"}});
  ASSERT_TRUE(accepted.ok()) << accepted.error().to_string();
  EXPECT_EQ((*accepted)["color"], "#12AB3f");
}

TEST(ConfigTest, NonObjectConfigIsRejected) {
  EXPECT_THAT(config_error(greeter(), Json::array({1})),
              HasSubstr("\n  config: must be an object"));
}

TEST(ConfigTest, PluginWithoutSchemaAcceptsOnlyEmptyConfig) {
  Manifest plain = manifest_with_config(nullptr);
  Result<Json> empty = validate_config(plain, Json::object());
  ASSERT_TRUE(empty.ok()) << empty.error().to_string();
  EXPECT_EQ(*empty, Json::object());
  Result<Json> null = validate_config(plain, nullptr);
  ASSERT_TRUE(null.ok()) << null.error().to_string();
  EXPECT_EQ(*null, Json::object());

  std::string error = config_error(plain, {{"greeting", "hi"}});
  EXPECT_THAT(error, HasSubstr("plugin \"greeter\" has no settings"));
  EXPECT_THAT(error,
              HasSubstr("\n  config: the manifest declares no config schema, so config must be "
                        "empty"));
}

TEST(ConfigTest, EveryErrorIsReportedAtOnce) {
  Result<Json> result =
      validate_config(greeter(), {{"count", 0}, {"color", "red"}, {"greeting", 5}});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().details().size(), 3u);
  std::string error = result.error().to_string();
  EXPECT_THAT(error, HasSubstr("config of \"greeter\" is invalid: 3 errors"));
  EXPECT_THAT(error, HasSubstr("\n  config.count: "));
  EXPECT_THAT(error, HasSubstr("\n  config.color: must be a color \"#RRGGBB\""));
  EXPECT_THAT(error, HasSubstr("\n  config.greeting: expected type \"string\", got \"number\""));
}

}  // namespace
}  // namespace outlet
