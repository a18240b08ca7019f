// Escapes and abuse from JavaScript plugins (issue #4): each attack fails with a
// clear error within its deadline, and the host, a well-behaved neighbour and the
// hostile plugin itself keep working afterwards.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "domains/chat/chat_domain.h"
#include "outlet/host.h"
#include "runtime/spidermonkey/allocation_budget.h"
#include "support/test_support.h"

namespace outlet {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// Generous bound for "stopped in time" (limits are 30 and 100 ms); precise
// timings belong in the benchmarks.
constexpr auto kGenerous = std::chrono::seconds(3);
constexpr int kRequestLimitMs = 100;

Json chat_message(const std::string& body) {
  return {{"id", "m1"}, {"user", {{"id", "u-1"}, {"displayName", "tester"}}}, {"body", body}};
}

constexpr const char* kNeighbourSource = R"js(
const { definePlugin, outlet, filter } = require("outlet");
module.exports = definePlugin({
  filterChatMessage(message) {
    if (message.body === "neighbour:drop") return filter.drop("dropped by the neighbour");
  },
  request: {
    "chat.trigger"(payload) {
      outlet.kv.set("last", payload.body);
      const words = payload.body.match(/[a-z]+/g).map((w) => w.toUpperCase());
      return { reply: words.join(" "), stored: outlet.kv.get("last"), proto: ({}).polluted === undefined };
    },
  },
});
)js";

std::string hostile_source(const std::string& attack, const std::string& prelude = "") {
  return "const { definePlugin, outlet, filter } = require(\"outlet\");\n" + prelude +
         "\nfunction attack(payload) {\n" + attack + "\n}\n" + R"js(
function healthy(payload) {
  outlet.kv.set("probe", payload.body);
  return {
    echo: payload.body,
    upper: payload.body.toUpperCase(),
    kv: outlet.kv.get("probe"),
    matched: /^(p)i/.exec(payload.body)[1],
    list: [1, 2, 3].map((x) => x * 2),
  };
}
module.exports = definePlugin({
  filterChatMessage(message) {
    if (message.body === "attack") return attack(message);
  },
  request: {
    "chat.trigger"(payload) {
      return payload.body === "attack" ? attack(payload) : healthy(payload);
    },
  },
});
)js";
}

Json healthy_answer() {
  return {
      {"echo", "ping"}, {"upper", "PING"}, {"kv", "ping"}, {"matched", "p"}, {"list", {2, 4, 6}}};
}

struct Attempt {
  std::optional<Result<Json>> result;
  Clock::duration elapsed{};
  bool ok() const { return result->ok(); }
  std::string message() const { return result->ok() ? "" : result->error().message(); }
  double ms() const { return std::chrono::duration<double, std::milli>(elapsed).count(); }
};

class JsSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HostOptions options;
    options.strike_limit = 5;
    auto host = Host::create(options);
    ASSERT_TRUE(host.ok()) << host.error().to_string();
    host_ = std::move(host).value();
    ASSERT_TRUE(domain_.declare(*host_).ok());
    ASSERT_NO_FATAL_FAILURE(install("neighbour", kNeighbourSource));
  }

  void TearDown() override {
    outlet::testing::finishes_or_abort("destroying the host", [this] { host_.reset(); });
  }

  std::optional<PluginStatus> add(const std::string& id, const std::string& source,
                                  const Json& patch = Json::object()) {
    fs::path folder = dir_.path() / id;
    fs::create_directories(folder);
    Json manifest = {{"id", id},
                     {"name", id},
                     {"version", "1.0.0"},
                     {"kind", "bot-module"},
                     {"runtime", "js"},
                     {"entrypoint", "plugin.js"},
                     {"permissions", {"storage.kv", "log"}}};
    manifest.merge_patch(patch);
    std::ofstream(folder / "plugin.json") << manifest.dump(2);
    std::ofstream(folder / "plugin.js") << source;
    auto plugin = read_plugin_folder(folder.string(), host_->vocabulary());
    EXPECT_TRUE(plugin.ok()) << plugin.error().to_string();
    if (!plugin.ok())
      return std::nullopt;
    EXPECT_TRUE(host_->add_plugin(*plugin).ok());
    EXPECT_TRUE(host_->approve(id).ok());
    (void)host_->enable(id);
    return host_->status(id);
  }

  void install(const std::string& id, const std::string& source,
               const Json& patch = Json::object()) {
    auto status = add(id, source, patch);
    ASSERT_TRUE(status.has_value());
    ASSERT_EQ(status->state, PluginState::kLoaded) << status->reason;
  }

  void install_hostile(const std::string& attack, const std::string& prelude = "",
                       int request_limit_ms = kRequestLimitMs) {
    Json limits = {{"limits",
                    {{"timeoutMs", {{"filter", 30}, {"request", request_limit_ms}}},
                     {"memoryBytes", 32 << 20}}}};
    install("hostile", hostile_source(attack, prelude), limits);
  }

  Attempt request_attack() {
    Attempt attempt;
    Clock::time_point start = Clock::now();
    outlet::testing::finishes_or_abort("a call into a hostile plugin", [&] {
      attempt.result.emplace(host_->request("hostile", "chat.trigger", {{"body", "attack"}}));
    });
    attempt.elapsed = Clock::now() - start;
    return attempt;
  }

  template <typename Matcher>
  void expect_failed(const Attempt& attempt, ErrorCode code, Matcher matcher) {
    ASSERT_FALSE(attempt.ok()) << "the attack succeeded: " << attempt.result->value().dump();
    EXPECT_EQ(attempt.result->error().code(), code) << attempt.result->error().to_string();
    EXPECT_THAT(attempt.message(), matcher);
    EXPECT_LT(attempt.elapsed, kGenerous) << attempt.ms() << " ms";
  }

  void expect_timeout(const Attempt& attempt) {
    ASSERT_NO_FATAL_FAILURE(
        expect_failed(attempt, ErrorCode::kDeadlineExceeded,
                      AllOf(HasSubstr("ran over the 100 ms limit for request hooks"),
                            HasSubstr("(stopped at "))));
  }

  void expect_healthy() {
    auto answer = host_->request("hostile", "chat.trigger", {{"body", "ping"}});
    ASSERT_TRUE(answer.ok()) << answer.error().to_string();
    EXPECT_EQ(*answer, healthy_answer());
    expect_neighbour_works();
  }

  void expect_neighbour_works() {
    auto answer = host_->request("neighbour", "chat.trigger", {{"body", "hello sandbox"}});
    ASSERT_TRUE(answer.ok()) << answer.error().to_string();
    EXPECT_EQ((*answer)["reply"], "HELLO SANDBOX");
    EXPECT_EQ((*answer)["stored"], "hello sandbox");
    EXPECT_EQ((*answer)["proto"], true) << "another plugin's prototypes leaked into this realm";
    EXPECT_TRUE(host_->filter("chat.message.received", chat_message("neighbour:drop")).dropped);
  }

  chat::ChatDomain domain_;
  std::unique_ptr<Host> host_;
  outlet::testing::TempDir dir_{"outlet-js-security"};
};

// --- Dynamic code ---

TEST_F(JsSecurityTest, EvalIsRefused) {
  install_hostile("return eval('1 + 1');");
  expect_failed(request_attack(), ErrorCode::kPluginError, HasSubstr("call to eval() blocked"));
  expect_healthy();
}

TEST_F(JsSecurityTest, IndirectEvalIsRefused) {
  install_hostile("const e = eval; return (0, e)('1 + 1');");
  expect_failed(request_attack(), ErrorCode::kPluginError, HasSubstr("call to eval() blocked"));
}

TEST_F(JsSecurityTest, NewFunctionIsRefused) {
  install_hostile("return new Function('return 1')();");
  expect_failed(request_attack(), ErrorCode::kPluginError, HasSubstr("call to Function() blocked"));
}

TEST_F(JsSecurityTest, FunctionConstructorsReachedThroughPrototypesAreRefused) {
  install_hostile(R"js(
    const ctors = [
      (function () {}).constructor,
      (function* () {}).constructor,
      (async function () {}).constructor,
      (async function* () {}).constructor,
    ];
    const refused = ctors.map((C) => { try { C("return 1")(); return false; } catch (e) { return String(e).includes("blocked"); } });
    return { refused };
  )js");
  Attempt attempt = request_attack();
  ASSERT_TRUE(attempt.ok()) << attempt.message();
  EXPECT_EQ(attempt.result->value(), (Json{{"refused", {true, true, true, true}}}));
}

