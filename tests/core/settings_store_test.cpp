#include "core/settings_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace outlet {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class SettingsStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "outlet-settings-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << pattern;
    dir_ = pattern;
    path_ = (dir_ / "settings.json").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, ec);
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<SettingsStore> open_ok() const {
    auto store = SettingsStore::open(path_);
    EXPECT_TRUE(store.ok()) << (store.ok() ? "" : store.error().to_string());
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::string read(const fs::path& path) const {
    std::ifstream in(path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    return content.str();
  }

  void write(const std::string& content) const {
    std::ofstream out(path_, std::ios::binary);
    out << content;
  }

  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_)) {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

  fs::path dir_;
  std::string path_;
};

PluginSettings sample_settings() {
  PluginSettings settings;
  settings.enabled = true;
  settings.approved_permissions = {"chat.send", "storage.kv"};
  settings.approved_version = "1.2.0";
  settings.config = {{"greeting", "Hi"}, {"colors", {"#ff0000", "#00ff00"}}, {"count", 3}};
  settings.secrets = {{"apiKey", "s3cr3t"}, {"token", "abc"}};
  settings.disabled_reason = "5 consecutive failures";
  return settings;
}

TEST_F(SettingsStoreTest, UpdatePersistsAndReopenRestoresExactly) {
  {
    auto store = open_ok();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->update("greeter", [](PluginSettings& s) { s = sample_settings(); }).ok());
    ASSERT_TRUE(store->update("other", [](PluginSettings& s) { s.enabled = false; }).ok());
  }
  auto reopened = open_ok();
  ASSERT_NE(reopened, nullptr);
  EXPECT_THAT(reopened->ids(), ElementsAre("greeter", "other"));
  EXPECT_EQ(reopened->get("greeter"), sample_settings());
  EXPECT_EQ(reopened->get("other"), PluginSettings{});
}

TEST_F(SettingsStoreTest, UnknownIdReadsAsDefaults) {
  auto store = open_ok();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->get("nobody"), PluginSettings{});
  EXPECT_THAT(store->ids(), IsEmpty());
  EXPECT_FALSE(fs::exists(path_));  // nothing is written until something changes
}

TEST_F(SettingsStoreTest, RemovePersists) {
  {
    auto store = open_ok();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->update("greeter", [](PluginSettings& s) { s.enabled = true; }).ok());
    ASSERT_TRUE(store->remove("greeter").ok());
  }
  auto reopened = open_ok();
  ASSERT_NE(reopened, nullptr);
  EXPECT_THAT(reopened->ids(), IsEmpty());
}

TEST_F(SettingsStoreTest, NoTemporaryFilesAreLeftBehind) {
  auto store = open_ok();
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        store->update("p" + std::to_string(i), [](PluginSettings& s) { s.enabled = true; }).ok());
  }
  EXPECT_THAT(files(), ElementsAre("settings.json"));
}

TEST_F(SettingsStoreTest, AVersionOfTheWrongTypeIsAnErrorNotACrash) {
  for (const char* text :
       {R"({"version": "1", "plugins": {}})", R"({"version": null})", R"({"version": 1.5})"}) {
    write(text);
    auto store = SettingsStore::open(path_);
    ASSERT_FALSE(store.ok()) << text;
    EXPECT_THAT(store.error().message(), HasSubstr("has unsupported version")) << text;
  }
}

TEST_F(SettingsStoreTest, CorruptFileIsRefusedAndLeftUntouched) {
  const std::string corrupt = "{\"version\": 1, \"plugins\": {\"a\": ";
  write(corrupt);
  auto store = SettingsStore::open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(store.error().to_string(),
              HasSubstr("settings file " + path_ + " is not valid JSON (parse error at line 1"));
  EXPECT_THAT(store.error().to_string(), HasSubstr("fix or remove it"));
  EXPECT_EQ(read(path_), corrupt);
  EXPECT_THAT(files(), ElementsAre("settings.json"));
}

TEST_F(SettingsStoreTest, CorruptPluginEntryNamesItsPath) {
  const std::string corrupt = R"({"version": 1, "plugins": {"greeter": {"enabled": "yes"}}})";
  write(corrupt);
  auto store = SettingsStore::open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().to_string(), HasSubstr("is corrupt"));
  EXPECT_THAT(store.error().to_string(), HasSubstr("\n  plugins.greeter: "));
  EXPECT_EQ(read(path_), corrupt);
}

