// The outlet CLI as a user runs it: a real process, its exit status and output.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

struct CliRun {
  int status;
  std::string output;  // stdout and stderr together
};

CliRun outlet(const std::string& arguments, const std::string& stdin_text = "") {
  std::string command = std::string(OUTLET_CLI_PATH) + " " + arguments + " 2>&1";
  fs::path input = fs::temp_directory_path() / ("outlet-cli-stdin-" + std::to_string(::getpid()));
  std::ofstream(input) << stdin_text;
  command += " < " + input.string();
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  std::array<char, 4096> buffer{};
  while (size_t n = fread(buffer.data(), 1, buffer.size(), pipe))
    output.append(buffer.data(), n);
  int status = pclose(pipe);
  fs::remove(input);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string examples() {
  return std::string(OUTLET_SOURCE_DIR) + "/examples/plugins/native";
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("outlet-cli-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(CliTest, EverySubcommandHasHelp) {
  for (const char* command : {"validate", "list", "test", "run", "demo", "call", "serve"}) {
    CliRun run = outlet(std::string(command) + " --help");
    EXPECT_EQ(run.status, 0) << command;
    EXPECT_THAT(run.output, HasSubstr("Usage")) << command;
  }
}

TEST_F(CliTest, ValidateReportsEveryManifestErrorWithItsPath) {
  fs::create_directories(dir_ / "bad");
  std::ofstream(dir_ / "bad" / "plugin.json") << R"({
    "id": "Bad_Id", "name": "Bad", "version": "1.0", "kind": "bot-module",
    "entrypoint": "../escape.lua", "permissions": ["chat.sned"], "colour": 1})";
  CliRun run = outlet("validate " + (dir_ / "bad").string());
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, HasSubstr("id: \"Bad_Id\" must match"));
  EXPECT_THAT(run.output, HasSubstr("version: \"1.0\" is not a semantic version"));
  EXPECT_THAT(run.output,
              HasSubstr("entrypoint: \"../escape.lua\" must not escape the plugin root"));
  EXPECT_THAT(
      run.output,
      HasSubstr("permissions[0]: unknown permission \"chat.sned\" (did you mean \"chat.send\"?)"));
  EXPECT_THAT(run.output, HasSubstr("4 errors"));
}

TEST_F(CliTest, ValidateAcceptsTheExamplesAndChecksAConfig) {
  CliRun ok = outlet("validate " + examples() + "/word-filter " + examples() + "/relay");
  EXPECT_EQ(ok.status, 0) << ok.output;
  std::ofstream(dir_ / "config.json") << R"({"mode": "explode"})";
  CliRun bad =
      outlet("validate " + examples() + "/word-filter --config " + (dir_ / "config.json").string());
  EXPECT_EQ(bad.status, 1);
  EXPECT_THAT(bad.output, HasSubstr("config.mode"));
}

TEST_F(CliTest, TestExitsNonZeroOnAFailingScenarioAndSupportsJunit) {
  fs::copy(examples() + "/echo-bot", dir_ / "echo-bot", fs::copy_options::recursive);
  CliRun pass = outlet("test " + (dir_ / "echo-bot").string() + " --format junit");
  EXPECT_EQ(pass.status, 0) << pass.output;
  EXPECT_THAT(pass.output, HasSubstr("<testsuites>"));
  std::ofstream(dir_ / "echo-bot" / "__tests__" / "broken.test.json")
      << R"([{"name": "fails", "events": [], "expect": {"chatSends": ["never"]}}])";
  CliRun fail = outlet("test " + (dir_ / "echo-bot").string());
  EXPECT_EQ(fail.status, 1);
  EXPECT_THAT(fail.output, HasSubstr("✗ fails"));
  EXPECT_THAT(fail.output, HasSubstr("2 passed, 1 failed"));
}

TEST_F(CliTest, RunProcessesGoodLinesAndReportsBadOnes) {
  std::string events =
      R"({"event": "chat.message.received", "payload": {"user": {"id": "u", "displayName": "al"}, "body": "!echo hi"}})"
      "\n"
      "this is not json\n"
      R"({"event": "chat.message.received", "payload": {"body": 5}})"
      "\n"
      R"({"event": "chat.message.received", "payload": {"user": {"id": "u", "displayName": "al"}, "body": "darn"}})"
      "\n";
  CliRun run = outlet("run " + examples() + " --enable-all --json", events);
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, HasSubstr("line 2: not valid JSON"));
  EXPECT_THAT(run.output, HasSubstr("line 3: payload of chat.message.received is invalid"));
  EXPECT_THAT(run.output, HasSubstr("al said: hi"));
  EXPECT_THAT(run.output, HasSubstr(R"("body":"***")"));
}

TEST_F(CliTest, RunAppliesAValidatedConfigFileAndRefusesABadOne) {
  std::ofstream(dir_ / "drop.json") << R"({"mode": "drop"})";
  std::string darn =
      R"({"event": "chat.message.received", "payload": {"user": {"id": "u"}, "body": "darn"}})"
      "\n";
  CliRun good = outlet("run " + examples() + " --enable-all --json --config word-filter=" +
                           (dir_ / "drop.json").string(),
                       darn);
  EXPECT_EQ(good.status, 0) << good.output;
  EXPECT_THAT(good.output, HasSubstr(R"("dropped":true)"));

  std::ofstream(dir_ / "bad.json") << R"({"mode": "shout", "extra": 1})";
  CliRun bad = outlet(
      "run " + examples() + " --enable-all --config word-filter=" + (dir_ / "bad.json").string(),
      darn);
  EXPECT_EQ(bad.status, 2);
  EXPECT_THAT(bad.output, HasSubstr("config.mode: must be one of"));
  EXPECT_THAT(bad.output, HasSubstr("config.extra: additional property"));
  CliRun malformed = outlet("run " + examples() + " --config word-filter", "");
  EXPECT_EQ(malformed.status, 2);
  EXPECT_THAT(malformed.output, HasSubstr("expected PLUGIN-ID=FILE.json"));
}

