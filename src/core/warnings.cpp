#include "outlet/warnings.h"

#include <algorithm>

#include "core/text.h"

namespace outlet {
namespace {
constexpr size_t kMaxMessageBytes = 2048;
}

bool WarningLog::add(std::string hook, std::string message) {
  // A plugin controls its error text; cap it so warnings cannot be a memory sink.
  message = truncate_utf8(message, kMaxMessageBytes);
  auto now = std::chrono::system_clock::now();
  std::lock_guard lock(mutex_);
  ++total_;
  for (Warning& entry : entries_) {
    if (entry.hook == hook && entry.message == message) {
      ++entry.count;
      entry.last_seen = now;
      return false;
    }
  }
  if (capacity_ == 0)
    return true;
  if (entries_.size() >= capacity_) {
    auto oldest = std::min_element(
        entries_.begin(), entries_.end(),
        [](const Warning& a, const Warning& b) { return a.last_seen < b.last_seen; });
    entries_.erase(oldest);
  }
  entries_.push_back({std::move(hook), std::move(message), 1, now, now});
  return true;
}

std::vector<Warning> WarningLog::entries() const {
  std::lock_guard lock(mutex_);
  std::vector<Warning> copy = entries_;
  std::stable_sort(copy.begin(), copy.end(),
                   [](const Warning& a, const Warning& b) { return a.last_seen > b.last_seen; });
  return copy;
}

uint64_t WarningLog::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

void WarningLog::clear() {
  std::lock_guard lock(mutex_);
  entries_.clear();
}

}  // namespace outlet
