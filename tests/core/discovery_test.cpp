#include "outlet/discovery.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace outlet {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A fresh directory under the test temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "outlet-discovery-XXXXXX";
    char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr) << pattern;
    path_ = fs::canonical(pattern);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

Json manifest(const std::string& id, const std::string& entrypoint = "main.lua") {
  return {{"id", id},
          {"name", id},
          {"version", "1.0.0"},
          {"kind", "bot-module"},
          {"entrypoint", entrypoint}};
}

// A plugin folder with a manifest and its entrypoint.
void make_plugin(const fs::path& folder, const std::string& id) {
  write_file(folder / "plugin.json", manifest(id).dump());
  write_file(folder / "main.lua", "return {}\n");
}

class DiscoveryTest : public ::testing::Test {
 protected:
  fs::path plugins() const { return dir_.path() / "plugins"; }
  Result<DiscoveryReport> discover() const {
    return discover_plugins(plugins().string(), ManifestVocabulary{});
  }
  // The only problem the scan reported, for `folder`; null (and a failure) otherwise.
  const DiscoveryProblem* only_problem(const Result<DiscoveryReport>& report,
                                       const std::string& folder) const {
    EXPECT_TRUE(report.ok());
    if (!report.ok())
      return nullptr;
    EXPECT_THAT(report->plugins, IsEmpty());
    EXPECT_EQ(report->problems.size(), 1u);
    if (report->problems.size() != 1)
      return nullptr;
    EXPECT_EQ(report->problems[0].folder, (plugins() / folder).string());
    return &report->problems[0];
  }

  TempDir dir_;
};

TEST_F(DiscoveryTest, ValidFolderIsFound) {
  make_plugin(plugins() / "hello", "hello-bot");
  auto report = discover();
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  EXPECT_THAT(report->problems, IsEmpty());
  ASSERT_EQ(report->plugins.size(), 1u);
  const DiscoveredPlugin& plugin = report->plugins[0];
  EXPECT_EQ(plugin.root, (plugins() / "hello").string());
  EXPECT_EQ(plugin.manifest_path, (plugins() / "hello" / "plugin.json").string());
  EXPECT_EQ(plugin.entrypoint_path, (plugins() / "hello" / "main.lua").string());
  EXPECT_EQ(plugin.parsed.manifest.id, "hello-bot");
  EXPECT_EQ(plugin.parsed.manifest.runtime, RuntimeKind::kLua);
}

TEST_F(DiscoveryTest, FoldersAreReadInNameOrder) {
  make_plugin(plugins() / "zeta", "zeta-bot");
  make_plugin(plugins() / "alpha", "alpha-bot");
  auto report = discover();
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->plugins.size(), 2u);
  EXPECT_EQ(report->plugins[0].parsed.manifest.id, "alpha-bot");
  EXPECT_EQ(report->plugins[1].parsed.manifest.id, "zeta-bot");
}

TEST_F(DiscoveryTest, OnlyOneLevelDeepIsScanned) {
  make_plugin(plugins() / "group" / "nested", "nested-bot");
  auto report = discover();
  const DiscoveryProblem* problem = only_problem(report, "group");
  ASSERT_NE(problem, nullptr);
  EXPECT_THAT(problem->error.to_string(), HasSubstr("group has no plugin.json"));
}

TEST_F(DiscoveryTest, HiddenFoldersAndPlainFilesAreSkipped) {
  make_plugin(plugins() / ".hidden", "hidden-bot");
  write_file(plugins() / "README.md", "not a plugin\n");
  auto report = discover();
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(report->plugins, IsEmpty());
  EXPECT_THAT(report->problems, IsEmpty());
}

