// The fixture of the Lua escape and abuse tests: a host with the chat domain, a
// well-behaved Lua neighbour, and a hostile Lua plugin written to a temporary
// folder per test. The hostile plugin runs its attack when a request or a chat
// message says "attack" and answers normally otherwise, so each test can prove
// that the attack failed cleanly and in time, and that the host, the neighbour
// and the hostile plugin itself keep working afterwards.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "domains/chat/chat_domain.h"
#include "outlet/host.h"
#include "support/test_support.h"

namespace outlet::lua_security {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;

// Generous bound for "stopped in time": the hostile plugin's limits are 30 ms
// (filters) and 100 ms (requests); what is being bounded would otherwise run for
// minutes or forever. Precise timings belong in the benchmarks.
inline constexpr auto kGenerous = std::chrono::seconds(5);

// The timeouts the hostile plugin's manifest asks for.
inline constexpr int kFilterLimitMs = 30;
inline constexpr int kRequestLimitMs = 100;

inline Json chat_message(const std::string& body) {
  return {{"id", "m1"}, {"user", {{"id", "u-1"}, {"displayName", "tester"}}}, {"body", body}};
}

// A Lua bot module's manifest; `patch` is merged in (RFC 7396: null removes).
inline Json lua_manifest(const std::string& id, const Json& patch = Json::object()) {
  Json document = {{"id", id},
                   {"name", id},
                   {"version", "1.0.0"},
                   {"kind", "bot-module"},
                   {"runtime", "lua"},
                   {"entrypoint", "plugin.lua"},
                   {"permissions", {"storage.kv", "log"}}};
  document.merge_patch(patch);
  return document;
}

// The hostile plugin's limits: short deadlines and a 16 MiB memory budget, so
// that bombs hit their limit quickly.
inline Json hostile_limits() {
  return {{"limits",
           {{"timeoutMs", {{"filter", kFilterLimitMs}, {"request", kRequestLimitMs}}},
            {"memoryBytes", 16 << 20}}}};
}

// The neighbour: a well-behaved plugin using patterns, tables and the KV store.
inline constexpr const char* kNeighbourSource = R"lua(
return {
  filter_chat_message = function(message)
    if message.body == "neighbour:drop" then
      return outlet.filter.drop("dropped by the neighbour")
    end
  end,
  request = {
    ["chat.trigger"] = function(payload)
      outlet.kv.set("last", payload.body)
      local words = {}
      for word in string.gmatch(payload.body, "%a+") do
        words[#words + 1] = word:upper()
      end
      return { reply = table.concat(words, " "), stored = outlet.kv.get("last") }
    end,
  },
}
)lua";

// A hostile plugin: `prelude` runs when the file loads, `attack` is the body of
// `local function attack(payload)`, run for a request or message saying "attack".
// Anything else gets a normal answer that exercises the shared libraries.
inline std::string hostile_source(const std::string& attack, const std::string& prelude = "") {
  return prelude + "\nlocal function attack(payload)\n" + attack + "\nend\n" + R"lua(
local function healthy(payload)
  local list = {}
  table.insert(list, payload.body)
  outlet.kv.set("probe", payload.body)
  return {
    echo = payload.body,
    upper = string.upper(payload.body),
    method = payload.body:upper(),
    found = (string.find(payload.body, "in", 1, true)),
    matched = payload.body:match("^(p)i"),
    inserted = #list,
    kv = outlet.kv.get("probe"),
    pi = math.floor(math.pi * 100),
  }
end

return {
  filter_chat_message = function(message)
    if message.body == "attack" then
      return attack(message)
    end
  end,
  request = {
    ["chat.trigger"] = function(payload)
      if payload.body == "attack" then
        return attack(payload)
      end
      return healthy(payload)
    end,
  },
}
)lua";
}

// An attack followed by an answer that proves it was not stopped.
inline std::string then_escape(const std::string& attack) {
  return "do\n" + attack + "\nend\nreturn { escaped = true }";
}

// What the hostile plugin answers to {"body": "ping"} while its libraries work.
inline Json healthy_answer() {
  return {{"echo", "ping"}, {"upper", "PING"}, {"method", "PING"}, {"found", 2},
          {"matched", "p"}, {"inserted", 1},   {"kv", "ping"},     {"pi", 314}};
}

