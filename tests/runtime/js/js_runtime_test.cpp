// The JavaScript runtime's authoring model (issue #4, seeds/003): handlers and
// the subscriptions derived from them, CommonJS modules, values, errors, console
// and async handlers, through a Host as an application would use it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "domains/chat/chat_domain.h"
#include "outlet/host.h"
#include "support/test_support.h"

namespace outlet {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;

Json chat_message(const std::string& body) {
  return {{"id", "m1"}, {"user", {{"id", "u-1"}, {"displayName", "tester"}}}, {"body", body}};
}

class JsRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HostOptions options;
    options.log_sink = [this](const std::string& id, std::string_view level,
                              const std::string& message) {
      std::lock_guard lock(log_mutex_);
      log_.push_back(id + " " + std::string(level) + " " + message);
    };
    host_ = std::move(Host::create(options)).value();
    ASSERT_TRUE(domain_.declare(*host_).ok());
    ASSERT_TRUE(host_->declare_event({"test.key", {HookKind::kDispatch}, nullptr, ""}).ok());
  }

  // Writes the plugin's files (`files`: name → content; plugin.js is the
  // entrypoint) and enables it; returns its status.
  PluginStatus add(const std::map<std::string, std::string>& files,
                   const Json& patch = Json::object(), const std::string& id = "js-plugin") {
    fs::path folder = dir_.path() / id;
    fs::create_directories(folder);
    Json manifest = {{"id", id},
                     {"name", id},
                     {"version", "1.0.0"},
                     {"kind", "bot-module"},
                     {"entrypoint", "plugin.js"},
                     {"permissions", {"storage.kv", "log", "events.emit", "config.read"}}};
    manifest.merge_patch(patch);
    std::ofstream(folder / "plugin.json") << manifest.dump(2);
    for (const auto& [name, content] : files) {
      fs::create_directories((folder / name).parent_path());
      std::ofstream(folder / name) << content;
    }
    auto plugin = read_plugin_folder(folder.string(), host_->vocabulary());
    EXPECT_TRUE(plugin.ok()) << plugin.error().to_string();
    EXPECT_TRUE(host_->add_plugin(*plugin).ok());
    EXPECT_TRUE(host_->approve(id).ok());
    (void)host_->enable(id);
    return *host_->status(id);
  }

  PluginStatus add_code(const std::string& code, const Json& patch = Json::object()) {
    return add({{"plugin.js", code}}, patch);
  }

  void expect_loaded(const PluginStatus& status) {
    ASSERT_EQ(status.state, PluginState::kLoaded) << status.reason;
  }

  Result<Json> trigger(const Json& payload = Json::object()) {
    return host_->request("js-plugin", "chat.trigger", payload);
  }

  std::vector<std::string> warnings() {
    std::vector<std::string> list;
    PluginStatus status = *host_->status("js-plugin");
    for (const auto& warning : status.warnings)
      list.push_back(warning.hook + ": " + warning.message);
    return list;
  }

  chat::ChatDomain domain_;
  std::unique_ptr<Host> host_;
  outlet::testing::TempDir dir_{"outlet-js-runtime"};
  std::mutex log_mutex_;
  std::vector<std::string> log_;
};

// The manifest states the subscriptions the code must make; a load that
// succeeds proves the handlers derived exactly these.
Json expected_subscriptions() {
  return {{"notify",
           {"chat.message.received", "chat.message.deleted", "chat.user.joined", "chat.user.parted",
            "chat.user.renamed"}},
          {"filter", {{{"event", "chat.message.received"}, {"priority", 7}}}},
          {"request", {"chat.trigger"}}};
}

TEST_F(JsRuntimeTest, TypedHandlerNamesSubscribeToTheDomainsEvents) {
  expect_loaded(add_code(R"js(
    module.exports = {
      onChatMessage() {}, filterChatMessage() {}, onMessageDeleted() {}, onUserJoined() {},
      onUserParted() {}, onUserRenamed() {}, onChatTrigger() {}, filterPriority: 7,
    };
  )js",
                         {{"subscriptions", expected_subscriptions()}}));
}

TEST_F(JsRuntimeTest, AManifestThatDisagreesWithTheHandlersFailsNamingBothSides) {
  PluginStatus status = add_code("module.exports = { onChatMessage() {}, onUserJoined() {} };",
                                 {{"subscriptions", {{"notify", {"chat.message.received"}}}}});
  EXPECT_NE(status.state, PluginState::kLoaded);
  EXPECT_THAT(status.reason, HasSubstr("disagree"));
  EXPECT_THAT(status.reason, HasSubstr("chat.user.joined"));
}