TEST_F(DiscoveryTest, EachBadFolderIsReportedWhileOthersLoad) {
  make_plugin(plugins() / "alpha", "alpha-bot");
  fs::create_directories(plugins() / "bravo");  // no plugin.json
  write_file(plugins() / "charlie" / "plugin.json",
             "{\"id\": \"charlie-bot\", \"version\": \"x\"}");
  make_plugin(plugins() / "delta", "delta-bot");

  auto report = discover();
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->plugins.size(), 2u);
  EXPECT_EQ(report->plugins[0].parsed.manifest.id, "alpha-bot");
  EXPECT_EQ(report->plugins[1].parsed.manifest.id, "delta-bot");

  ASSERT_EQ(report->problems.size(), 2u);
  EXPECT_EQ(report->problems[0].folder, (plugins() / "bravo").string());
  EXPECT_EQ(report->problems[0].error.code(), ErrorCode::kNotFound);
  EXPECT_THAT(report->problems[0].error.to_string(), HasSubstr("bravo has no plugin.json"));
  EXPECT_EQ(report->problems[1].folder, (plugins() / "charlie").string());
  std::string invalid = report->problems[1].error.to_string();
  EXPECT_THAT(invalid, HasSubstr("plugin.json of \"charlie-bot\" is invalid"));
  EXPECT_THAT(invalid, HasSubstr("\n  name: is required"));
  EXPECT_THAT(invalid, HasSubstr("\n  version: \"x\" is not a semantic version"));
}

TEST_F(DiscoveryTest, InvalidJsonIsReportedForItsFolder) {
  write_file(plugins() / "broken" / "plugin.json", "{\"id\": ");
  auto report = discover();
  const DiscoveryProblem* problem = only_problem(report, "broken");
  ASSERT_NE(problem, nullptr);
  EXPECT_THAT(problem->error.to_string(), HasSubstr("plugin.json is not valid JSON"));
}

TEST_F(DiscoveryTest, EntrypointSymlinkOutsideTheRootIsRejected) {
  write_file(dir_.path() / "outside" / "secret.lua", "return {}\n");
  write_file(plugins() / "evil" / "plugin.json", manifest("evil-bot").dump());
  fs::create_symlink(dir_.path() / "outside" / "secret.lua", plugins() / "evil" / "main.lua");
  auto report = discover();
  const DiscoveryProblem* problem = only_problem(report, "evil");
  ASSERT_NE(problem, nullptr);
  EXPECT_EQ(problem->error.code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(problem->error.to_string(),
              HasSubstr("entrypoint \"main.lua\" escapes the plugin root"));
  EXPECT_THAT(
      problem->error.to_string(),
      HasSubstr("entrypoint: resolves to " + (dir_.path() / "outside" / "secret.lua").string()));
}

TEST_F(DiscoveryTest, APluginJsonThatIsAFifoIsRejectedWithoutBlocking) {
  fs::create_directories(plugins() / "fifo");
  ASSERT_EQ(::mkfifo((plugins() / "fifo" / "plugin.json").c_str(), 0600), 0);
  write_file(plugins() / "good" / "plugin.json", manifest("good-bot").dump());
  write_file(plugins() / "good" / "main.lua", "return {}\n");
  auto report = discover();  // would block forever if the FIFO were opened for reading
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->plugins.size(), 1u);
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_THAT(report->problems[0].error.to_string(), HasSubstr("plugin.json"));
  EXPECT_THAT(report->problems[0].error.to_string(), HasSubstr("regular file"));
}

TEST_F(DiscoveryTest, APluginJsonSymlinkOutsideTheRootIsRejected) {
  write_file(dir_.path() / "outside" / "plugin.json", manifest("evil-bot").dump());
  write_file(plugins() / "evil" / "main.lua", "return {}\n");
  fs::create_symlink(dir_.path() / "outside" / "plugin.json", plugins() / "evil" / "plugin.json");
  auto report = discover();
  const DiscoveryProblem* problem = only_problem(report, "evil");
  ASSERT_NE(problem, nullptr);
  EXPECT_THAT(problem->error.to_string(),
              HasSubstr("plugin.json \"plugin.json\" escapes the plugin root"));
}

TEST_F(DiscoveryTest, EntrypointUnderASymlinkedDirectoryOutsideTheRootIsRejected) {
  write_file(dir_.path() / "outside" / "main.lua", "return {}\n");
  write_file(plugins() / "evil" / "plugin.json", manifest("evil-bot", "lib/main.lua").dump());
  fs::create_directory_symlink(dir_.path() / "outside", plugins() / "evil" / "lib");
  auto report = discover();
  const DiscoveryProblem* problem = only_problem(report, "evil");
  ASSERT_NE(problem, nullptr);
  EXPECT_THAT(problem->error.to_string(),
              HasSubstr("entrypoint \"lib/main.lua\" escapes the plugin root"));
}

