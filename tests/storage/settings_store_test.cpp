#include "storage/settings_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
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
    path_ = (dir_ / "settings.sqlite3").string();
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

  // Runs SQL on the file through a connection of the test's own, as another process would.
  void raw_sql(const std::string& sql) const {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* message = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
        << (message ? message : "");
    sqlite3_free(message);
    sqlite3_close(db);
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
  settings.disabled_by_operator = true;
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

TEST_F(SettingsStoreTest, TenantsDoNotSeeEachOthersDecisions) {
  {
    auto first = SettingsStore::open(path_, "first");
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE((*first)->update("greeter", [](PluginSettings& s) { s = sample_settings(); }).ok());
  }
  auto second = SettingsStore::open(path_, "second");
  ASSERT_TRUE(second.ok());
  EXPECT_THAT((*second)->ids(), IsEmpty());
  ASSERT_TRUE((*second)->update("greeter", [](PluginSettings& s) { s.enabled = true; }).ok());
  auto first = SettingsStore::open(path_, "first");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*first)->get("greeter"), sample_settings());
}

TEST_F(SettingsStoreTest, TheFileHoldsSecretsSoItIsOwnerOnly) {
  auto store = open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->update("greeter", [](PluginSettings& s) { s = sample_settings(); }).ok());
  for (const std::string& name : files()) {
    struct stat info {};
    ASSERT_EQ(::stat((dir_ / name).c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0077, 0u) << name;
  }
}

TEST_F(SettingsStoreTest, AFileThatIsNotADatabaseIsRefusedAndLeftUntouched) {
  write("{\"version\": 1, \"plugins\": {}}\n");
  auto store = SettingsStore::open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code(), ErrorCode::kUnavailable);
  EXPECT_THAT(store.error().message(), HasSubstr("settings store"));
  EXPECT_THAT(store.error().message(), HasSubstr("nothing was changed"));
  EXPECT_EQ(read(path_), "{\"version\": 1, \"plugins\": {}}\n");
}

TEST_F(SettingsStoreTest, ACorruptRowNamesThePluginAndColumn) {
  {
    auto store = open_ok();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->update("greeter", [](PluginSettings& s) { s = sample_settings(); }).ok());
  }
  raw_sql("UPDATE plugin_settings SET secrets = '[1, 2' WHERE plugin = 'greeter'");
  auto broken = SettingsStore::open(path_);
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(broken.error().to_string(), HasSubstr("plugin_settings[greeter].secrets"));

  raw_sql("UPDATE plugin_settings SET secrets = '[1, 2]' WHERE plugin = 'greeter'");
  auto wrong_type = SettingsStore::open(path_);
  ASSERT_FALSE(wrong_type.ok()) << "a list where a map belongs";
  EXPECT_THAT(wrong_type.error().to_string(), HasSubstr("plugin_settings[greeter].secrets"));
}

TEST_F(SettingsStoreTest, ASchemaFromANewerBuildIsRefused) {
  { ASSERT_NE(open_ok(), nullptr); }
  raw_sql("PRAGMA user_version = 99");
  auto store = SettingsStore::open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(store.error().message(), HasSubstr("schema version 99"));
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

TEST_F(SettingsStoreTest, AFailedWriteChangesNothingInMemoryOrOnDisk) {
  // Works even as root: the database itself refuses the write, as a full disk would.
  auto store = open_ok();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->update("greeter", [](PluginSettings& s) { s = sample_settings(); }).ok());
  raw_sql(
      "CREATE TRIGGER refuse_update BEFORE UPDATE ON plugin_settings "
      "BEGIN SELECT RAISE(ABORT, 'disk says no'); END;"
      "CREATE TRIGGER refuse_delete BEFORE DELETE ON plugin_settings "
      "BEGIN SELECT RAISE(ABORT, 'disk says no'); END;");

  Status status = store->update("greeter", [](PluginSettings& s) {
    s.enabled = false;
    s.approved_permissions.clear();
  });
  ASSERT_FALSE(status.ok());
  EXPECT_THAT(status.error().to_string(), HasSubstr("disk says no"));
  EXPECT_EQ(store->get("greeter"), sample_settings());
  EXPECT_THAT(store->ids(), ElementsAre("greeter"));

  EXPECT_FALSE(store->remove("greeter").ok());
  EXPECT_EQ(store->get("greeter"), sample_settings());

  auto reopened = open_ok();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->get("greeter"), sample_settings());
}

TEST_F(SettingsStoreTest, ASettingsJsonFileFromAnEarlierVersionIsImportedOnce) {
  const fs::path legacy = dir_ / "settings.json";
  {
    std::ofstream out(legacy);
    out << R"({"version": 1, "plugins": {"greeter": {"enabled": true,
        "approvedPermissions": ["chat.send", "storage.kv"], "approvedVersion": "1.2.0",
        "config": {"greeting": "Hi"}, "secrets": {"apiKey": "s3cr3t"},
        "disabledReason": "5 consecutive failures"}, "other": {}}})";
  }
  {
    auto store = open_ok();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->import_json_file(legacy.string()).ok());
    EXPECT_TRUE(store->get("greeter").enabled);
    EXPECT_EQ(store->get("greeter").secrets.at("apiKey"), "s3cr3t");
    EXPECT_THAT(store->ids(), ElementsAre("greeter", "other"));
  }
  EXPECT_FALSE(fs::exists(legacy));
  EXPECT_TRUE(fs::exists(dir_ / "settings.json.imported"));
  auto reopened = open_ok();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->get("greeter").approved_permissions,
            (std::vector<std::string>{"chat.send", "storage.kv"}));
  EXPECT_EQ(reopened->get("greeter").config, (Json{{"greeting", "Hi"}}));
}

TEST_F(SettingsStoreTest, AnUnreadableSettingsJsonIsAnErrorAndNothingIsImported) {
  const fs::path legacy = dir_ / "settings.json";
  std::ofstream(legacy) << R"({"version": 1, "plugins": {"greeter": {"enabled": "yes"}}})";
  auto store = open_ok();
  ASSERT_NE(store, nullptr);
  Status imported = store->import_json_file(legacy.string());
  ASSERT_FALSE(imported.ok());
  EXPECT_THAT(imported.error().to_string(), HasSubstr("plugins.greeter"));
  EXPECT_THAT(store->ids(), IsEmpty());
  EXPECT_TRUE(fs::exists(legacy)) << "left for the operator to fix";
}

TEST(SettingsStoreMemoryTest, EmptyPathKeepsEverythingInMemory) {
  auto store = SettingsStore::open("");
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->update("greeter", [](PluginSettings& s) { s.enabled = true; }).ok());
  EXPECT_TRUE((*store)->get("greeter").enabled);
}

}  // namespace
}  // namespace outlet
