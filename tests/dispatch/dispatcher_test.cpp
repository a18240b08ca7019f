// The dispatcher in isolation: a hand-written PluginInstance stands in for a runtime,
// so each test controls exactly what a plugin answers, how long it takes, and when.
#include "dispatch/dispatcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dispatch/event_catalogue.h"
#include "outlet/manifest.h"
#include "support/test_support.h"

namespace outlet {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

using outlet::testing::Gate;
using outlet::testing::kHangTimeout;

using Handler = std::function<Result<Json>(const CallContext&, const Json&)>;

// A plugin whose behaviour is one function; counts the calls it receives.
class FakeInstance : public PluginInstance {
 public:
  FakeInstance(std::vector<Subscription> subscriptions, Handler handler,
               std::shared_ptr<std::atomic<int>> calls)
      : subscriptions_(std::move(subscriptions)),
        handler_(std::move(handler)),
        calls_(std::move(calls)) {}

  std::vector<Subscription> subscriptions() const override { return subscriptions_; }

  Result<Json> call(const CallContext& context, const Json& payload) override {
    calls_->fetch_add(1);
    return handler_(context, payload);
  }

 private:
  std::vector<Subscription> subscriptions_;
  Handler handler_;
  std::shared_ptr<std::atomic<int>> calls_;
};

Handler returns(Json value) {
  return [value](const CallContext&, const Json&) -> Result<Json> { return value; };
}

Handler fails(std::string message) {
  return [message](const CallContext&, const Json&) -> Result<Json> {
    return Error(ErrorCode::kPluginError, message);
  };
}

Json modify(Json payload) {
  return Json{{"action", "modify"}, {"payload", std::move(payload)}};
}
Json drop(std::string reason) {
  return Json{{"action", "drop"}, {"reason", std::move(reason)}};
}

class DispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }

  // Replaces the dispatcher (and every attached plugin) with one using `options`.
  void start(DispatchOptions options) {
    dispatcher_.reset();
    options.timeout_ms = relaxed(options.timeout_ms);
    dispatcher_ = std::make_unique<Dispatcher>(
        catalogue_, options,
        DispatchObservers{
            [this](const std::string& id, const std::string& reason) {
              std::lock_guard lock(mutex_);
              disabled_.push_back({id, reason});
            },
            [this](const std::string& id, const std::string& hook, const std::string& message) {
              std::lock_guard lock(mutex_);
              warnings_.push_back(id + " | " + hook + " | " + message);
            }});
  }

  // Raises every timeout a test left at its default to 10 s: the defaults (50 ms for
  // filters) are too tight for a loaded machine, and only timeout tests want them.
  static std::array<uint32_t, 5> relaxed(std::array<uint32_t, 5> timeouts) {
    DispatchOptions defaults;
    for (size_t i = 0; i < timeouts.size(); ++i) {
      if (timeouts[i] == defaults.timeout_ms[i])
        timeouts[i] = 10'000;
    }
    return timeouts;
  }

  std::shared_ptr<std::atomic<int>> attach(const std::string& id,
                                           std::vector<Subscription> subscriptions, Handler handler,
                                           int load_index = 0, ManifestLimits limits = {}) {
    auto manifest = std::make_shared<Manifest>();
    manifest->id = id;
    manifest->limits = std::move(limits);
    auto calls = std::make_shared<std::atomic<int>>(0);
    auto instance = std::make_unique<FakeInstance>(subscriptions, std::move(handler), calls);
    Status attached = dispatcher_->attach(std::move(manifest), std::move(instance),
                                          std::move(subscriptions), load_index);
    EXPECT_TRUE(attached.ok()) << attached.error().to_string();
    return calls;
  }

  std::vector<std::pair<std::string, std::string>> disabled() {
    std::lock_guard lock(mutex_);
    return disabled_;
  }

  EventCatalogue catalogue_;
  std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> disabled_;  // guarded by mutex_
  std::vector<std::string> warnings_;                          // guarded by mutex_
  std::unique_ptr<Dispatcher> dispatcher_;  // last: destroyed before what it reports to
};

Subscription filter_on(std::string event, int priority = 100) {
  return {HookKind::kFilter, std::move(event), priority};
}
Subscription on(HookKind kind, std::string event) {
  return {kind, std::move(event), 100};
}

std::vector<std::string> step_ids(const FilterOutcome& outcome) {
  std::vector<std::string> ids;
  for (const FilterStep& step : outcome.steps)
    ids.push_back(step.plugin_id);
  return ids;
}

// --- Filter chains ---

