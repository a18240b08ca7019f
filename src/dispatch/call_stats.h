// Lock-free per-plugin, per-hook counters and a latency histogram, updated on
// every call and read by the admin API.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "outlet/dispatch.h"

namespace outlet {

// Log-linear buckets: 4 per power of two from 1 ns up to 2^40 ns (~18 minutes),
// so a percentile is exact to within 25%.
class LatencyHistogram {
 public:
  static constexpr int kSubBuckets = 4;
  static constexpr int kRanges = 41;
  void record(uint64_t nanoseconds);
  // The upper bound of the bucket holding the q-th quantile, in microseconds.
  double quantile_us(double q) const;
  double max_us() const { return static_cast<double>(max_ns_.load()) / 1000.0; }
  // Calls whose bucket lies wholly at or below `bound_ns`.
  uint64_t count_at_most(uint64_t bound_ns) const;
  double sum_seconds() const { return static_cast<double>(sum_ns_.load()) / 1e9; }

 private:
  static int bucket_of(uint64_t nanoseconds);
  static uint64_t upper_bound_ns(int bucket);
  std::array<std::atomic<uint64_t>, size_t{kRanges} * kSubBuckets> buckets_{};
  std::atomic<uint64_t> max_ns_{0};
  std::atomic<uint64_t> sum_ns_{0};
};

struct HookCounters {
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> failures{0};
  std::atomic<uint64_t> timeouts{0};
  LatencyHistogram latency;

  HookStats snapshot() const;
};

}  // namespace outlet