TEST_F(JsRuntimeTest, AMisspelledHandlerIsAWarningWithASuggestion) {
  expect_loaded(add_code("module.exports = { onChatMesage() {}, onChatMessage() {} };"));
  EXPECT_THAT(warnings(), Contains(AllOf(HasSubstr("onChatMesage is not a handler"),
                                         HasSubstr("onChatMessage"))));
}

TEST_F(JsRuntimeTest, BadHandlersFailTheLoadNamingEachOne) {
  PluginStatus status = add_code(R"js(
    module.exports = { onChatMessage: 42, on: { "x.y": "not a function" }, filterPriority: "high" };
  )js");
  EXPECT_NE(status.state, PluginState::kLoaded);
  EXPECT_THAT(status.reason, HasSubstr("onChatMessage: must be a function (got a number)"));
  EXPECT_THAT(status.reason, HasSubstr("on[\"x.y\"]: must be a function (got a string)"));
  EXPECT_THAT(status.reason, HasSubstr("filterPriority: must be an integer (got a string)"));
}

TEST_F(JsRuntimeTest, ExportsThatAreNotAnObjectAreRefused) {
  PluginStatus status = add_code("module.exports = function () {};");
  EXPECT_NE(status.state, PluginState::kLoaded);
  EXPECT_THAT(status.reason, HasSubstr("module.exports must be the object definePlugin"));
}

TEST_F(JsRuntimeTest, ASyntaxErrorNamesTheFileAndLine) {
  PluginStatus status = add_code("module.exports = {\n  onChatMessage() {\n    let = ;\n  }\n};");
  EXPECT_NE(status.state, PluginState::kLoaded);
  EXPECT_THAT(status.reason, HasSubstr("plugin.js:3"));
  EXPECT_THAT(status.reason, HasSubstr("SyntaxError"));
}

TEST_F(JsRuntimeTest, AThrownErrorCarriesFileLineAndStack) {
  expect_loaded(
      add_code("function deep() {\n  throw new TypeError('bad input');\n}\n"
               "module.exports = { onChatTrigger() { deep(); } };"));
  auto result = trigger();
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message(), HasSubstr("plugin.js:2"));
  EXPECT_THAT(result.error().message(), HasSubstr("TypeError: bad input"));
  EXPECT_THAT(result.error().message(), HasSubstr("deep@plugin.js:2"));
}

TEST_F(JsRuntimeTest, RequireLoadsTheFolderModulesJsonAndCycles) {
  expect_loaded(
      add({{"plugin.js", R"js(
      const words = require("./lib/words");
      const data = require("./data.json");
      const a = require("./lib/a.js");
      module.exports = { onChatTrigger() { return { words: words.list(), data, cycle: a.seen }; } };
    )js"},
           {"lib/words.js", "exports.list = () => require('../data.json').words;"},
           {"data.json", R"({"words": ["one", "two"]})"},
           {"lib/a.js", "exports.seen = 'a'; const b = require('./b'); exports.seen = b.fromA;"},
           {"lib/b.js", "const a = require('./a'); exports.fromA = 'b saw ' + a.seen;"}}));
  auto result = trigger();
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ(*result, (Json{{"words", {"one", "two"}},
                           {"data", {{"words", {"one", "two"}}}},
                           {"cycle", "b saw a"}}));
}

TEST_F(JsRuntimeTest, APluginMayLoadAtMost256Modules) {
  std::map<std::string, std::string> files = {
      {"plugin.js", "for (let i = 0; i < 300; i++) require('./m/' + i); module.exports = {};"}};
  for (int i = 0; i < 300; ++i)
    files["m/" + std::to_string(i) + ".js"] = "exports.i = " + std::to_string(i) + ";";
  PluginStatus status = add(files);
  EXPECT_NE(status.state, PluginState::kLoaded);
  EXPECT_THAT(status.reason, HasSubstr("a plugin may load at most 256 modules"));
}

TEST_F(JsRuntimeTest, AModuleThatIsNotUtf8IsRefusedNamingTheByte) {
  PluginStatus status = add({{"plugin.js", "module.exports = require('./bad');"},
                             {"bad.js", std::string("exports.s = '\xC3\x28';")}});
  EXPECT_NE(status.state, PluginState::kLoaded);
  EXPECT_THAT(status.reason, HasSubstr("bad.js is not valid UTF-8 (at byte 13)"));
}

