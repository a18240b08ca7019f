// The Host end to end: plugin folders on disk, native plugins behind them, grants,
// the lifecycle, dispatch, strikes, persistence across restarts and upgrades.
#include "outlet/host.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.h"

namespace outlet {
namespace {

using outlet::testing::finishes_or_abort;
using outlet::testing::TempDir;

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

Json manifest(const std::string& id, const std::vector<std::string>& permissions = {},
              const Json& extra = Json::object()) {
  return outlet::testing::native_manifest(id, permissions, extra);
}

using Builder = std::function<void(NativePlugin&)>;

class HostTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(plugins_dir()); }

  fs::path plugins_dir() const { return root_.path() / "plugins"; }
  fs::path data_dir() const { return root_.path() / "data"; }

  // Writes plugins/<id>/plugin.json and the entrypoint it names.
  void write_plugin(const Json& document) {
    fs::path folder = plugins_dir() / document.at("id").get<std::string>();
    fs::create_directories(folder);
    std::ofstream(folder / "plugin.json") << document.dump(2);
    std::ofstream(folder / "plugin.cpp") << "// compiled into the host\n";
  }

  // The code behind a plugin id, registered with every host the test creates.
  void code(const std::string& id, Builder build) { builders_[id] = std::move(build); }

  std::unique_ptr<Host> make_host(HostOptions options = {}) {
    // Generous limits: these tests are about behaviour, not speed, and run on busy machines.
    options.timeout_ms = {5000, 5000, 5000, 5000, 5000};
    if (!options.log_sink) {
      options.log_sink = [](const std::string&, std::string_view, const std::string&) {};
    }
    auto host = Host::create(std::move(options));
    EXPECT_TRUE(host.ok()) << host.error().to_string();
    if (!host.ok())
      return nullptr;
    EventSpec message{"chat.message", {HookKind::kFilter, HookKind::kNotify}};
    message.schema = {{"type", "object"},
                      {"required", {"text"}},
                      {"properties", {{"text", {{"type", "string"}}}}}};
    EXPECT_TRUE((*host)->declare_event(std::move(message)).ok());
    EXPECT_TRUE((*host)->declare_event({"user.joined", {HookKind::kNotify}}).ok());
    for (const auto& [id, build] : builders_) {
      EXPECT_TRUE((*host)
                      ->register_native_plugin(id,
                                               [build = build] {
                                                 auto plugin = std::make_unique<NativePlugin>();
                                                 build(*plugin);
                                                 return plugin;
                                               })
                      .ok());
    }
    return std::move(*host);
  }

  std::unique_ptr<Host> persistent_host() {
    HostOptions options;
    options.data_dir = data_dir().string();
    return make_host(std::move(options));
  }

  void discover_all(Host& host, size_t expected) {
    auto report = host.discover(plugins_dir().string());
    ASSERT_TRUE(report.ok()) << report.error().to_string();
    for (const DiscoveryProblem& problem : report->problems) {
      ADD_FAILURE() << problem.folder << ": " << problem.error.to_string();
    }
    EXPECT_EQ(report->plugins.size(), expected);
  }

  static void approve_and_enable(Host& host, const std::string& id) {
    Status approved = host.approve(id);
    ASSERT_TRUE(approved.ok()) << approved.error().to_string();
    Status enabled = host.enable(id);
    ASSERT_TRUE(enabled.ok()) << enabled.error().to_string();
  }

  static PluginState state_of(const Host& host, const std::string& id) {
    auto status = host.status(id);
    EXPECT_TRUE(status.has_value()) << id;
    return status ? status->state : PluginState::kDiscovered;
  }

  static std::string reason_of(const Host& host, const std::string& id) {
    auto status = host.status(id);
    return status ? status->reason : "";
  }

  TempDir root_;
  std::map<std::string, Builder> builders_;
};

// A plugin whose request "kv" stores payload.set (if given) and answers what it holds
// under "visits", plus its config.
void kv_and_config_plugin(NativePlugin& plugin) {
  plugin.request("state", [](const Json& payload, PluginContext& context) -> Result<Json> {
    if (payload.contains("set")) {
      if (Status s = context.kv_set("visits", payload["set"]); !s.ok())
        return s.error();
    }
    auto visits = context.kv_get("visits");
    if (!visits.ok())
      return visits.error();
    auto config = context.config();
    if (!config.ok())
      return config.error();
    return Json{{"visits", *visits}, {"config", *config}};
  });
}

Json greeting_schema() {
  return {{"type", "object"},
          {"properties",
           {{"greeting", {{"type", "string"}, {"default", "hi"}}},
            {"count", {{"type", "integer"}, {"minimum", 0}, {"default", 1}}}}}};
}