TEST_F(DispatcherTest, FilterChainRunsByPriorityThenPluginId) {
  std::mutex order_mutex;
  std::vector<std::string> order;
  auto recorder = [&](std::string id) -> Handler {
    return [&, id](const CallContext&, const Json&) -> Result<Json> {
      std::lock_guard lock(order_mutex);
      order.push_back(id);
      return Json();
    };
  };
  // Load order deliberately disagrees with both priority and id.
  attach("charlie", {filter_on("msg", 10)}, recorder("charlie"), 0);
  attach("bravo", {filter_on("msg", 5)}, recorder("bravo"), 1);
  attach("alpha", {filter_on("msg", 10)}, recorder("alpha"), 2);
  attach("delta", {filter_on("msg", 5)}, recorder("delta"), 3);

  FilterOutcome outcome = dispatcher_->filter("msg", Json{{"text", "hi"}});

  EXPECT_THAT(order, ElementsAre("bravo", "delta", "alpha", "charlie"));
  EXPECT_THAT(step_ids(outcome), ElementsAre("bravo", "delta", "alpha", "charlie"));
  EXPECT_THAT(dispatcher_->subscribers("msg", HookKind::kFilter),
              ElementsAre("bravo", "delta", "alpha", "charlie"));
}

TEST_F(DispatcherTest, FilterStepsRecordPassModifyAndDropAndDropEndsTheChain) {
  attach("a-null", {filter_on("msg", 1)}, returns(Json()));
  attach("b-pass", {filter_on("msg", 2)}, returns(Json{{"action", "pass"}}));
  attach("c-modify", {filter_on("msg", 3)}, returns(modify(Json{{"text", "clean"}})));
  attach("d-drop", {filter_on("msg", 4)}, returns(drop("spam")));
  auto after_drop = attach("e-after", {filter_on("msg", 5)}, returns(Json()));

  FilterOutcome outcome = dispatcher_->filter("msg", Json{{"text", "dirty"}});

  ASSERT_EQ(outcome.steps.size(), 4u);
  EXPECT_EQ(outcome.steps[0].action, FilterAction::kPass);
  EXPECT_EQ(outcome.steps[1].action, FilterAction::kPass);
  EXPECT_EQ(outcome.steps[2].action, FilterAction::kModify);
  EXPECT_EQ(outcome.steps[3].action, FilterAction::kDrop);
  EXPECT_EQ(outcome.steps[3].detail, "spam");
  EXPECT_TRUE(outcome.dropped);
  EXPECT_EQ(outcome.dropped_by, "d-drop");
  EXPECT_EQ(outcome.reason, "spam");
  EXPECT_EQ(after_drop->load(), 0) << "a drop must end the chain";
}

TEST_F(DispatcherTest, FilterWithOnlyPassesKeepsThePayloadAndIsNotDropped) {
  attach("a", {filter_on("msg")}, returns(Json{{"action", "pass"}}));
  FilterOutcome outcome = dispatcher_->filter("msg", Json{{"text", "hello"}});
  EXPECT_FALSE(outcome.dropped);
  EXPECT_EQ(outcome.payload, (Json{{"text", "hello"}}));
  EXPECT_THAT(step_ids(outcome), ElementsAre("a"));
}

TEST_F(DispatcherTest, FilterOnAnEventWithoutSubscribersReturnsThePayloadUntouched) {
  FilterOutcome outcome = dispatcher_->filter("nobody.listens", Json{{"x", 1}});
  EXPECT_FALSE(outcome.dropped);
  EXPECT_TRUE(outcome.steps.empty());
  EXPECT_EQ(outcome.payload, (Json{{"x", 1}}));
}

TEST_F(DispatcherTest, ModifyPassesTheNewPayloadToTheNextFilter) {
  attach("first", {filter_on("msg", 1)},
         [](const CallContext&, const Json& payload) -> Result<Json> {
           return modify(Json{{"text", payload["text"].get<std::string>() + " one"}});
         });
  Json seen_by_second;
  attach("second", {filter_on("msg", 2)},
         [&](const CallContext&, const Json& payload) -> Result<Json> {
           seen_by_second = payload;
           return modify(Json{{"text", payload["text"].get<std::string>() + " two"}});
         });

  FilterOutcome outcome = dispatcher_->filter("msg", Json{{"text", "zero"}});

  EXPECT_EQ(seen_by_second, (Json{{"text", "zero one"}}));
  EXPECT_EQ(outcome.payload, (Json{{"text", "zero one two"}}));
  EXPECT_FALSE(outcome.dropped);
}

