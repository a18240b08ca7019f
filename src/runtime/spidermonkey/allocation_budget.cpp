#include "runtime/spidermonkey/allocation_budget.h"

namespace outlet {
namespace {

// Blocks at least this large are refused past the limit: they are data (array
// elements, strings, buffers) that SpiderMonkey allocates fallibly. Smaller ones are
// let through and the call is stopped at its next interrupt check instead, because
// the engine allocates some small blocks where failure would abort the process.
constexpr uint64_t kRefusableBytes = uint64_t{64} << 10;

}  // namespace

AllocationBudget* AllocationBudget::create(uint64_t limit_bytes) {
  // The budget's own block must not count against any budget.
  ScopedAllocationBudget none(nullptr);
  return new AllocationBudget(limit_bytes);
}

void AllocationBudget::release_owner() {
  drop_reference();
}

bool AllocationBudget::admit(uint64_t growth) {
  int64_t after = used_bytes_.load(std::memory_order_relaxed) + static_cast<int64_t>(growth);
  if (after <= static_cast<int64_t>(limit_bytes_))
    return true;
  exceeded_.store(true, std::memory_order_relaxed);
  if (alarm_ != nullptr)
    alarm_->store(true, std::memory_order_release);
  return growth < kRefusableBytes;
}

bool AllocationBudget::charge(uint64_t bytes) {
  if (!admit(bytes))
    return false;
  used_bytes_.fetch_add(static_cast<int64_t>(bytes), std::memory_order_relaxed);
  references_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool AllocationBudget::resize(uint64_t old_bytes, uint64_t new_bytes) {
  if (new_bytes > old_bytes && !admit(new_bytes - old_bytes))
    return false;
  used_bytes_.fetch_add(static_cast<int64_t>(new_bytes) - static_cast<int64_t>(old_bytes),
                        std::memory_order_relaxed);
  return true;
}

void AllocationBudget::credit(uint64_t bytes) {
  used_bytes_.fetch_sub(static_cast<int64_t>(bytes), std::memory_order_relaxed);
  drop_reference();
}

void AllocationBudget::drop_reference() {
  if (references_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    ScopedAllocationBudget none(nullptr);
    delete this;
  }
}

bool allocation_budgets_enforced() {
  return outlet_exchange_allocation_budget != nullptr;
}

AllocationBudget* exchange_thread_allocation_budget(AllocationBudget* budget) {
  if (outlet_exchange_allocation_budget == nullptr)
    return nullptr;
  return outlet_exchange_allocation_budget(budget);
}

}  // namespace outlet
