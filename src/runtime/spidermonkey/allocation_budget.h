// Per-plugin accounting of malloc'd memory. SpiderMonkey keeps array elements,
// long strings and ArrayBuffer contents outside its GC heap, so its own heap limit
// does not stop them (DESIGN.md "Facts": a bomb of array elements killed the
// process). libmozjs allocates through the process's malloc, so the host counts
// every block an engine thread allocates while a plugin's code runs against that
// plugin's budget, and credits it back whichever thread frees it.
//
// The counting allocator is allocation_interposer.cpp, linked into an executable
// (target outlet::allocation_budgets). Without it (sanitizer builds, or an
// application that brings its own malloc) budgets count nothing and JS memory is
// bounded by SpiderMonkey's GC heap limit only; `allocation_budgets_enforced()` says
// which.
#pragma once

#include <atomic>
#include <cstdint>

namespace outlet {

class AllocationBudget {
 public:
  // A budget starts with one reference, its owner's.
  static AllocationBudget* create(uint64_t limit_bytes);
  // The owner lets go; the budget lives on until its last block is freed.
  void release_owner();

  uint64_t limit_bytes() const { return limit_bytes_; }
  int64_t used_bytes() const { return used_bytes_.load(std::memory_order_relaxed); }
  // Set once an allocation took the budget past its limit; the engine stops the call.
  bool exceeded() const { return exceeded_.load(std::memory_order_relaxed); }
  void clear_exceeded() { exceeded_.store(false, std::memory_order_relaxed); }
  // Raised with `exceeded` so a watchdog polling this flag can interrupt the call.
  void set_alarm(std::atomic<bool>* alarm) { alarm_ = alarm; }

  // --- For the allocator only ---
  // Counts `bytes` in; false when the block must be refused (a large block past the limit).
  bool charge(uint64_t bytes);
  // A block changes size; false when growth must be refused.
  bool resize(uint64_t old_bytes, uint64_t new_bytes);
  // Counts `bytes` out; may delete the budget (its last block after its owner left).
  void credit(uint64_t bytes);

 private:
  explicit AllocationBudget(uint64_t limit) : limit_bytes_(limit) {}
  bool admit(uint64_t growth);
  void drop_reference();

  const uint64_t limit_bytes_;
  std::atomic<int64_t> used_bytes_{0};
  std::atomic<int64_t> references_{1};  // the owner + one per live block
  std::atomic<bool> exceeded_{false};
  std::atomic<bool>* alarm_ = nullptr;
};

// Whether the counting allocator is linked into this process.
bool allocation_budgets_enforced();

// Makes the calling thread's allocations count against `budget` (null: none);
// returns the previous one, for nesting.
AllocationBudget* exchange_thread_allocation_budget(AllocationBudget* budget);

// RAII form of the above.
class ScopedAllocationBudget {
 public:
  explicit ScopedAllocationBudget(AllocationBudget* budget)
      : previous_(exchange_thread_allocation_budget(budget)) {}
  ~ScopedAllocationBudget() { exchange_thread_allocation_budget(previous_); }
  ScopedAllocationBudget(const ScopedAllocationBudget&) = delete;
  ScopedAllocationBudget& operator=(const ScopedAllocationBudget&) = delete;

 private:
  AllocationBudget* previous_;
};

}  // namespace outlet

// Provided by the counting allocator when it is linked (weak elsewhere).
extern "C" outlet::AllocationBudget* outlet_exchange_allocation_budget(
    outlet::AllocationBudget* budget) __attribute__((weak));
