#include "testing/scenario_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "domains/chat/chat_domain.h"
#include "native_examples.h"

namespace outlet {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

ScenarioOptions chat_options() {
  ScenarioOptions options;
  options.make_domain = [] { return std::make_unique<chat::ChatDomain>(); };
  options.prepare_host = examples::register_native_examples;
  return options;
}

// A copy of an example plugin with scenario files of the test's own.
class ScenarioRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("outlet-scenarios-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string plugin(const std::string& example) {
    fs::path target = dir_ / example;
    fs::copy(fs::path(OUTLET_SOURCE_DIR) / "examples/plugins/native" / example, target,
             fs::copy_options::recursive);
    fs::remove_all(target / "__tests__");
    fs::create_directories(target / "__tests__");
    return target.string();
  }

  void write(const std::string& plugin_dir, const std::string& name, const std::string& text) {
    std::ofstream(fs::path(plugin_dir) / "__tests__" / name) << text;
  }

  TestReport run(const std::string& plugin_dir) {
    auto report = run_plugin_tests(plugin_dir, chat_options());
    EXPECT_TRUE(report.ok()) << (report.ok() ? "" : report.error().to_string());
    return report.ok() ? *report : TestReport{};
  }

  fs::path dir_;
};

TEST(MatchExpectedTest, ObjectsMatchPartiallyAndListsExactly) {
  EXPECT_EQ(match_expected({{"a", 1}}, {{"a", 1}, {"b", 2}}, "x"), "");
  EXPECT_THAT(match_expected({{"a", 1}}, {{"a", 2}}, "x"), HasSubstr("x.a: expected 1, got 2"));
  EXPECT_THAT(match_expected({{"c", 1}}, {{"a", 1}}, "x"), HasSubstr("x.c: missing"));
  EXPECT_EQ(match_expected(Json::array({1, 2}), Json::array({1, 2}), "x"), "");
  EXPECT_THAT(match_expected(Json::array({1}), Json::array({1, 2}), "x"),
              HasSubstr("expected 1 item(s)"));
  EXPECT_THAT(match_expected(Json::array({{{"a", 1}}}), Json::array({{{"a", 2}}}), "x"),
              HasSubstr("x[0].a"));
}

TEST(MatchExpectedTest, SlashedStringsAreRegexSearches) {
  EXPECT_EQ(match_expected("/slow-mode/", "blocked by slow-mode, wait", "reason"), "");
  EXPECT_THAT(match_expected("/^exact$/", "not exact", "reason"),
              HasSubstr("expected a match for /^exact$/"));
  EXPECT_THAT(match_expected("/(/", "x", "reason"), HasSubstr("not a valid RE2 regex"));
  EXPECT_THAT(match_expected("/x/", 5, "reason"), HasSubstr("expected a string"));
}

TEST_F(ScenarioRunnerTest, APassingAndAFailingScenarioAreBothReported) {
  std::string echo = plugin("echo-bot");
  write(echo, "echo.test.json", R"([
    {"name": "right", "events": [{"event": "chat.message.received",
      "payload": {"user": {"id": "u", "displayName": "al"}, "body": "!echo x"}}],
     "expect": {"chatSends": ["al said: x"]}},
    {"name": "wrong", "events": [{"event": "chat.message.received",
      "payload": {"user": {"id": "u", "displayName": "al"}, "body": "!echo x"}}],
     "expect": {"chatSends": ["al said: y"]}}
  ])");
  TestReport report = run(echo);
  ASSERT_EQ(report.scenarios.size(), 2u);
  EXPECT_TRUE(report.scenarios[0].passed);
  EXPECT_FALSE(report.scenarios[1].passed);
  ASSERT_EQ(report.scenarios[1].failures.size(), 1u);
  EXPECT_THAT(report.scenarios[1].failures[0],
              HasSubstr("expect.chatSends[0]: expected \"al said: y\", got \"al said: x\""));
  EXPECT_EQ(report.failed(), 1u);
  EXPECT_THAT(format_report_human({report}), HasSubstr("1 passed, 1 failed"));
}

TEST_F(ScenarioRunnerTest, EachScenarioGetsAFreshStore) {
  std::string counter = plugin("message-counter");
  write(counter, "fresh.test.json", R"([
    {"name": "first", "given": {"kv": {"total": 10}},
     "events": [{"event": "chat.message.received", "payload": {"user": {"id": "u"}, "body": "a"}}],
     "expect": {"kv": {"total": 11}}},
    {"name": "second",
     "events": [{"event": "chat.message.received", "payload": {"user": {"id": "u"}, "body": "a"}}],
     "expect": {"kv": {"total": 1}}}
  ])");
  TestReport report = run(counter);
  ASSERT_EQ(report.scenarios.size(), 2u);
  EXPECT_TRUE(report.scenarios[0].passed) << report.scenarios[0].failures[0];
  EXPECT_TRUE(report.scenarios[1].passed) << report.scenarios[1].failures[0];
}

