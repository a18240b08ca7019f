// The core host functions (log, storage.kv, cache, events.emit, config.read,
// secrets.read), exercised the way a plugin reaches them: a native plugin loaded by a
// real Host, whose handlers call back through PluginContext.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "outlet/host.h"
#include "support/test_support.h"

namespace outlet {
namespace {

using outlet::testing::finishes_or_abort;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// What a host function call gave the plugin, as the plugin reports it back.
struct CallOutcome {
  bool ok = false;
  Json value;
  std::string code;
  std::string message;
};

// The plugin's side of every test: a request handler "call" that invokes the host
// function named in the payload and reports what happened, so failures do not count
// as plugin failures (strikes).
void add_caller(NativePlugin& plugin) {
  plugin.request("call", [](const Json& payload, PluginContext& context) -> Result<Json> {
    auto result =
        context.call(payload.at("fn").get<std::string>(), payload.value("args", Json::array()));
    if (!result.ok()) {
      return Json{{"ok", false},
                  {"code", error_code_name(result.error().code())},
                  {"message", result.error().to_string()}};
    }
    return Json{{"ok", true}, {"value", *result}};
  });
}

class CoreFunctionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HostOptions options;
    options.cache_max_bytes = 256;
    // Generous limits: these tests are about behaviour, not speed, and run on busy machines.
    options.timeout_ms = {5000, 5000, 5000, 5000, 5000};
    options.strike_limit = 1000;
    options.log_sink = [this](const std::string& id, std::string_view level,
                              const std::string& message) {
      std::lock_guard lock(log_mutex_);
      log_.emplace_back(id, std::string(level), message);
    };
    auto host = Host::create(std::move(options));
    ASSERT_TRUE(host.ok()) << host.error().to_string();
    host_ = std::move(*host);
  }

  static Json manifest(const std::string& id, const std::vector<std::string>& permissions,
                       const Json& extra = Json::object()) {
    return outlet::testing::native_manifest(id, permissions, extra);
  }

  // Registers, adds, approves (all declared permissions unless `approved` says
  // otherwise) and enables a native plugin.
  void install(const Json& manifest_document, std::function<void(NativePlugin&)> build,
               std::optional<std::vector<std::string>> approved = std::nullopt) {
    const std::string id = manifest_document.at("id");
    ASSERT_TRUE(host_
                    ->register_native_plugin(id,
                                             [build] {
                                               auto plugin = std::make_unique<NativePlugin>();
                                               build(*plugin);
                                               return plugin;
                                             })
                    .ok());
    Status added = host_->add_builtin(manifest_document);
    ASSERT_TRUE(added.ok()) << added.error().to_string();
    Status approve = host_->approve(id, approved);
    ASSERT_TRUE(approve.ok()) << approve.error().to_string();
    Status enabled = host_->enable(id);
    ASSERT_TRUE(enabled.ok()) << enabled.error().to_string();
  }

  void install_caller(const std::string& id, std::vector<std::string> permissions,
                      const Json& extra = Json::object()) {
    install(manifest(id, std::move(permissions), extra), add_caller);
    ASSERT_EQ(host_->status(id)->state, PluginState::kLoaded) << host_->status(id)->reason;
  }

  CallOutcome call(const std::string& id, const std::string& function,
                   const Json& args = Json::array()) {
    auto answer = host_->request(id, "call", Json{{"fn", function}, {"args", args}});
    CallOutcome outcome;
    if (!answer.ok()) {
      ADD_FAILURE() << "request to " << id << " failed: " << answer.error().to_string();
      return outcome;
    }
    outcome.ok = answer->at("ok").get<bool>();
    outcome.value = answer->value("value", Json());
    outcome.code = answer->value("code", "");
    outcome.message = answer->value("message", "");
    return outcome;
  }

  // Calls a function the test expects to succeed and returns its value.
  Json value_of(const std::string& id, const std::string& function,
                const Json& args = Json::array()) {
    CallOutcome outcome = call(id, function, args);
    EXPECT_TRUE(outcome.ok) << function << " failed: " << outcome.message;
    return outcome.value;
  }

  std::vector<std::tuple<std::string, std::string, std::string>> log() {
    std::lock_guard lock(log_mutex_);
    return log_;
  }

