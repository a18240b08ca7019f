// One suite, every runtime (DESIGN.md principle 1; proxy-wasm's tests
// parameterized over engines). Each runtime provides the same conformance plugin
// in its own language; a runtime joins by adding a RuntimeCase below.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "domains/chat/chat_domain.h"
#include "native_examples.h"
#include "outlet/host.h"

namespace outlet::conformance {
std::unique_ptr<NativePlugin> make_native_conformance_plugin();
}

namespace outlet {
namespace {

using ::testing::HasSubstr;

struct RuntimeCase {
  std::string name;
  std::string plugin_dir;
  std::function<Status(Host&)> prepare;
};

// Readable test names in CTest instead of the parameter's bytes.
void PrintTo(const RuntimeCase& runtime, std::ostream* out) {
  *out << runtime.name;
}

std::vector<RuntimeCase> all_runtimes() {
  std::string root = std::string(OUTLET_SOURCE_DIR) + "/tests/conformance/plugins/";
  return {
      {"native", root + "native",
       [](Host& host) {
         return host.register_native_plugin("conformance",
                                            conformance::make_native_conformance_plugin);
       }},
      {"lua", root + "lua", [](Host&) { return Status(); }},
      {"js", root + "js", [](Host&) { return Status(); }},
      // C compiled to wasm32-wasi by the build (tests/conformance/plugins/wasm/plugin.c).
      {"wasm", root + "wasm", [](Host&) { return Status(); }},
  };
}

Json chat(const std::string& body) {
  return {{"id", "m1"}, {"user", {{"id", "u-1"}, {"displayName", "tester"}}}, {"body", body}};
}

class ConformanceTest : public ::testing::TestWithParam<RuntimeCase> {
 protected:
  void SetUp() override {
    HostOptions options;
    options.strike_limit = 5;
    options.log_sink = [this](const std::string& id, std::string_view level,
                              const std::string& message) {
      std::lock_guard lock(log_mutex_);
      log_.push_back(id + " " + std::string(level) + " " + message);
    };
    auto host = Host::create(options);
    ASSERT_TRUE(host.ok()) << host.error().to_string();
    host_ = std::move(host).value();
    ASSERT_TRUE(domain_.declare(*host_).ok());
    ASSERT_TRUE(
        host_->declare_event({"conformance.panels", {HookKind::kCollect}, nullptr, ""}).ok());
    ASSERT_TRUE(host_->declare_event({"conformance.key", {HookKind::kDispatch}, nullptr, ""}).ok());
    ASSERT_TRUE(GetParam().prepare(*host_).ok());
    ASSERT_TRUE(examples::register_native_examples(*host_).ok());

    auto plugin = read_plugin_folder(GetParam().plugin_dir, host_->vocabulary());
    ASSERT_TRUE(plugin.ok()) << plugin.error().to_string();
    ASSERT_TRUE(host_->add_plugin(*plugin).ok());
    ASSERT_TRUE(host_->approve("conformance").ok());
    ASSERT_TRUE(host_->enable("conformance").ok());
    ASSERT_EQ(host_->status("conformance")->state, PluginState::kLoaded)
        << host_->status("conformance")->reason;
  }

  // A well-behaved neighbour: the examples' echo-bot.
  void add_neighbour() {
    auto echo = read_plugin_folder(
        std::string(OUTLET_SOURCE_DIR) + "/examples/plugins/native/echo-bot", host_->vocabulary());
    ASSERT_TRUE(echo.ok());
    ASSERT_TRUE(host_->add_plugin(*echo).ok());
    ASSERT_TRUE(host_->approve("echo-bot").ok());
    ASSERT_TRUE(host_->enable("echo-bot").ok());
  }

  Json kv(const std::string& key) {
    auto value = host_->kv().get(host_->kv_namespace("conformance"), key);
    return value.ok() && value->has_value() ? **value : Json();
  }