TEST_F(ScenarioRunnerTest, FilterExpectationsCheckActionPayloadAndReason) {
  std::string filter = plugin("word-filter");
  write(filter, "filter.test.json", R"([
    {"name": "wrong action", "events": [{"filter": "chat.message.received",
      "payload": {"user": {"id": "u"}, "body": "darn"}, "expect": {"action": "drop"}}]},
    {"name": "wrong payload", "events": [{"filter": "chat.message.received",
      "payload": {"user": {"id": "u"}, "body": "darn"}, "expect": {"payload": {"body": "darn"}}}]}
  ])");
  TestReport report = run(filter);
  ASSERT_EQ(report.scenarios.size(), 2u);
  EXPECT_THAT(report.scenarios[0].failures[0],
              HasSubstr("expected action \"drop\", got \"modify\""));
  EXPECT_THAT(report.scenarios[1].failures[0],
              HasSubstr("payload.body: expected \"darn\", got \"***\""));
}

TEST_F(ScenarioRunnerTest, MalformedFilesAndStepsAreErrorsThatNameTheProblem) {
  std::string echo = plugin("echo-bot");
  write(echo, "broken.test.json", "[{\"name\": ");
  write(echo, "object.test.json", R"({"name": "not an array"})");
  write(echo, "steps.test.json", R"([
    {"name": "unknown step", "events": [{"emit": "x"}]},
    {"name": "typo", "expcet": {}},
    {"name": "unknown expectation", "events": [], "expect": {"chatSend": []}},
    {"name": "http", "events": [{"http": {"method": "GET", "path": "/"}}]}
  ])");
  TestReport report = run(echo);
  ASSERT_EQ(report.errors.size(), 2u);
  EXPECT_THAT(report.errors[0], HasSubstr("broken.test.json: not valid JSON"));
  EXPECT_THAT(report.errors[1], HasSubstr("object.test.json: must be a JSON array"));
  ASSERT_EQ(report.scenarios.size(), 4u);
  EXPECT_THAT(report.scenarios[0].failures[0], HasSubstr("a step needs one of"));
  EXPECT_THAT(report.scenarios[1].failures[0],
              HasSubstr("unknown field \"expcet\" (did you mean \"expect\"?)"));
  EXPECT_THAT(report.scenarios[2].failures[0], HasSubstr("did you mean \"chatSends\"?"));
  EXPECT_THAT(report.scenarios[3].failures[0], HasSubstr("HTTP steps need the Outlet server"));
  EXPECT_FALSE(report.ok());
}

TEST_F(ScenarioRunnerTest, ExpectErrorPassesOnlyWhenSetUpFailsAsDescribed) {
  std::string filter = plugin("word-filter");
  write(filter, "config.test.json", R"([
    {"name": "bad config fails", "given": {"config": {"mode": 3}}, "expectError": "/config.mode/"},
    {"name": "good config does not", "given": {"config": {"mode": "drop"}}, "expectError": "/x/"}
  ])");
  TestReport report = run(filter);
  ASSERT_EQ(report.scenarios.size(), 2u);
  EXPECT_TRUE(report.scenarios[0].passed);
  EXPECT_THAT(report.scenarios[1].failures[0], HasSubstr("but it succeeded"));
}

TEST_F(ScenarioRunnerTest, CannedHttpResponsesAnswerFetchesOnTheAllowlist) {
  std::string dir = plugin("echo-bot");
  // Reuse the folder with a manifest that may fetch; the handler is the test's own.
  std::ofstream(fs::path(dir) / "plugin.json") << R"({
    "id": "fetcher", "name": "Fetcher", "version": "1.0.0", "kind": "bot-module",
    "runtime": "native", "entrypoint": "echo_bot.cpp",
    "permissions": ["network.fetch", "chat.send"],
    "network": {"allowedHosts": ["api.example.com"]}})";
  write(dir, "fetch.test.json", R"([
    {"name": "fetch", "given": {"httpResponses": [{"url": "https://api.example.com/joke", "body": "knock knock"}]},
     "events": [{"event": "chat.message.received", "payload": {"user": {"id": "u"}, "body": "https://api.example.com/joke"}},
                {"event": "chat.message.received", "payload": {"user": {"id": "u"}, "body": "https://evil.example.net/x"}}],
     "expect": {"chatSends": ["knock knock", "/not in network.allowedHosts/"],
                "httpRequests": [{"method": "GET", "url": "https://api.example.com/joke"}]}}
  ])");
  ScenarioOptions options = chat_options();
  options.prepare_host = [](Host& host) {
    return host.register_native_plugin("fetcher", [] {
      auto plugin = std::make_unique<NativePlugin>();
      plugin->on("chat.message.received", [](const Json& m, PluginContext& c) -> Result<Json> {
        auto response = c.call("http.fetch", Json::array({m["body"]}));
        std::string text =
            response.ok() ? (*response)["body"].get<std::string>() : response.error().message();
        (void)c.call("chat.send", Json::array({text}));
        return Json();
      });
      return plugin;
    });
  };
  auto report = run_plugin_tests(dir, options);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->scenarios.size(), 1u);
  EXPECT_TRUE(report->scenarios[0].passed) << report->scenarios[0].failures[0];
}

