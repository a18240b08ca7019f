#include "hostapi/ttl_cache.h"

#include <algorithm>

#include "core/text.h"

namespace outlet {

TtlCache::TtlCache(size_t max_entries, size_t max_bytes, Clock clock)
    : max_entries_(max_entries), max_bytes_(max_bytes), clock_(std::move(clock)) {}

std::chrono::steady_clock::time_point TtlCache::now() const {
  return clock_ ? clock_() : std::chrono::steady_clock::now();
}

void TtlCache::erase(std::map<std::string, Entry>::iterator it) {
  bytes_ -= it->second.bytes;
  entries_.erase(it);
}

std::optional<Json> TtlCache::get(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end())
    return std::nullopt;
  if (it->second.expires <= now()) {
    erase(it);
    return std::nullopt;
  }
  return it->second.value;
}

Status TtlCache::set(const std::string& key, Json value, std::chrono::milliseconds ttl) {
  size_t bytes = key.size() + dump_json(value).size();
  if (bytes > max_bytes_) {
    return Error(ErrorCode::kResourceExhausted, "cache.set: entry of " + std::to_string(bytes) +
                                                    " bytes exceeds the cache's " +
                                                    std::to_string(max_bytes_) + "-byte budget");
  }
  std::lock_guard lock(mutex_);
  auto time = now();
  if (auto existing = entries_.find(key); existing != entries_.end())
    erase(existing);
  // Expired entries go first, then whatever expires soonest.
  for (auto it = entries_.begin(); it != entries_.end();) {
    auto next = std::next(it);
    if (it->second.expires <= time)
      erase(it);
    it = next;
  }
  while (!entries_.empty() && (entries_.size() >= max_entries_ || bytes_ + bytes > max_bytes_)) {
    auto soonest = std::min_element(
        entries_.begin(), entries_.end(),
        [](const auto& a, const auto& b) { return a.second.expires < b.second.expires; });
    erase(soonest);
  }
  entries_[key] = Entry{std::move(value), bytes, time + ttl};
  bytes_ += bytes;
  return {};
}

bool TtlCache::remove(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key);
  if (it == entries_.end())
    return false;
  erase(it);
  return true;
}

size_t TtlCache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

size_t TtlCache::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace outlet
