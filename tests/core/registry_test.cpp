#include "outlet/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace outlet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::shared_ptr<const Manifest> manifest(std::string id, std::string kind) {
  auto m = std::make_shared<Manifest>();
  m->id = std::move(id);
  m->name = "Plugin " + m->id;
  m->description = "Does things.";
  m->version_text = "1.2.0";
  m->kind = std::move(kind);
  m->runtime = RuntimeKind::kLua;
  m->authors = {{"Ada", "ada@example.com", ""}, {"Bob", "", ""}};
  m->icon = "icon.png";
  m->category = "fun";
  return m;
}

// A widget needs a `color` setting with a default; a bot module has no rules.
KindRegistry kinds() {
  KindRegistry kinds;
  EXPECT_TRUE(kinds
                  .add({"widget", "widgets", "An overlay widget.",
                        [](const Manifest& m) -> std::vector<ErrorDetail> {
                          if (m.config_schema.is_null()) {
                            return {{"config", "a widget needs a config schema"},
                                    {"config.properties.color", "needs a default"}};
                          }
                          return {};
                        }})
                  .ok());
  EXPECT_TRUE(kinds.add({"bot-module", "bot_modules", "A chat bot module.", nullptr}).ok());
  EXPECT_TRUE(kinds.add({"platform", "platforms", "A streaming platform.", nullptr}).ok());
  return kinds;
}

TEST(KindRegistryTest, DuplicateKindOrGroupIsRejected) {
  KindRegistry registry = kinds();
  Status same_id = registry.add({"widget", "other_group", "", nullptr});
  ASSERT_FALSE(same_id.ok());
  EXPECT_EQ(same_id.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_THAT(same_id.error().to_string(),
              HasSubstr("plugin kind \"widget\" (group \"other_group\") clashes with kind "
                        "\"widget\""));
  Status same_group = registry.add({"gadget", "widgets", "", nullptr});
  ASSERT_FALSE(same_group.ok());
  EXPECT_THAT(same_group.error().to_string(),
              HasSubstr("plugin kind \"gadget\" (group \"widgets\") clashes with kind \"widget\""));
  EXPECT_THAT(registry.ids(), ElementsAre("widget", "bot-module", "platform"));
}

TEST(KindRegistryTest, KindNeedsAnIdAndAGroup) {
  KindRegistry registry;
  Status status = registry.add({"widget", "", "", nullptr});
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error().to_string(), HasSubstr("a plugin kind needs an id and a group name"));
}

TEST(PluginRegistryTest, DuplicateIdNamesBothLocations) {
  KindRegistry kind_registry = kinds();
  PluginRegistry registry(kind_registry);
  ASSERT_TRUE(
      registry.add(manifest("greeter", "bot-module"), {"/srv/plugins/greeter", "", ""}).ok());
  Status status =
      registry.add(manifest("greeter", "bot-module"), {"/srv/packages/greeter.opkg", "", ""});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_THAT(status.error().to_string(),
              HasSubstr("duplicate plugin id \"greeter\": found in /srv/packages/greeter.opkg and "
                        "already registered from /srv/plugins/greeter"));
  EXPECT_EQ(registry.size(), 1u);
  EXPECT_EQ(registry.find("greeter")->source.location, "/srv/plugins/greeter");
}

TEST(PluginRegistryTest, KindValidatorErrorsPropagateWithPaths) {
  KindRegistry kind_registry = kinds();
  PluginRegistry registry(kind_registry);
  Status status = registry.add(manifest("clock", "widget"), {"built-in", "", ""});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), ErrorCode::kInvalidArgument);
  std::string error = status.error().to_string();
  EXPECT_THAT(error, HasSubstr("plugin \"clock\" does not meet the rules of kind \"widget\""));
  EXPECT_THAT(error, HasSubstr("\n  config: a widget needs a config schema"));
  EXPECT_THAT(error, HasSubstr("\n  config.properties.color: needs a default"));
  EXPECT_EQ(registry.find("clock"), nullptr);
}

TEST(PluginRegistryTest, UnknownKindIsRejectedWithASuggestion) {
  KindRegistry kind_registry = kinds();
  PluginRegistry registry(kind_registry);
  Status status = registry.add(manifest("clock", "widgte"), {"built-in", "", ""});
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error().to_string(),
              HasSubstr("plugin \"clock\" has an unknown kind\n  kind: unknown kind \"widgte\" "
                        "(did you mean \"widget\"?)"));
  EXPECT_EQ(registry.size(), 0u);
}

TEST(PluginRegistryTest, ByGroupListsEveryKindEvenEmptyWithMetadata) {
  KindRegistry kind_registry = kinds();
  PluginRegistry registry(kind_registry);
  ASSERT_TRUE(registry.add(manifest("greeter", "bot-module"), {"built-in", "", ""}).ok());
  ASSERT_TRUE(registry.add(manifest("echo", "bot-module"), {"built-in", "", ""}).ok());

  auto groups = registry.by_group();
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_THAT(groups.at("widgets"), IsEmpty());
  EXPECT_THAT(groups.at("platforms"), IsEmpty());
  const std::vector<PluginMetadata>& bots = groups.at("bot_modules");
  ASSERT_EQ(bots.size(), 2u);
  EXPECT_EQ(bots[0].id, "echo");  // by id
  const PluginMetadata& greeter = bots[1];
  EXPECT_EQ(greeter.id, "greeter");
  EXPECT_EQ(greeter.name, "Plugin greeter");
  EXPECT_EQ(greeter.description, "Does things.");
  EXPECT_EQ(greeter.version, "1.2.0");
  EXPECT_EQ(greeter.kind, "bot-module");
  EXPECT_THAT(greeter.authors, ElementsAre("Ada", "Bob"));
  EXPECT_EQ(greeter.icon, "icon.png");
  EXPECT_EQ(greeter.category, "fun");
  EXPECT_EQ(greeter.runtime, RuntimeKind::kLua);
}

TEST(PluginRegistryTest, RemoveForgetsThePlugin) {
  KindRegistry kind_registry = kinds();
  PluginRegistry registry(kind_registry);
  ASSERT_TRUE(registry.add(manifest("greeter", "bot-module"), {"built-in", "", ""}).ok());
  ASSERT_TRUE(registry.remove("greeter").ok());
  EXPECT_EQ(registry.find("greeter"), nullptr);
  Status again = registry.remove("greeter");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(again.error().to_string(), HasSubstr("no plugin \"greeter\" is registered"));
  EXPECT_TRUE(registry.add(manifest("greeter", "bot-module"), {"built-in", "", ""}).ok());
}

}  // namespace
}  // namespace outlet