  ::testing::AssertionResult has_warning(const std::string& id, const std::string& phrase) {
    std::string seen;
    std::optional<PluginStatus> status = host_->status(id);
    if (!status)
      return ::testing::AssertionFailure() << "no plugin " << id;
    for (const Warning& warning : status->warnings) {
      if (warning.message.find(phrase) != std::string::npos)
        return ::testing::AssertionSuccess();
      seen += "\n  " + warning.hook + ": " + warning.message;
    }
    return ::testing::AssertionFailure() << "no warning of " << id << " contains \"" << phrase
                                         << "\"; it has:" << (seen.empty() ? " none" : seen);
  }

  std::mutex log_mutex_;
  std::vector<std::tuple<std::string, std::string, std::string>> log_;  // guarded by log_mutex_
  std::unique_ptr<Host> host_;
};

// --- Grants ---

TEST_F(CoreFunctionsTest, FunctionOfAnUndeclaredPermissionIsNotAvailable) {
  install_caller("logger", {"log"});

  CallOutcome outcome = call("logger", "kv.get", Json::array({"k"}));

  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.code, "permission_denied");
  EXPECT_THAT(outcome.message, HasSubstr("\"kv.get\" is not available to plugin \"logger\""));
  EXPECT_TRUE(call("logger", "log.info", Json::array({"still fine"})).ok);
}

TEST_F(CoreFunctionsTest, FunctionOfADeclaredButUnapprovedPermissionIsUnreachable) {
  // Approving a subset leaves the plugin blocked: no instance exists, so nothing of
  // the unapproved capability (or any other) can be reached.
  install(manifest("partial", {"log", "storage.kv"}), add_caller, std::vector<std::string>{"log"});

  auto status = host_->status("partial");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->state, PluginState::kBlocked);
  EXPECT_THAT(status->missing_grants, ElementsAre("storage.kv"));
  EXPECT_THAT(status->reason, HasSubstr("approve permissions: storage.kv"));
  auto answer = host_->request("partial", "call", Json{{"fn", "kv.get"}, {"args", {"k"}}});
  ASSERT_FALSE(answer.ok());
  EXPECT_THAT(answer.error().message(), HasSubstr("not loaded"));
}

TEST_F(CoreFunctionsTest, ApprovingAPermissionTheManifestDoesNotDeclareIsRefused) {
  ASSERT_TRUE(host_
                  ->register_native_plugin("modest",
                                           [] {
                                             auto plugin = std::make_unique<NativePlugin>();
                                             add_caller(*plugin);
                                             return plugin;
                                           })
                  .ok());
  ASSERT_TRUE(host_->add_builtin(manifest("modest", {"log"})).ok());

  Status approved = host_->approve("modest", std::vector<std::string>{"log", "storage.kv"});

  ASSERT_FALSE(approved.ok());
  EXPECT_THAT(approved.error().message(), HasSubstr("cannot approve \"storage.kv\""));
  EXPECT_THAT(approved.error().message(), HasSubstr("does not declare it"));
}

// --- storage.kv ---

TEST_F(CoreFunctionsTest, KvGetSetDeleteAndListByPrefix) {
  install_caller("store", {"storage.kv"});

  EXPECT_EQ(value_of("store", "kv.get", Json::array({"missing"})), Json());
  value_of("store", "kv.set", Json::array({"user:2", 2}));
  value_of("store", "kv.set", Json::array({"user:1", {{"name", "ada"}}}));
  value_of("store", "kv.set", Json::array({"other", Json::array({1, 2})}));

  EXPECT_EQ(value_of("store", "kv.get", Json::array({"user:1"})), (Json{{"name", "ada"}}));
  EXPECT_EQ(value_of("store", "kv.get", Json::array({"other"})), Json::array({1, 2}));
  EXPECT_EQ(value_of("store", "kv.list", Json::array({"user:"})),
            Json::array({"user:1", "user:2"}));
  EXPECT_EQ(value_of("store", "kv.list", Json::array({"user:", 1})), Json::array({"user:1"}));
  EXPECT_EQ(value_of("store", "kv.list"), Json::array({"other", "user:1", "user:2"}));

  EXPECT_EQ(value_of("store", "kv.delete", Json::array({"user:1"})), Json(true));
  EXPECT_EQ(value_of("store", "kv.delete", Json::array({"user:1"})), Json(false));
  EXPECT_EQ(value_of("store", "kv.get", Json::array({"user:1"})), Json());
  EXPECT_EQ(value_of("store", "kv.list", Json::array({"user:"})), Json::array({"user:2"}));
}