// --- The whole path ---

TEST_F(HostTest, DiscoveredPluginsLoadAfterGrantAndEnableAndReceiveEvents) {
  write_plugin(manifest("censor", {}, {{"subscriptions", {{"filter", {"chat.message"}}}}}));
  write_plugin(
      manifest("counter", {"storage.kv"}, {{"subscriptions", {{"notify", {"chat.message"}}}}}));
  code("censor", [](NativePlugin& plugin) {
    plugin.filter("chat.message", [](const Json& message, PluginContext&) -> Result<Json> {
      std::string text = message["text"];
      if (auto at = text.find("darn"); at != std::string::npos)
        text.replace(at, 4, "****");
      return filter_modify(Json{{"text", text}});
    });
  });
  code("counter", [](NativePlugin& plugin) {
    plugin.on("chat.message", [](const Json&, PluginContext& context) -> Result<Json> {
      auto seen = context.kv_get("seen");
      if (!seen.ok())
        return seen.error();
      int count = seen->is_number() ? seen->get<int>() : 0;
      if (Status s = context.kv_set("seen", count + 1); !s.ok())
        return s.error();
      return Json();
    });
  });
  auto host = make_host();
  discover_all(*host, 2);
  EXPECT_EQ(state_of(*host, "censor"), PluginState::kValidated);
  EXPECT_EQ(state_of(*host, "counter"), PluginState::kValidated);

  approve_and_enable(*host, "censor");
  approve_and_enable(*host, "counter");
  EXPECT_EQ(state_of(*host, "censor"), PluginState::kLoaded) << reason_of(*host, "censor");
  EXPECT_EQ(state_of(*host, "counter"), PluginState::kLoaded) << reason_of(*host, "counter");

  FilterOutcome outcome = host->filter("chat.message", Json{{"text", "oh darn"}});
  EXPECT_EQ(outcome.payload, (Json{{"text", "oh ****"}}));
  EXPECT_EQ(host->notify("chat.message", Json{{"text", "one"}}), 1u);
  EXPECT_EQ(host->notify("chat.message", Json{{"text", "two"}}), 1u);
  host->wait_idle();

  auto seen = host->kv().get(host->kv_namespace("counter"), "seen");
  ASSERT_TRUE(seen.ok());
  ASSERT_TRUE(seen->has_value());
  EXPECT_EQ(**seen, Json(2));
  EXPECT_EQ(host->status("counter")->source.root,
            fs::canonical(plugins_dir() / "counter").string());
}

// --- Strikes ---

TEST_F(HostTest, PluginThatFailsEveryCallIsAutoDisabledAndReEnableLoadsItAgain) {
  auto broken = std::make_shared<std::atomic<bool>>(true);
  auto calls = std::make_shared<std::atomic<int>>(0);
  write_plugin(manifest("flaky"));
  code("flaky", [broken, calls](NativePlugin& plugin) {
    plugin.filter("chat.message", [broken, calls](const Json&, PluginContext&) -> Result<Json> {
      calls->fetch_add(1);
      if (*broken)
        return Error(ErrorCode::kPluginError, "database is on fire");
      return filter_pass();
    });
  });
  HostOptions options;
  options.strike_limit = 3;
  auto host = make_host(std::move(options));
  discover_all(*host, 1);
  approve_and_enable(*host, "flaky");
  ASSERT_EQ(state_of(*host, "flaky"), PluginState::kLoaded);

  for (int i = 0; i < 3; ++i) {
    FilterOutcome outcome = host->filter("chat.message", Json{{"text", "hi"}});
    EXPECT_EQ(outcome.payload, (Json{{"text", "hi"}})) << "a failing filter fails open";
  }

  auto status = host->status("flaky");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->state, PluginState::kFailed);
  EXPECT_THAT(status->reason, HasSubstr("auto-disabled after 3 consecutive failures"));
  EXPECT_THAT(status->reason, HasSubstr("database is on fire"));
  EXPECT_FALSE(status->enabled);
  EXPECT_FALSE(status->stats.has_value()) << "an auto-disabled plugin is unloaded";
  (void)host->filter("chat.message", Json{{"text", "hi"}});
  EXPECT_EQ(calls->load(), 3) << "an auto-disabled plugin gets no more calls";

  broken->store(false);
  ASSERT_TRUE(host->enable("flaky").ok());

  status = host->status("flaky");
  EXPECT_EQ(status->state, PluginState::kLoaded) << status->reason;
  EXPECT_TRUE(status->reason.empty());
  EXPECT_TRUE(status->enabled);
  ASSERT_TRUE(status->stats.has_value());
  EXPECT_EQ(status->stats->strikes, 0u);
  FilterOutcome outcome = host->filter("chat.message", Json{{"text", "hi"}});
  ASSERT_EQ(outcome.steps.size(), 1u);
  EXPECT_EQ(outcome.steps[0].action, FilterAction::kPass);
}

