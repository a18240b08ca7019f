// Abuse across calls and across the plugin's life: strikes that auto-disable a
// plugin that keeps failing, loading that never ends, and finalizers that would
// hang the host when the plugin is unloaded.
#include "security/lua/lua_security_fixture.h"

namespace outlet::lua_security {
namespace {

TEST_F(LuaSecurityTest, AFilterThatAlwaysErrorsIsAutoDisabledAfterFiveStrikes) {
  ASSERT_NO_FATAL_FAILURE(install_hostile("error('hostile: fails on purpose')"));
  for (int i = 1; i <= 5; ++i) {
    Attempt attack = filter_attack();
    expect_failed(attack, ErrorCode::kPluginError, HasSubstr("hostile: fails on purpose"));
    if (i < 5) {
      EXPECT_EQ(host_->status("hostile")->state, PluginState::kLoaded) << "after " << i;
      expect_neighbour_answers();
    }
  }
  auto status = host_->status("hostile");
  EXPECT_EQ(status->state, PluginState::kFailed);
  EXPECT_FALSE(status->enabled);
  EXPECT_THAT(status->reason,
              ::testing::AllOf(HasSubstr("auto-disabled after 5 consecutive failures"),
                               HasSubstr("hostile: fails on purpose")));
  // The disabled plugin is skipped; the chain and the neighbour go on.
  FilterOutcome outcome = host_->filter("chat.message.received", chat_message("attack"));
  for (const FilterStep& step : outcome.steps)
    EXPECT_NE(step.plugin_id, "hostile");
  EXPECT_FALSE(host_->request("hostile", "chat.trigger", {{"body", "ping"}}).ok());
  expect_neighbour_works();
  // Re-enabling loads a fresh instance with a clean record.
  ASSERT_TRUE(host_->enable("hostile").ok());
  EXPECT_EQ(host_->status("hostile")->state, PluginState::kLoaded);
  expect_hostile_works();
}

TEST_F(LuaSecurityTest, ARequestHandlerThatAlwaysErrorsIsAutoDisabledToo) {
  ASSERT_NO_FATAL_FAILURE(install_hostile("error({ code = 42 })"));
  for (int i = 0; i < 5; ++i) {
    Attempt attack = request_attack();
    expect_failed(attack, ErrorCode::kPluginError, HasSubstr("an error object of type table"));
  }
  auto status = host_->status("hostile");
  EXPECT_EQ(status->state, PluginState::kFailed);
  EXPECT_THAT(status->reason, HasSubstr("auto-disabled after 5 consecutive failures"));
  expect_neighbour_works();
}

TEST_F(LuaSecurityTest, APluginThatAlwaysTimesOutIsAutoDisabled) {
  ASSERT_NO_FATAL_FAILURE(
      install_hostile("while true do pcall(function() while true do end end) end"));
  for (int i = 0; i < 5; ++i) {
    Attempt attack = filter_attack();
    expect_failed(attack, ErrorCode::kPluginError,
                  HasSubstr("ran over the 30 ms limit for filter hooks"));
    expect_neighbour_answers();
  }
  EXPECT_EQ(host_->status("hostile")->state, PluginState::kFailed);
  EXPECT_THAT(host_->status("hostile")->reason,
              HasSubstr("auto-disabled after 5 consecutive failures"));
  expect_neighbour_works();
}

TEST_F(LuaSecurityTest, AnInfiniteLoopWhileLoadingFailsTheLoadOnly) {
  Clock::time_point start = Clock::now();
  std::optional<PluginStatus> status;
  outlet::testing::finishes_or_abort("loading a plugin that loops", [&] {
    status = add("hostile", hostile_source("return {}", "while true do end"), hostile_limits());
  });
  ASSERT_TRUE(status.has_value());
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(status->state, PluginState::kFailed);
  EXPECT_THAT(status->reason, HasSubstr("took longer than 1000 ms to load"));
  expect_neighbour_works();
}

TEST_F(LuaSecurityTest, APluginCannotArmAFinalizer) {
  // A __gc metamethod runs with the debug hook switched off (lgc.c GCTM), so an
  // endless finalizer could never be stopped: not during a call, and not when
  // the host closes the state. The sandbox refuses to set one.
  ASSERT_NO_FATAL_FAILURE(install_hostile(R"lua(
    setmetatable({}, { __gc = function() while true do end end })
    return { armed = true }
  )lua"));
  Attempt attack = request_attack();
  expect_failed(attack, ErrorCode::kPluginError, HasSubstr("__gc"));
  expect_all_well();
  outlet::testing::finishes_or_abort("disabling the plugin",
                                     [&] { EXPECT_TRUE(host_->disable("hostile").ok()); });
  EXPECT_EQ(host_->status("hostile")->state, PluginState::kDisabled);
  expect_neighbour_works();
}

TEST_F(LuaSecurityTest, AFinalizerArmedWithAPlaceholderIsRefusedToo) {
  // Lua marks an object for finalization if its metatable has a __gc field when
  // set, whatever its value; the function could be put there afterwards.
  ASSERT_NO_FATAL_FAILURE(install_hostile(R"lua(
    local results = {}
    for _, placeholder in ipairs({ true, 0, "x", {} }) do
      local mt = { __gc = placeholder }
      local ok, err = pcall(setmetatable, {}, mt)
      mt.__gc = function() while true do end end
      results[#results + 1] = ok and "armed" or err
    end
    -- Through a metatable's own metatable: __gc is looked up raw, so this one
    -- is not a finalizer at all, and setting it is fine.
    local sneaky = setmetatable({}, setmetatable({}, { __index = { __gc = print } }))
    return { results = results, sneaky = type(sneaky) }
  )lua"));
  Attempt attack = request_attack();
  ASSERT_TRUE(attack.ok()) << attack.message();
  ASSERT_EQ(attack.value().at("results").size(), 4u);
  for (const Json& result : attack.value().at("results"))
    EXPECT_THAT(result.get<std::string>(), HasSubstr("__gc")) << result;
  EXPECT_EQ(attack.value().at("sneaky"), "table");
  outlet::testing::finishes_or_abort("disabling the plugin",
                                     [&] { EXPECT_TRUE(host_->disable("hostile").ok()); });
  expect_neighbour_works();
}

TEST_F(LuaSecurityTest, AFinalizerCannotBeSmuggledInThroughTheArrayMarker) {
  // getmetatable answers the array marker itself; a __gc put there must not make
  // the arrays the SDK marks (outlet.array, arrays from JSON) finalizable.
  ASSERT_NO_FATAL_FAILURE(install_hostile(R"lua(
    local marker = getmetatable(outlet.array())
    marker.__gc = function() while true do end end
    local made = outlet.array({ 1 })
    outlet.kv.set("list", outlet.array({ 1, 2 }))
    local received = outlet.kv.get("list")
    return {
      scrubbed = rawget(marker, "__gc") == nil,
      marked = getmetatable(made) == marker and getmetatable(received) == marker,
      received = received,
    }
  )lua"));
  Attempt attack = request_attack();
  ASSERT_TRUE(attack.ok()) << attack.message();
  EXPECT_EQ(attack.value(), (Json{{"scrubbed", true}, {"marked", true}, {"received", {1, 2}}}));
  outlet::testing::finishes_or_abort("disabling the plugin",
                                     [&] { EXPECT_TRUE(host_->disable("hostile").ok()); });
  expect_neighbour_works();
}

TEST_F(LuaSecurityTest, AFinalizerArmedWhileLoadingFailsTheLoad) {
  std::optional<PluginStatus> status;
  outlet::testing::finishes_or_abort("loading a plugin with a finalizer", [&] {
    status = add("hostile",
                 hostile_source("return {}",
                                "keep = setmetatable({}, { __gc = function() while true do end "
                                "end })"),
                 hostile_limits());
  });
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->state, PluginState::kFailed);
  EXPECT_THAT(status->reason, HasSubstr("__gc"));
  expect_neighbour_works();
}

TEST_F(LuaSecurityTest, AnEndlessCloseHandlerDoesNotHangUnload) {
  // A to-be-closed variable left open in a suspended coroutine: its __close runs
  // under the hook, and the state is closed without running it at all.
  ASSERT_NO_FATAL_FAILURE(install_hostile(R"lua(
    parked = coroutine.create(function()
      local guard <close> = setmetatable({}, { __close = function() while true do end end })
      coroutine.yield()
    end)
    coroutine.resume(parked)
    return { parked = coroutine.status(parked) }
  )lua"));
  Attempt attack = request_attack();
  ASSERT_TRUE(attack.ok()) << attack.message();
  EXPECT_EQ(attack.value().at("parked"), "suspended");
  outlet::testing::finishes_or_abort("disabling the plugin",
                                     [&] { EXPECT_TRUE(host_->disable("hostile").ok()); });
  expect_neighbour_works();
}

}  // namespace
}  // namespace outlet::lua_security