TEST_F(JsSecurityTest, NoNodeOrBrowserGlobalsExist) {
  install_hostile(R"js(
    const names = ["process", "setTimeout", "setInterval", "fetch", "XMLHttpRequest",
                   "WebAssembly", "SharedArrayBuffer", "Atomics", "load", "read", "os",
                   "quit", "print", "Buffer", "global"];
    return names.filter((n) => typeof globalThis[n] !== "undefined");
  )js");
  Attempt attempt = request_attack();
  ASSERT_TRUE(attempt.ok()) << attempt.message();
  EXPECT_EQ(attempt.result->value(), Json::array());
}

TEST_F(JsSecurityTest, UngrantedHostFunctionsDoNotExist) {
  install_hostile(R"js(
    return { chat: typeof outlet.chat, emit: typeof outlet.events, kv: typeof outlet.kv.get,
             frozen: Object.isFrozen(outlet) && Object.isFrozen(outlet.kv) };
  )js");
  Attempt attempt = request_attack();
  ASSERT_TRUE(attempt.ok()) << attempt.message();
  EXPECT_EQ(
      attempt.result->value(),
      (Json{{"chat", "undefined"}, {"emit", "undefined"}, {"kv", "function"}, {"frozen", true}}));
}

// --- Modules ---

TEST_F(JsSecurityTest, RequireCannotLeaveThePluginFolder) {
  install_hostile(R"js(
    const tries = ["../neighbour/plugin.js", "../../../../etc/passwd", "/etc/passwd", "fs",
                   "child_process", "./../neighbour/plugin"];
    return tries.map((t) => { try { require(t); return "loaded " + t; } catch (e) { return e.message; } });
  )js");
  Attempt attempt = request_attack();
  ASSERT_TRUE(attempt.ok()) << attempt.message();
  for (const Json& outcome : attempt.result->value())
    EXPECT_THAT(outcome.get<std::string>(), HasSubstr("Cannot find module")) << outcome;
}

TEST_F(JsSecurityTest, ASymlinkOutOfThePluginFolderIsNotFollowed) {
  fs::create_directories(dir_.path() / "hostile");
  fs::create_symlink(dir_.path() / "neighbour" / "plugin.js", dir_.path() / "hostile" / "link.js");
  install_hostile("try { require('./link.js'); return 'loaded'; } catch (e) { return e.message; }");
  Attempt attempt = request_attack();
  ASSERT_TRUE(attempt.ok()) << attempt.message();
  EXPECT_THAT(attempt.result->value().get<std::string>(), HasSubstr("outside the plugin's folder"));
}

// --- CPU ---

TEST_F(JsSecurityTest, AnInfiniteLoopIsStoppedAtItsDeadline) {
  install_hostile("for (;;) {}");
  expect_timeout(request_attack());
  expect_healthy();
}

TEST_F(JsSecurityTest, ALoopThatCatchesEverythingIsStillStopped) {
  install_hostile("for (;;) { try { for (;;) {} } catch (e) {} finally { continue; } }");
  expect_timeout(request_attack());
  expect_healthy();
}

TEST_F(JsSecurityTest, CatastrophicRegexBacktrackingIsStopped) {
  install_hostile("return /^(a+)+$/.test('a'.repeat(40) + 'b');");
  Attempt attempt = request_attack();
  // Irregexp either meets the deadline or runs out of its backtracking stack
  // first (which one depends on timing); both are clean, bounded failures.
  ASSERT_FALSE(attempt.ok());
  EXPECT_THAT(attempt.message(), ::testing::AnyOf(HasSubstr("ran over the 100 ms limit"),
                                                  HasSubstr("too much recursion")));
  EXPECT_LT(attempt.elapsed, kGenerous);
  expect_healthy();
}

TEST_F(JsSecurityTest, AnEndlessMicrotaskChainIsStopped) {
  install_hostile("const spin = () => Promise.resolve().then(spin); spin(); return 1;");
  expect_failed(request_attack(), ErrorCode::kDeadlineExceeded, HasSubstr("ran over"));
  expect_healthy();
}

