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
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
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

uint64_t LatencyHistogram::count_at_most(uint64_t bound_ns) const {
  uint64_t count = 0;
  for (int i = 0; i < static_cast<int>(buckets_.size()) && upper_bound_ns(i) <= bound_ns; ++i)
    count += buckets_[i].load(std::memory_order_relaxed);
  return count;
}

const std::vector<double>& latency_bucket_bounds_seconds() {
  static const std::vector<double> bounds = {1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2,
                                             5e-2, 0.1,  0.5,  1,    5,    30};
  return bounds;
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
  for (double bound : latency_bucket_bounds_seconds()) {
    stats.latency_le_seconds.emplace_back(
        bound, latency.count_at_most(static_cast<uint64_t>(bound * 1e9)));
  }
  stats.latency_sum_seconds = latency.sum_seconds();
  return stats;
}

}  // namespace outlet