TEST_F(ScenarioRunnerTest, JsonAndJunitReportsCarryEveryScenario) {
  std::string echo = plugin("echo-bot");
  write(echo, "a.test.json", R"([{"name": "one <&>", "events": []},
                                 {"name": "two", "events": [], "expect": {"chatSends": ["x"]}}])");
  TestReport report = run(echo);
  Json json = Json::parse(format_report_json({report}));
  EXPECT_EQ(json["passed"], 1);
  EXPECT_EQ(json["failed"], 1);
  EXPECT_EQ(json["plugins"][0]["scenarios"].size(), 2u);
  std::string junit = format_report_junit({report});
  EXPECT_THAT(junit, HasSubstr("tests=\"2\" failures=\"1\""));
  EXPECT_THAT(junit, HasSubstr("name=\"one &lt;&amp;&gt;\""));
  EXPECT_THAT(junit, HasSubstr("<failure message="));
}

TEST_F(ScenarioRunnerTest, AFailingScenarioShowsWhatThePluginLogged) {
  std::string announcer = plugin("announcer");
  write(announcer, "log.test.json", R"([
    {"name": "wrong text", "events": [{"event": "announcement.broadcast",
      "payload": {"by": "alice", "text": "hi"}}], "expect": {"systemMessages": ["nope"]}}
  ])");
  TestReport report = run(announcer);
  ASSERT_EQ(report.scenarios.size(), 1u);
  ASSERT_FALSE(report.scenarios[0].passed);
  EXPECT_THAT(report.scenarios[0].log,
              ::testing::Contains("[announcer] info: announcement from alice"));
  std::string human = format_report_human({report});
  EXPECT_THAT(human, HasSubstr("plugin log:\n        [announcer] info: announcement from alice"));
}

TEST_F(ScenarioRunnerTest, WrongTypesInAScenarioAreFailuresNotCrashes) {
  std::string echo = plugin("echo-bot");
  write(echo, "types.test.json", R"([
    {"name": "null given", "given": null, "events": []},
    {"name": "array given", "given": [], "events": []},
    {"name": 5, "events": []},
    {"name": "bad kv", "given": {"kv": [1]}, "events": []},
    {"name": "bad responses", "given": {"httpResponses": [1, {"url": 2}]}, "events": []},
    {"name": "bad expect", "events": [], "expect": ["chatSends"]},
    {"name": "bad expectError", "expectError": 3}
  ])");
  ScenarioOptions options = chat_options();
  options.name_filter = "";
  auto report = run_plugin_tests(echo, options);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->scenarios.size(), 7u);
  EXPECT_THAT(report->scenarios[0].failures[0], HasSubstr("\"given\" must be an object"));
  EXPECT_THAT(report->scenarios[1].failures[0], HasSubstr("\"given\" must be an object"));
  EXPECT_THAT(report->scenarios[2].failures[0], HasSubstr("\"name\" must be a string"));
  EXPECT_THAT(report->scenarios[3].failures[0], HasSubstr("\"given.kv\" must be an object"));
  EXPECT_THAT(report->scenarios[4].failures[0], HasSubstr("given.httpResponses[0] must be"));
  EXPECT_THAT(report->scenarios[4].failures[1], HasSubstr("given.httpResponses[1] must be"));
  EXPECT_THAT(report->scenarios[5].failures[0], HasSubstr("\"expect\" must be an object"));
  EXPECT_THAT(report->scenarios[6].failures[0], HasSubstr("\"expectError\" must be a string"));
  // A name filter skips scenarios without a string name instead of throwing.
  options.name_filter = "given";
  report = run_plugin_tests(echo, options);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->scenarios.size(), 2u) << "\"null given\" and \"array given\"";
}

TEST_F(ScenarioRunnerTest, AFolderWithoutTestsIsAnError) {
  std::string echo = plugin("echo-bot");
  auto report = run_plugin_tests(echo, chat_options());
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.error().message(), HasSubstr("has no *.test.json files"));
}

}  // namespace
}  // namespace outlet
