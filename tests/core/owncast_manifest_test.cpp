// plugin.manifest.json (the Owncast plugin SDK's manifest, seeds/003) read as an
// Outlet manifest: what maps, what is derived, and what is reported.
#include "core/owncast_manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace outlet {
namespace {

using ::testing::HasSubstr;

Json minimal() {
  return {{"api", "1"}, {"name", "Echo Bot"}, {"slug", "echo-bot"}, {"version", "0.2.1"}};
}

std::string rules(const Error& error) {
  std::string all;
  for (const ErrorDetail& detail : error.details())
    all += detail.path + ": " + detail.rule + "\n";
  return all;
}

TEST(OwncastManifestTest, MapsTheFieldsAndTheEntrypoint) {
  std::vector<ErrorDetail> notes;
  Json document = minimal();
  document["description"] = "Echoes.";
  document["permissions"] = {"chat.send", "storage.kv", "chat.filter", "events.emit",
                             "network.fetch"};
  document["network"] = {{"allowedHosts", {"api.ipify.org"}}};
  auto manifest = translate_owncast_manifest(document, "src/plugin.js", notes);
  ASSERT_TRUE(manifest.ok()) << manifest.error().to_string();
  EXPECT_EQ((*manifest)["id"], "echo-bot");
  EXPECT_EQ((*manifest)["name"], "Echo Bot");
  EXPECT_EQ((*manifest)["version"], "0.2.1");
  EXPECT_EQ((*manifest)["description"], "Echoes.");
  EXPECT_EQ((*manifest)["runtime"], "js");
  EXPECT_EQ((*manifest)["entrypoint"], "src/plugin.js");
  // chat.send brings chat.system (owncast.chat.system); chat.filter needs nothing
  // in Outlet; console output needs "log".
  EXPECT_EQ((*manifest)["permissions"], Json({"log", "chat.send", "chat.system", "storage.kv",
                                              "events.emit", "network.fetch"}));
  EXPECT_EQ((*manifest)["network"]["allowedHosts"], Json({"api.ipify.org"}));
  EXPECT_TRUE(notes.empty());
}

TEST(OwncastManifestTest, DerivesAMissingSlugFromTheNameAsOwncastDoes) {
  std::vector<ErrorDetail> notes;
  Json document = minimal();
  document.erase("slug");
  document["name"] = "  My Cool_Plugin!! ";
  auto manifest = translate_owncast_manifest(document, "src/plugin.js", notes);
  ASSERT_TRUE(manifest.ok()) << manifest.error().to_string();
  EXPECT_EQ((*manifest)["id"], "my-cool-plugin");
}

TEST(OwncastManifestTest, RefusesWhatOwncastRefusesNamingEachField) {
  std::vector<ErrorDetail> notes;
  auto refused = translate_owncast_manifest(
      {{"api", "2"}, {"slug", "Bad_Slug"}, {"version", 3}, {"permissions", "chat.send"}},
      "src/plugin.js", notes);
  ASSERT_FALSE(refused.ok());
  std::string all = rules(refused.error());
  EXPECT_THAT(all, HasSubstr("api: must be \"1\""));
  EXPECT_THAT(all, HasSubstr("name: is required"));
  EXPECT_THAT(all, HasSubstr("slug: \"Bad_Slug\" must match"));
  EXPECT_THAT(all, HasSubstr("version: must be a non-empty string"));
  EXPECT_THAT(all, HasSubstr("permissions: must be an array"));
  EXPECT_FALSE(translate_owncast_manifest(Json::array(), "src/plugin.js", notes).ok());
}

TEST(OwncastManifestTest, AnOwncastSlugTooShortForAnOutletIdIsRefused) {
  std::vector<ErrorDetail> notes;
  Json document = minimal();
  document["slug"] = "ab";
  auto refused = translate_owncast_manifest(document, "src/plugin.js", notes);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(rules(refused.error()), HasSubstr("too short for an Outlet plugin id"));
}

TEST(OwncastManifestTest, ReportsWhatOutletCannotHonourYet) {
  std::vector<ErrorDetail> notes;
  Json document = minimal();
  document["permissions"] = {"chat.send", "users.read"};
  document["actions"] = Json::array();
  document["bot"] = {{"displayName", "Echo"}};
  document["subscriptions"] = {{"notify", Json::array()}};  // ignored, as in Owncast
  document["colour"] = "red";
  auto manifest = translate_owncast_manifest(document, "src/plugin.js", notes);
  ASSERT_TRUE(manifest.ok()) << manifest.error().to_string();
  std::string all;
  for (const ErrorDetail& note : notes)
    all += note.path + ": " + note.rule + "\n";
  EXPECT_THAT(all, HasSubstr("permissions[1]: \"users.read\" has no Outlet counterpart"));
  EXPECT_THAT(all, HasSubstr("actions: is not supported yet"));
  EXPECT_THAT(all, HasSubstr("bot: is not used"));
  EXPECT_THAT(all, HasSubstr("colour: is not a field"));
  EXPECT_THAT(all, ::testing::Not(HasSubstr("subscriptions")));
  EXPECT_FALSE(manifest->contains("subscriptions"));
}

TEST(OwncastManifestTest, SettingsBecomeAJsonSchema) {
  std::vector<ErrorDetail> notes;
  Json document = minimal();
  document["config"] = {{"greeting", {{"type", "string"}, {"default", "hi"}}},
                        {"limit", {{"type", "integer"}, {"description", "per minute"}}}};
  auto manifest = translate_owncast_manifest(document, "src/plugin.js", notes);
  ASSERT_TRUE(manifest.ok()) << manifest.error().to_string();
  EXPECT_EQ((*manifest)["config"],
            Json({{"type", "object"},
                  {"properties",
                   {{"greeting", {{"type", "string"}, {"default", "hi"}}},
                    {"limit", {{"type", "integer"}, {"description", "per minute"}}}}}}));
  document["config"] = {{"greeting", "hi"}};
  auto refused = translate_owncast_manifest(document, "src/plugin.js", notes);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(rules(refused.error()), HasSubstr("config.greeting: must be {\"type\""));
}

}  // namespace
}  // namespace outlet
