/* The Extism kernel (extism:host/env) as a wasm module of its own. Plugins call
 * its memory functions wasm-to-wasm (about 2 ns) instead of through the host
 * (about 40 ns with i64 arguments), so reading a 4 KiB input costs hundreds of
 * nanoseconds, not tens of microseconds. One kernel instance per plugin; its
 * memory is separate from the plugin's and is emptied before each call. The
 * host reads results straight from this memory (kernel_layout.h).
 *
 * Built with clang --target=wasm32 -nostdlib; no libc. */
#include "kernel_layout.h"

typedef unsigned char u8;
typedef unsigned int u32;
typedef unsigned long long u64;

#define EXPORT(name) __attribute__((export_name(#name)))
#define PAGE_BYTES 65536ull
#define MIN_CAPACITY 16ull /* room for the free list's two links */
#define SPLIT_SLACK 64ull  /* split a reused block only if this much is left over */
#define FREE_LIST_SCAN 32  /* bound on the first-fit search, so alloc stays cheap */

extern u8 __heap_base;

static u64 state[OUTLET_KERNEL_STATE_BYTES / 8];
static u64 heap_start; /* first header; set on first use */
static u64 heap_top;   /* end of the last block */
static u64 last_block; /* handle of the last block, 0 = none */
static u64 free_head;  /* handle of the first free block, 0 = none */

static inline u8* at(u64 address) {
  if (address >> 32) /* a 64-bit handle beyond a 32-bit memory */
    __builtin_trap();
  return (u8*)(u32)address;
}
static inline u64 read64(u64 address) {
  u64 value;
  __builtin_memcpy(&value, at(address), 8);
  return value;
}
static inline void write64(u64 address, u64 value) {
  __builtin_memcpy(at(address), &value, 8);
}
static inline u32 read32(u64 address) {
  u32 value;
  __builtin_memcpy(&value, at(address), 4);
  return value;
}
static inline void write32(u64 address, u32 value) {
  __builtin_memcpy(at(address), &value, 4);
}

static inline int in_memory(u64 address, u64 length) {
  u64 size = (u64)__builtin_wasm_memory_size(0) * PAGE_BYTES;
  return address <= size && length <= size - address;
}

static inline u64 header(u64 handle) {
  return handle - OUTLET_KERNEL_HEADER_BYTES;
}
static inline u64 capacity_of(u64 handle) {
  return read64(header(handle) + OUTLET_KERNEL_HEADER_CAPACITY);
}
static inline void set_magic(u64 handle, u32 magic) {
  write32(header(handle) + OUTLET_KERNEL_HEADER_MAGIC, magic ^ (u32)handle);
}

static void ensure_heap(void) {
  if (heap_start == 0) {
    heap_start = ((u64)(u32)&__heap_base + 15) & ~15ull;
    heap_top = heap_start;
  }
}

/* A handle the kernel handed out and has not taken back, else 0. */
static u64 live(u64 handle) {
  ensure_heap();
  if (handle < heap_start + OUTLET_KERNEL_HEADER_BYTES || handle > heap_top || (handle & 7))
    return 0;
  if (read32(header(handle) + OUTLET_KERNEL_HEADER_MAGIC) !=
      (OUTLET_KERNEL_MAGIC_USED ^ (u32)handle))
    return 0;
  return handle;
}

static int grow_to(u64 end) {
  u64 have = (u64)__builtin_wasm_memory_size(0) * PAGE_BYTES;
  if (end <= have)
    return 1;
  /* The host caps this memory's maximum (the plugin can write the kernel's
   * variables, so no limit kept in them would hold); a refused grow gives -1. */
  u64 pages = (end - have + PAGE_BYTES - 1) / PAGE_BYTES;
  if (pages > 65536)
    return 0;
  return __builtin_wasm_memory_grow(0, (unsigned long)pages) != (unsigned long)-1;
}

static void unlink_free(u64 handle) {
  u64 next = read64(handle), previous = read64(handle + 8);
  if (previous)
    write64(previous, next);
  else
    free_head = next;
  if (next)
    write64(next + 8, previous);
}

