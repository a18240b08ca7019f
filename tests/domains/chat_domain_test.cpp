#include "domains/chat/chat_domain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

namespace outlet::chat {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

Manifest parse(const Json& document) {
  auto parsed = parse_manifest(document, ManifestVocabulary{});
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().to_string());
  return parsed.ok() ? parsed->manifest : Manifest{};
}

Json plugin_document(const std::string& kind) {
  return {{"id", "my-plugin"},
          {"name", "My plugin"},
          {"version", "1.0.0"},
          {"kind", kind},
          {"entrypoint", "main.js"}};
}

// The chat kinds' validation result for `document`, as "message\n  path: rule" lines.
std::string kind_error(const Json& document) {
  KindRegistry kinds;
  for (PluginKindSpec& kind : chat_plugin_kinds())
    EXPECT_TRUE(kinds.add(std::move(kind)).ok());
  Status status = kinds.validate(parse(document));
  EXPECT_FALSE(status.ok()) << "kind rules unexpectedly passed: " << document.dump();
  return status.ok() ? "" : status.error().to_string();
}

Status kind_status(const Json& document) {
  KindRegistry kinds;
  for (PluginKindSpec& kind : chat_plugin_kinds())
    EXPECT_TRUE(kinds.add(std::move(kind)).ok());
  return kinds.validate(parse(document));
}

TEST(ChatKindsTest, WidgetWithoutConfigSchemaFails) {
  EXPECT_THAT(kind_error(plugin_document("widget")),
              HasSubstr("does not meet the rules of kind \"widget\"\n  config: a widget needs a "
                        "config schema with defaults"));
}

TEST(ChatKindsTest, WidgetSettingWithoutDefaultIsNamed) {
  Json document = plugin_document("widget");
  document["config"] = {{"type", "object"},
                        {"properties",
                         {{"color", {{"type", "string"}, {"default", "#ffffff"}}},
                          {"fontSize", {{"type", "integer"}}}}}};
  std::string error = kind_error(document);
  EXPECT_THAT(error, HasSubstr("\n  config.properties.fontSize: a widget setting needs a default"));
  EXPECT_THAT(error, ::testing::Not(HasSubstr("config.properties.color")));
}

TEST(ChatKindsTest, WidgetWithDefaultsPasses) {
  Json document = plugin_document("widget");
  document["config"] = {{"type", "object"},
                        {"properties", {{"color", {{"type", "string"}, {"default", "#ffffff"}}}}}};
  Status status = kind_status(document);
  EXPECT_TRUE(status.ok()) << status.error().to_string();
}

TEST(ChatKindsTest, AutomationNodeWithoutInputSchemaFails) {
  Json document = plugin_document("automation-node");
  document["kindData"] = {{"outputSchema", {{"type", "object"}}}};
  std::string error = kind_error(document);
  EXPECT_THAT(error,
              HasSubstr("\n  kindData.inputSchema: an automation node needs an inputSchema"));
  EXPECT_THAT(error, ::testing::Not(HasSubstr("kindData.outputSchema")));
}

TEST(ChatKindsTest, AutomationNodeWithInvalidSchemaFails) {
  Json document = plugin_document("automation-node");
  document["kindData"] = {{"inputSchema", {{"type", 5}}}, {"outputSchema", {{"type", "object"}}}};
  EXPECT_THAT(kind_error(document), HasSubstr("\n  kindData.inputSchema: "));
}

TEST(ChatKindsTest, BotModuleTimerNeedsChatSend) {
  Json document = plugin_document("bot-module");
  document["triggers"] = {{{"type", "timer"}, {"interval", 60}}};
  EXPECT_THAT(kind_error(document),
              HasSubstr("\n  triggers[0]: a timer trigger needs permission \"chat.send\""));
}

TEST(ChatEventsTest, MessageReceivedIsFilterAndNotify) {
  std::vector<EventSpec> events = chat_events();
  auto it = std::find_if(events.begin(), events.end(),
                         [](const EventSpec& e) { return e.name == "chat.message.received"; });
  ASSERT_NE(it, events.end());
  EXPECT_EQ(it->kinds, (std::set<HookKind>{HookKind::kFilter, HookKind::kNotify}));
  EXPECT_EQ(it->schema["type"], "object");
  EXPECT_EQ(it->schema["required"], Json({"body", "user"}));
}

