// Escapes a hostile plugin could try against the core, each proven to fail safely.
// (Runtime-specific escapes, egress and exhaustion join this folder with their issues.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "domains/chat/chat_domain.h"
#include "outlet/host.h"
#include "support/test_support.h"

namespace outlet {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

// Bot modules of the chat domain, whose kinds this host declares.
Json manifest(const std::string& id, const std::vector<std::string>& permissions,
              Json extra = Json::object()) {
  extra["kind"] = "bot-module";
  return outlet::testing::native_manifest(id, permissions, extra);
}

// A plugin whose request handler calls whatever host function the payload names.
std::unique_ptr<NativePlugin> prober() {
  auto plugin = std::make_unique<NativePlugin>();
  plugin->request("chat.trigger", [](const Json& payload, PluginContext& context) -> Result<Json> {
    auto result =
        context.call(payload["fn"].get<std::string>(), payload.value("args", Json::array()));
    if (!result.ok())
      return Json{{"error", result.error().message()}};
    return Json{{"value", *result}};
  });
  return plugin;
}

class CoreIsolationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = fs::temp_directory_path() / ("outlet-security-" + std::to_string(::getpid()));
    fs::remove_all(data_dir_);
    HostOptions options;
    options.data_dir = data_dir_.string();
    options.log_sink = [this](const std::string& id, std::string_view level, const std::string& m) {
      std::lock_guard lock(log_mutex_);
      log_ << id << " " << level << " " << m << "\n";
    };
    host_ = std::move(Host::create(options)).value();
    ASSERT_TRUE(domain_.declare(*host_).ok());
  }
  void TearDown() override {
    host_.reset();
    fs::remove_all(data_dir_);
  }

  void install(const Json& document) {
    std::string id = document["id"];
    ASSERT_TRUE(host_->register_native_plugin(id, prober).ok());
    ASSERT_TRUE(host_->add_builtin(document).ok());
    ASSERT_TRUE(host_->approve(id).ok());
    ASSERT_TRUE(host_->enable(id).ok());
  }

  Json call(const std::string& id, const std::string& fn, Json args) {
    auto answer = host_->request(id, "chat.trigger", {{"fn", fn}, {"args", std::move(args)}});
    EXPECT_TRUE(answer.ok()) << (answer.ok() ? "" : answer.error().to_string());
    return answer.ok() ? *answer : Json();
  }

  std::string log() {
    std::lock_guard lock(log_mutex_);
    return log_.str();
  }

  fs::path data_dir_;
  chat::ChatDomain domain_;
  std::unique_ptr<Host> host_;
  std::mutex log_mutex_;
  std::ostringstream log_;
};

TEST_F(CoreIsolationTest, KeyTricksNeverReachAnotherPluginsNamespace) {
  install(manifest("alice", {"storage.kv"}));
  install(manifest("mallory", {"storage.kv"}));
  call("alice", "kv.set", {"token", "alice-secret"});
  const std::vector<std::string> tricks = {"../alice/token", "/alice/token", "default/alice/token",
                                           "alice/token", std::string("token\0alice", 11)};
  for (const std::string& key : tricks) {
    EXPECT_EQ(call("mallory", "kv.get", {key})["value"], nullptr) << key;
  }
  EXPECT_EQ(call("mallory", "kv.list", {""})["value"], Json::array());
  EXPECT_EQ(call("mallory", "kv.list", {"../"})["value"], Json::array());
  EXPECT_EQ(call("mallory", "kv.delete", {"token"})["value"], false);
  EXPECT_EQ(call("alice", "kv.get", {"token"})["value"], "alice-secret");
}

