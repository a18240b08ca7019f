// Helpers shared by the test suites: a temporary folder, a guard that turns a
// deadlock into a failure, and a one-shot gate for threading tests.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "outlet/json.h"

namespace outlet::testing {

// Generous bound for "does not hang": only ever reached when something is broken.
inline constexpr std::chrono::seconds kHangTimeout{10};

// A fresh directory per test, removed afterwards, so files never leak between tests.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "outlet-test") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    if (mkdtemp(pattern.data()) == nullptr)
      ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A minimal valid manifest of a native plugin; `extra` adds or replaces fields.
inline Json native_manifest(const std::string& id, const std::vector<std::string>& permissions = {},
                            const Json& extra = Json::object()) {
  Json document = {{"id", id},
                   {"name", id},
                   {"version", "1.0.0"},
                   {"kind", "test"},
                   {"runtime", "native"},
                   {"entrypoint", "plugin.cpp"},
                   {"permissions", permissions}};
  document.update(extra);
  return document;
}

// Runs `body` and gives up on the whole process if it has not finished after a
// generous limit: a deadlock must fail the run, not hang it.
template <typename F>
void finishes_or_abort(const char* what, F body) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> finished = done->get_future();
  std::thread([body = std::move(body), done]() mutable {
    body();
    done->set_value();
  }).detach();
  if (finished.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    std::fprintf(stderr, "FATAL: %s did not finish within 30 s (deadlock?)\n", what);
    std::abort();
  }
}

// A one-shot gate a test opens; waiting gives up after kHangTimeout so a broken
// component fails the test instead of hanging it.
class Gate {
 public:
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    cv_.notify_all();
  }
  bool wait() {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, kHangTimeout, [&] { return open_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

}  // namespace outlet::testing