TEST_F(HostTest, DisablingAnAutoDisabledPluginReplacesTheStrikeReason) {
  write_plugin(manifest("flaky"));
  code("flaky", [](NativePlugin& plugin) {
    plugin.filter("chat.message", [](const Json&, PluginContext&) -> Result<Json> {
      return Error(ErrorCode::kPluginError, "always broken");
    });
  });
  HostOptions options;
  options.strike_limit = 2;
  auto host = make_host(std::move(options));
  discover_all(*host, 1);
  approve_and_enable(*host, "flaky");
  for (int i = 0; i < 2; ++i)
    (void)host->filter("chat.message", Json{{"text", "hi"}});
  ASSERT_EQ(state_of(*host, "flaky"), PluginState::kFailed);

  ASSERT_TRUE(host->disable("flaky").ok());
  EXPECT_EQ(state_of(*host, "flaky"), PluginState::kDisabled);
  EXPECT_EQ(reason_of(*host, "flaky"), "disabled by the operator");
  ASSERT_TRUE(host->start().ok());
  EXPECT_EQ(state_of(*host, "flaky"), PluginState::kDisabled) << "stays the operator's decision";
}

TEST_F(HostTest, MultibyteTextInABadVerdictNeverCrashesTheHostOrItsSettings) {
  // 150 two-byte characters: a 200-byte cut of the verdict would land mid-character.
  std::string accents;
  for (int i = 0; i < 150; ++i)
    accents += "é";
  write_plugin(manifest("unicode"));
  code("unicode", [accents](NativePlugin& plugin) {
    plugin.filter("chat.message", [accents](const Json&, PluginContext&) -> Result<Json> {
      return Json{{"action", "modfy"}, {"text", "x" + accents}};
    });
  });
  HostOptions options;
  options.data_dir = data_dir().string();
  options.strike_limit = 2;
  auto host = make_host(std::move(options));
  discover_all(*host, 1);
  approve_and_enable(*host, "unicode");
  for (int i = 0; i < 2; ++i) {
    FilterOutcome outcome = host->filter("chat.message", Json{{"text", "hi"}});
    ASSERT_EQ(outcome.steps.size(), 1u);
    EXPECT_EQ(outcome.steps[0].action, FilterAction::kFailed) << outcome.steps[0].detail;
    EXPECT_NO_THROW((void)Json(outcome.steps[0].detail).dump());
  }
  EXPECT_EQ(state_of(*host, "unicode"), PluginState::kFailed)
      << "malformed verdicts are consecutive failures, so they reach the strike limit";
  host.reset();
  auto reopened = persistent_host();
  discover_all(*reopened, 1);
  ASSERT_TRUE(reopened->start().ok());
  EXPECT_EQ(state_of(*reopened, "unicode"), PluginState::kFailed) << "the strike reason was saved";
}

TEST_F(HostTest, HostFunctionsDeclaredAfterPluginsLoadedLeaveThemWorking) {
  write_plugin(manifest("early", {"log"}));
  code("early", [](NativePlugin& plugin) {
    plugin.request("ping", [](const Json&, PluginContext& context) -> Result<Json> {
      if (Status s = context.log("info", "still here"); !s.ok())
        return s.error();
      return Json("pong");
    });
  });
  auto host = make_host();
  discover_all(*host, 1);
  approve_and_enable(*host, "early");
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(host->declare_host_function(
                        {"late.f" + std::to_string(i), "late", "",
                         [](const HostCall&, const Json&) -> Result<Json> { return Json(); }})
                    .ok());
  }
  auto answer = host->request("early", "ping", Json());
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  EXPECT_EQ(*answer, "pong");
}

TEST_F(HostTest, APluginWhoseRequiredDependencyIsAutoDisabledIsBlocked) {
  write_plugin(manifest("base"));
  write_plugin(manifest("addon", {}, {{"relationships", {{"requires", {"base"}}}}}));
  code("base", [](NativePlugin& plugin) {
    plugin.filter("chat.message", [](const Json&, PluginContext&) -> Result<Json> {
      return Error(ErrorCode::kPluginError, "broken");
    });
  });
  code("addon", [](NativePlugin& plugin) {
    plugin.on("user.joined", [](const Json&, PluginContext&) -> Result<Json> { return Json(); });
  });
  HostOptions options;
  options.strike_limit = 1;
  auto host = make_host(std::move(options));
  discover_all(*host, 2);
  approve_and_enable(*host, "base");
  approve_and_enable(*host, "addon");
  ASSERT_EQ(state_of(*host, "addon"), PluginState::kLoaded);
  (void)host->filter("chat.message", Json{{"text", "hi"}});
  EXPECT_EQ(state_of(*host, "base"), PluginState::kFailed);
  EXPECT_EQ(state_of(*host, "addon"), PluginState::kBlocked);
  EXPECT_THAT(reason_of(*host, "addon"), HasSubstr("requires \"base\""));
}

