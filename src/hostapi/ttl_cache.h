// A plugin's cache (seeds/001 ctx.cache: in-memory, TTL-based, per install),
// bounded in entries and bytes so a plugin cannot use it to exhaust the host.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "outlet/json.h"
#include "outlet/result.h"

namespace outlet {

class TtlCache {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  TtlCache(size_t max_entries, size_t max_bytes, Clock clock = nullptr);

  std::optional<Json> get(const std::string& key);
  // Evicts the entry closest to expiry when full; a single entry above the byte
  // budget is refused.
  Status set(const std::string& key, Json value, std::chrono::milliseconds ttl);
  bool remove(const std::string& key);
  size_t size() const;
  size_t bytes() const;

 private:
  struct Entry {
    Json value;
    size_t bytes;
    std::chrono::steady_clock::time_point expires;
  };
  std::chrono::steady_clock::time_point now() const;
  void erase(std::map<std::string, Entry>::iterator it);  // requires mutex_

  size_t max_entries_;
  size_t max_bytes_;
  Clock clock_;
  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;  // guarded by mutex_
  size_t bytes_ = 0;                      // guarded by mutex_
};

}  // namespace outlet