// One call into a plugin, timed.
struct Attempt {
  std::optional<Result<Json>> result;
  Clock::duration elapsed{};

  bool ok() const { return result->ok(); }
  const Json& value() const { return result->value(); }
  const Error& error() const { return result->error(); }
  std::string message() const { return result->ok() ? "" : result->error().message(); }
  double elapsed_ms() const { return std::chrono::duration<double, std::milli>(elapsed).count(); }
};

class LuaSecurityTest : public ::testing::Test {
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
    ASSERT_NO_FATAL_FAILURE(install("neighbour", kNeighbourSource, Json::object()));
  }

  void TearDown() override {
    // Unloading every plugin (and running whatever finalizers they left) must not hang.
    outlet::testing::finishes_or_abort("destroying the host", [this] { host_.reset(); });
  }

  // Writes plugin.json and plugin.lua to a folder of their own, then adds,
  // approves and enables the plugin; returns its status.
  std::optional<PluginStatus> add(const std::string& id, const std::string& source,
                                  const Json& patch) {
    fs::path folder = dir_.path() / id;
    fs::create_directories(folder);
    {
      std::ofstream manifest(folder / "plugin.json");
      manifest << lua_manifest(id, patch).dump(2);
      std::ofstream code(folder / "plugin.lua");
      code << source;
    }
    auto plugin = read_plugin_folder(folder.string(), host_->vocabulary());
    EXPECT_TRUE(plugin.ok()) << plugin.error().to_string();
    if (!plugin.ok())
      return std::nullopt;
    EXPECT_TRUE(host_->add_plugin(*plugin).ok());
    EXPECT_TRUE(host_->approve(id).ok());
    Status enabled = host_->enable(id);
    (void)enabled;  // a load failure shows in the status
    return host_->status(id);
  }

  void install(const std::string& id, const std::string& source, const Json& patch) {
    auto status = add(id, source, patch);
    ASSERT_TRUE(status.has_value());
    ASSERT_EQ(status->state, PluginState::kLoaded) << status->reason;
  }

  // Installs the hostile plugin (see hostile_source) with hostile_limits() and `patch`.
  void install_hostile(const std::string& attack, const std::string& prelude = "",
                       const Json& patch = Json::object()) {
    Json merged = hostile_limits();
    merged.merge_patch(patch);
    install("hostile", hostile_source(attack, prelude), merged);
  }

  // Runs `call`, timed; a call that never returns aborts the run.
  Attempt attempt(const std::function<Result<Json>()>& call) {
    Attempt attempt;
    Clock::time_point start = Clock::now();
    outlet::testing::finishes_or_abort("a call into a hostile plugin",
                                       [&] { attempt.result.emplace(call()); });
    attempt.elapsed = Clock::now() - start;
    return attempt;
  }

  // The hostile plugin's attack, as a request; `extra` adds payload fields.
  Attempt request_attack(const Json& extra = Json::object()) {
    Json payload = {{"body", "attack"}};
    payload.update(extra);
    return attempt([&] { return host_->request("hostile", "chat.trigger", payload); });
  }

  // The hostile plugin's attack, as a chat message through the filter chain:
  // the result is the hostile plugin's step (its detail as the error message).
  Attempt filter_attack() {
    FilterOutcome outcome;
    Attempt result = attempt([&]() -> Result<Json> {
      outcome = host_->filter("chat.message.received", chat_message("attack"));
      return Json();
    });
    EXPECT_FALSE(outcome.dropped);
    EXPECT_EQ(outcome.payload["body"], "attack") << "a failing filter fails open";
    for (const FilterStep& step : outcome.steps) {
      if (step.plugin_id != "hostile")
        continue;
      if (step.action == FilterAction::kFailed)
        result.result.emplace(Error(ErrorCode::kPluginError, step.detail));
      else
        result.result.emplace(Json{{"action", std::string(filter_action_name(step.action))}});
      return result;
    }
    ADD_FAILURE() << "the hostile plugin took no part in the filter chain";
    result.result.emplace(Error(ErrorCode::kInternal, "no step"));
    return result;
  }

  HookStats stats(HookKind kind, const std::string& id = "hostile") {
    auto status = host_->status(id);
    if (!status || !status->stats)
      return {};
    return status->stats->by_kind[static_cast<size_t>(kind)];
  }

  // The attack failed with `code`, with a message matching `matcher`, in time.
  template <typename Matcher>
  void expect_failed(const Attempt& attempt, ErrorCode code, Matcher matcher) {
    ASSERT_TRUE(attempt.result.has_value());
    ASSERT_FALSE(attempt.ok()) << "the attack succeeded: " << attempt.result->value().dump();
    EXPECT_EQ(attempt.error().code(), code) << attempt.error().to_string();
    EXPECT_THAT(attempt.message(), matcher);
    EXPECT_LT(attempt.elapsed, kGenerous) << attempt.elapsed_ms() << " ms";
  }

  // A request attack that the runtime itself stopped at its deadline (not one the
  // dispatcher failed after it finished late): the message names where it stopped.
  // `located`: the message says where the plugin was stopped. A call stopped by
  // a refused large allocation cannot say (Lua unwinds a memory error without
  // running the message handler).
  void expect_request_timeout(const Attempt& attempt, int limit_ms = kRequestLimitMs,
                              bool located = true) {
    std::string limit = "ran over the " + std::to_string(limit_ms) + " ms limit for request hooks";
    if (located) {
      ASSERT_NO_FATAL_FAILURE(
          expect_failed(attempt, ErrorCode::kDeadlineExceeded,
                        ::testing::AllOf(HasSubstr(limit), HasSubstr("(stopped at "))));
    } else {
      ASSERT_NO_FATAL_FAILURE(
          expect_failed(attempt, ErrorCode::kDeadlineExceeded, HasSubstr(limit)));
    }
    EXPECT_EQ(stats(HookKind::kRequest).timeouts, 1u);
  }

  // The hostile plugin's next normal call works: its state survived the attack,
  // or was recreated, and its shared libraries behave as before.
  void expect_hostile_works() {
    auto answer = host_->request("hostile", "chat.trigger", {{"body", "ping"}});
    ASSERT_TRUE(answer.ok()) << answer.error().to_string();
    EXPECT_EQ(*answer, healthy_answer());
  }

  // The host and the well-behaved neighbour are unaffected.
  void expect_neighbour_works() {
    auto answer = host_->request("neighbour", "chat.trigger", {{"body", "hello sandbox"}});
    ASSERT_TRUE(answer.ok()) << answer.error().to_string();
    EXPECT_EQ((*answer)["reply"], "HELLO SANDBOX");
    EXPECT_EQ((*answer)["stored"], "hello sandbox");
    FilterOutcome outcome = host_->filter("chat.message.received", chat_message("neighbour:drop"));
    EXPECT_TRUE(outcome.dropped);
    EXPECT_EQ(outcome.dropped_by, "neighbour");
    EXPECT_EQ(outcome.reason, "dropped by the neighbour");
    auto status = host_->status("neighbour");
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->state, PluginState::kLoaded) << status->reason;
    ASSERT_TRUE(status->stats.has_value());
    EXPECT_EQ(status->stats->strikes, 0u);
  }

  // The neighbour answers a request (a filter would run the hostile plugin too,
  // and a success there would reset its consecutive failures).
  void expect_neighbour_answers() {
    auto answer = host_->request("neighbour", "chat.trigger", {{"body", "hello sandbox"}});
    ASSERT_TRUE(answer.ok()) << answer.error().to_string();
    EXPECT_EQ((*answer)["reply"], "HELLO SANDBOX");
  }

  void expect_all_well() {
    expect_hostile_works();
    expect_neighbour_works();
  }

  std::string log() {
    std::lock_guard lock(log_mutex_);
    std::string all;
    for (const std::string& line : log_)
      all += line + "\n";
    return all;
  }

  outlet::testing::TempDir dir_{"outlet-lua-security"};
  chat::ChatDomain domain_;
  std::unique_ptr<Host> host_;
  std::mutex log_mutex_;
  std::vector<std::string> log_;
};

}  // namespace outlet::lua_security