TEST_F(JsSecurityTest, AnInfiniteLoopAtLoadFailsTheLoad) {
  auto status = add("hostile", "for (;;) {}");
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(status->state, PluginState::kLoaded);
  EXPECT_THAT(status->reason, HasSubstr("to load"));
  expect_neighbour_works();
}

// --- Memory ---

class JsMemoryTest : public JsSecurityTest {
 protected:
  void SetUp() override {
    if (!allocation_budgets_enforced())
      GTEST_SKIP() << "this build has no counting allocator (sanitizer build)";
    JsSecurityTest::SetUp();
  }
  // A roomy deadline: a bomb must meet the memory limit, not the clock, even on
  // a loaded machine.
  void install_bomb(const std::string& attack) { install_hostile(attack, "", 2000); }

  void expect_memory_error(const Attempt& attempt) {
    expect_failed(attempt, ErrorCode::kResourceExhausted, HasSubstr("memory limit"));
  }
};

TEST_F(JsMemoryTest, ArrayElementsBomb) {
  install_bomb("const a = []; for (;;) a.push(new Array(1e6).fill(1.5));");
  expect_memory_error(request_attack());
  expect_healthy();
}

TEST_F(JsMemoryTest, StringDoublingBomb) {
  install_bomb("let s = 'x'; const keep = []; for (;;) { s = s + s; keep.push(s + '!'); }");
  Attempt attempt = request_attack();
  ASSERT_FALSE(attempt.ok());
  // SpiderMonkey caps a string at 2^30 - 2 characters; either limit is a clean failure.
  EXPECT_THAT(attempt.message(),
              ::testing::AnyOf(HasSubstr("memory limit"), HasSubstr("allocation size overflow")));
  expect_healthy();
}

TEST_F(JsMemoryTest, TypedArrayBomb) {
  install_bomb("const keep = []; for (;;) keep.push(new Float64Array(1 << 20));");
  expect_memory_error(request_attack());
  expect_healthy();
}

TEST_F(JsMemoryTest, OneHugeArrayBuffer) {
  install_bomb("return new ArrayBuffer(2 ** 31).byteLength;");
  expect_memory_error(request_attack());
  expect_healthy();
}

TEST_F(JsMemoryTest, ObjectGraphBombOnTheGcHeap) {
  install_bomb("let head = null; for (;;) head = { next: head, a: 1, b: 2, c: 3 };");
  expect_memory_error(request_attack());
  expect_healthy();
}

TEST_F(JsMemoryTest, CatchingTheMemoryErrorDoesNotHelp) {
  install_bomb(R"js(
    const keep = [];
    for (;;) { try { keep.push(new Array(1e6).fill(2.5)); } catch (e) { keep.length = keep.length; } }
  )js");
  Attempt attempt = request_attack();
  ASSERT_FALSE(attempt.ok());
  EXPECT_THAT(attempt.message(),
              ::testing::AnyOf(HasSubstr("memory limit"), HasSubstr("ran over")));
  EXPECT_LT(attempt.elapsed, kGenerous);
  expect_healthy();
}

TEST_F(JsMemoryTest, AHostFunctionRefusedMemoryNearTheLimitIsAnErrorNotACrash) {
  // Fill the budget to just under its 32 MiB, then hand the host a 1 MiB value:
  // copying it into the host's JSON is charged to the plugin and refused.
  install_bomb(R"js(
    const keep = [];
    try { for (;;) keep.push(new Array(1 << 15).fill(0.5)); } catch (e) {}
    keep.pop(); keep.pop();
    const big = "x".repeat(1 << 20);
    try { outlet.kv.set("big", big); return "stored"; } catch (e) { return "refused: " + e.message; }
  )js");
  Attempt attempt = request_attack();
  // Either the host refused the copy (a JS error the plugin caught) or the call was
  // stopped for memory; never a crash.
  if (attempt.ok()) {
    EXPECT_THAT(attempt.result->value().get<std::string>(), ::testing::StartsWith("refused: "));
  } else {
    EXPECT_THAT(attempt.message(), HasSubstr("memory limit"));
  }
  expect_healthy();
}