TEST_F(CliTest, RunRefusesABadSecretsFileWithoutPrintingSecrets) {
  std::ofstream(dir_ / "secrets.json")
      << R"({"echo-bot": {"token": 12345678, "ok": "s3cr3t-value"}})";
  CliRun run = outlet("run " + examples() + " --secrets " + (dir_ / "secrets.json").string(), "");
  EXPECT_EQ(run.status, 2);
  EXPECT_THAT(run.output, HasSubstr("echo-bot.token: must be a string"));
  EXPECT_THAT(run.output, Not(HasSubstr("12345678")));
  EXPECT_THAT(run.output, Not(HasSubstr("s3cr3t-value")));
}

TEST_F(CliTest, RunWithoutEnableLoadsNothingAndSaysWhy) {
  CliRun run = outlet("run " + examples(), "");
  EXPECT_EQ(run.status, 0);
  EXPECT_THAT(run.output, HasSubstr("not enabled; --enable-all"));
}

TEST_F(CliTest, ListGroupsPluginsByKindWithATotal) {
  CliRun run = outlet("list " + examples() + " --json");
  EXPECT_EQ(run.status, 0) << run.output;
  auto json = nlohmann::json::parse(run.output);
  EXPECT_EQ(json["total"], 6);
  EXPECT_EQ(json["plugins"]["bot_modules"].size(), 6u);
  EXPECT_TRUE(json["plugins"].contains("widgets"));
}

TEST_F(CliTest, DemoShowsTheStreamAndExitsZero) {
  CliRun run = outlet("demo");
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("drop by link-protection"));
  EXPECT_THAT(run.output, HasSubstr("modify by word-filter"));
  EXPECT_THAT(run.output, HasSubstr("relay emitted announcement.broadcast"));
  EXPECT_THAT(run.output, HasSubstr("count:u-alice"));
  EXPECT_THAT(run.output, Not(HasSubstr("did not load")));
}

std::string wasm_module(const std::string& name) {
  return std::string(OUTLET_WASM_MODULES_DIR) + "/" + name + ".wasm";
}

TEST_F(CliTest, CallRunsAWasmExportWithRawInputAndConfig) {
  // (abi.wasm imports WASI's proc_exit, so it needs --wasi to load.)
  CliRun echo = outlet("call " + wasm_module("abi") + " echo --wasi --input 'hello world'");
  EXPECT_EQ(echo.status, 0) << echo.output;
  EXPECT_EQ(echo.output, "hello world");
  std::ofstream(dir_ / "input.txt") << "from a file";
  CliRun file = outlet("call " + wasm_module("abi") + " echo --wasi --input @" +
                       (dir_ / "input.txt").string());
  EXPECT_EQ(file.output, "from a file");
  CliRun config = outlet("call " + wasm_module("abi") +
                         " config --wasi --input greeting --config greeting=hey");
  EXPECT_EQ(config.output, "hey");
}

TEST_F(CliTest, CallGivesABareFileWasiOnlyWhenAsked) {
  CliRun without = outlet("call " + wasm_module("abi") + " exit_zero");
  EXPECT_EQ(without.status, 1);
  EXPECT_THAT(without.output, HasSubstr("wasi_snapshot_preview1.proc_exit is a WASI function"));
  CliRun with = outlet("call " + wasm_module("abi") + " exit_zero --wasi");
  EXPECT_EQ(with.status, 0) << with.output;
  EXPECT_EQ(with.output, "before exit");
}

TEST_F(CliTest, CallReportsAFailingExportAndAnUnknownOne) {
  CliRun seven = outlet("call " + wasm_module("abi") + " returns_seven --wasi");
  EXPECT_EQ(seven.status, 1);
  EXPECT_THAT(seven.output, HasSubstr("returned the non-zero code 7"));
  CliRun unknown = outlet("call " + wasm_module("abi") + " nope --wasi");
  EXPECT_EQ(unknown.status, 1);
  EXPECT_THAT(unknown.output, HasSubstr("it exports: echo, edges"));
}

TEST_F(CliTest, CallRunsAHandlerOfAPluginFolderInAnyLanguage) {
  std::string message = R"('{"body":"this is darn bad","user":{"id":"u"}}')";
  for (const char* plugin :
       {"wasm/word-filter filter_chat_message", "lua/word-filter filter_chat_message",
        "js/word-filter filterChatMessage", "js/word-filter filter:chat.message.received"}) {
    CliRun run = outlet("call " + std::string(OUTLET_SOURCE_DIR) + "/examples/plugins/" + plugin +
                        " --input " + message);
    EXPECT_EQ(run.status, 0) << plugin << ": " << run.output;
    EXPECT_THAT(run.output, HasSubstr("this is *** bad")) << plugin;
  }
  CliRun unknown = outlet("call " + std::string(OUTLET_SOURCE_DIR) +
                          "/examples/plugins/js/word-filter onNothing --input '{}'");
  EXPECT_EQ(unknown.status, 1);
  EXPECT_THAT(unknown.output, HasSubstr("no handler named \"onNothing\""));
}

TEST_F(CliTest, UnknownSubcommandFails) {
  CliRun run = outlet("frobnicate");
  EXPECT_NE(run.status, 0);
}

}  // namespace
