// Escapes and abuse from WebAssembly plugins (issue #4): each hostile module
// (tests/security/wasm/modules, compiled by the build) fails with a clear error
// within its deadline, and the host and a JavaScript neighbour on the same
// engine threads keep working afterwards.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "domains/chat/chat_domain.h"
#include "outlet/host.h"
#include "support/test_support.h"

namespace outlet {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

// Generous bound for "stopped in time" (the limits are 30 and 100 ms).
constexpr auto kGenerous = std::chrono::seconds(3);

Json chat_message(const std::string& body) {
  return {{"id", "m1"}, {"user", {{"id", "u-1"}, {"displayName", "tester"}}}, {"body", body}};
}

constexpr const char* kNeighbourSource = R"js(
const { definePlugin, outlet, filter } = require("outlet");
module.exports = definePlugin({
  filterChatMessage(message) {
    if (message.body === "neighbour:drop") return filter.drop("dropped by the neighbour");
  },
  onChatTrigger(payload) {
    outlet.kv.set("last", payload.body);
    return { reply: payload.body.toUpperCase(), stored: outlet.kv.get("last") };
  },
});
)js";

struct Attempt {
  std::optional<Result<Json>> result;
  Clock::duration elapsed{};
  bool ok() const { return result->ok(); }
  std::string message() const { return result->ok() ? "" : result->error().message(); }
};

class WasmSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HostOptions options;
    options.strike_limit = 5;
    auto host = Host::create(options);
    ASSERT_TRUE(host.ok()) << host.error().to_string();
    host_ = std::move(host).value();
    ASSERT_TRUE(domain_.declare(*host_).ok());
    fs::path folder = dir_.path() / "neighbour";
    fs::create_directories(folder);
    Json manifest = {{"id", "neighbour"},
                     {"name", "neighbour"},
                     {"version", "1.0.0"},
                     {"kind", "bot-module"},
                     {"runtime", "js"},
                     {"entrypoint", "plugin.js"},
                     {"permissions", {"storage.kv"}}};
    std::ofstream(folder / "plugin.json") << manifest.dump(2);
    std::ofstream(folder / "plugin.js") << kNeighbourSource;
    ASSERT_EQ(enable(folder)->state, PluginState::kLoaded) << host_->status("neighbour")->reason;
  }

  void TearDown() override {
    outlet::testing::finishes_or_abort("destroying the host", [this] { host_.reset(); });
  }

  std::optional<PluginStatus> enable(const fs::path& folder) {
    auto plugin = read_plugin_folder(folder.string(), host_->vocabulary());
    EXPECT_TRUE(plugin.ok()) << plugin.error().to_string();
    if (!plugin.ok())
      return std::nullopt;
    EXPECT_TRUE(host_->add_plugin(*plugin).ok());
    EXPECT_TRUE(host_->approve(plugin->parsed.manifest.id).ok());
    (void)host_->enable(plugin->parsed.manifest.id);
    return host_->status(plugin->parsed.manifest.id);
  }

  // A plugin folder around one of the compiled hostile modules.
  std::optional<PluginStatus> add_module(const std::string& module,
                                         const Json& patch = Json::object()) {
    fs::path folder = dir_.path() / "hostile";
    fs::create_directories(folder);
    fs::copy_file(fs::path(OUTLET_WASM_MODULES_DIR) / (module + ".wasm"), folder / "plugin.wasm",
                  fs::copy_options::overwrite_existing);
    Json manifest = {
        {"id", "hostile"},
        {"name", "hostile"},
        {"version", "1.0.0"},
        {"kind", "bot-module"},
        {"runtime", "wasm"},
        {"entrypoint", "plugin.wasm"},
        {"permissions", {"storage.kv"}},
        {"limits", {{"timeoutMs", {{"filter", 30}, {"request", 100}}}, {"memoryBytes", 16 << 20}}}};
    manifest.merge_patch(patch);
    std::ofstream(folder / "plugin.json") << manifest.dump(2);
    return enable(folder);
  }

  void install(const std::string& module, const Json& patch = Json::object()) {
    auto status = add_module(module, patch);
    ASSERT_TRUE(status.has_value());
    ASSERT_EQ(status->state, PluginState::kLoaded) << status->reason;
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
    EXPECT_LT(attempt.elapsed, kGenerous);
  }

  void expect_neighbour_works() {
    auto answer = host_->request("neighbour", "chat.trigger", {{"body", "hello sandbox"}});
    ASSERT_TRUE(answer.ok()) << answer.error().to_string();
    EXPECT_EQ((*answer)["reply"], "HELLO SANDBOX");
    EXPECT_EQ((*answer)["stored"], "hello sandbox");
    EXPECT_TRUE(host_->filter("chat.message.received", chat_message("neighbour:drop")).dropped);
  }

  std::string warnings_of(const std::string& id) {
    std::optional<PluginStatus> status = host_->status(id);
    std::string all;
    for (const Warning& warning : status->warnings)
      all += warning.message + "\n";
    return all;
  }

  chat::ChatDomain domain_;
  std::unique_ptr<Host> host_;
  outlet::testing::TempDir dir_{"outlet-wasm-security"};
};