TEST_F(HostTest, APluginWhoseRequiredDependencyFailsToLoadIsBlocked) {
  write_plugin(manifest("no-code"));  // no native code registered: its load fails
  write_plugin(manifest("addon", {}, {{"relationships", {{"requires", {"no-code"}}}}}));
  code("addon", [](NativePlugin& plugin) {
    plugin.on("user.joined", [](const Json&, PluginContext&) -> Result<Json> { return Json(); });
  });
  auto host = make_host();
  discover_all(*host, 2);
  approve_and_enable(*host, "no-code");
  approve_and_enable(*host, "addon");
  EXPECT_EQ(state_of(*host, "no-code"), PluginState::kFailed);
  EXPECT_EQ(state_of(*host, "addon"), PluginState::kBlocked);
  EXPECT_THAT(reason_of(*host, "addon"), HasSubstr("requires \"no-code\", which failed to load"));
}

TEST_F(HostTest, DeliveryOrderFollowsTheLatestActivationOrder) {
  // "alpha" loads first on its own; "zulu" (bootstrap priority) comes later but
  // activates before it, so it is asked first, whatever the id order says.
  write_plugin(manifest("alpha", {}, {{"load", {{"priority", "low"}}}}));
  write_plugin(manifest("zulu", {}, {{"load", {{"priority", "bootstrap"}}}}));
  for (const char* id : {"alpha", "zulu"}) {
    code(id, [id = std::string(id)](NativePlugin& plugin) {
      plugin.collect("panels",
                     [id](const Json&, PluginContext&) -> Result<Json> { return Json(id); });
    });
  }
  auto host = make_host();
  ASSERT_TRUE(host->declare_event({"panels", {HookKind::kCollect}}).ok());
  discover_all(*host, 2);
  approve_and_enable(*host, "alpha");
  approve_and_enable(*host, "zulu");
  auto answers = host->collect("panels", Json::object());
  ASSERT_EQ(answers.size(), 2u) << reason_of(*host, "alpha") << " / " << reason_of(*host, "zulu");
  EXPECT_EQ(answers[0].plugin_id, "zulu");
  EXPECT_EQ(answers[1].plugin_id, "alpha");
}

TEST_F(HostTest, AnAutoDisableThatCannotBeSavedStillKeepsThePluginOff) {
  write_plugin(manifest("flaky"));
  write_plugin(manifest("other"));
  code("flaky", [](NativePlugin& plugin) {
    plugin.filter("chat.message", [](const Json&, PluginContext&) -> Result<Json> {
      return Error(ErrorCode::kPluginError, "broken");
    });
  });
  code("other", [](NativePlugin& plugin) {
    plugin.on("user.joined", [](const Json&, PluginContext&) -> Result<Json> { return Json(); });
  });
  HostOptions options;
  options.data_dir = data_dir().string();
  options.strike_limit = 1;
  auto host = make_host(std::move(options));
  discover_all(*host, 2);
  approve_and_enable(*host, "flaky");
  // From here every save fails, even as root: the database refuses writes, as a full disk would.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((data_dir() / "settings.sqlite3").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "CREATE TRIGGER refuse BEFORE UPDATE ON plugin_settings "
                         "BEGIN SELECT RAISE(ABORT, 'disk full'); END;"
                         "CREATE TRIGGER refuse_new BEFORE INSERT ON plugin_settings "
                         "BEGIN SELECT RAISE(ABORT, 'disk full'); END;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  (void)host->filter("chat.message", Json{{"text", "hi"}});
  EXPECT_EQ(state_of(*host, "flaky"), PluginState::kFailed);
  EXPECT_FALSE(host->enable("other").ok()) << "the settings file cannot be written";
  ASSERT_TRUE(host->start().ok());
  EXPECT_EQ(state_of(*host, "flaky"), PluginState::kFailed) << "a failed save must not revive it";
  auto status = host->status("flaky");
  bool warned = false;
  for (const Warning& w : status->warnings) {
    warned |= w.message.find("could not save the auto-disable") != std::string::npos;
  }
  EXPECT_TRUE(warned);
}

