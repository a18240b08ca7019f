// The counting allocator behind AllocationBudget (see allocation_budget.h). It
// replaces malloc and its relatives for the whole process, as glibc documents for
// "Replacing malloc": each block carries a 16-byte header naming the budget it was
// charged to, so whichever thread frees it (a GC helper, another plugin's call)
// credits the right plugin. It is linked into executables, never into the
// library, so an application chooses it (CMake target outlet::allocation_budgets).
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "runtime/spidermonkey/allocation_budget.h"

// glibc's own allocator under its exported names: what the replacement calls.
// NOLINTBEGIN(bugprone-reserved-identifier)
extern "C" {
void* __libc_malloc(size_t size);
void* __libc_calloc(size_t count, size_t size);
void* __libc_realloc(void* pointer, size_t size);
void* __libc_memalign(size_t alignment, size_t size);
void __libc_free(void* pointer);
}
// NOLINTEND(bugprone-reserved-identifier)

namespace {

using outlet::AllocationBudget;

constexpr size_t kHeaderBytes = 16;
constexpr uint64_t kSizeMask = (uint64_t{1} << 48) - 1;

struct BlockHeader {
  AllocationBudget* budget;
  uint64_t size_and_offset;  // low 48 bits: requested size; high 16: offset / 16
};
static_assert(sizeof(BlockHeader) == kHeaderBytes);

__attribute__((tls_model("initial-exec"))) thread_local AllocationBudget* t_budget = nullptr;

BlockHeader* header_of(void* user) {
  return reinterpret_cast<BlockHeader*>(static_cast<char*>(user) - kHeaderBytes);
}
size_t size_of(const BlockHeader* header) {
  return header->size_and_offset & kSizeMask;
}
size_t offset_of(const BlockHeader* header) {
  return static_cast<size_t>(header->size_and_offset >> 48) * 16;
}

// Stamps the header of a block whose raw allocation starts `offset` bytes before `user`.
void* finish(void* base, size_t offset, size_t size, AllocationBudget* budget) {
  void* user = static_cast<char*>(base) + offset;
  BlockHeader* header = header_of(user);
  header->budget = budget;
  header->size_and_offset =
      static_cast<uint64_t>(size) | (static_cast<uint64_t>(offset / 16) << 48);
  return user;
}

// Charges the calling thread's budget; false when the block must be refused.
bool charge(AllocationBudget* budget, size_t size) {
  return budget == nullptr || budget->charge(size);
}

void release(void* user) {
  BlockHeader* header = header_of(user);
  AllocationBudget* budget = header->budget;
  size_t size = size_of(header);
  __libc_free(static_cast<char*>(user) - offset_of(header));
  if (budget != nullptr)
    budget->credit(size);
}

void* aligned(size_t alignment, size_t size) {
  if (alignment <= kHeaderBytes)
    return malloc(size);
  // The header keeps the offset in 16 bits of 16-byte units: at most 512 KiB.
  if ((alignment & (alignment - 1)) != 0 || alignment > (size_t{1} << 19) ||
      size > kSizeMask - alignment) {
    errno = EINVAL;
    return nullptr;
  }
  AllocationBudget* budget = t_budget;
  if (!charge(budget, size)) {
    errno = ENOMEM;
    return nullptr;
  }
  // The header sits in the `alignment` bytes before the aligned block.
  void* base = __libc_memalign(alignment, size + alignment);
  if (base == nullptr) {
    if (budget != nullptr)
      budget->credit(size);
    return nullptr;
  }
  return finish(base, alignment, size, budget);
}

}  // namespace

extern "C" {

outlet::AllocationBudget* outlet_exchange_allocation_budget(outlet::AllocationBudget* budget) {
  AllocationBudget* previous = t_budget;
  t_budget = budget;
  return previous;
}

void* malloc(size_t size) {
  if (size > kSizeMask - kHeaderBytes) {
    errno = ENOMEM;
    return nullptr;
  }
  AllocationBudget* budget = t_budget;
  if (!charge(budget, size)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* base = __libc_malloc(size + kHeaderBytes);
  if (base == nullptr) {
    if (budget != nullptr)
      budget->credit(size);
    return nullptr;
  }
  return finish(base, kHeaderBytes, size, budget);
}

void free(void* pointer) {
  if (pointer != nullptr)
    release(pointer);
}

void* calloc(size_t count, size_t size) {
  size_t total = 0;
  if (__builtin_mul_overflow(count, size, &total) || total > kSizeMask - kHeaderBytes) {
    errno = ENOMEM;
    return nullptr;
  }
  AllocationBudget* budget = t_budget;
  if (!charge(budget, total)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* base = __libc_calloc(1, total + kHeaderBytes);
  if (base == nullptr) {
    if (budget != nullptr)
      budget->credit(total);
    return nullptr;
  }
  return finish(base, kHeaderBytes, total, budget);
}

void* realloc(void* pointer, size_t size) {
  if (pointer == nullptr)
    return malloc(size);
  if (size == 0) {
    free(pointer);
    return nullptr;
  }
  BlockHeader* header = header_of(pointer);
  size_t old_size = size_of(header);
  if (offset_of(header) != kHeaderBytes) {  // an aligned block: move it
    void* moved = malloc(size);
    if (moved != nullptr) {
      std::memcpy(moved, pointer, old_size < size ? old_size : size);
      free(pointer);
    }
    return moved;
  }
  if (size > kSizeMask - kHeaderBytes) {
    errno = ENOMEM;
    return nullptr;
  }
  // The block stays charged to its owner; only the change in size is counted.
  AllocationBudget* budget = header->budget;
  if (budget != nullptr && !budget->resize(old_size, size)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* base = __libc_realloc(static_cast<char*>(pointer) - kHeaderBytes, size + kHeaderBytes);
  if (base == nullptr) {
    if (budget != nullptr)
      budget->resize(size, old_size);
    return nullptr;
  }
  return finish(base, kHeaderBytes, size, budget);
}

void* reallocarray(void* pointer, size_t count, size_t size) {
  size_t total = 0;
  if (__builtin_mul_overflow(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(pointer, total);
}

void* memalign(size_t alignment, size_t size) {
  return aligned(alignment, size);
}

void* aligned_alloc(size_t alignment, size_t size) {
  return aligned(alignment, size);
}

int posix_memalign(void** out, size_t alignment, size_t size) {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0)
    return EINVAL;
  void* block = aligned(alignment, size);
  if (block == nullptr)
    return ENOMEM;
  *out = block;
  return 0;
}

void* valloc(size_t size) {
  return aligned(4096, size);
}

void* pvalloc(size_t size) {
  return aligned(4096, (size + 4095) & ~size_t{4095});
}

size_t malloc_usable_size(void* pointer) {
  return pointer == nullptr ? 0 : size_of(header_of(pointer));
}

}  // extern "C"