TEST_F(WasmSecurityTest, AnInfiniteLoopIsStoppedAtTheDeadlineAndTheInstanceStartsOver) {
  ASSERT_NO_FATAL_FAILURE(install("spin"));
  expect_failed(request_attack(), ErrorCode::kDeadlineExceeded,
                HasSubstr("ran over the 100 ms limit for request hooks"));
  EXPECT_THAT(warnings_of("hostile"), HasSubstr("instantiated again"));
  // The fresh instance answers.
  FilterOutcome outcome = host_->filter("chat.message.received", chat_message("hello"));
  EXPECT_FALSE(outcome.dropped);
  EXPECT_EQ(outcome.steps.size(), 2u);
  expect_neighbour_works();
}

TEST_F(WasmSecurityTest, MemoryGrowStopsAtThePluginsCap) {
  // 16 MiB for the plugin: 3/4 of it (192 pages) for its own memory.
  ASSERT_NO_FATAL_FAILURE(install("grow"));
  auto answer = host_->request("hostile", "chat.trigger", {{"body", "grow"}});
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  int pages = (*answer)["pages"].get<int>();
  EXPECT_LE(pages, 192);
  EXPECT_GT(pages, 150) << "the module could not grow to near its cap";
  EXPECT_LE(host_->status("hostile")->stats->memory_bytes, uint64_t{16} << 20);
  expect_neighbour_works();
}

TEST_F(WasmSecurityTest, KernelAllocationsStopAtTheKernelsCap) {
  ASSERT_NO_FATAL_FAILURE(install("kernel_bomb"));
  auto answer = host_->request("hostile", "chat.trigger", {{"body", "bomb"}});
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  EXPECT_EQ((*answer)["refused"], true);
  EXPECT_LE(host_->status("hostile")->stats->memory_bytes, uint64_t{16} << 20);
  expect_neighbour_works();
}

TEST_F(WasmSecurityTest, DeepRecursionTrapsCleanly) {
  // Filling a 16 MiB stack takes a while on a loaded machine: a deadline that
  // cannot be what stops it.
  ASSERT_NO_FATAL_FAILURE(install("recurse", {{"limits", {{"timeoutMs", {{"request", 2000}}}}}}));
  expect_failed(request_attack(), ErrorCode::kPluginError,
                AllOf(HasSubstr("on_chat_trigger"), HasSubstr("stack overflowed")));
  expect_neighbour_works();
}

TEST_F(WasmSecurityTest, ATrapOnEveryCallAutoDisablesThePlugin) {
  ASSERT_NO_FATAL_FAILURE(install("trap"));
  for (int i = 0; i < 5; ++i) {
    FilterOutcome outcome = host_->filter("chat.message.received", chat_message("hello"));
    EXPECT_FALSE(outcome.dropped) << "a failing filter fails open";
  }
  std::optional<PluginStatus> status = host_->status("hostile");
  EXPECT_EQ(status->state, PluginState::kFailed);
  EXPECT_THAT(status->reason, HasSubstr("unreachable executed"));
  expect_neighbour_works();
}