  chat::ChatDomain domain_;
  std::unique_ptr<Host> host_;
  std::mutex log_mutex_;
  std::vector<std::string> log_;
};

TEST_P(ConformanceTest, SubscriptionsComeFromTheHandlersPresent) {
  // The manifest declares no subscriptions: each comes from a handler in the code.
  FilterOutcome outcome = host_->filter("chat.message.received", chat("hello"));
  ASSERT_EQ(outcome.steps.size(), 1u);
  EXPECT_EQ(outcome.steps[0].plugin_id, "conformance");
  EXPECT_EQ(host_->notify("chat.message.received", chat("hello")), 1u);
  EXPECT_EQ(host_->notify("chat.user.joined", {{"user", {{"id", "u"}}}}), 0u);
  host_->wait_idle();
}

TEST_P(ConformanceTest, FilterPassKeepsThePayload) {
  FilterOutcome outcome = host_->filter("chat.message.received", chat("hello"));
  EXPECT_FALSE(outcome.dropped);
  EXPECT_EQ(outcome.payload["body"], "hello");
  EXPECT_EQ(outcome.steps[0].action, FilterAction::kPass);
}

TEST_P(ConformanceTest, FilterModifyReplacesThePayload) {
  FilterOutcome outcome = host_->filter("chat.message.received", chat("upper"));
  EXPECT_EQ(outcome.payload["body"], "UPPER");
  EXPECT_EQ(outcome.payload["user"]["displayName"], "tester");
  EXPECT_EQ(outcome.steps[0].action, FilterAction::kModify);
}

TEST_P(ConformanceTest, FilterDropCarriesTheReason) {
  FilterOutcome outcome = host_->filter("chat.message.received", chat("drop:spam"));
  EXPECT_TRUE(outcome.dropped);
  EXPECT_EQ(outcome.dropped_by, "conformance");
  EXPECT_EQ(outcome.reason, "spam");
}

TEST_P(ConformanceTest, AFailingFilterFailsOpenAndIsWarned) {
  FilterOutcome outcome = host_->filter("chat.message.received", chat("throw"));
  EXPECT_FALSE(outcome.dropped);
  EXPECT_EQ(outcome.payload["body"], "throw");
  ASSERT_EQ(outcome.steps[0].action, FilterAction::kFailed);
  EXPECT_THAT(outcome.steps[0].detail, HasSubstr("asked to fail"));
  auto warnings = host_->status("conformance")->warnings;
  ASSERT_FALSE(warnings.empty());
  EXPECT_EQ(warnings[0].hook, "filter chat.message.received");
  EXPECT_EQ(host_->status("conformance")->stats->strikes, 1u);
}

TEST_P(ConformanceTest, AFilterPastItsDeadlineFailsOpenWithATimeout) {
  FilterOutcome outcome = host_->filter("chat.message.received", chat("loop"));
  EXPECT_FALSE(outcome.dropped);
  ASSERT_EQ(outcome.steps[0].action, FilterAction::kFailed);
  EXPECT_THAT(outcome.steps[0].detail, HasSubstr("30 ms limit"));
  auto stats = host_->status("conformance")->stats;
  EXPECT_EQ(stats->by_kind[static_cast<size_t>(HookKind::kFilter)].timeouts, 1u);
}

TEST_P(ConformanceTest, AMalformedVerdictFailsOpen) {
  FilterOutcome outcome = host_->filter("chat.message.received", chat("garbage"));
  EXPECT_FALSE(outcome.dropped);
  ASSERT_EQ(outcome.steps[0].action, FilterAction::kFailed);
  EXPECT_THAT(outcome.steps[0].detail, HasSubstr("filter returned 42"));
}

TEST_P(ConformanceTest, RepeatedMalformedVerdictsAutoDisableThePlugin) {
  for (int i = 0; i < 5; ++i)
    (void)host_->filter("chat.message.received", chat("garbage"));
  EXPECT_EQ(host_->status("conformance")->state, PluginState::kFailed);
  EXPECT_THAT(host_->status("conformance")->reason, HasSubstr("filter returned 42"));
}

TEST_P(ConformanceTest, NotifyReachesTheHandlerWhichWritesKv) {
  EXPECT_EQ(host_->notify("chat.message.received", chat("remember me")), 1u);
  host_->wait_idle();
  EXPECT_EQ(kv("last"), "remember me");
}

TEST_P(ConformanceTest, AnEmittedEventReachesItsSubscribers) {
  std::vector<EmitRecord> emits;
  std::mutex mutex;
  host_->on_emit([&](const EmitRecord& r) {
    std::lock_guard lock(mutex);
    emits.push_back(r);
  });
  host_->notify("chat.message.received", chat("emit"));
  host_->wait_idle();
  EXPECT_EQ(kv("echoed"), "emit");
  ASSERT_EQ(emits.size(), 1u);
  EXPECT_EQ(emits[0].event, "conformance.echoed");
  EXPECT_EQ(emits[0].depth, 1);
}

TEST_P(ConformanceTest, ARequestAnswersWithConfigDefaults) {
  auto answer = host_->request("conformance", "chat.trigger", {{"body", "ping"}});
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  EXPECT_EQ((*answer)["message"], "pong ping");
  ASSERT_TRUE(host_->set_config("conformance", {{"greeting", "hello"}}).ok());
  answer = host_->request("conformance", "chat.trigger", {{"body", "ping"}});
  EXPECT_EQ((*answer)["message"], "hello ping");
}

TEST_P(ConformanceTest, AnUngrantedHostFunctionDoesNotExist) {
  auto answer = host_->request("conformance", "chat.trigger",
                               {{"call", "chat.send"}, {"args", Json::array({"hi"})}});
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ((*answer)["ok"], false);
  EXPECT_THAT((*answer)["error"].get<std::string>(), HasSubstr("not available"));
}

TEST_P(ConformanceTest, CollectAndDispatchReturnTheHandlersValues) {
  auto panels = host_->collect("conformance.panels", {{"text", "hi"}});
  ASSERT_EQ(panels.size(), 1u);
  EXPECT_EQ(panels[0].value[0]["items"][0]["text"], "hi");
  auto dispatched = host_->dispatch("conformance.key", {{"key", "char:c"}});
  EXPECT_EQ(dispatched.merged["consume"], true);
  EXPECT_EQ(dispatched.merged["flash"], "conformance");
}

TEST_P(ConformanceTest, ConsecutiveFailuresAutoDisableWhileANeighbourKeepsWorking) {
  add_neighbour();
  for (int i = 0; i < 5; ++i)
    (void)host_->filter("chat.message.received", chat("throw"));
  auto status = host_->status("conformance");
  EXPECT_EQ(status->state, PluginState::kFailed);
  EXPECT_THAT(status->reason, HasSubstr("auto-disabled after 5 consecutive failures"));
  EXPECT_FALSE(status->enabled);
  // The disabled plugin is skipped; the neighbour still answers.
  FilterOutcome outcome = host_->filter("chat.message.received", chat("drop:x"));
  EXPECT_FALSE(outcome.dropped);
  host_->notify("chat.message.received", chat("!echo still here"));
  host_->wait_idle();
  EXPECT_EQ(domain_.recorded("chatSends"), Json::array({"tester said: still here"}));
  // Re-enabling clears the strikes and loads a fresh instance.
  ASSERT_TRUE(host_->enable("conformance").ok());
  EXPECT_EQ(host_->status("conformance")->state, PluginState::kLoaded);
  EXPECT_TRUE(host_->filter("chat.message.received", chat("drop:y")).dropped);
}

TEST_P(ConformanceTest, ASuccessResetsTheConsecutiveFailureCount) {
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 4; ++i)
      (void)host_->filter("chat.message.received", chat("throw"));
    (void)host_->filter("chat.message.received", chat("fine"));
  }
  EXPECT_EQ(host_->status("conformance")->state, PluginState::kLoaded);
}

INSTANTIATE_TEST_SUITE_P(AllRuntimes, ConformanceTest, ::testing::ValuesIn(all_runtimes()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace outlet