TEST_F(JsMemoryTest, MemoryKeptInGlobalsIsDiscardedWithTheRealm) {
  install_bomb(
      "globalThis.keep = globalThis.keep || []; for (;;) keep.push(new Array(1e5).fill(3.5));");
  expect_memory_error(request_attack());
  auto status = host_->status("hostile");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->state, PluginState::kLoaded);
  bool reloaded = false;
  for (const Warning& warning : status->warnings)
    reloaded = reloaded || warning.message.find("loaded again") != std::string::npos;
  EXPECT_TRUE(reloaded) << "the realm that kept its bomb should have been loaded again";
  expect_healthy();
}

// --- Stack and values ---

TEST_F(JsSecurityTest, DeepRecursionFailsCleanly) {
  install_hostile("const f = (n) => f(n + 1) + 1; return f(0);");
  expect_failed(request_attack(), ErrorCode::kPluginError, HasSubstr("too much recursion"));
  expect_healthy();
}

TEST_F(JsSecurityTest, RecursionThroughGettersFailsCleanly) {
  install_hostile("const o = { get x() { return this.x; } }; return o.x;");
  expect_failed(request_attack(), ErrorCode::kPluginError, HasSubstr("too much recursion"));
  expect_healthy();
}

TEST_F(JsSecurityTest, ACyclicReturnValueIsRefused) {
  install_hostile("const a = { b: {} }; a.b.a = a; return a;");
  expect_failed(request_attack(), ErrorCode::kPluginError,
                AllOf(HasSubstr("at .b.a"), HasSubstr("cycle")));
  expect_healthy();
}

TEST_F(JsSecurityTest, DeeplyNestedReturnValueIsRefused) {
  install_hostile("let v = 1; for (let i = 0; i < 100000; i++) v = [v]; return v;");
  expect_failed(request_attack(), ErrorCode::kPluginError, HasSubstr("nested deeper than 128"));
  expect_healthy();
}

TEST_F(JsSecurityTest, NonJsonReturnValuesAreRefusedNamingWhere) {
  for (const auto& [code, rule] : std::vector<std::pair<std::string, std::string>>{
           {"return { f() {} };", "at .f: a function"},
           {"return [Symbol('x')];", "at [0]: a symbol"},
           {"return { n: NaN };", "at .n: NaN"},
           {"return { big: 2n ** 70n };", "at .big: a BigInt outside"},
           {"return { s: '\\uD800' };", "at .s: a string with a lone surrogate"},
           {"return { get boom() { throw new Error('getter'); } };", "reading it threw"}}) {
    SCOPED_TRACE(code);
    host_.reset();
    SetUp();
    install_hostile(code);
    expect_failed(request_attack(), ErrorCode::kPluginError, HasSubstr(rule));
  }
}

TEST_F(JsSecurityTest, AGetterThatLoopsWhileTheHostReadsTheResultIsStopped) {
  install_hostile("return { get slow() { for (;;) {} } };");
  expect_failed(request_attack(), ErrorCode::kDeadlineExceeded, HasSubstr("ran over"));
  expect_healthy();
}

// --- Strikes and isolation ---

TEST_F(JsSecurityTest, APluginFailingEveryCallIsAutoDisabled) {
  install_hostile("throw new Error('always');");
  for (int i = 0; i < 5; ++i)
    (void)host_->filter("chat.message.received", chat_message("attack"));
  auto status = host_->status("hostile");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->state, PluginState::kFailed) << status->reason;
  expect_neighbour_works();
}

TEST_F(JsSecurityTest, PrototypePollutionStaysInTheHostileRealm) {
  install_hostile("Object.prototype.polluted = true; Array.prototype.map = null; return 1;",
                  "Object.prototype.polluted = true;");
  ASSERT_TRUE(request_attack().ok());
  expect_neighbour_works();
}

TEST_F(JsSecurityTest, TamperingWithTheSdkInsideTheRealmDoesNotReachTheHost) {
  install_hostile(R"js(
    JSON.stringify = () => { throw new Error("tampered"); };
    Object.defineProperty(Object.prototype, "action", { get() { return "drop"; }, configurable: true });
    return filter.pass();
  )js");
  Attempt attempt = request_attack();
  ASSERT_TRUE(attempt.ok()) << attempt.message();
  EXPECT_EQ(attempt.result->value(), (Json{{"action", "pass"}}));
  expect_neighbour_works();
}

}  // namespace
}  // namespace outlet
