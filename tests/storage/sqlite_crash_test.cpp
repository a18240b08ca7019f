// Crash safety of the SQLite store: a writer killed with SIGKILL at arbitrary moments must
// leave a database that passes integrity_check and holds exactly the writes that were
// committed, in order. This is the claim behind synchronous=NORMAL in sqlite_kv_store.cpp.
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "outlet/kv_store.h"

namespace outlet {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kNs = "crash/writer";

// Zero-padded so byte order is numeric order, which makes a dump of the table readable.
std::string key_for(int64_t i) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "k%012lld", static_cast<long long>(i));
  return buffer;
}

Json value_for(int64_t i, const std::string& pad) {
  return Json{{"i", i}, {"pad", pad}};
}

// The child: only the store, no gtest, and _exit so no atexit handler or static destructor
// inherited from the test binary runs twice. Exit codes tell the parent why it stopped on
// its own, which it never should before the kill.
[[noreturn]] void run_writer(const std::string& path, int64_t first, const std::string& pad) {
  auto store = open_sqlite_kv_store(path);
  if (!store.ok()) {
    _exit(2);
  }
  for (int64_t i = first;; ++i) {
    if (!(*store)->set(kNs, key_for(i), value_for(i, pad)).ok()) {
      _exit(3);
    }
  }
}

std::string describe(int status) {
  if (WIFEXITED(status)) {
    return "exited with code " + std::to_string(WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  }
  return "status " + std::to_string(status);
}

// Through a raw connection, so the check does not depend on the code under test. Opening
// it also runs WAL recovery, as the next host start would.
std::string integrity_check(const std::string& path) {
  sqlite3* db = nullptr;
  std::string result = "<no row>";
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    result = std::string("open failed: ") + sqlite3_errmsg(db);
  } else if (sqlite3_exec(
                 db, "PRAGMA integrity_check",
                 [](void* out, int, char** values, char**) {
                   auto& text = *static_cast<std::string*>(out);
                   text = text == "<no row>" ? "" : text + "\n";
                   text += values[0] == nullptr ? "NULL" : values[0];
                   return 0;
                 },
                 &result, nullptr) != SQLITE_OK) {
    result = std::string("integrity_check failed: ") + sqlite3_errmsg(db);
  }
  sqlite3_close(db);
  return result;
}

// Returns n such that keys 0..n-1 hold their exact values and nothing else is stored.
// Fails the test (and returns -1) otherwise.
int64_t committed_prefix(const std::string& path, const std::string& pad) {
  auto store = open_sqlite_kv_store(path);
  EXPECT_TRUE(store.ok()) << store.error().to_string();
  if (!store.ok()) {
    return -1;
  }
  int64_t n = 0;
  for (;; ++n) {
    auto got = (*store)->get(kNs, key_for(n));
    EXPECT_TRUE(got.ok()) << got.error().to_string();
    if (!got.ok()) {
      return -1;
    }
    if (!got->has_value()) {
      break;
    }
    EXPECT_EQ(**got, value_for(n, pad)) << "key " << n;
    if (**got != value_for(n, pad)) {
      return -1;
    }
  }
  auto listed = (*store)->list(kNs, "", 0);
  EXPECT_TRUE(listed.ok()) << listed.error().to_string();
  if (!listed.ok()) {
    return -1;
  }
  EXPECT_EQ(listed->size(), static_cast<size_t>(n))
      << "entries stored beyond the contiguous prefix 0.." << n - 1;
  return listed->size() == static_cast<size_t>(n) ? n : -1;
}

TEST(SqliteCrashTest, KilledWriterLeavesConsistentCommittedPrefix) {
  std::string dir_pattern = (fs::temp_directory_path() / "outlet-kv-crash-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir_pattern.data()), nullptr);
  const fs::path dir = dir_pattern;
  const std::string path = (dir / "crash.db").string();
  // Large enough that the WAL passes its 1000-page auto-checkpoint within a run, so some
  // kills land mid-checkpoint as well as mid-commit.
  const std::string pad(300, 'p');
  // Each round continues the same file, so later rounds also crash on top of a recovered WAL.
  const int kill_after_ms[] = {150, 200, 230, 270, 320};

  int64_t committed = 0;
  for (int round = 0; round < static_cast<int>(std::size(kill_after_ms)); ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    // The child inherits `committed` through fork's copy of memory and continues from it.
    const pid_t pid = fork();
    ASSERT_NE(pid, -1) << "fork: " << strerror(errno);
    if (pid == 0) {
      run_writer(path, committed, pad);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms[round]));
    ASSERT_EQ(kill(pid, SIGKILL), 0) << strerror(errno);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid) << strerror(errno);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "writer was not killed but " << describe(status);

    ASSERT_EQ(integrity_check(path), "ok");
    const int64_t n = committed_prefix(path, pad);
    ASSERT_GE(n, 0);
    // Every write that an earlier round found committed must still be there.
    EXPECT_GE(n, committed);
    committed = n;
  }
  // Guards against a writer that never got going, which would make the checks vacuous.
  EXPECT_GT(committed, 0);
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

}  // namespace
}  // namespace outlet