TEST_F(JsRuntimeTest, AModuleLargerThan4MiBIsRefused) {
  std::string huge = "// " + std::string((size_t{4} << 20) + 16, 'x') + "\n";
  PluginStatus status =
      add({{"plugin.js", "module.exports = require('./huge');"}, {"huge.js", huge}});
  EXPECT_NE(status.state, PluginState::kLoaded);
  EXPECT_THAT(status.reason, HasSubstr("Cannot load module 'huge.js'"));
}

TEST_F(JsRuntimeTest, AModulesTopLevelThisIsItsExports) {
  expect_loaded(add_code("this.answer = 42; module.exports.onChatTrigger = () => exports.answer;"));
  EXPECT_EQ(*trigger(), 42);
}

TEST_F(JsRuntimeTest, TheOwncastSdkModuleNameWorks) {
  expect_loaded(add_code(R"js(
    const { definePlugin, owncast, filter } = require("@owncast/plugin-sdk");
    module.exports = definePlugin({
      filterChatMessage(msg) { return msg.body.includes("spam") ? filter.drop("spam") : filter.pass(); },
      onChatTrigger() { owncast.kv.set("k", "v"); return owncast.kv.get("k"); },
    });
  )js"));
  EXPECT_TRUE(host_->filter("chat.message.received", chat_message("buy spam")).dropped);
  EXPECT_FALSE(host_->filter("chat.message.received", chat_message("hello")).dropped);
  EXPECT_EQ(*trigger(), "v");
}

TEST_F(JsRuntimeTest, FalsyFilterReturnsPassAndVerdictsWork) {
  expect_loaded(add_code(R"js(
    const { filter } = require("outlet");
    module.exports = { filterChatMessage(m) {
      if (m.body === "zero") return 0;
      if (m.body === "empty") return "";
      if (m.body === "undef") return undefined;
      if (m.body === "modify") { m.body = "changed"; return filter.modify(m); }
      if (m.body === "drop") return filter.drop("because");
      return false;
    } };
  )js"));
  for (const char* body : {"zero", "empty", "undef", "other"}) {
    FilterOutcome outcome = host_->filter("chat.message.received", chat_message(body));
    EXPECT_FALSE(outcome.dropped) << body;
    EXPECT_EQ(outcome.payload["body"], body);
  }
  EXPECT_EQ(host_->filter("chat.message.received", chat_message("modify")).payload["body"],
            "changed");
  FilterOutcome dropped = host_->filter("chat.message.received", chat_message("drop"));
  EXPECT_TRUE(dropped.dropped);
  EXPECT_EQ(dropped.reason, "because");
}

TEST_F(JsRuntimeTest, AsyncHandlersAreAwaited) {
  expect_loaded(add_code(R"js(
    const { outlet } = require("outlet");
    module.exports = { on: {}, request: {
      async "chat.trigger"(p) {
        const value = await Promise.resolve(p.n * 2);
        if (p.fail) throw new Error("async failure");
        outlet.kv.set("async", value);
        return { value };
      } } };
  )js"));
  EXPECT_EQ(*trigger({{"n", 21}}), (Json{{"value", 42}}));
  auto failed = trigger({{"n", 1}, {"fail", true}});
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.error().message(), HasSubstr("async failure"));
}

TEST_F(JsRuntimeTest, APromiseThatNeverSettlesIsAClearError) {
  expect_loaded(
      add_code("module.exports = { onChatTrigger() { return new Promise(() => {}); } };"));
  auto result = trigger();
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message(), HasSubstr("never settled"));
}

TEST_F(JsRuntimeTest, ValuesKeepTheirJsonTypes) {
  expect_loaded(
      add_code("module.exports = { onChatTrigger(p) { return { echo: p, n: 3, f: 2.5, "
               "big: 2 ** 53 + 2, neg: -0, nul: null, skip: undefined, arr: [undefined, 1], "
               "date: new Date(0), bigint: 12n, utf: 'é😀' }; } };"));
  Json payload = {
      {"i", 1},       {"f", 1.5}, {"s", "ü"}, {"a", Json::array()}, {"o", Json::object()},
      {"n", nullptr}, {"t", true}};
  auto result = trigger(payload);
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ((*result)["echo"], payload);
  EXPECT_TRUE((*result)["n"].is_number_integer());
  EXPECT_TRUE((*result)["f"].is_number_float());
  EXPECT_TRUE((*result)["big"].is_number_float()) << "beyond 2^53 a JS number is not exact";
  EXPECT_EQ((*result)["neg"], 0);
  EXPECT_TRUE((*result)["nul"].is_null());
  EXPECT_FALSE(result->contains("skip"));
  EXPECT_EQ((*result)["arr"], (Json{nullptr, 1}));
  EXPECT_EQ((*result)["date"], "1970-01-01T00:00:00.000Z");
  EXPECT_EQ((*result)["bigint"], 12);
  EXPECT_EQ((*result)["utf"], "é😀");
}

TEST_F(JsRuntimeTest, PositionalHandlerArgumentsFollowTheEventSpec) {
  EventSpec key{"test.positional", {HookKind::kRequest}, nullptr, ""};
  key.handler_arguments = {"key", "state"};
  ASSERT_TRUE(host_->declare_event(key).ok());
  expect_loaded(
      add_code("module.exports = { request: { 'test.positional'(key, state) { return [key, "
               "state.n]; } } };"));
  auto result =
      host_->request("js-plugin", "test.positional", {{"key", "a"}, {"state", {{"n", 1}}}});
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_EQ(*result, (Json{"a", 1}));
}

TEST_F(JsRuntimeTest, HandlersAreCalledWithThePluginAsThis) {
  expect_loaded(
      add_code("module.exports = { prefix: 'hi ', greet(n) { return this.prefix + n; }, "
               "onChatTrigger(p) { return this.greet(p.name); } };"));
  EXPECT_EQ(*trigger({{"name", "ann"}}), "hi ann");
}

TEST_F(JsRuntimeTest, ConsoleWritesToThePluginLog) {
  expect_loaded(
      add_code("module.exports = { onChatTrigger() { console.log('hello', { a: 1 }, 2); "
               "console.warn('careful'); console.error(new Error('oops')); } };"));
  ASSERT_TRUE(trigger().ok());
  std::lock_guard lock(log_mutex_);
  EXPECT_THAT(log_, Contains(HasSubstr("js-plugin info hello {\"a\":1} 2")));
  EXPECT_THAT(log_, Contains(HasSubstr("js-plugin warn careful")));
  EXPECT_THAT(log_, Contains(HasSubstr("js-plugin error Error: oops")));
}

TEST_F(JsRuntimeTest, ConsoleWithoutTheLogPermissionIsDroppedWithAWarning) {
  expect_loaded(add_code("module.exports = { onChatTrigger() { console.log('lost'); return 1; } };",
                         {{"permissions", Json::array()}}));
  EXPECT_EQ(*trigger(), 1);
  EXPECT_THAT(warnings(), Contains(HasSubstr("lacks the \"log\" permission")));
}

TEST_F(JsRuntimeTest, ConsoleWarnWithoutTheLogPermissionBecomesAPluginWarning) {
  expect_loaded(add_code(
      "module.exports = { onChatTrigger() { console.warn('kv refused:', 'quota'); return 1; } };",
      {{"permissions", Json::array()}}));
  EXPECT_EQ(*trigger(), 1);
  EXPECT_THAT(warnings(), Contains("warn: kv refused: quota"));
}

TEST_F(JsRuntimeTest, HostFunctionsCannotBeCalledWhileLoading) {
  PluginStatus status =
      add_code("const { outlet } = require('outlet'); outlet.kv.set('k', 1); module.exports = {};");
  EXPECT_NE(status.state, PluginState::kLoaded);
  EXPECT_THAT(status.reason, HasSubstr("cannot be called while the plugin loads"));
}

TEST_F(JsRuntimeTest, HostFunctionErrorsAreCatchableErrors) {
  expect_loaded(add_code(R"js(
    const { outlet } = require("outlet");
    module.exports = { onChatTrigger() {
      try { outlet.events.emit("undeclared.event", {}); } catch (e) { return e.message; }
    } };
  )js"));
  auto result = trigger();
  ASSERT_TRUE(result.ok()) << result.error().to_string();
  EXPECT_THAT(result->get<std::string>(), HasSubstr("events.emit"));
}

TEST_F(JsRuntimeTest, DispatchAndCollectHandlersAnswer) {
  expect_loaded(
      add_code("module.exports = { dispatch: { 'test.key'(k) { return k.key === 'x' ? { consume: "
               "true } : null; } } };"));
  auto answer = host_->request("js-plugin", "test.key", {{"key", "x"}});
  (void)answer;  // dispatch is not a request; the dispatcher merges it
  DispatchOutcome outcome = host_->dispatch("test.key", {{"key", "x"}});
  EXPECT_TRUE(outcome.merged.value("consume", false));
}

TEST_F(JsRuntimeTest, MemoryUseIsReported) {
  expect_loaded(add_code("globalThis.keep = new Array(100000).fill(1.5); module.exports = {};"));
  EXPECT_GT(host_->status("js-plugin")->stats->memory_bytes, 500000u);
}

TEST_F(JsRuntimeTest, ReloadPicksUpNewCodeAndKeepsKv) {
  expect_loaded(
      add_code("const { outlet } = require('outlet');"
               "module.exports = { onChatTrigger() { outlet.kv.set('n', (outlet.kv.get('n') || 0) "
               "+ 1); return 'v1'; } };"));
  EXPECT_EQ(*trigger(), "v1");
  std::ofstream(dir_.path() / "js-plugin" / "plugin.js")
      << "const { outlet } = require('outlet');"
         "module.exports = { onChatTrigger() { return ['v2', outlet.kv.get('n')]; } };";
  ASSERT_TRUE(host_->reload("js-plugin").ok());
  EXPECT_EQ(*trigger(), (Json{"v2", 1}));
}

// Plugins pinned to one engine thread take turns; the time one call waits there
// behind another plugin's is not its own, so it is no timeout and no strike.
TEST_F(JsRuntimeTest, WaitingBehindAnotherPluginsCallIsNotCountedAgainstTheDeadline) {
  // New plugins go to the least loaded of the engine threads (as many as the
  // engine's default), so the quick filter shares the slow plugin's thread.
  unsigned threads = std::max(2u, std::thread::hardware_concurrency() / 2);
  expect_loaded(add({{"plugin.js", R"js(
    module.exports = { onChatTrigger(p) { const end = Date.now() + p.ms; while (Date.now() < end) {} } };
  )js"}},
                    Json::object(), "slow"));
  for (unsigned i = 1; i < threads; ++i) {
    expect_loaded(add({{"plugin.js", "module.exports = { onChatTrigger() {} };"}}, Json::object(),
                      "filler-" + std::to_string(i)));
  }
  expect_loaded(add({{"plugin.js", R"js(
    const { filter } = require("outlet");
    module.exports = { filterChatMessage() { return filter.drop("quick"); } };
  )js"}},
                    {{"limits", {{"timeoutMs", {{"filter", 30}}}}}}, "quick"));
  std::thread slow([this] {
    EXPECT_TRUE(host_->request("slow", "chat.trigger", {{"ms", 300}}).ok());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the slow call is running
  FilterOutcome outcome = host_->filter("chat.message.received", chat_message("hello"));
  slow.join();
  EXPECT_TRUE(outcome.dropped) << "the quick filter timed out while it waited its turn";
  EXPECT_EQ(host_->status("quick")->stats->strikes, 0u);
}

// An Owncast plugin project emits events it never declares (as Owncast allows),
// but not one the host or another plugin declares: no spoofing chat messages.
TEST_F(JsRuntimeTest, AnOwncastProjectEmitsUndeclaredEventsButNotTheHosts) {
  fs::path folder = dir_.path() / "owncast-emitter";
  fs::create_directories(folder / "src");
  std::ofstream(folder / "plugin.manifest.json")
      << R"({"api": "1", "name": "Emitter", "slug": "owncast-emitter", "version": "1.0.0",
            "permissions": ["events.emit"]})";
  std::ofstream(folder / "src" / "plugin.js") << R"js(
    const { definePlugin, owncast } = require("@owncast/plugin-sdk");
    module.exports = definePlugin({
      onHttpRequest(req) {
        owncast.events.emit("custom.thing", { ok: true });
        try {
          owncast.events.emit("chat.message.received", { body: "spoofed", user: { id: "x" } });
          return { spoofed: true };
        } catch (e) {
          return { spoofed: false, error: String(e.message) };
        }
      },
    });
  )js";
  auto plugin = read_plugin_folder(folder.string(), host_->vocabulary());
  ASSERT_TRUE(plugin.ok()) << plugin.error().to_string();
  ASSERT_TRUE(host_->add_plugin(*plugin).ok());
  ASSERT_TRUE(host_->approve("owncast-emitter").ok());
  ASSERT_TRUE(host_->enable("owncast-emitter").ok());
  std::vector<std::string> emitted;
  std::mutex mutex;
  host_->on_emit([&](const EmitRecord& record) {
    std::lock_guard lock(mutex);
    emitted.push_back(record.event);
  });
  auto answer = host_->request("owncast-emitter", "http.request", Json::object());
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  EXPECT_EQ((*answer)["spoofed"], false);
  EXPECT_THAT((*answer)["error"].get<std::string>(), HasSubstr("is not declared"));
  std::lock_guard lock(mutex);
  EXPECT_THAT(emitted, ::testing::ElementsAre("custom.thing"));
}

}  // namespace
}  // namespace outlet