TEST_F(HostTest, AutoDisableFromANotificationOnAWorkerThreadSettles) {
  write_plugin(manifest("grumpy"));
  code("grumpy", [](NativePlugin& plugin) {
    plugin.on("user.joined", [](const Json&, PluginContext&) -> Result<Json> {
      return Error(ErrorCode::kPluginError, "go away");
    });
  });
  HostOptions options;
  options.strike_limit = 2;
  auto host = make_host(std::move(options));
  discover_all(*host, 1);
  approve_and_enable(*host, "grumpy");

  finishes_or_abort("auto-disable on a worker", [&host] {
    for (int i = 0; i < 10; ++i)
      host->notify("user.joined", Json::object());
    host->wait_idle();
  });

  EXPECT_EQ(state_of(*host, "grumpy"), PluginState::kFailed);
  EXPECT_THAT(reason_of(*host, "grumpy"), HasSubstr("auto-disabled"));
  EXPECT_THAT(reason_of(*host, "grumpy"), HasSubstr("go away"));
  EXPECT_FALSE(host->status("grumpy")->enabled);
}

TEST_F(HostTest, AutoDisableIsRememberedAcrossARestart) {
  write_plugin(manifest("flaky"));
  code("flaky", [](NativePlugin& plugin) {
    plugin.filter("chat.message", [](const Json&, PluginContext&) -> Result<Json> {
      return Error(ErrorCode::kPluginError, "nope");
    });
  });
  {
    HostOptions options;
    options.data_dir = data_dir().string();
    options.strike_limit = 1;
    auto host = make_host(std::move(options));
    discover_all(*host, 1);
    approve_and_enable(*host, "flaky");
    (void)host->filter("chat.message", Json{{"text", "x"}});
    ASSERT_EQ(state_of(*host, "flaky"), PluginState::kFailed);
  }
  auto host = persistent_host();
  discover_all(*host, 1);
  ASSERT_TRUE(host->start().ok());
  EXPECT_EQ(state_of(*host, "flaky"), PluginState::kFailed);
  EXPECT_THAT(reason_of(*host, "flaky"), HasSubstr("auto-disabled"));
}

// --- Lifecycle and grants ---

TEST_F(HostTest, LifecycleObserverSeesEachStateInOrder) {
  write_plugin(manifest("watched", {"log"}));
  code("watched", [](NativePlugin& plugin) {
    plugin.on("user.joined", [](const Json&, PluginContext&) -> Result<Json> { return Json(); });
  });
  auto host = make_host();
  std::mutex mutex;
  std::vector<std::string> states;
  host->on_state_change([&](const std::string& id, const StateChange& change) {
    std::lock_guard lock(mutex);
    if (id != "watched")
      return;
    if (states.empty())
      states.emplace_back(plugin_state_name(change.from));
    states.emplace_back(plugin_state_name(change.to));
  });

  discover_all(*host, 1);
  approve_and_enable(*host, "watched");

  std::lock_guard lock(mutex);
  EXPECT_THAT(states, ElementsAre("discovered", "validated", "loading", "ready", "loaded"));
}

TEST_F(HostTest, LifecycleObserverMayCallBackIntoTheHost) {
  write_plugin(manifest("watched"));
  code("watched", [](NativePlugin& plugin) {
    plugin.filter("chat.message", [](const Json&, PluginContext&) -> Result<Json> {
      return Error(ErrorCode::kPluginError, "broken");
    });
  });
  HostOptions options;
  options.strike_limit = 1;
  auto host = make_host(std::move(options));
  std::mutex mutex;
  std::vector<std::string> seen;  // "<to>:<state the host reports>"
  host->on_state_change([&](const std::string& id, const StateChange& change) {
    auto status = host->status(id);  // an observer reading status is the common case
    std::lock_guard lock(mutex);
    seen.push_back(std::string(plugin_state_name(change.to)) + ":" +
                   std::string(status ? plugin_state_name(status->state) : "?"));
  });

  finishes_or_abort("state observers that call host.status()", [&] {
    discover_all(*host, 1);
    approve_and_enable(*host, "watched");
    (void)host->filter("chat.message", Json{{"text", "x"}});  // auto-disables
  });

  std::lock_guard lock(mutex);
  ASSERT_FALSE(seen.empty());
  EXPECT_THAT(seen, ::testing::Contains("loaded:loaded"));
  EXPECT_EQ(seen.back(), "failed:failed");
}

TEST_F(HostTest, EnableWithoutApprovalIsBlockedNamingTheMissingPermissions) {
  write_plugin(manifest("needy", {"log", "storage.kv"}));
  code("needy", kv_and_config_plugin);
  auto host = make_host();
  discover_all(*host, 1);

  ASSERT_TRUE(host->enable("needy").ok());

  auto status = host->status("needy");
  EXPECT_EQ(status->state, PluginState::kBlocked);
  EXPECT_THAT(status->reason,
              HasSubstr("waiting for the operator to approve permissions: log, storage.kv"));
  EXPECT_THAT(status->missing_grants, ElementsAre("log", "storage.kv"));

  ASSERT_TRUE(host->approve("needy").ok());
  EXPECT_EQ(state_of(*host, "needy"), PluginState::kLoaded) << reason_of(*host, "needy");
  EXPECT_TRUE(host->status("needy")->missing_grants.empty());
}