TEST_F(DispatcherTest, FailingFilterFailsOpenKeepsPayloadAndMarksTheStepFailed) {
  attach("broken", {filter_on("msg", 1)}, fails("boom: index out of range"));
  Json seen_by_next;
  attach("next", {filter_on("msg", 2)},
         [&](const CallContext&, const Json& payload) -> Result<Json> {
           seen_by_next = payload;
           return Json();
         });

  FilterOutcome outcome = dispatcher_->filter("msg", Json{{"text", "hi"}});

  EXPECT_FALSE(outcome.dropped);
  EXPECT_EQ(outcome.payload, (Json{{"text", "hi"}}));
  EXPECT_EQ(seen_by_next, (Json{{"text", "hi"}}));
  ASSERT_EQ(outcome.steps.size(), 2u);
  EXPECT_EQ(outcome.steps[0].plugin_id, "broken");
  EXPECT_EQ(outcome.steps[0].action, FilterAction::kFailed);
  EXPECT_THAT(outcome.steps[0].detail, HasSubstr("boom: index out of range"));
  EXPECT_EQ(outcome.steps[1].action, FilterAction::kPass);
  auto stats = dispatcher_->stats("broken");
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->strikes, 1u);
}

TEST_F(DispatcherTest, FilterThatThrowsFailsOpenWithTheExceptionMessage) {
  attach("thrower", {filter_on("msg")}, [](const CallContext&, const Json&) -> Result<Json> {
    throw std::runtime_error("kaboom");
  });
  FilterOutcome outcome = dispatcher_->filter("msg", Json{{"text", "hi"}});
  EXPECT_EQ(outcome.payload, (Json{{"text", "hi"}}));
  ASSERT_EQ(outcome.steps.size(), 1u);
  EXPECT_EQ(outcome.steps[0].action, FilterAction::kFailed);
  EXPECT_THAT(outcome.steps[0].detail, HasSubstr("kaboom"));
}

struct GarbageCase {
  const char* name;
  Json verdict;
  const char* phrase;
};

class GarbageVerdictTest : public DispatcherTest,
                           public ::testing::WithParamInterface<GarbageCase> {};

TEST_P(GarbageVerdictTest, FailsOpenWithAMessageSayingWhatWasWrong) {
  attach("garbage", {filter_on("msg")}, returns(GetParam().verdict));

  FilterOutcome outcome = dispatcher_->filter("msg", Json{{"text", "hi"}});

  EXPECT_FALSE(outcome.dropped);
  EXPECT_EQ(outcome.payload, (Json{{"text", "hi"}}));
  ASSERT_EQ(outcome.steps.size(), 1u);
  EXPECT_EQ(outcome.steps[0].action, FilterAction::kFailed);
  EXPECT_THAT(outcome.steps[0].detail, HasSubstr(GetParam().phrase));
  EXPECT_THAT(outcome.steps[0].detail, HasSubstr("expected nothing, {action:\"pass\"}"));
  EXPECT_EQ(dispatcher_->stats("garbage")->strikes, 1u);
}