// A host with the chat domain and one native plugin whose chat.trigger handler
// passes its payload to chat.moderate and answers {"ok": result} or {"error": text}.
class ChatModerateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto host = Host::create({});
    ASSERT_TRUE(host.ok()) << host.error().to_string();
    host_ = std::move(host).value();
    ASSERT_TRUE(domain_.declare(*host_).ok());
    Status registered = host_->register_native_plugin("moderator", [] {
      auto plugin = std::make_unique<NativePlugin>();
      plugin->request("chat.trigger",
                      [](const Json& payload, PluginContext& context) -> Result<Json> {
                        auto result = context.call("chat.moderate", Json::array({payload}));
                        if (!result.ok())
                          return Json{{"error", result.error().to_string()}};
                        return Json{{"ok", *result}};
                      });
      return plugin;
    });
    ASSERT_TRUE(registered.ok()) << registered.error().to_string();
    Json manifest = {{"id", "moderator"},
                     {"name", "Moderator"},
                     {"version", "1.0.0"},
                     {"kind", "bot-module"},
                     {"runtime", "native"},
                     {"entrypoint", "moderator.cpp"},
                     {"permissions", {"chat.moderate"}},
                     {"subscriptions", {{"request", {"chat.trigger"}}}}};
    Status added = host_->add_builtin(manifest);
    ASSERT_TRUE(added.ok()) << added.error().to_string();
    ASSERT_TRUE(host_->approve("moderator").ok());
    ASSERT_TRUE(host_->enable("moderator").ok());
    auto status = host_->status("moderator");
    ASSERT_TRUE(status.has_value());
    ASSERT_EQ(status->state, PluginState::kLoaded) << status->reason;
  }

  // What chat.moderate answered for `request`.
  Json moderate(const Json& request) {
    auto answer = host_->request("moderator", "chat.trigger", request);
    EXPECT_TRUE(answer.ok()) << answer.error().to_string();
    return answer.ok() ? *answer : Json();
  }

  std::string moderate_error(const Json& request) {
    Json answer = moderate(request);
    EXPECT_TRUE(answer.contains("error")) << answer.dump();
    return answer.value("error", "");
  }

  ChatDomain domain_;
  std::unique_ptr<Host> host_;
};

TEST_F(ChatModerateTest, UnknownActionIsRejected) {
  EXPECT_THAT(moderate_error({{"action", "mute"}, {"userId", "u1"}}),
              HasSubstr("chat.moderate: argument 1 (request) \"action\" must be \"delete\", "
                        "\"timeout\" or \"ban\", got \"mute\""));
  EXPECT_THAT(domain_.recorded("moderations"), IsEmpty());
}

TEST_F(ChatModerateTest, NonStringActionIsRejectedClearly) {
  EXPECT_THAT(moderate_error({{"action", 5}, {"userId", "u1"}}),
              HasSubstr("chat.moderate: argument 1 (request) \"action\" must be \"delete\", "
                        "\"timeout\" or \"ban\", got 5"));
  EXPECT_THAT(moderate_error({{"userId", "u1"}}),
              HasSubstr("\"action\" must be \"delete\", \"timeout\" or \"ban\", got null"));
}

TEST_F(ChatModerateTest, TimeoutWithoutDurationIsRejected) {
  EXPECT_THAT(moderate_error({{"action", "timeout"}, {"userId", "u1"}}),
              HasSubstr("chat.moderate: argument 1 (request) needs \"durationSeconds\" from 1 to "
                        "1209600 for timeout"));
  EXPECT_THAT(moderate_error({{"action", "timeout"}, {"userId", "u1"}, {"durationSeconds", 0}}),
              HasSubstr("needs \"durationSeconds\" from 1 to 1209600 for timeout"));
  EXPECT_THAT(domain_.recorded("moderations"), IsEmpty());
}

TEST_F(ChatModerateTest, BanWithoutUserIsRejected) {
  EXPECT_THAT(moderate_error({{"action", "ban"}}),
              HasSubstr("chat.moderate: argument 1 (request) needs \"userId\" for ban"));
}

TEST_F(ChatModerateTest, DeleteWithoutMessageIdIsRejected) {
  EXPECT_THAT(moderate_error({{"action", "delete"}, {"userId", "u1"}}),
              HasSubstr("chat.moderate: argument 1 (request) needs \"messageId\" for delete"));
  EXPECT_THAT(domain_.recorded("moderations"), IsEmpty());
}

TEST_F(ChatModerateTest, ValidModerationIsRecorded) {
  Json timeout = {
      {"action", "timeout"}, {"userId", "u1"}, {"durationSeconds", 600}, {"reason", "spam"}};
  Json removal = {{"action", "delete"}, {"messageId", "m42"}};
  EXPECT_EQ(moderate(timeout), Json({{"ok", true}}));
  EXPECT_EQ(moderate(removal), Json({{"ok", true}}));
  EXPECT_EQ(domain_.recorded("moderations"), Json::array({timeout, removal}));
  EXPECT_THAT(domain_.recorded("chatSends"), IsEmpty());
  std::vector<ChatAction> actions = domain_.actions();
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(actions[0].plugin_id, "moderator");
  EXPECT_EQ(actions[0].function, "chat.moderate");
}

TEST(ChatDomainTest, RecordingsAreNamedAndUnknownNamesAreNull) {
  ChatDomain domain;
  EXPECT_THAT(domain.recording_names(), ElementsAre("chatSends", "chatActions", "systemMessages",
                                                    "chatSystems", "moderations", "deferred"));
  // chatSystems is Owncast's name for the same recording.
  EXPECT_EQ(domain.recorded("chatSystems"), domain.recorded("systemMessages"));
  EXPECT_EQ(domain.recorded("moderations"), Json::array());
  EXPECT_TRUE(domain.recorded("nonsense").is_null());
}

}  // namespace
}  // namespace outlet::chat