TEST_F(HostTest, OperationsOnAnUnknownPluginSayItIsNotInstalled) {
  auto host = make_host();
  for (Status status : {host->approve("ghost"), host->enable("ghost"), host->disable("ghost"),
                        host->set_config("ghost", Json::object())}) {
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().code(), ErrorCode::kNotFound);
    EXPECT_THAT(status.error().message(), HasSubstr("no plugin \"ghost\" is installed"));
  }
}

// --- Persistence ---

TEST_F(HostTest, GrantsConfigAndKvSurviveARestart) {
  write_plugin(manifest("keeper", {"storage.kv", "config.read"}, {{"config", greeting_schema()}}));
  code("keeper", kv_and_config_plugin);
  {
    auto host = persistent_host();
    discover_all(*host, 1);
    approve_and_enable(*host, "keeper");
    ASSERT_TRUE(host->set_config("keeper", Json{{"greeting", "hello"}}).ok());
    auto answer = host->request("keeper", "state", Json{{"set", 41}});
    ASSERT_TRUE(answer.ok()) << answer.error().to_string();
    EXPECT_EQ((*answer)["visits"], Json(41));
  }

  auto host = persistent_host();
  discover_all(*host, 1);
  ASSERT_TRUE(host->start().ok());

  auto status = host->status("keeper");
  ASSERT_EQ(status->state, PluginState::kLoaded) << status->reason;
  EXPECT_TRUE(status->enabled);
  EXPECT_THAT(status->approved_permissions, ElementsAre("storage.kv", "config.read"));
  EXPECT_EQ(status->config, (Json{{"greeting", "hello"}, {"count", 1}}));
  auto answer = host->request("keeper", "state", Json::object());
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  EXPECT_EQ(*answer, (Json{{"visits", 41}, {"config", {{"greeting", "hello"}, {"count", 1}}}}));
}

TEST_F(HostTest, UpgradeAskingForMorePermissionsStaysBlockedUntilReApproved) {
  write_plugin(manifest("growing", {"log"}));
  code("growing", [](NativePlugin& plugin) {
    plugin.request("ping",
                   [](const Json&, PluginContext&) -> Result<Json> { return Json("pong"); });
  });
  {
    auto host = persistent_host();
    discover_all(*host, 1);
    approve_and_enable(*host, "growing");
    ASSERT_EQ(state_of(*host, "growing"), PluginState::kLoaded);
  }
  Json upgraded = manifest("growing", {"log", "storage.kv"});
  upgraded["version"] = "1.1.0";
  write_plugin(upgraded);

  auto host = persistent_host();
  discover_all(*host, 1);
  ASSERT_TRUE(host->start().ok());

  auto status = host->status("growing");
  EXPECT_EQ(status->state, PluginState::kBlocked);
  EXPECT_THAT(status->reason,
              HasSubstr("version 1.1.0 asks for permissions not yet approved: storage.kv"));
  EXPECT_FALSE(host->request("growing", "ping", Json()).ok());

  ASSERT_TRUE(host->approve("growing").ok());
  EXPECT_EQ(state_of(*host, "growing"), PluginState::kLoaded) << reason_of(*host, "growing");
  auto answer = host->request("growing", "ping", Json());
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ(*answer, Json("pong"));
}

// --- Config ---

TEST_F(HostTest, InvalidConfigIsRefusedNamingTheFieldAndNothingIsStored) {
  write_plugin(
      manifest("configured", {"storage.kv", "config.read"}, {{"config", greeting_schema()}}));
  code("configured", kv_and_config_plugin);
  auto host = make_host();
  discover_all(*host, 1);
  approve_and_enable(*host, "configured");
  ASSERT_TRUE(host->set_config("configured", Json{{"greeting", "hey"}, {"count", 2}}).ok());

  Status refused = host->set_config("configured", Json{{"greeting", "yo"}, {"count", "many"}});

  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(refused.error().message(), HasSubstr("config of \"configured\" is invalid"));
  EXPECT_THAT(refused.error().to_string(), HasSubstr("config.count"));
  EXPECT_EQ(host->status("configured")->config, (Json{{"greeting", "hey"}, {"count", 2}}));
  auto answer = host->request("configured", "state", Json::object());
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ((*answer)["config"], (Json{{"greeting", "hey"}, {"count", 2}}));
}