INSTANTIATE_TEST_SUITE_P(
    Verdicts, GarbageVerdictTest,
    ::testing::Values(GarbageCase{"Number", Json(42), "not an object"},
                      GarbageCase{"UnknownAction", Json{{"action", "explode"}},
                                  "unknown action \"explode\""},
                      GarbageCase{"ModifyWithoutPayload", Json{{"action", "modify"}},
                                  "\"modify\" without \"payload\""},
                      GarbageCase{"NoAction", Json{{"verdict", "pass"}}, "no \"action\" string"},
                      GarbageCase{"DropWithNumericReason", Json{{"action", "drop"}, {"reason", 7}},
                                  "\"reason\" is not a string"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(DispatcherTest, ModifyThatBreaksTheEventSchemaFailsOpenNamingTheField) {
  ASSERT_TRUE(catalogue_
                  .declare({"chat.message",
                            {HookKind::kFilter},
                            Json{{"type", "object"},
                                 {"required", {"text"}},
                                 {"properties", {{"text", {{"type", "string"}}}}}}})
                  .ok());
  attach("breaker", {filter_on("chat.message", 1)}, returns(modify(Json{{"text", 5}})));
  Json seen_by_next;
  attach("next", {filter_on("chat.message", 2)},
         [&](const CallContext&, const Json& payload) -> Result<Json> {
           seen_by_next = payload;
           return Json();
         });

  FilterOutcome outcome = dispatcher_->filter("chat.message", Json{{"text", "hi"}});

  EXPECT_EQ(outcome.payload, (Json{{"text", "hi"}}));
  EXPECT_EQ(seen_by_next, (Json{{"text", "hi"}}));
  ASSERT_EQ(outcome.steps.size(), 2u);
  EXPECT_EQ(outcome.steps[0].action, FilterAction::kFailed);
  EXPECT_THAT(outcome.steps[0].detail, HasSubstr("breaks the schema of chat.message"));
  EXPECT_THAT(outcome.steps[0].detail, HasSubstr("text"));
  EXPECT_EQ(dispatcher_->stats("breaker")->strikes, 1u);
}

// --- Timeouts ---

Handler sleeps_then_passes(std::chrono::milliseconds duration) {
  return [duration](const CallContext&, const Json&) -> Result<Json> {
    std::this_thread::sleep_for(duration);
    return Json();
  };
}

TEST_F(DispatcherTest, CallPastItsTimeoutFailsWithADeadlineMessageAndCountsAStrike) {
  DispatchOptions options;
  options.timeout_ms[static_cast<size_t>(HookKind::kFilter)] = 20;
  start(options);
  attach("slow", {filter_on("msg")}, sleeps_then_passes(60ms));

  FilterOutcome outcome = dispatcher_->filter("msg", Json{{"text", "hi"}});

  EXPECT_EQ(outcome.payload, (Json{{"text", "hi"}}));
  ASSERT_EQ(outcome.steps.size(), 1u);
  EXPECT_EQ(outcome.steps[0].action, FilterAction::kFailed);
  EXPECT_THAT(outcome.steps[0].detail, HasSubstr("over the 20 ms limit for filter hooks"));
  auto stats = dispatcher_->stats("slow");
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->strikes, 1u);
  EXPECT_EQ(stats->consecutive_failures, 1u);
  EXPECT_EQ(stats->by_kind[static_cast<size_t>(HookKind::kFilter)].timeouts, 1u);
}

TEST_F(DispatcherTest, ManifestTimeoutLowersTheHostTimeout) {
  ManifestLimits limits;
  limits.timeout_ms[HookKind::kFilter] = 20;  // host allows 10 s in this fixture
  attach("strict", {filter_on("msg")}, sleeps_then_passes(60ms), 0, limits);

  FilterOutcome outcome = dispatcher_->filter("msg", Json{{"text", "hi"}});

  ASSERT_EQ(outcome.steps.size(), 1u);
  EXPECT_EQ(outcome.steps[0].action, FilterAction::kFailed);
  EXPECT_THAT(outcome.steps[0].detail, HasSubstr("over the 20 ms limit"));
}

TEST_F(DispatcherTest, ManifestTimeoutCannotRaiseTheHostTimeout) {
  DispatchOptions options;
  options.timeout_ms[static_cast<size_t>(HookKind::kFilter)] = 20;
  start(options);
  ManifestLimits limits;
  limits.timeout_ms[HookKind::kFilter] = 60'000;
  attach("greedy", {filter_on("msg")}, sleeps_then_passes(60ms), 0, limits);

  FilterOutcome outcome = dispatcher_->filter("msg", Json{{"text", "hi"}});

  ASSERT_EQ(outcome.steps.size(), 1u);
  EXPECT_EQ(outcome.steps[0].action, FilterAction::kFailed);
  EXPECT_THAT(outcome.steps[0].detail, HasSubstr("over the 20 ms limit"));
}

TEST_F(DispatcherTest, TimeWaitingForAnotherCallIntoThePluginIsNotChargedToTheCall) {
  // A notify may legally run for longer than a filter's limit; a filter that waits
  // for it (calls into one plugin are serialized) must not time out because of it.
  DispatchOptions options;
  options.timeout_ms[static_cast<size_t>(HookKind::kFilter)] = 250;
  start(options);
  Gate entered;
  Gate release;
  attach("busy", {on(HookKind::kNotify, "evt"), filter_on("evt")},
         [&](const CallContext& context, const Json&) -> Result<Json> {
           if (context.kind == HookKind::kNotify) {
             entered.open();
             release.wait();
           }
           return Json();
         });
  dispatcher_->notify("evt", Json::object());
  ASSERT_TRUE(entered.wait());

  std::thread releaser([&] {
    std::this_thread::sleep_for(600ms);  // the filter below waits for this long
    release.open();
  });
  FilterOutcome outcome = dispatcher_->filter("evt", Json{{"x", 1}});
  releaser.join();
  dispatcher_->wait_idle();

  ASSERT_EQ(outcome.steps.size(), 1u);
  EXPECT_EQ(outcome.steps[0].action, FilterAction::kPass) << outcome.steps[0].detail;
  EXPECT_EQ(dispatcher_->stats("busy")->strikes, 0u);
}

// --- Strikes, on every hook kind ---

class StrikesTest : public DispatcherTest, public ::testing::WithParamInterface<HookKind> {
 protected:
  void SetUp() override {
    DispatchOptions options;
    options.strike_limit = 3;
    start(options);
  }

  // Delivers one event to "victim" through the hook kind under test.
  void deliver() {
    switch (GetParam()) {
      case HookKind::kNotify:
        dispatcher_->notify("evt", Json::object());
        dispatcher_->wait_idle();
        break;
      case HookKind::kFilter:
        (void)dispatcher_->filter("evt", Json::object());
        break;
      case HookKind::kCollect:
        (void)dispatcher_->collect("evt", Json::object());
        break;
      case HookKind::kDispatch:
        (void)dispatcher_->dispatch("evt", Json::object());
        break;
      case HookKind::kRequest:
        (void)dispatcher_->request("victim", "evt", Json::object());
        break;
    }
  }

  // A plugin that fails unless `succeed_next` is set; each failure is numbered.
  std::shared_ptr<std::atomic<int>> attach_victim() {
    return attach(
        "victim", {on(GetParam(), "evt")}, [this](const CallContext&, const Json&) -> Result<Json> {
          if (succeed_next_.exchange(false))
            return Json();
          return Error(ErrorCode::kPluginError, "failure #" + std::to_string(++failures_));
        });
  }

  std::atomic<bool> succeed_next_{false};
  std::atomic<int> failures_{0};
};

TEST_P(StrikesTest, ConsecutiveFailuresAutoDisableOnceNamingTheLastError) {
  auto calls = attach_victim();
  deliver();
  deliver();
  EXPECT_TRUE(disabled().empty()) << "two failures are under the limit of three";
  deliver();

  auto events = disabled();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first, "victim");
  EXPECT_THAT(events[0].second, HasSubstr("auto-disabled after 3 consecutive failures"));
  EXPECT_THAT(events[0].second, HasSubstr("failure #3"));
  EXPECT_THAT(events[0].second, HasSubstr(std::string(hook_kind_name(GetParam())) + " evt"));

  // A disabled plugin gets no more calls, and is not disabled twice.
  deliver();
  deliver();
  EXPECT_EQ(calls->load(), 3);
  EXPECT_EQ(disabled().size(), 1u);
}

TEST_P(StrikesTest, ASuccessResetsTheConsecutiveCount) {
  auto calls = attach_victim();
  deliver();
  deliver();
  succeed_next_ = true;
  deliver();
  deliver();
  deliver();
  EXPECT_TRUE(disabled().empty()) << "the success in the middle must reset the count";
  auto stats = dispatcher_->stats("victim");
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->consecutive_failures, 2u);
  EXPECT_EQ(stats->strikes, 4u);

  deliver();
  EXPECT_EQ(disabled().size(), 1u);
  EXPECT_EQ(calls->load(), 6);
}

