// Reloading a plugin from its files while the host runs: the new instance is
// built beside the old, swapped in one step, and a failed reload keeps the old.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <future>
#include <thread>

#include "domains/chat/chat_domain.h"
#include "outlet/host.h"
#include "support/test_support.h"

namespace outlet {
namespace {

using testing::Gate;
using ::testing::HasSubstr;
using testing::TempDir;

Json chat(const std::string& body) {
  return {{"user", {{"id", "u-1"}}}, {"body", body}};
}

void write(const std::filesystem::path& path, const std::string& text) {
  // Written beside and renamed into place, as editors and deploy tools do.
  std::filesystem::path temporary = path.string() + ".tmp";
  std::ofstream(temporary) << text;
  std::filesystem::rename(temporary, path);
}

Json lua_manifest(const std::vector<std::string>& permissions = {"storage.kv"}) {
  return {{"id", "swapper"},           {"name", "swapper"}, {"version", "1.0.0"},
          {"kind", "bot-module"},      {"runtime", "lua"},  {"entrypoint", "plugin.lua"},
          {"permissions", permissions}};
}

// Drops messages containing `word`, and counts the messages it saw in KV.
std::string dropping(const std::string& word) {
  return "return { filter_chat_message = function(m)\n"
         "  outlet.kv.set('seen', (outlet.kv.get('seen') or 0) + 1)\n"
         "  if m.body:find('" +
         word + "', 1, true) then return outlet.filter.drop('" + word +
         "') end\n"
         "end }\n";
}

class HotReloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HostOptions options;
    options.log_sink = [this](const std::string& id, std::string_view level,
                              const std::string& message) {
      std::lock_guard lock(log_mutex_);
      log_.push_back(id + " " + std::string(level) + " " + message);
    };
    auto host = Host::create(options);
    ASSERT_TRUE(host.ok());
    host_ = std::move(host).value();
    ASSERT_TRUE(domain_.declare(*host_).ok());
    folder_ = dir_.path() / "swapper";
    std::filesystem::create_directories(folder_);
    std::ofstream(folder_ / "plugin.json") << lua_manifest().dump();
    write(folder_ / "plugin.lua", dropping("alpha"));
    auto plugin = read_plugin_folder(folder_.string(), host_->vocabulary());
    ASSERT_TRUE(plugin.ok()) << plugin.error().to_string();
    ASSERT_TRUE(host_->add_plugin(*plugin).ok());
    ASSERT_TRUE(host_->approve("swapper").ok());
    ASSERT_TRUE(host_->enable("swapper").ok());
    ASSERT_EQ(host_->status("swapper")->state, PluginState::kLoaded);
  }

  bool drops(const std::string& body) {
    return host_->filter("chat.message.received", chat(body)).dropped;
  }

  Json kv(const std::string& key) {
    auto value = host_->kv().get(host_->kv_namespace("swapper"), key);
    return value.ok() && value->has_value() ? **value : Json();
  }

  TempDir dir_;
  std::filesystem::path folder_;
  chat::ChatDomain domain_;
  std::unique_ptr<Host> host_;
  std::mutex log_mutex_;
  std::vector<std::string> log_;
};

TEST_F(HotReloadTest, AReloadRunsTheNewCodeAndKeepsKv) {
  EXPECT_TRUE(drops("alpha"));
  write(folder_ / "plugin.lua", dropping("beta"));
  ASSERT_TRUE(host_->reload("swapper").ok());
  EXPECT_FALSE(drops("alpha"));
  EXPECT_TRUE(drops("beta"));
  EXPECT_EQ(kv("seen"), 3);
  EXPECT_EQ(host_->status("swapper")->state, PluginState::kLoaded);
}

TEST_F(HotReloadTest, AFailedReloadKeepsTheRunningVersionAndSaysWhy) {
  write(folder_ / "plugin.lua", "return { filter_chat_message = function(m) end");
  Status reloaded = host_->reload("swapper");
  ASSERT_FALSE(reloaded.ok());
  EXPECT_THAT(reloaded.error().to_string(), HasSubstr("the running version keeps going"));
  EXPECT_THAT(reloaded.error().to_string(), HasSubstr("plugin.lua:"));
  EXPECT_TRUE(drops("alpha"));
  auto status = host_->status("swapper");
  EXPECT_EQ(status->state, PluginState::kLoaded);
  ASSERT_FALSE(status->warnings.empty());
  EXPECT_EQ(status->warnings[0].hook, "reload");
}

TEST_F(HotReloadTest, ABrokenManifestKeepsTheRunningVersion) {
  std::ofstream(folder_ / "plugin.json") << "{ \"id\": \"swapper\", ";
  EXPECT_FALSE(host_->reload("swapper").ok());
  EXPECT_TRUE(drops("alpha"));
}