TEST_F(SettingsStoreTest, PluginsThatAreNotAnObjectAreRefused) {
  write(R"({"version": 1, "plugins": []})");
  auto store = SettingsStore::open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().to_string(), HasSubstr("\n  plugins: must be an object"));
}

TEST_F(SettingsStoreTest, UnsupportedVersionIsRefused) {
  const std::string future = R"({"version": 2, "plugins": {}})";
  write(future);
  auto store = SettingsStore::open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(store.error().to_string(),
              HasSubstr("settings file " + path_ + " has unsupported version 2"));
  EXPECT_EQ(read(path_), future);
}

TEST_F(SettingsStoreTest, MissingAndEffectiveGrants) {
  Manifest manifest;
  manifest.id = "greeter";
  manifest.permissions = {"chat.send", "storage.kv", "log"};
  auto store = open_ok();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->missing_grants(manifest), ElementsAre("chat.send", "storage.kv", "log"));
  EXPECT_THAT(store->effective_grants(manifest), IsEmpty());

  // An approval for a permission the manifest no longer declares grants nothing.
  ASSERT_TRUE(store
                  ->update("greeter",
                           [](PluginSettings& s) {
                             s.approved_permissions = {"log", "network.fetch", "chat.send"};
                           })
                  .ok());
  EXPECT_THAT(store->missing_grants(manifest), ElementsAre("storage.kv"));
  EXPECT_THAT(store->effective_grants(manifest), ElementsAre("chat.send", "log"));

  ASSERT_TRUE(store
                  ->update("greeter",
                           [](PluginSettings& s) {
                             s.approved_permissions = {"chat.send", "storage.kv", "log"};
                           })
                  .ok());
  EXPECT_THAT(store->missing_grants(manifest), IsEmpty());
  EXPECT_THAT(store->effective_grants(manifest), ElementsAre("chat.send", "storage.kv", "log"));
}

TEST_F(SettingsStoreTest, FailedWriteLeavesStateUnchanged) {
  auto store = open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->update("greeter", [](PluginSettings& s) { s = sample_settings(); }).ok());
  const std::string before = read(path_);

  fs::permissions(dir_, fs::perms::owner_read | fs::perms::owner_exec);
  if (::access(dir_.c_str(), W_OK) == 0) {
    GTEST_SKIP() << "running as root: a read-only directory is still writable";
  }
  Status status = store->update("greeter", [](PluginSettings& s) {
    s.enabled = false;
    s.approved_permissions.clear();
  });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(status.error().to_string(), HasSubstr("cannot create"));
  EXPECT_EQ(store->get("greeter"), sample_settings());
  EXPECT_THAT(store->ids(), ElementsAre("greeter"));

  Status removed = store->remove("greeter");
  EXPECT_FALSE(removed.ok());
  EXPECT_EQ(store->get("greeter"), sample_settings());

  fs::permissions(dir_, fs::perms::owner_all);
  EXPECT_EQ(read(path_), before);
  EXPECT_THAT(files(), ElementsAre("settings.json"));
  auto reopened = open_ok();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->get("greeter"), sample_settings());
}

TEST_F(SettingsStoreTest, FailedRenameLeavesStateUnchangedAndNoTempFile) {
  // Works even as root: nobody can rename a file over a non-empty directory.
  auto store = open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->update("greeter", [](PluginSettings& s) { s = sample_settings(); }).ok());
  fs::remove(path_);
  fs::create_directories(fs::path(path_) / "occupied");

  Status status = store->update("greeter", [](PluginSettings& s) { s.enabled = false; });
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(status.error().to_string(), HasSubstr("cannot rename into " + path_));
  EXPECT_EQ(store->get("greeter"), sample_settings());
  EXPECT_THAT(files(), ElementsAre("settings.json"));  // the directory; the temp file is gone
}

TEST(SettingsStoreMemoryTest, EmptyPathKeepsEverythingInMemory) {
  auto store = SettingsStore::open("");
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->update("greeter", [](PluginSettings& s) { s.enabled = true; }).ok());
  EXPECT_TRUE((*store)->get("greeter").enabled);
}

}  // namespace
}  // namespace outlet