static void push_free(u64 handle) {
  set_magic(handle, OUTLET_KERNEL_MAGIC_FREE);
  write64(handle, free_head);
  write64(handle + 8, 0);
  if (free_head)
    write64(free_head + 8, handle);
  free_head = handle;
}

static u64 reuse(u64 length) {
  u64 handle = free_head;
  for (int scanned = 0; handle && scanned < FREE_LIST_SCAN; ++scanned, handle = read64(handle)) {
    u64 capacity = capacity_of(handle);
    if (capacity < length)
      continue;
    unlink_free(handle);
    u64 rest = capacity - length;
    if (rest >= OUTLET_KERNEL_HEADER_BYTES + SPLIT_SLACK && handle != last_block) {
      /* The tail becomes a free block of its own; the block after it learns
       * its new neighbour's size. */
      u64 kept = (length + 7) & ~7ull;
      u64 tail = handle + kept + OUTLET_KERNEL_HEADER_BYTES;
      u64 tail_capacity = capacity - kept - OUTLET_KERNEL_HEADER_BYTES;
      write64(header(handle) + OUTLET_KERNEL_HEADER_CAPACITY, kept);
      write64(header(tail) + OUTLET_KERNEL_HEADER_CAPACITY, tail_capacity);
      write64(header(tail) + OUTLET_KERNEL_HEADER_PREVIOUS, kept);
      u64 after = tail + tail_capacity + OUTLET_KERNEL_HEADER_BYTES;
      if (after <= heap_top)
        write64(header(after) + OUTLET_KERNEL_HEADER_PREVIOUS, tail_capacity);
      push_free(tail);
    }
    write64(header(handle) + OUTLET_KERNEL_HEADER_LENGTH, length);
    set_magic(handle, OUTLET_KERNEL_MAGIC_USED);
    return handle;
  }
  return 0;
}

EXPORT(alloc) u64 kernel_alloc(u64 length) {
  ensure_heap();
  if (length == 0)
    return 0;
  if (length > (4ull << 30))
    return 0;
  u64 handle = reuse(length);
  if (handle)
    return handle;
  u64 capacity = length < MIN_CAPACITY ? MIN_CAPACITY : (length + 7) & ~7ull;
  u64 start = heap_top;
  handle = start + OUTLET_KERNEL_HEADER_BYTES;
  if (!grow_to(handle + capacity))
    return 0;
  write64(start + OUTLET_KERNEL_HEADER_CAPACITY, capacity);
  write64(start + OUTLET_KERNEL_HEADER_LENGTH, length);
  write64(start + OUTLET_KERNEL_HEADER_PREVIOUS, last_block ? capacity_of(last_block) : 0);
  set_magic(handle, OUTLET_KERNEL_MAGIC_USED);
  heap_top = handle + capacity;
  last_block = handle;
  return handle;
}

EXPORT(free) void kernel_free(u64 handle) {
  if (!live(handle))
    return; /* 0, or a handle freed already: nothing to do, as in Extism */
  if (handle == state[OUTLET_KERNEL_STATE_INPUT_OFFSET / 8])
    state[OUTLET_KERNEL_STATE_INPUT_LENGTH / 8] = 0;
  if (handle != last_block) {
    push_free(handle);
    return;
  }
  /* The last block goes back to the heap, with any free blocks before it. */
  for (;;) {
    u64 previous_capacity = read64(header(handle) + OUTLET_KERNEL_HEADER_PREVIOUS);
    set_magic(handle, 0);
    heap_top = header(handle);
    if (heap_top == heap_start || previous_capacity == 0) {
      last_block = 0;
      return;
    }
    u64 previous = heap_top - previous_capacity;
    last_block = previous;
    if (read32(header(previous) + OUTLET_KERNEL_HEADER_MAGIC) !=
        (OUTLET_KERNEL_MAGIC_FREE ^ (u32)previous))
      return;
    unlink_free(previous);
    handle = previous;
  }
}

EXPORT(length) u64 kernel_length(u64 handle) {
  return live(handle) ? read64(header(handle) + OUTLET_KERNEL_HEADER_LENGTH) : 0;
}

