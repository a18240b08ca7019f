#include "dispatch/call_stats.h"

#include <bit>

namespace outlet {

int LatencyHistogram::bucket_of(uint64_t ns) {
  if (ns < kSubBuckets)
    return static_cast<int>(ns);
  int range = static_cast<int>(std::bit_width(ns)) - 1;  // floor(log2)
  if (range >= kRanges)
    return kRanges * kSubBuckets - 1;
  // The two bits below the leading one pick the sub-bucket.
  int sub = static_cast<int>((ns >> (range - 2)) & (kSubBuckets - 1));
  return range * kSubBuckets + sub;
}

uint64_t LatencyHistogram::upper_bound_ns(int bucket) {
  int range = bucket / kSubBuckets;
  int sub = bucket % kSubBuckets;
  if (range < 2)
    return static_cast<uint64_t>(bucket) + 1;
  uint64_t base = uint64_t{1} << range;
  return base + (base / kSubBuckets) * static_cast<uint64_t>(sub + 1);
}

void LatencyHistogram::record(uint64_t ns) {
  buckets_[bucket_of(ns)].fetch_add(1, std::memory_order_relaxed);
  uint64_t previous = max_ns_.load(std::memory_order_relaxed);
  while (ns > previous && !max_ns_.compare_exchange_weak(previous, ns)) {
  }
}

double LatencyHistogram::quantile_us(double q) const {
  uint64_t total = 0;
  for (const auto& bucket : buckets_)
    total += bucket.load(std::memory_order_relaxed);
  if (total == 0)
    return 0;
  auto rank = static_cast<uint64_t>(q * static_cast<double>(total - 1)) + 1;
  uint64_t seen = 0;
  for (int i = 0; i < static_cast<int>(buckets_.size()); ++i) {
    seen += buckets_[i].load(std::memory_order_relaxed);
    if (seen >= rank)
      return static_cast<double>(upper_bound_ns(i)) / 1000.0;
  }
  return max_us();
}

HookStats HookCounters::snapshot() const {
  HookStats stats;
  stats.calls = calls.load();
  stats.failures = failures.load();
  stats.timeouts = timeouts.load();
  stats.p50_us = latency.quantile_us(0.50);
  stats.p90_us = latency.quantile_us(0.90);
  stats.p99_us = latency.quantile_us(0.99);
  stats.max_us = latency.max_us();
  return stats;
}

}  // namespace outlet