INSTANTIATE_TEST_SUITE_P(EveryHookKind, StrikesTest,
                         ::testing::Values(HookKind::kNotify, HookKind::kFilter, HookKind::kCollect,
                                           HookKind::kDispatch, HookKind::kRequest),
                         [](const auto& info) { return std::string(hook_kind_name(info.param)); });

TEST_F(DispatcherTest, RequestToAnAutoDisabledPluginSaysItIsDisabled) {
  DispatchOptions options;
  options.strike_limit = 1;
  start(options);
  attach("victim", {on(HookKind::kRequest, "evt")}, fails("nope"));
  ASSERT_FALSE(dispatcher_->request("victim", "evt", Json()).ok());

  auto again = dispatcher_->request("victim", "evt", Json());
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.error().message(), HasSubstr("disabled"));
}

TEST_F(DispatcherTest, AnAutoDisabledPluginStaysAttachedButIsNotActive) {
  DispatchOptions options;
  options.strike_limit = 1;
  start(options);
  attach("victim", {on(HookKind::kRequest, "evt")}, fails("nope"));
  EXPECT_TRUE(dispatcher_->is_active("victim"));
  ASSERT_FALSE(dispatcher_->request("victim", "evt", Json()).ok());
  // The host detaches it; until then the dispatcher reports it attached, not active,
  // which is how the host tells a stale strike report from a fresh instance.
  EXPECT_TRUE(dispatcher_->is_attached("victim"));
  EXPECT_FALSE(dispatcher_->is_active("victim"));
  EXPECT_FALSE(dispatcher_->is_active("never-attached"));
}

TEST_F(DispatcherTest, DisabledFilterIsSkippedWithoutAStep) {
  DispatchOptions options;
  options.strike_limit = 1;
  start(options);
  auto calls = attach("victim", {filter_on("msg")}, fails("nope"));
  (void)dispatcher_->filter("msg", Json::object());

  FilterOutcome outcome = dispatcher_->filter("msg", Json{{"a", 1}});
  EXPECT_TRUE(outcome.steps.empty());
  EXPECT_EQ(outcome.payload, (Json{{"a", 1}}));
  EXPECT_EQ(calls->load(), 1);
}

// --- Notify ---