TEST_F(CoreFunctionsTest, KvSetOverwritesTheValue) {
  install_caller("store", {"storage.kv"});
  value_of("store", "kv.set", Json::array({"k", 1}));
  value_of("store", "kv.set", Json::array({"k", "two"}));
  EXPECT_EQ(value_of("store", "kv.get", Json::array({"k"})), Json("two"));
}

TEST_F(CoreFunctionsTest, TwoPluginsUsingTheSameKeySeeTheirOwnValues) {
  install_caller("alpha", {"storage.kv"});
  install_caller("beta", {"storage.kv"});

  value_of("alpha", "kv.set", Json::array({"shared", "from alpha"}));
  value_of("beta", "kv.set", Json::array({"shared", "from beta"}));
  value_of("alpha", "kv.set", Json::array({"alpha-only", true}));

  EXPECT_EQ(value_of("alpha", "kv.get", Json::array({"shared"})), Json("from alpha"));
  EXPECT_EQ(value_of("beta", "kv.get", Json::array({"shared"})), Json("from beta"));
  EXPECT_EQ(value_of("beta", "kv.get", Json::array({"alpha-only"})), Json());
  EXPECT_EQ(value_of("beta", "kv.list"), Json::array({"shared"}));
  EXPECT_EQ(value_of("beta", "kv.delete", Json::array({"alpha-only"})), Json(false));
  EXPECT_EQ(value_of("alpha", "kv.get", Json::array({"alpha-only"})), Json(true));

  auto stored = host_->kv().get(host_->kv_namespace("alpha"), "shared");
  ASSERT_TRUE(stored.ok());
  ASSERT_TRUE(stored->has_value());
  EXPECT_EQ(**stored, Json("from alpha"));
}

struct KvArgCase {
  const char* name;
  const char* function;
  Json args;
  const char* phrase;
};

class KvArgumentTest : public CoreFunctionsTest, public ::testing::WithParamInterface<KvArgCase> {};

TEST_P(KvArgumentTest, BadArgumentIsRefusedNamingIt) {
  install_caller("store", {"storage.kv"});

  CallOutcome outcome = call("store", GetParam().function, GetParam().args);

  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.code, "invalid_argument");
  EXPECT_THAT(outcome.message, HasSubstr(GetParam().function));
  EXPECT_THAT(outcome.message, HasSubstr(GetParam().phrase));
}