TEST_F(WasmSecurityTest, AnErrorSetByThePluginFailsTheCallEvenWhenItReturnsZero) {
  ASSERT_NO_FATAL_FAILURE(install("fails"));
  host_->filter("chat.message.received", chat_message("hello"));
  EXPECT_THAT(warnings_of("hostile"), HasSubstr("fails: refused on purpose"));
}

TEST_F(WasmSecurityTest, AnOversizedOutputIsRefused) {
  ASSERT_NO_FATAL_FAILURE(install("big_output", {{"limits", {{"memoryBytes", 128 << 20}}}}));
  expect_failed(request_attack(), ErrorCode::kResourceExhausted,
                AllOf(HasSubstr("set an output of 17"), HasSubstr("16 MiB allowed")));
  expect_neighbour_works();
}

TEST_F(WasmSecurityTest, ImportingAnUngrantedHostFunctionFailsTheLoadNamingIt) {
  auto status = add_module("ungranted");
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->state, PluginState::kFailed);
  EXPECT_THAT(status->reason, AllOf(HasSubstr("extism:host/user.chat.send"),
                                    HasSubstr("not a host function granted to this plugin")));
  expect_neighbour_works();
}

TEST_F(WasmSecurityTest, ForgedHandlesAreRefused) {
  ASSERT_NO_FATAL_FAILURE(install("forged_handle"));
  expect_failed(request_attack(), ErrorCode::kPluginError,
                AllOf(HasSubstr("kv.set"), HasSubstr("invalid handle")));
  expect_neighbour_works();
}

TEST_F(WasmSecurityTest, WasiOpensNoFilesSocketsOrEnvironment) {
  ASSERT_NO_FATAL_FAILURE(install("wasi_probe"));
  auto answer = host_->request("hostile", "chat.trigger", {{"body", "probe"}});
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  // fd_prestat_get: EBADF (no directory is open); path_open and sock_accept:
  // ENOSYS; an empty environment; random_get works.
  EXPECT_EQ(*answer, Json::array({8, 52, 52, 1, 0}));
}

TEST_F(WasmSecurityTest, WithWasiOffAModuleThatImportsItDoesNotLoad) {
  // The host's runtime has WASI on; a module importing an unknown WASI
  // function with a non-errno result is refused naming it.
  fs::path folder = dir_.path() / "odd";
  fs::create_directories(folder);
  // (module (import "wasi_snapshot_preview1" "odd" (func (result i64))))
  const unsigned char module[] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05,
                                  0x01, 0x60, 0x00, 0x01, 0x7e, 0x02, 0x1e, 0x01, 0x16, 'w',
                                  'a',  's',  'i',  '_',  's',  'n',  'a',  'p',  's',  'h',
                                  'o',  't',  '_',  'p',  'r',  'e',  'v',  'i',  'e',  'w',
                                  '1',  0x03, 'o',  'd',  'd',  0x00, 0x00};
  std::ofstream(folder / "plugin.wasm", std::ios::binary)
      .write(reinterpret_cast<const char*>(module), sizeof(module));
  Json manifest = {{"id", "odd"},          {"name", "odd"},     {"version", "1.0.0"},
                   {"kind", "bot-module"}, {"runtime", "wasm"}, {"entrypoint", "plugin.wasm"}};
  std::ofstream(folder / "plugin.json") << manifest.dump(2);
  auto status = enable(folder);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->state, PluginState::kFailed);
  EXPECT_THAT(status->reason, HasSubstr("wasi_snapshot_preview1.odd"));
}