EXPORT(length_unsafe) u64 kernel_length_unsafe(u64 handle) {
  /* Skips the range check against the heap's end, not the header's: a
   * made-up handle still reads as 0 (or, at worst, the plugin's own bytes). */
  ensure_heap();
  if (handle < heap_start + OUTLET_KERNEL_HEADER_BYTES || !in_memory(handle, 0))
    return 0;
  if (read32(header(handle) + OUTLET_KERNEL_HEADER_MAGIC) !=
      (OUTLET_KERNEL_MAGIC_USED ^ (u32)handle))
    return 0;
  return read64(header(handle) + OUTLET_KERNEL_HEADER_LENGTH);
}

/* Outside the memory a load gives 0 and a store does nothing (Extism's rule). */
EXPORT(load_u8) u32 kernel_load_u8(u64 address) {
  return in_memory(address, 1) ? *at(address) : 0;
}
EXPORT(load_u64) u64 kernel_load_u64(u64 address) {
  return in_memory(address, 8) ? read64(address) : 0;
}
EXPORT(store_u8) void kernel_store_u8(u64 address, u32 value) {
  if (in_memory(address, 1))
    *at(address) = (u8)value;
}
EXPORT(store_u64) void kernel_store_u64(u64 address, u64 value) {
  if (in_memory(address, 8))
    write64(address, value);
}

#define STATE(field) state[OUTLET_KERNEL_STATE_##field / 8]

EXPORT(input_length) u64 kernel_input_length(void) {
  return STATE(INPUT_LENGTH);
}
EXPORT(input_offset) u64 kernel_input_offset(void) {
  return STATE(INPUT_OFFSET);
}
EXPORT(input_set) void kernel_input_set(u64 handle, u64 length) {
  STATE(INPUT_OFFSET) = handle;
  STATE(INPUT_LENGTH) = handle ? length : 0;
}

/* Past the input's end a load gives 0 rather than a trap, and so does a u64
 * that would cross it: PDKs read 8-byte words, then the tail byte by byte. */
EXPORT(input_load_u8) u32 kernel_input_load_u8(u64 index) {
  if (index >= STATE(INPUT_LENGTH))
    return 0;
  return *at(STATE(INPUT_OFFSET) + index);
}
EXPORT(input_load_u64) u64 kernel_input_load_u64(u64 index) {
  u64 length = STATE(INPUT_LENGTH);
  if (index >= length || length - index < 8)
    return 0;
  return read64(STATE(INPUT_OFFSET) + index);
}

/* Output and error must lie inside the heap; anything else is ignored. */
static int in_heap(u64 address, u64 length) {
  ensure_heap();
  return address >= heap_start && address <= heap_top && length <= heap_top - address;
}

EXPORT(output_set) void kernel_output_set(u64 address, u64 length) {
  if (!in_heap(address, length))
    return;
  STATE(OUTPUT_OFFSET) = address;
  STATE(OUTPUT_LENGTH) = length;
}
EXPORT(output_offset) u64 kernel_output_offset(void) {
  return STATE(OUTPUT_OFFSET);
}
EXPORT(output_length) u64 kernel_output_length(void) {
  return STATE(OUTPUT_LENGTH);
}

EXPORT(error_set) void kernel_error_set(u64 handle) {
  if (handle == 0 || in_heap(handle, 0))
    STATE(ERROR) = handle;
}
EXPORT(error_get) u64 kernel_error_get(void) {
  return STATE(ERROR);
}

EXPORT(memory_bytes) u64 kernel_memory_bytes(void) {
  ensure_heap();
  return heap_top - heap_start;
}

/* Empties the memory: every handle of the last call becomes stale. */
EXPORT(reset) void kernel_reset(void) {
  ensure_heap();
  heap_top = heap_start;
  last_block = 0;
  free_head = 0;
  for (u32 i = 0; i < OUTLET_KERNEL_STATE_BYTES / 8; ++i)
    state[i] = 0;
}

/* --- For the host only (never linked into a plugin's imports) --- */

EXPORT(outlet_state_address) u32 kernel_state_address(void) {
  return (u32)state;
}

/* Empties the memory and allocates the next call's input; 0 if it does not fit. */
EXPORT(outlet_begin_call) u64 kernel_begin_call(u64 input_length) {
  kernel_reset();
  if (input_length == 0)
    return 0;
  u64 handle = kernel_alloc(input_length);
  kernel_input_set(handle, input_length);
  return handle;
}