INSTANTIATE_TEST_SUITE_P(
    Arguments, KvArgumentTest,
    ::testing::Values(
        KvArgCase{"GetMissingKey", "kv.get", Json::array(), "argument 1 (key) is missing"},
        KvArgCase{"SetMissingKey", "kv.set", Json::array(), "argument 1 (key) is missing"},
        KvArgCase{"SetMissingValue", "kv.set", Json::array({"k"}), "argument 2 (value) is missing"},
        KvArgCase{"DeleteMissingKey", "kv.delete", Json::array(), "argument 1 (key) is missing"},
        KvArgCase{"GetNumericKey", "kv.get", Json::array({5}), "argument 1 (key) must be a string"},
        KvArgCase{"SetNullKey", "kv.set", Json::array({nullptr, 1}),
                  "argument 1 (key) must be a string"},
        KvArgCase{"DeleteObjectKey", "kv.delete", Json::array({Json::object()}),
                  "argument 1 (key) must be a string"},
        KvArgCase{"GetKeyTooLong", "kv.get", Json::array({std::string(1025, 'k')}),
                  "argument 1 (key) must be at most 1024 bytes"},
        KvArgCase{"SetKeyTooLong", "kv.set", Json::array({std::string(1025, 'k'), 1}),
                  "argument 1 (key) must be at most 1024 bytes"},
        KvArgCase{"SetEmptyKey", "kv.set", Json::array({"", 1}), "key must not be empty"},
        KvArgCase{"GetTooManyArguments", "kv.get", Json::array({"a", "b"}),
                  "expected 1 argument(s), got 2"},
        KvArgCase{"ListNumericPrefix", "kv.list", Json::array({3}),
                  "argument 1 (prefix) must be a string"},
        KvArgCase{"ListZeroLimit", "kv.list", Json::array({"", 0}),
                  "argument 2 (limit) must be an integer from 1 to 1000"},
        KvArgCase{"ListLimitTooHigh", "kv.list", Json::array({"", 1001}),
                  "argument 2 (limit) must be an integer from 1 to 1000"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(CoreFunctionsTest, KvValueAboveOneMebibyteIsRefusedWithItsSize) {
  install_caller("store", {"storage.kv"});
  CallOutcome outcome =
      call("store", "kv.set", Json::array({"big", std::string(kKvMaxValueBytes, 'x')}));
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.code, "resource_exhausted");
  EXPECT_THAT(outcome.message, HasSubstr("values are limited to 1048576 bytes"));
  EXPECT_EQ(value_of("store", "kv.get", Json::array({"big"})), Json());
}

// --- cache ---

TEST_F(CoreFunctionsTest, CacheSetGetAndDelete) {
  install_caller("cacher", {"cache"});

  EXPECT_EQ(value_of("cacher", "cache.get", Json::array({"k"})), Json());
  value_of("cacher", "cache.set", Json::array({"k", {{"v", 1}}}));
  EXPECT_EQ(value_of("cacher", "cache.get", Json::array({"k"})), (Json{{"v", 1}}));
  EXPECT_EQ(value_of("cacher", "cache.delete", Json::array({"k"})), Json(true));
  EXPECT_EQ(value_of("cacher", "cache.delete", Json::array({"k"})), Json(false));
  EXPECT_EQ(value_of("cacher", "cache.get", Json::array({"k"})), Json());
}

TEST_F(CoreFunctionsTest, CacheEntryExpiresAfterItsTtl) {
  install_caller("cacher", {"cache"});
  value_of("cacher", "cache.set", Json::array({"short", "lived", 0.05}));
  value_of("cacher", "cache.set", Json::array({"long", "lived", 3600}));

  std::this_thread::sleep_for(100ms);

  EXPECT_EQ(value_of("cacher", "cache.get", Json::array({"short"})), Json());
  EXPECT_EQ(value_of("cacher", "cache.get", Json::array({"long"})), Json("lived"));
}

TEST_F(CoreFunctionsTest, CachesArePerPlugin) {
  install_caller("one", {"cache"});
  install_caller("two", {"cache"});
  value_of("one", "cache.set", Json::array({"k", 1}));
  EXPECT_EQ(value_of("two", "cache.get", Json::array({"k"})), Json());
}

TEST_F(CoreFunctionsTest, CacheRefusesAnEntryLargerThanItsByteBudget) {
  install_caller("cacher", {"cache"});  // the fixture's cache budget is 256 bytes

  CallOutcome outcome = call("cacher", "cache.set", Json::array({"big", std::string(300, 'x')}));

  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.code, "resource_exhausted");
  EXPECT_THAT(outcome.message, HasSubstr("exceeds the cache's 256-byte budget"));
  EXPECT_EQ(value_of("cacher", "cache.get", Json::array({"big"})), Json());
}

TEST_F(CoreFunctionsTest, CacheRefusesAnInvalidTtlNamingIt) {
  install_caller("cacher", {"cache"});
  for (const Json& ttl : {Json(0), Json(-1), Json("soon"), Json(1e9)}) {
    CallOutcome outcome = call("cacher", "cache.set", Json::array({"k", 1, ttl}));
    EXPECT_FALSE(outcome.ok) << ttl.dump();
    EXPECT_THAT(outcome.message, HasSubstr("argument 3 (ttlSeconds) must be a number above 0"))
        << ttl.dump();
  }
}

// --- events.emit ---

Json event_spec(const std::string& name, const Json& extra = Json::object()) {
  Json spec = {{"name", name}};
  for (const auto& [key, value] : extra.items())
    spec[key] = value;
  return spec;
}

TEST_F(CoreFunctionsTest, EmitOfAnUndeclaredEventIsRefused) {
  install_caller("emitter", {"events.emit"}, {{"events", {event_spec("mine.happened")}}});

  CallOutcome outcome = call("emitter", "events.emit", Json::array({"theirs.happened", {}}));

  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.code, "permission_denied");
  EXPECT_THAT(outcome.message,
              HasSubstr("\"theirs.happened\" is not declared in the events[] of \"emitter\""));
}