TEST_F(CoreIsolationTest, APluginCannotDeclareAHostEventToSpoofIt) {
  Json spoof =
      manifest("spoofer", {"events.emit"}, {{"events", {{{"name", "chat.message.received"}}}}});
  ASSERT_TRUE(host_->register_native_plugin("spoofer", prober).ok());
  ASSERT_TRUE(host_->add_builtin(spoof).ok());
  ASSERT_TRUE(host_->approve("spoofer").ok());
  ASSERT_TRUE(host_->enable("spoofer").ok());
  auto status = host_->status("spoofer");
  EXPECT_EQ(status->state, PluginState::kFailed);
  EXPECT_THAT(status->reason, HasSubstr("\"chat.message.received\" is already declared by host"));
}

TEST_F(CoreIsolationTest, APluginCannotTakeOverAnotherPluginsEvent) {
  install(manifest("first", {"events.emit"}, {{"events", {{{"name", "shared.event"}}}}}));
  Json second = manifest("second", {"events.emit"}, {{"events", {{{"name", "shared.event"}}}}});
  ASSERT_TRUE(host_->register_native_plugin("second", prober).ok());
  ASSERT_TRUE(host_->add_builtin(second).ok());
  ASSERT_TRUE(host_->approve("second").ok());
  ASSERT_TRUE(host_->enable("second").ok());
  EXPECT_EQ(host_->status("second")->state, PluginState::kFailed);
  EXPECT_THAT(host_->status("second")->reason, HasSubstr("already declared by first"));
  EXPECT_THAT(call("first", "events.emit", {"shared.event", {{"x", 1}}})["value"], true);
}

TEST_F(CoreIsolationTest, AHostEventCannotBeEmittedByAPlugin) {
  install(manifest("emitter", {"events.emit"}));
  Json answer = call("emitter", "events.emit", {"chat.message.received", {{"body", "forged"}}});
  EXPECT_THAT(answer["error"].get<std::string>(), HasSubstr("is not declared in the events[]"));
}

TEST_F(CoreIsolationTest, ConfigAndSecretsAreOnlyEverTheCallersOwn) {
  Json with_settings = {
      {"config",
       {{"type", "object"}, {"properties", {{"k", {{"type", "string"}, {"default", "a"}}}}}}}};
  install(manifest("alice", {"config.read", "secrets.read"}, with_settings));
  install(manifest("mallory", {"config.read", "secrets.read"}, with_settings));
  ASSERT_TRUE(host_->set_config("alice", {{"k", "alice-config"}}).ok());
  ASSERT_TRUE(host_->set_secret("alice", "api_key", "sk-alice-1234").ok());
  EXPECT_EQ(call("mallory", "config.get", Json::array())["value"], (Json{{"k", "a"}}));
  EXPECT_EQ(call("mallory", "secrets.get", {"api_key"})["value"], nullptr);
  EXPECT_EQ(call("alice", "secrets.get", {"api_key"})["value"], "sk-alice-1234");
}

TEST_F(CoreIsolationTest, SecretsNeverAppearInStatusLogsOrAWorldReadableFile) {
  install(manifest("alice", {"secrets.read", "log"}));
  ASSERT_TRUE(host_->set_secret("alice", "api_key", "sk-alice-1234").ok());
  call("alice", "secrets.get", {"api_key"});
  call("alice", "log.info", {"did some work"});
  auto status = host_->status("alice");
  Json shown = {{"config", status->config}, {"reason", status->reason}};
  for (const Warning& w : status->warnings)
    shown["warnings"].push_back(w.message);
  EXPECT_THAT(shown.dump(), Not(HasSubstr("sk-alice-1234")));
  EXPECT_THAT(log(), Not(HasSubstr("sk-alice-1234")));
  struct stat info {};
  ASSERT_EQ(::stat((data_dir_ / "settings.sqlite3").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0077, 0u) << "settings.sqlite3 holds secrets: owner-only";
}

TEST_F(CoreIsolationTest, DeclaringAPermissionDoesNotGrantIt) {
  ASSERT_TRUE(host_->register_native_plugin("greedy", prober).ok());
  ASSERT_TRUE(host_->add_builtin(manifest("greedy", {"chat.moderate", "secrets.read"})).ok());
  ASSERT_TRUE(host_->enable("greedy").ok());
  EXPECT_EQ(host_->status("greedy")->state, PluginState::kBlocked);
  EXPECT_FALSE(host_->request("greedy", "chat.trigger", {{"fn", "chat.moderate"}}).ok());
  EXPECT_TRUE(domain_.recorded("moderations").empty());
}

}  // namespace
}  // namespace outlet