TEST_F(HostTest, ConfigForAPluginWithoutSettingsIsRefused) {
  write_plugin(manifest("plain"));
  code("plain", kv_and_config_plugin);
  auto host = make_host();
  discover_all(*host, 1);
  Status refused = host->set_config("plain", Json{{"anything", 1}});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message(), HasSubstr("has no settings"));
}

// --- Load-time checks ---

TEST_F(HostTest, PluginRequiringAMissingPluginIsBlockedNamingIt) {
  write_plugin(manifest("dependent", {}, {{"relationships", {{"requires", {{{"id", "ghost"}}}}}}}));
  code("dependent", kv_and_config_plugin);
  auto host = make_host();
  discover_all(*host, 1);

  approve_and_enable(*host, "dependent");

  EXPECT_EQ(state_of(*host, "dependent"), PluginState::kBlocked);
  EXPECT_THAT(reason_of(*host, "dependent"),
              HasSubstr("requires \"ghost\", which is not installed or not enabled"));
}

TEST_F(HostTest, ManifestSubscriptionsThatDisagreeWithTheCodeFailListingBothSides) {
  write_plugin(manifest("liar", {}, {{"subscriptions", {{"notify", {"user.joined"}}}}}));
  code("liar", [](NativePlugin& plugin) {
    plugin.filter("chat.message",
                  [](const Json&, PluginContext&) -> Result<Json> { return filter_pass(); });
  });
  auto host = make_host();
  discover_all(*host, 1);

  approve_and_enable(*host, "liar");

  auto status = host->status("liar");
  EXPECT_EQ(status->state, PluginState::kFailed);
  EXPECT_THAT(status->reason, HasSubstr("subscriptions and the plugin's handlers disagree"));
  EXPECT_THAT(status->reason, HasSubstr("declared in the manifest but not implemented: notify "
                                        "user.joined"));
  EXPECT_THAT(status->reason, HasSubstr("implemented by the code but not declared: filter "
                                        "chat.message"));
  EXPECT_TRUE(host->filter("chat.message", Json{{"text", "x"}}).steps.empty());
}

TEST_F(HostTest, FilterOnANotifyOnlyEventFailsToLoad) {
  write_plugin(manifest("wrong-kind"));
  code("wrong-kind", [](NativePlugin& plugin) {
    plugin.filter("user.joined",
                  [](const Json&, PluginContext&) -> Result<Json> { return filter_pass(); });
  });
  auto host = make_host();
  discover_all(*host, 1);

  approve_and_enable(*host, "wrong-kind");

  auto status = host->status("wrong-kind");
  EXPECT_EQ(status->state, PluginState::kFailed);
  EXPECT_THAT(status->reason, HasSubstr("cannot filter \"user.joined\""));
  EXPECT_THAT(status->reason, HasSubstr("delivered only as: notify"));
}

TEST_F(HostTest, ManifestPriorityOrdersTheFilterChain) {
  std::mutex mutex;
  std::vector<std::string> order;
  auto recorder = [&](std::string id) {
    return [&mutex, &order, id](NativePlugin& plugin) {
      plugin.filter("chat.message", [&mutex, &order, id](const Json&, PluginContext&) {
        std::lock_guard lock(mutex);
        order.push_back(id);
        return Result<Json>(filter_pass());
      });
    };
  };
  write_plugin(
      manifest("aaa", {},
               {{"subscriptions", {{"filter", {{{"event", "chat.message"}, {"priority", 50}}}}}}}));
  write_plugin(
      manifest("zzz", {},
               {{"subscriptions", {{"filter", {{{"event", "chat.message"}, {"priority", 10}}}}}}}));
  code("aaa", recorder("aaa"));
  code("zzz", recorder("zzz"));
  auto host = make_host();
  discover_all(*host, 2);
  approve_and_enable(*host, "aaa");
  approve_and_enable(*host, "zzz");

  (void)host->filter("chat.message", Json{{"text", "x"}});

  std::lock_guard lock(mutex);
  EXPECT_THAT(order, ElementsAre("zzz", "aaa"));
}

TEST_F(HostTest, NativeManifestWithoutCompiledCodeFailsToLoadSayingSo) {
  write_plugin(manifest("orphan"));
  auto host = make_host();
  discover_all(*host, 1);
  approve_and_enable(*host, "orphan");
  EXPECT_EQ(state_of(*host, "orphan"), PluginState::kFailed);
  EXPECT_THAT(reason_of(*host, "orphan"), HasSubstr("no native plugin \"orphan\" is compiled"));
}

// --- Disable ---

