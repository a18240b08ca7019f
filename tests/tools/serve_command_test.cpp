// `outlet serve` as an operator runs it: a real process on a loopback port, its
// first-run token, the API answering, and a clean stop on SIGTERM.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include "support/http_client.h"
#include "support/test_support.h"

extern char** environ;

namespace outlet {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ServeProcess {
 public:
  explicit ServeProcess(const std::vector<std::string>& arguments) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<std::string> all = {OUTLET_CLI_PATH, "serve"};
    all.insert(all.end(), arguments.begin(), arguments.end());
    std::vector<char*> argv;
    for (std::string& a : all)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    EXPECT_EQ(posix_spawn(&pid_, OUTLET_CLI_PATH, &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    out_ = fds[0];
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(out_);
  }

  // Reads output until it contains `text` (or the process ends, or time runs out).
  bool wait_for(const std::string& text) {
    const auto deadline = std::chrono::steady_clock::now() + outlet::testing::kHangTimeout;
    char buffer[4096];
    while (output_.find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline)
        return false;
      ssize_t n = ::read(out_, buffer, sizeof buffer);
      if (n <= 0)
        return false;
      output_.append(buffer, static_cast<size_t>(n));
    }
    return true;
  }

  int stop(int signal) {
    ::kill(pid_, signal);
    wait_for("\x04");  // reads to the end of output
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  uint16_t port() const {
    std::smatch m;
    std::regex_search(output_, m, std::regex(R"(serving on http://127\.0\.0\.1:(\d+))"));
    return m.empty() ? 0 : static_cast<uint16_t>(std::stoi(m[1]));
  }
  std::string token() const {
    std::smatch m;
    std::regex_search(output_, m, std::regex(R"(olt_[A-Za-z0-9_-]{43})"));
    return m.empty() ? "" : m[0].str();
  }
  const std::string& output() const { return output_; }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string output_;
};

TEST(ServeCommandTest, FirstRunPrintsATokenOnceServesTheApiAndStopsCleanlyOnSigterm) {
  outlet::testing::TempDir dir("outlet-serve");
  const std::string data = (dir.path() / "data").string();
  std::string token;
  {
    ServeProcess server({"--listen", "127.0.0.1:0", "--data-dir", data});
    ASSERT_TRUE(server.wait_for("serving on")) << server.output();
    token = server.token();
    ASSERT_FALSE(token.empty()) << server.output();
    auto reply = outlet::testing::fetch(server.port(), "GET", "/v1/health",
                                        {{"Authorization", "Bearer " + token}});
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.json()["status"], "ok");
    // The live chat is part of the server: a message posted now is history after a restart.
    auto posted = outlet::testing::fetch(
        server.port(), "POST", "/v1/chat/messages", {{"Authorization", "Bearer " + token}},
        R"({"body": "before the restart", "user": {"id": "ann"}})");
    EXPECT_EQ(posted.status, 201) << posted.body;
    EXPECT_EQ(server.stop(SIGTERM), 0) << server.output();
    EXPECT_THAT(server.output(), HasSubstr("SIGTERM: finishing requests in flight"));
    EXPECT_THAT(server.output(), HasSubstr("stopped"));
  }
  ServeProcess again({"--listen", "127.0.0.1:0", "--data-dir", data});
  ASSERT_TRUE(again.wait_for("serving on")) << again.output();
  EXPECT_THAT(again.output(), Not(HasSubstr("olt_"))) << "the token is shown only once";
  auto reply = outlet::testing::fetch(again.port(), "GET", "/v1/plugins",
                                      {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(reply.status, 200);
  auto history = outlet::testing::fetch(again.port(), "GET", "/v1/chat/messages",
                                        {{"Authorization", "Bearer " + token}});
  ASSERT_EQ(history.json()["messages"].size(), 1u) << history.body;
  EXPECT_EQ(history.json()["messages"][0]["body"], "before the restart");
  EXPECT_EQ(again.stop(SIGINT), 0);
}

TEST(ServeCommandTest, ABadSettingStopsBeforeServingAndNamesIt) {
  ServeProcess server({"--listen", "localhost", "--io-threads", "0"});
  server.wait_for("\x04");
  EXPECT_EQ(server.stop(SIGTERM), 2);
  EXPECT_THAT(server.output(), HasSubstr("listen (--listen)"));
  EXPECT_THAT(server.output(), HasSubstr("io_threads (--io-threads): must be between 1 and 64"));
}

TEST(ServeCommandTest, HelpDocumentsEverySettingWithItsEnvironmentVariable) {
  ServeProcess help({"--help"});
  help.wait_for("\x04");
  for (const char* expected : {"--listen", "OUTLET_LISTEN", "--data-dir", "OUTLET_DATA_DIR",
                               "--shutdown-grace-ms", "--config", "OUTLET_CONFIG"}) {
    EXPECT_THAT(help.output(), HasSubstr(expected));
  }
  help.stop(SIGTERM);
}

}  // namespace
}  // namespace outlet