TEST_F(DispatcherTest, NotifyRunsOnAWorkerIgnoresTheReturnAndWaitIdleWaits) {
  const auto caller = std::this_thread::get_id();
  std::atomic<bool> on_worker{false};
  std::atomic<bool> finished{false};
  attach("listener", {on(HookKind::kNotify, "evt")},
         [&](const CallContext&, const Json&) -> Result<Json> {
           on_worker = std::this_thread::get_id() != caller;
           std::this_thread::sleep_for(30ms);
           finished = true;
           return Json{{"action", "explode"}};  // ignored: notify has no answer
         });

  EXPECT_EQ(dispatcher_->notify("evt", Json::object()), 1u);
  dispatcher_->wait_idle();

  EXPECT_TRUE(finished);
  EXPECT_TRUE(on_worker);
  auto stats = dispatcher_->stats("listener");
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->by_kind[static_cast<size_t>(HookKind::kNotify)].calls, 1u);
  EXPECT_EQ(stats->by_kind[static_cast<size_t>(HookKind::kNotify)].failures, 0u);
}

TEST_F(DispatcherTest, NotifyReturnsHowManySubscribersWereQueued) {
  attach("one", {on(HookKind::kNotify, "evt")}, returns(Json()));
  attach("two", {on(HookKind::kNotify, "evt")}, returns(Json()));
  attach("other", {on(HookKind::kNotify, "different")}, returns(Json()));
  EXPECT_EQ(dispatcher_->notify("evt", Json::object()), 2u);
  EXPECT_EQ(dispatcher_->notify("nobody", Json::object()), 0u);
  dispatcher_->wait_idle();
}

TEST_F(DispatcherTest, NotifyAtOrPastTheMaxEmitDepthQueuesNothing) {
  std::atomic<int> seen_depth{-1};
  auto calls = attach("listener", {on(HookKind::kNotify, "evt")},
                      [&](const CallContext& context, const Json&) -> Result<Json> {
                        seen_depth = context.depth;
                        return Json();
                      });
  ASSERT_EQ(dispatcher_->max_emit_depth(), 8);

  EXPECT_EQ(dispatcher_->notify("evt", Json::object(), 8), 0u);
  EXPECT_EQ(dispatcher_->notify("evt", Json::object(), 9), 0u);
  dispatcher_->wait_idle();
  EXPECT_EQ(calls->load(), 0);

  EXPECT_EQ(dispatcher_->notify("evt", Json::object(), 7), 1u);
  dispatcher_->wait_idle();
  EXPECT_EQ(calls->load(), 1);
  EXPECT_EQ(seen_depth.load(), 7);
}

// --- Concurrency ---

TEST_F(DispatcherTest, CallsIntoOnePluginNeverOverlap) {
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  auto calls = attach("serial", {on(HookKind::kNotify, "evt"), filter_on("evt")},
                      [&](const CallContext&, const Json&) -> Result<Json> {
                        if (inside.fetch_add(1) != 0)
                          overlapped = true;
                        std::this_thread::sleep_for(50us);
                        inside.fetch_sub(1);
                        return Json();
                      });

  constexpr int kNotifies = 200;
  constexpr int kFiltersPerThread = 100;
  auto filter_many = [&] {
    for (int i = 0; i < kFiltersPerThread; ++i)
      (void)dispatcher_->filter("evt", Json{{"i", i}});
  };
  std::thread notifier([&] {
    for (int i = 0; i < kNotifies; ++i)
      dispatcher_->notify("evt", Json{{"i", i}});
  });
  std::thread filter_a(filter_many);
  std::thread filter_b(filter_many);
  notifier.join();
  filter_a.join();
  filter_b.join();
  dispatcher_->wait_idle();

  EXPECT_FALSE(overlapped) << "two calls were inside the same plugin at once";
  EXPECT_EQ(calls->load(), kNotifies + 2 * kFiltersPerThread);
}

TEST_F(DispatcherTest, TwoPluginsRunConcurrently) {
  // Each plugin waits inside its call until the other is inside too: this only
  // completes if the dispatcher runs the two plugins at the same time.
  std::mutex mutex;
  std::condition_variable cv;
  int inside = 0;
  std::atomic<int> met{0};
  auto rendezvous = [&](const CallContext&, const Json&) -> Result<Json> {
    std::unique_lock lock(mutex);
    ++inside;
    cv.notify_all();
    if (cv.wait_for(lock, kHangTimeout, [&] { return inside >= 2; }))
      met.fetch_add(1);
    return Json();
  };
  attach("left", {on(HookKind::kNotify, "evt")}, rendezvous, 0);
  attach("right", {on(HookKind::kNotify, "evt")}, rendezvous, 1);

  EXPECT_EQ(dispatcher_->notify("evt", Json::object()), 2u);
  dispatcher_->wait_idle();

  EXPECT_EQ(met.load(), 2) << "the two plugins never ran at the same time";
}