TEST_F(CoreFunctionsTest, EmitOfAClientToServerEventIsRefused) {
  install_caller("emitter", {"events.emit"},
                 {{"events", {event_spec("client.says", {{"direction", "clientToServer"}})}}});

  CallOutcome outcome = call("emitter", "events.emit", Json::array({"client.says", {}}));

  EXPECT_FALSE(outcome.ok);
  EXPECT_THAT(outcome.message, HasSubstr("direction that does not let the plugin send it"));
}

TEST_F(CoreFunctionsTest, EmitAboveMaxPayloadBytesIsRefusedWithBothSizes) {
  install_caller("emitter", {"events.emit"},
                 {{"events", {event_spec("small.event", {{"maxPayloadBytes", 16}})}}});
  Json payload = {{"text", std::string(40, 'x')}};

  CallOutcome outcome = call("emitter", "events.emit", Json::array({"small.event", payload}));

  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.code, "resource_exhausted");
  EXPECT_THAT(outcome.message, HasSubstr("is " + std::to_string(payload.dump().size()) +
                                         " bytes, over its maxPayloadBytes of 16"));
}

TEST_F(CoreFunctionsTest, EmitBreakingTheEventSchemaIsRefusedNamingTheField) {
  Json schema = {
      {"type", "object"}, {"required", {"text"}}, {"properties", {{"text", {{"type", "string"}}}}}};
  install_caller("emitter", {"events.emit"},
                 {{"events", {event_spec("typed.event", {{"schema", schema}})}}});

  CallOutcome outcome = call("emitter", "events.emit", Json::array({"typed.event", {{"text", 5}}}));

  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.code, "invalid_argument");
  EXPECT_THAT(outcome.message, HasSubstr("does not match its schema"));
  EXPECT_THAT(outcome.message, HasSubstr("payload.text"));
}

TEST_F(CoreFunctionsTest, ValidEmitReachesASubscribedPluginAndTheEmitObserver) {
  std::mutex mutex;
  std::vector<EmitRecord> emitted;
  host_->on_emit([&](const EmitRecord& record) {
    std::lock_guard lock(mutex);
    emitted.push_back(record);
  });
  auto received = std::make_shared<std::vector<Json>>();
  auto received_mutex = std::make_shared<std::mutex>();
  install(manifest("listener", {}), [received, received_mutex](NativePlugin& plugin) {
    plugin.on("greeting.sent",
              [received, received_mutex](const Json& payload, PluginContext&) -> Result<Json> {
                std::lock_guard lock(*received_mutex);
                received->push_back(payload);
                return Json();
              });
  });
  install_caller("emitter", {"events.emit"}, {{"events", {event_spec("greeting.sent")}}});

  CallOutcome outcome =
      call("emitter", "events.emit", Json::array({"greeting.sent", {{"text", "hello"}}}));
  ASSERT_TRUE(outcome.ok) << outcome.message;
  EXPECT_EQ(outcome.value, Json(true));
  host_->wait_idle();

  {
    std::lock_guard lock(*received_mutex);
    EXPECT_THAT(*received, ElementsAre(Json{{"text", "hello"}}));
  }
  std::lock_guard lock(mutex);
  ASSERT_EQ(emitted.size(), 1u);
  EXPECT_EQ(emitted[0].plugin_id, "emitter");
  EXPECT_EQ(emitted[0].event, "greeting.sent");
  EXPECT_EQ(emitted[0].payload, (Json{{"text", "hello"}}));
  EXPECT_EQ(emitted[0].depth, 1);
  EXPECT_FALSE(emitted[0].dropped);
}