TEST_F(HotReloadTest, NewPermissionsWaitForApprovalWhileTheOldVersionRuns) {
  std::ofstream(folder_ / "plugin.json") << lua_manifest({"storage.kv", "chat.send"}).dump();
  write(folder_ / "plugin.lua", dropping("beta"));
  Status reloaded = host_->reload("swapper");
  ASSERT_FALSE(reloaded.ok());
  EXPECT_THAT(reloaded.error().message(), HasSubstr("not yet approved: chat.send"));
  EXPECT_TRUE(drops("alpha"));
  EXPECT_FALSE(drops("beta"));
}

TEST_F(HotReloadTest, AChangedFileIsReloadedByTheWatcher) {
  ASSERT_TRUE(host_->watch_plugin_files(std::chrono::milliseconds(20)).ok());
  write(folder_ / "plugin.lua", dropping("gamma"));
  // The log line may follow the swap by a moment: wait for both.
  auto logged = [this] {
    std::lock_guard lock(log_mutex_);
    return std::any_of(log_.begin(), log_.end(), [](const std::string& line) {
      return line.find("reloaded: its files changed") != std::string::npos;
    });
  };
  auto give_up = std::chrono::steady_clock::now() + testing::kHangTimeout;
  while (!(drops("gamma") && logged()) && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(drops("gamma"));
  EXPECT_FALSE(drops("alpha"));
  EXPECT_TRUE(logged());
}

TEST_F(HotReloadTest, TheWatcherReportsAFailedReloadAndKeepsServing) {
  ASSERT_TRUE(host_->watch_plugin_files(std::chrono::milliseconds(20)).ok());
  write(folder_ / "plugin.lua", "this is not lua");
  auto give_up = std::chrono::steady_clock::now() + testing::kHangTimeout;
  while (host_->status("swapper")->warnings.empty() && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_FALSE(host_->status("swapper")->warnings.empty());
  EXPECT_EQ(host_->status("swapper")->warnings[0].hook, "reload");
  EXPECT_TRUE(drops("alpha"));
}

// The old instance finishes its call in flight; calls that start meanwhile go
// to the new one. Native plugins reload too (their code is compiled in).
TEST(HotReloadSwapTest, TheOldInstanceFinishesItsCallWhileTheNewOneServes) {
  auto host = Host::create({});
  ASSERT_TRUE(host.ok());
  chat::ChatDomain domain;
  ASSERT_TRUE(domain.declare(**host).ok());
  auto instances = std::make_shared<std::atomic<int>>(0);
  auto entered = std::make_shared<Gate>();
  auto release = std::make_shared<Gate>();
  ASSERT_TRUE((*host)
                  ->register_native_plugin("slow",
                                           [instances, entered, release] {
                                             int generation = ++*instances;
                                             auto plugin = std::make_unique<NativePlugin>();
                                             plugin->filter(
                                                 "chat.message.received",
                                                 [generation, entered, release](
                                                     const Json&, PluginContext&) -> Result<Json> {
                                                   if (generation == 1) {
                                                     entered->open();
                                                     release->wait();
                                                   }
                                                   return filter_drop("generation " +
                                                                      std::to_string(generation));
                                                 });
                                             return plugin;
                                           })
                  .ok());
  ASSERT_TRUE(
      (*host)->add_builtin(testing::native_manifest("slow", {}, {{"kind", "bot-module"}})).ok());
  ASSERT_TRUE((*host)->approve("slow").ok());
  ASSERT_TRUE((*host)->enable("slow").ok());
  testing::finishes_or_abort("a reload during a call", [&] {
    auto in_flight = std::async(std::launch::async, [&] {
      return (*host)->filter("chat.message.received", chat("x")).reason;
    });
    ASSERT_TRUE(entered->wait());
    auto reloading = std::async(std::launch::async, [&] { return (*host)->reload("slow"); });
    // Once the new instance exists, reload swaps it in under the host's lock, which
    // status() waits for; the wait for the old call comes after that lock is let go.
    auto give_up = std::chrono::steady_clock::now() + testing::kHangTimeout;
    while (*instances < 2 && std::chrono::steady_clock::now() < give_up)
      std::this_thread::yield();
    (void)(*host)->status("slow");
    EXPECT_EQ((*host)->filter("chat.message.received", chat("y")).reason, "generation 2");
    release->open();
    EXPECT_EQ(in_flight.get(), "generation 1");
    EXPECT_TRUE(reloading.get().ok());
  });
}

}  // namespace
}  // namespace outlet