TEST_F(DispatcherTest, TwoPluginsFilterFromTwoThreadsConcurrently) {
  std::mutex mutex;
  std::condition_variable cv;
  int inside = 0;
  std::atomic<int> met{0};
  auto rendezvous = [&](const CallContext&, const Json&) -> Result<Json> {
    std::unique_lock lock(mutex);
    ++inside;
    cv.notify_all();
    if (cv.wait_for(lock, kHangTimeout, [&] { return inside >= 2; }))
      met.fetch_add(1);
    return Json();
  };
  attach("left", {filter_on("left.evt")}, rendezvous);
  attach("right", {filter_on("right.evt")}, rendezvous);

  std::thread other([&] { (void)dispatcher_->filter("right.evt", Json::object()); });
  (void)dispatcher_->filter("left.evt", Json::object());
  other.join();

  EXPECT_EQ(met.load(), 2);
}

// --- Collect, dispatch, request ---

TEST_F(DispatcherTest, CollectReturnsContributionsInLoadOrderSkippingNullAndFailed) {
  attach("zulu", {on(HookKind::kCollect, "tabs")}, returns(Json{{"tab", "zulu"}}), 0);
  attach("yankee", {on(HookKind::kCollect, "tabs")}, returns(Json()), 1);
  attach("alpha", {on(HookKind::kCollect, "tabs")}, returns(Json::array({"a1", "a2"})), 2);
  attach("broken", {on(HookKind::kCollect, "tabs")}, fails("cannot render"), 3);
  attach("mike", {on(HookKind::kCollect, "tabs")}, returns(Json("m")), 4);

  std::vector<Contribution> contributions = dispatcher_->collect("tabs", Json::object());

  ASSERT_EQ(contributions.size(), 3u);
  EXPECT_EQ(contributions[0].plugin_id, "zulu");
  EXPECT_EQ(contributions[0].value, (Json{{"tab", "zulu"}}));
  EXPECT_EQ(contributions[1].plugin_id, "alpha");
  EXPECT_EQ(contributions[1].value, Json::array({"a1", "a2"}));
  EXPECT_EQ(contributions[2].plugin_id, "mike");
  EXPECT_EQ(dispatcher_->stats("broken")->strikes, 1u);
}

TEST_F(DispatcherTest, DispatchMergesResultsOrBooleansConcatArraysFirstScalarWins) {
  attach("first", {on(HookKind::kDispatch, "key")},
         returns(Json{{"consume", false}, {"actions", {"a"}}, {"flash", "one"}}), 0);
  attach("quiet", {on(HookKind::kDispatch, "key")}, returns(Json()), 1);
  attach("second", {on(HookKind::kDispatch, "key")},
         returns(Json{{"consume", true}, {"actions", {"b", "c"}}, {"flash", "two"}}), 2);

  DispatchOutcome outcome = dispatcher_->dispatch("key", Json{{"key", "q"}});

  EXPECT_EQ(outcome.merged,
            (Json{{"consume", true}, {"actions", {"a", "b", "c"}}, {"flash", "one"}}));
  ASSERT_EQ(outcome.results.size(), 2u);
  EXPECT_EQ(outcome.results[0].plugin_id, "first");
  EXPECT_EQ(outcome.results[1].plugin_id, "second");
}

TEST_F(DispatcherTest, DispatchHandlerReturningANonObjectIsAFailure) {
  attach("odd", {on(HookKind::kDispatch, "key")}, returns(Json(17)));
  DispatchOutcome outcome = dispatcher_->dispatch("key", Json::object());
  EXPECT_TRUE(outcome.results.empty());
  EXPECT_EQ(outcome.merged, Json::object());
  EXPECT_EQ(dispatcher_->stats("odd")->strikes, 1u);
  std::lock_guard lock(mutex_);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_THAT(warnings_[0], HasSubstr("expected an object or nothing"));
}

TEST_F(DispatcherTest, RequestCallsOnlyTheNamedPlugin) {
  auto asked = attach("asked", {on(HookKind::kRequest, "route")},
                      [](const CallContext& context, const Json& payload) -> Result<Json> {
                        return Json{{"from", std::string(context.plugin_id)}, {"echo", payload}};
                      });
  auto bystander = attach("bystander", {on(HookKind::kRequest, "route")}, returns(Json("no")));

  auto answer = dispatcher_->request("asked", "route", Json{{"q", 1}});

  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  EXPECT_EQ(*answer, (Json{{"from", "asked"}, {"echo", {{"q", 1}}}}));
  EXPECT_EQ(asked->load(), 1);
  EXPECT_EQ(bystander->load(), 0);
}