TEST_F(CoreFunctionsTest, SelfLoopingEmitStopsAtDepthEightWithAWarning) {
  std::atomic<int> calls{0};
  install(manifest("looper", {"events.emit"}, {{"events", {event_spec("loop.tick")}}}),
          [&calls](NativePlugin& plugin) {
            plugin.on("loop.tick",
                      [&calls](const Json& payload, PluginContext& context) -> Result<Json> {
                        calls.fetch_add(1);
                        return context.call(
                            "events.emit",
                            Json::array({"loop.tick", {{"n", payload.value("n", 0) + 1}}}));
                      });
          });
  ASSERT_EQ(host_->status("looper")->state, PluginState::kLoaded);
  std::atomic<int> dropped{0};
  host_->on_emit([&](const EmitRecord& record) {
    if (record.dropped)
      dropped.fetch_add(1);
  });

  EXPECT_EQ(host_->notify("loop.tick", Json{{"n", 0}}), 1u);
  finishes_or_abort("wait_idle after a self-looping emit", [this] { host_->wait_idle(); });

  EXPECT_EQ(calls.load(), 8) << "delivered at depths 0 to 7";
  EXPECT_EQ(dropped.load(), 1);
  EXPECT_TRUE(has_warning("looper", "dropped emit of \"loop.tick\" at depth 8"));
  EXPECT_EQ(host_->status("looper")->state, PluginState::kLoaded);
}

TEST_F(CoreFunctionsTest, PingPongEmitsStopAtDepthEightWithAWarning) {
  std::atomic<int> pings{0};
  std::atomic<int> pongs{0};
  auto bouncer = [](std::atomic<int>& counter, std::string listens, std::string answers) {
    return [&counter, listens, answers](NativePlugin& plugin) {
      plugin.on(listens, [&counter, answers](const Json&, PluginContext& context) -> Result<Json> {
        counter.fetch_add(1);
        return context.call("events.emit", Json::array({answers, Json::object()}));
      });
    };
  };
  install(manifest("ping", {"events.emit"}, {{"events", {event_spec("ping.sent")}}}),
          bouncer(pings, "pong.sent", "ping.sent"));
  install(manifest("pong", {"events.emit"}, {{"events", {event_spec("pong.sent")}}}),
          bouncer(pongs, "ping.sent", "pong.sent"));

  host_->notify("ping.sent", Json::object());
  finishes_or_abort("wait_idle after ping-pong emits", [this] { host_->wait_idle(); });

  // pong runs at depths 0, 2, 4, 6; ping at 1, 3, 5, 7, and its emit at depth 8 is dropped.
  EXPECT_EQ(pongs.load(), 4);
  EXPECT_EQ(pings.load(), 4);
  EXPECT_TRUE(has_warning("ping", "dropped emit of \"ping.sent\" at depth 8"));
  EXPECT_FALSE(has_warning("pong", "dropped emit"));
}

TEST_F(CoreFunctionsTest, EmitToItselfMidCallIsDeliveredAfterTheCallReturns) {
  auto order = std::make_shared<std::vector<std::string>>();
  auto order_mutex = std::make_shared<std::mutex>();
  auto note = [order, order_mutex](std::string what) {
    std::lock_guard lock(*order_mutex);
    order->push_back(std::move(what));
  };
  install(manifest("selfie", {"events.emit"}, {{"events", {event_spec("selfie.poked")}}}),
          [note](NativePlugin& plugin) {
            plugin.request("poke", [note](const Json&, PluginContext& context) -> Result<Json> {
              if (Status s = context.emit("selfie.poked", Json::object()); !s.ok()) {
                return s.error();
              }
              note("emitted");
              std::this_thread::sleep_for(20ms);  // a concurrent delivery would land here
              note("request returning");
              return Json("done");
            });
            plugin.on("selfie.poked", [note](const Json&, PluginContext&) -> Result<Json> {
              note("notified");
              return Json();
            });
          });

  finishes_or_abort("a request that emits to its own plugin", [this] {
    auto answer = host_->request("selfie", "poke", Json::object());
    EXPECT_TRUE(answer.ok());
    host_->wait_idle();
  });

  std::lock_guard lock(*order_mutex);
  EXPECT_THAT(*order, ElementsAre("emitted", "request returning", "notified"));
}

// --- config.read, secrets.read ---

TEST_F(CoreFunctionsTest, ConfigGetReturnsTheValidatedConfigWithDefaultsAndSingleKeys) {
  Json schema = {{"type", "object"},
                 {"properties",
                  {{"greeting", {{"type", "string"}, {"default", "hi"}}},
                   {"count", {{"type", "integer"}, {"default", 3}}}}}};
  install_caller("configured", {"config.read"}, {{"config", schema}});

  EXPECT_EQ(value_of("configured", "config.get"), (Json{{"greeting", "hi"}, {"count", 3}}));

  ASSERT_TRUE(host_->set_config("configured", Json{{"count", 5}}).ok());
  EXPECT_EQ(value_of("configured", "config.get"), (Json{{"greeting", "hi"}, {"count", 5}}));
  EXPECT_EQ(value_of("configured", "config.get", Json::array({"count"})), Json(5));
  EXPECT_EQ(value_of("configured", "config.get", Json::array({"absent"})), Json());
}