TEST_F(DiscoveryTest, EntrypointSymlinkToASiblingFolderIsRejected) {
  // "/plugins/evil-twin" starts with "/plugins/evil" as a string but is outside it.
  write_file(plugins() / "evil-twin" / "other.js", "x");
  write_file(plugins() / "evil" / "plugin.json", manifest("evil-bot", "main.js").dump());
  fs::create_symlink(plugins() / "evil-twin" / "other.js", plugins() / "evil" / "main.js");
  auto report = read_plugin_folder((plugins() / "evil").string(), ManifestVocabulary{});
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.error().to_string(),
              HasSubstr("entrypoint \"main.js\" escapes the plugin root"));
}

TEST_F(DiscoveryTest, EntrypointSymlinkInsideTheRootIsAccepted) {
  write_file(plugins() / "linked" / "plugin.json", manifest("linked-bot").dump());
  write_file(plugins() / "linked" / "src" / "real.lua", "return {}\n");
  fs::create_symlink("src/real.lua", plugins() / "linked" / "main.lua");
  auto plugin = read_plugin_folder((plugins() / "linked").string(), ManifestVocabulary{});
  ASSERT_TRUE(plugin.ok()) << plugin.error().to_string();
  EXPECT_EQ(plugin->entrypoint_path, (plugins() / "linked" / "src" / "real.lua").string());
}

TEST_F(DiscoveryTest, MissingEntrypointIsRejected) {
  write_file(plugins() / "empty" / "plugin.json", manifest("empty-bot").dump());
  auto report = discover();
  const DiscoveryProblem* problem = only_problem(report, "empty");
  ASSERT_NE(problem, nullptr);
  EXPECT_EQ(problem->error.code(), ErrorCode::kNotFound);
  EXPECT_THAT(problem->error.to_string(), HasSubstr("entrypoint \"main.lua\" does not exist"));
  EXPECT_THAT(problem->error.to_string(),
              HasSubstr("entrypoint: file not found under the plugin root"));
}

TEST_F(DiscoveryTest, EntrypointThatIsADirectoryIsRejected) {
  write_file(plugins() / "dir" / "plugin.json", manifest("dir-bot").dump());
  fs::create_directories(plugins() / "dir" / "main.lua");
  auto report = discover();
  const DiscoveryProblem* problem = only_problem(report, "dir");
  ASSERT_NE(problem, nullptr);
  EXPECT_THAT(problem->error.to_string(), HasSubstr("entrypoint \"main.lua\" is not a file"));
  EXPECT_THAT(problem->error.to_string(), HasSubstr("entrypoint: must name a regular file"));
}

TEST_F(DiscoveryTest, MissingPluginsDirectoryIsAnError) {
  auto report = discover();
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code(), ErrorCode::kNotFound);
  EXPECT_THAT(report.error().to_string(),
              HasSubstr("cannot read plugins directory " + plugins().string()));
}

TEST_F(DiscoveryTest, OversizePluginJsonIsRefused) {
  std::string text = manifest("big-bot").dump();
  text.append((1u << 20) + 1 - text.size(), ' ');
  write_file(plugins() / "big" / "plugin.json", text);
  write_file(plugins() / "big" / "main.lua", "return {}\n");
  auto report = discover();
  const DiscoveryProblem* problem = only_problem(report, "big");
  ASSERT_NE(problem, nullptr);
  EXPECT_EQ(problem->error.code(), ErrorCode::kResourceExhausted);
  EXPECT_THAT(problem->error.to_string(), HasSubstr("plugin.json is larger than 1048576 bytes"));
}

TEST(ReadFileCappedTest, ReturnsContentUpToTheCap) {
  TempDir dir;
  write_file(dir.path() / "f.txt", "12345");
  auto exact = read_file_capped((dir.path() / "f.txt").string(), 5);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(*exact, "12345");
  auto over = read_file_capped((dir.path() / "f.txt").string(), 4);
  ASSERT_FALSE(over.ok());
  EXPECT_THAT(over.error().to_string(), HasSubstr("f.txt is larger than 4 bytes"));
}

}  // namespace
}  // namespace outlet