TEST_F(HostTest, DisableUnloadsThePlugin) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  write_plugin(manifest("switchable"));
  code("switchable", [calls](NativePlugin& plugin) {
    plugin.filter("chat.message", [calls](const Json&, PluginContext&) -> Result<Json> {
      calls->fetch_add(1);
      return filter_pass();
    });
  });
  auto host = make_host();
  discover_all(*host, 1);
  approve_and_enable(*host, "switchable");
  (void)host->filter("chat.message", Json{{"text", "x"}});
  ASSERT_EQ(calls->load(), 1);

  ASSERT_TRUE(host->disable("switchable").ok());

  auto status = host->status("switchable");
  EXPECT_EQ(status->state, PluginState::kDisabled);
  EXPECT_THAT(status->reason, HasSubstr("disabled by the operator"));
  EXPECT_FALSE(status->enabled);
  EXPECT_FALSE(status->stats.has_value());
  (void)host->filter("chat.message", Json{{"text", "x"}});
  EXPECT_EQ(calls->load(), 1);

  ASSERT_TRUE(host->enable("switchable").ok());
  EXPECT_EQ(state_of(*host, "switchable"), PluginState::kLoaded);
  (void)host->filter("chat.message", Json{{"text", "x"}});
  EXPECT_EQ(calls->load(), 2);
}

TEST_F(HostTest, DisableWhileANotificationIsRunningWaitsForItAndDoesNotDeadlock) {
  auto entered = std::make_shared<std::promise<void>>();
  auto release = std::make_shared<std::promise<void>>();
  std::shared_future<void> released = release->get_future().share();
  write_plugin(manifest("slowpoke", {"log"}));
  code("slowpoke", [entered, released](NativePlugin& plugin) {
    plugin.on("user.joined", [entered, released](const Json&, PluginContext& context) {
      entered->set_value();
      released.wait_for(30s);
      // A host function call at the end of the call, while disable() is waiting.
      (void)context.log("info", "finishing");
      return Result<Json>(Json());
    });
  });
  auto host = make_host();
  discover_all(*host, 1);
  approve_and_enable(*host, "slowpoke");
  host->notify("user.joined", Json::object());
  ASSERT_EQ(entered->get_future().wait_for(30s), std::future_status::ready);

  std::thread releaser([release] {
    std::this_thread::sleep_for(50ms);
    release->set_value();
  });
  finishes_or_abort("disable during a running notification", [&host] {
    EXPECT_TRUE(host->disable("slowpoke").ok());
    host->wait_idle();
  });
  releaser.join();
  EXPECT_EQ(state_of(*host, "slowpoke"), PluginState::kDisabled);
}

TEST_F(HostTest, DispatchRacingWithLifecycleChangesAndObserversDoesNotDeadlock) {
  // Traffic from two threads (filters on the caller, failing notifications on the
  // workers that trip auto-disable), an operator toggling the plugin, and observers
  // that read status: every lock in the host is contended at once.
  write_plugin(
      manifest("contended", {"events.emit"}, {{"events", {{{"name", "contended.echo"}}}}}));
  code("contended", [](NativePlugin& plugin) {
    plugin.filter("chat.message", [](const Json& message, PluginContext& context) {
      (void)context.emit("contended.echo", message);
      return Result<Json>(filter_pass());
    });
    plugin.on("user.joined", [](const Json&, PluginContext&) -> Result<Json> {
      return Error(ErrorCode::kPluginError, "always fails");
    });
  });
  HostOptions options;
  options.strike_limit = 3;
  auto host = make_host(std::move(options));
  std::atomic<int> observed{0};
  host->on_state_change([&](const std::string& id, const StateChange&) {
    (void)host->status(id);
    observed.fetch_add(1);
  });
  host->on_emit([&](const EmitRecord& record) { (void)host->status(record.plugin_id); });
  discover_all(*host, 1);
  approve_and_enable(*host, "contended");

  finishes_or_abort("dispatch racing with enable/disable", [&host] {
    std::atomic<bool> stop{false};
    std::thread filters([&] {
      while (!stop)
        (void)host->filter("chat.message", Json{{"text", "x"}});
    });
    std::thread notifies([&] {
      while (!stop)
        host->notify("user.joined", Json::object());
    });
    for (int i = 0; i < 50; ++i) {
      EXPECT_TRUE(host->enable("contended").ok());
      if (i % 3 == 0) {
        EXPECT_TRUE(host->disable("contended").ok());
      }
      (void)host->status("contended");
    }
    stop = true;
    filters.join();
    notifies.join();
    host->wait_idle();
  });

  ASSERT_TRUE(host->enable("contended").ok());
  EXPECT_EQ(state_of(*host, "contended"), PluginState::kLoaded) << reason_of(*host, "contended");
  EXPECT_GT(observed.load(), 0);
}

}  // namespace
}  // namespace outlet