TEST_F(CoreFunctionsTest, ConfigShorthandNeedsTheConfigReadPermission) {
  install(manifest("nosy", {"log"}), [](NativePlugin& plugin) {
    plugin.request("peek", [](const Json&, PluginContext& context) -> Result<Json> {
      return context.config();
    });
  });
  auto answer = host_->request("nosy", "peek", Json());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(answer.error().message(), HasSubstr("\"config.get\" is not available"));
}

TEST_F(CoreFunctionsTest, SecretsGetReturnsTheSecretOrNullWhenUnset) {
  install_caller("secretive", {"secrets.read"});
  ASSERT_TRUE(host_->set_secret("secretive", "token", "s3cr3t").ok());

  EXPECT_EQ(value_of("secretive", "secrets.get", Json::array({"token"})), Json("s3cr3t"));
  EXPECT_EQ(value_of("secretive", "secrets.get", Json::array({"other"})), Json());
  CallOutcome bad = call("secretive", "secrets.get", Json::array({42}));
  EXPECT_FALSE(bad.ok);
  EXPECT_THAT(bad.message, HasSubstr("argument 1 (name) must be a string"));
}

// --- log ---

TEST_F(CoreFunctionsTest, LogLinesReachTheSinkTaggedWithThePluginId) {
  install_caller("chatty", {"log"});

  value_of("chatty", "log.info", Json::array({"hello"}));
  value_of("chatty", "log.warn", Json::array({"careful"}));
  value_of("chatty", "log.error", Json::array({{{"code", 7}}}));
  value_of("chatty", "log.debug", Json::array({"details"}));

  EXPECT_THAT(log(), ElementsAre(std::make_tuple("chatty", "info", "hello"),
                                 std::make_tuple("chatty", "warn", "careful"),
                                 std::make_tuple("chatty", "error", "{\"code\":7}"),
                                 std::make_tuple("chatty", "debug", "details")));
}

TEST_F(CoreFunctionsTest, LogWithoutAMessageIsRefused) {
  install_caller("chatty", {"log"});
  CallOutcome outcome = call("chatty", "log.info");
  EXPECT_FALSE(outcome.ok);
  EXPECT_THAT(outcome.message, HasSubstr("log.info"));
  EXPECT_THAT(outcome.message, HasSubstr("argument 1 (message) is missing"));
}

TEST_F(CoreFunctionsTest, LongLogLinesAreTruncated) {
  install_caller("chatty", {"log"});
  value_of("chatty", "log.info", Json::array({std::string(20000, 'x')}));
  auto lines = log();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_THAT(std::get<2>(lines[0]), HasSubstr("(truncated)"));
  EXPECT_LT(std::get<2>(lines[0]).size(), 20000u);
}

TEST_F(CoreFunctionsTest, ContextShorthandsUseTheSameHostFunctions) {
  install(manifest("shorthand", {"log", "storage.kv"}), [](NativePlugin& plugin) {
    plugin.request("go", [](const Json&, PluginContext& context) -> Result<Json> {
      if (Status s = context.kv_set("k", Json{{"v", 1}}); !s.ok())
        return s.error();
      if (Status s = context.log("info", "stored"); !s.ok())
        return s.error();
      auto value = context.kv_get("k");
      if (!value.ok())
        return value.error();
      return Json{{"value", *value},
                  {"plugin", std::string(context.plugin_id())},
                  {"event", std::string(context.event())},
                  {"kind", std::string(hook_kind_name(context.kind()))}};
    });
  });

  auto answer = host_->request("shorthand", "go", Json());

  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  EXPECT_EQ(
      *answer,
      (Json{{"value", {{"v", 1}}}, {"plugin", "shorthand"}, {"event", "go"}, {"kind", "request"}}));
  EXPECT_THAT(log(), ElementsAre(std::make_tuple("shorthand", "info", "stored")));
}

}  // namespace
}  // namespace outlet