// A module written byte by byte (C cannot declare tables): one funcref table and
// on_chat_trigger = (table.grow (ref.null func) (i32.const 5000000)) != -1.
std::string table_grow_module(unsigned char initial_elements_leb) {
  const unsigned char bytes[] = {
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00,
      0x00, 0x00,  // header
      0x01, 0x05, 0x01, 0x60, 0x00, 0x01,
      0x7f,                                                // type () -> i32
      0x03, 0x02, 0x01, 0x00,                              // function 0
      0x04, 0x04, 0x01, 0x70, 0x00, initial_elements_leb,  // table funcref n
      0x07, 0x13, 0x01, 0x0f, 'o',  'n',
      '_',  'c',  'h',  'a',  't',  '_',
      't',  'r',  'i',  'g',  'g',  'e',
      'r',  0x00, 0x00,  // export
      0x0a, 0x11, 0x01, 0x0f, 0x00, 0xd0,
      0x70, 0x41, 0xc0, 0x96, 0xb1, 0x02,
      0xfc, 0x0f, 0x00, 0x41, 0x7f, 0x47,
      0x0b};  // code
  return std::string(reinterpret_cast<const char*>(bytes), sizeof(bytes));
}

TEST_F(WasmSecurityTest, TableGrowthStopsAtTheTableCap) {
  fs::path folder = dir_.path() / "tables";
  fs::create_directories(folder);
  std::ofstream(folder / "plugin.wasm", std::ios::binary) << table_grow_module(0x01);
  Json manifest = {{"id", "tables"},       {"name", "tables"},  {"version", "1.0.0"},
                   {"kind", "bot-module"}, {"runtime", "wasm"}, {"entrypoint", "plugin.wasm"}};
  std::ofstream(folder / "plugin.json") << manifest.dump(2);
  auto status = enable(folder);
  ASSERT_TRUE(status.has_value());
  ASSERT_EQ(status->state, PluginState::kLoaded) << status->reason;
  // 0 means table.grow answered -1: five million elements (80 MB) were refused.
  auto answer = host_->request("tables", "chat.trigger", {{"body", "grow"}});
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  expect_neighbour_works();
}

TEST_F(WasmSecurityTest, ATableThatStartsAboveTheCapDoesNotLoad) {
  fs::path folder = dir_.path() / "big-table";
  fs::create_directories(folder);
  std::string module = table_grow_module(0x01);
  // Initial size 1 → 5,000,000 (LEB128 c0 96 b1 02): the table section grows by 3 bytes.
  size_t at = module.find(std::string("\x04\x04\x01\x70\x00\x01", 6));
  ASSERT_NE(at, std::string::npos);
  module.replace(at, 6, std::string("\x04\x07\x01\x70\x00\xc0\x96\xb1\x02", 9));
  std::ofstream(folder / "plugin.wasm", std::ios::binary) << module;
  Json manifest = {{"id", "big-table"},    {"name", "big-table"}, {"version", "1.0.0"},
                   {"kind", "bot-module"}, {"runtime", "wasm"},   {"entrypoint", "plugin.wasm"}};
  std::ofstream(folder / "plugin.json") << manifest.dump(2);
  auto status = enable(folder);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->state, PluginState::kFailed);
  EXPECT_THAT(status->reason, HasSubstr("table 0 starts at 5000000 elements"));
}

TEST_F(WasmSecurityTest, AMalformedModuleFailsTheLoadWithTheEnginesReason) {
  fs::path folder = dir_.path() / "broken";
  fs::create_directories(folder);
  std::ofstream(folder / "plugin.wasm", std::ios::binary) << std::string("\0asm\1\0\0\0\1\xff", 10);
  Json manifest = {{"id", "broken"},       {"name", "broken"},  {"version", "1.0.0"},
                   {"kind", "bot-module"}, {"runtime", "wasm"}, {"entrypoint", "plugin.wasm"}};
  std::ofstream(folder / "plugin.json") << manifest.dump(2);
  auto status = enable(folder);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->state, PluginState::kFailed);
  EXPECT_THAT(status->reason, HasSubstr("the wasm module is malformed"));
  expect_neighbour_works();
}

}  // namespace
}  // namespace outlet