TEST_F(DispatcherTest, RequestToAnUnknownPluginIsNotFound) {
  auto answer = dispatcher_->request("ghost", "route", Json());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(answer.error().message(), HasSubstr("\"ghost\" is not loaded"));
}

TEST_F(DispatcherTest, RequestWithoutAHandlerIsNotFoundAndNoStrike) {
  auto calls = attach("plugin", {on(HookKind::kNotify, "route")}, returns(Json()));
  auto answer = dispatcher_->request("plugin", "route", Json());
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(answer.error().message(), HasSubstr("has no request handler for \"route\""));
  EXPECT_EQ(calls->load(), 0);
  EXPECT_EQ(dispatcher_->stats("plugin")->strikes, 0u);
}

// --- Attach and detach ---

TEST_F(DispatcherTest, AttachingTheSameIdTwiceIsRefused) {
  attach("dup", {on(HookKind::kNotify, "evt")}, returns(Json()));
  auto manifest = std::make_shared<Manifest>();
  manifest->id = "dup";
  Status again = dispatcher_->attach(
      manifest,
      std::make_unique<FakeInstance>(std::vector<Subscription>{}, returns(Json()),
                                     std::make_shared<std::atomic<int>>(0)),
      {}, 1);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_THAT(again.error().message(), HasSubstr("already attached"));
}

TEST_F(DispatcherTest, DetachWaitsForTheCallInFlightAndDropsQueuedNotifications) {
  Gate entered;
  Gate release;
  std::atomic<bool> finished{false};
  auto calls = attach("busy", {on(HookKind::kNotify, "evt")},
                      [&](const CallContext&, const Json&) -> Result<Json> {
                        entered.open();
                        release.wait();
                        finished = true;
                        return Json();
                      });
  ASSERT_EQ(dispatcher_->notify("evt", Json::object()), 1u);
  ASSERT_TRUE(entered.wait());
  for (int i = 0; i < 5; ++i)
    dispatcher_->notify("evt", Json::object());

  std::atomic<bool> detached{false};
  std::atomic<bool> finished_when_detached{false};
  std::thread detacher([&] {
    dispatcher_->detach("busy");
    finished_when_detached = finished.load();
    detached = true;
  });
  std::this_thread::sleep_for(50ms);  // give a broken detach the chance to return early
  EXPECT_FALSE(detached) << "detach returned while a call was still running";
  release.open();
  detacher.join();
  dispatcher_->wait_idle();

  EXPECT_TRUE(finished_when_detached);
  EXPECT_EQ(calls->load(), 1) << "queued notifications must be dropped on detach";
  EXPECT_FALSE(dispatcher_->is_attached("busy"));
  EXPECT_FALSE(dispatcher_->stats("busy").has_value());
  EXPECT_EQ(dispatcher_->notify("evt", Json::object()), 0u);
}

// --- Stats ---

TEST_F(DispatcherTest, StatsCountCallsFailuresAndTimeoutsPerHookKind) {
  DispatchOptions options;
  options.timeout_ms[static_cast<size_t>(HookKind::kFilter)] = 200;
  start(options);
  std::atomic<int> turn{0};
  attach("counted", {filter_on("msg"), on(HookKind::kCollect, "msg")},
         [&](const CallContext& context, const Json&) -> Result<Json> {
           if (context.kind == HookKind::kCollect)
             return Json(1);
           switch (turn++) {
             case 0:
               return Error(ErrorCode::kPluginError, "bad");
             case 1:
               std::this_thread::sleep_for(400ms);
               return Json();
             default:
               return Json();
           }
         });

  for (int i = 0; i < 5; ++i)
    (void)dispatcher_->filter("msg", Json::object());
  (void)dispatcher_->collect("msg", Json::object());

  auto stats = dispatcher_->stats("counted");
  ASSERT_TRUE(stats.has_value());
  const HookStats& filter = stats->by_kind[static_cast<size_t>(HookKind::kFilter)];
  EXPECT_EQ(filter.calls, 5u);
  EXPECT_EQ(filter.failures, 2u);
  EXPECT_EQ(filter.timeouts, 1u);
  EXPECT_GT(filter.max_us, 0.0);
  const HookStats& collect = stats->by_kind[static_cast<size_t>(HookKind::kCollect)];
  EXPECT_EQ(collect.calls, 1u);
  EXPECT_EQ(collect.failures, 0u);
  EXPECT_EQ(stats->strikes, 2u);
  EXPECT_EQ(stats->consecutive_failures, 0u);
  EXPECT_EQ(stats->by_kind[static_cast<size_t>(HookKind::kNotify)].calls, 0u);
}

TEST_F(DispatcherTest, StatsOfAnUnknownPluginAreAbsent) {
  EXPECT_FALSE(dispatcher_->stats("nobody").has_value());
}

}  // namespace
}  // namespace outlet