namespace outlet {
namespace {

// A plugin that, on each of its own events, emits `fan_out` more: without bounds
// this is 10^8 events by depth 8.
std::unique_ptr<NativePlugin> emit_bomb(int fan_out) {
  auto plugin = std::make_unique<NativePlugin>();
  plugin->on("bomb.tick", [fan_out](const Json&, PluginContext& context) -> Result<Json> {
    for (int i = 0; i < fan_out; ++i)
      (void)context.emit("bomb.tick", {{"i", i}});
    return Json();
  });
  plugin->request("chat.trigger", [](const Json& payload, PluginContext& context) -> Result<Json> {
    int refused = 0;
    std::string last_error;
    for (int i = 0; i < payload.value("count", 0); ++i) {
      if (Status s = context.emit("bomb.tick", {{"i", i}}); !s.ok()) {
        ++refused;
        last_error = s.error().message();
      }
    }
    return Json{{"refused", refused}, {"error", last_error}};
  });
  return plugin;
}

Json bomb_manifest() {
  return manifest("bomber", {"events.emit"}, {{"events", {{{"name", "bomb.tick"}}}}});
}

TEST(EmitExhaustionTest, ACallMayEmitAtMostAHundredEvents) {
  HostOptions options;
  options.log_sink = [](const std::string&, std::string_view, const std::string&) {};
  auto host = std::move(Host::create(options)).value();
  ASSERT_TRUE(host->register_native_plugin("bomber", [] { return emit_bomb(0); }).ok());
  ASSERT_TRUE(host->add_builtin(bomb_manifest()).ok());
  ASSERT_TRUE(host->approve("bomber").ok());
  ASSERT_TRUE(host->enable("bomber").ok());
  auto answer = host->request("bomber", "chat.trigger", {{"count", 150}});
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ((*answer)["refused"], 50);
  EXPECT_THAT((*answer)["error"].get<std::string>(), HasSubstr("at most 100 events"));
  host->wait_idle();
}

TEST(EmitExhaustionTest, ASelfAmplifyingEmitterIsBoundedByItsQueueAndDepth) {
  HostOptions options;
  options.max_queued_per_plugin = 100;
  options.log_sink = [](const std::string&, std::string_view, const std::string&) {};
  auto host = std::move(Host::create(options)).value();
  ASSERT_TRUE(host->register_native_plugin("bomber", [] { return emit_bomb(10); }).ok());
  ASSERT_TRUE(host->add_builtin(bomb_manifest()).ok());
  ASSERT_TRUE(host->approve("bomber").ok());
  ASSERT_TRUE(host->enable("bomber").ok());
  std::atomic<uint64_t> emitted{0};
  host->on_emit([&](const EmitRecord&) { emitted.fetch_add(1); });
  ASSERT_TRUE(host->request("bomber", "chat.trigger", {{"count", 10}}).ok());
  host->wait_idle();  // returns: the cascade is finite
  // Each of at most 100 queued calls per depth level emits at most 10.
  EXPECT_LT(emitted.load(), 10u * 100u * 8u + 10u);
  auto status = host->status("bomber");  // a local: warnings outlive the loop
  bool dropped = false;
  for (const Warning& w : status->warnings) {
    dropped |= w.message.find("dropped a notification") != std::string::npos;
  }
  EXPECT_TRUE(dropped) << "emitted " << emitted.load();
  EXPECT_EQ(host->status("bomber")->state, PluginState::kLoaded) << "dropping is not a strike";
}

}  // namespace
}  // namespace outlet
