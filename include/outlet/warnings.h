// Per-plugin warnings (seeds/004 "bounded and de-duplicated warnings surfaced to
// the user"): the same message from the same hook is counted, not repeated; the
// log keeps enough entries to debug (the anchor keeps only the newest).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace outlet {

struct Warning {
  std::string hook;  // e.g. "filter chat.message.received", "load", "emit"
  std::string message;
  uint64_t count = 0;
  std::chrono::system_clock::time_point first_seen;
  std::chrono::system_clock::time_point last_seen;
};

// Thread-safe. When full, the entry seen least recently makes room.
class WarningLog {
 public:
  explicit WarningLog(size_t capacity = 100) : capacity_(capacity) {}

  // Returns true when this (hook, message) is new, so a caller can log it once.
  bool add(std::string hook, std::string message);
  std::vector<Warning> entries() const;  // most recently seen first
  uint64_t total() const;                // every add(), including repeats and evicted
  void clear();

 private:
  size_t capacity_;
  mutable std::mutex mutex_;
  std::vector<Warning> entries_;  // guarded by mutex_
  uint64_t total_ = 0;            // guarded by mutex_
};

}  // namespace outlet
