/* What the wasm test modules need of the Extism ABI, without libc. */
#ifndef OUTLET_TEST_EXTISM_ABI_H
#define OUTLET_TEST_EXTISM_ABI_H
typedef unsigned long long u64;
#define KERNEL(name) __attribute__((import_module("extism:host/env"), import_name(#name)))
#define EXPORT(name) __attribute__((export_name(#name)))
KERNEL(alloc) u64 k_alloc(u64 length);
KERNEL(store_u8) void k_store_u8(u64 address, unsigned value);
KERNEL(output_set) void k_output_set(u64 handle, u64 length);
KERNEL(error_set) void k_error_set(u64 handle);
KERNEL(input_length) u64 k_input_length(void);

/* A kernel block holding `text` (no libc: copy byte by byte). */
static inline u64 k_text(const char* text) {
  u64 length = 0;
  while (text[length])
    ++length;
  u64 handle = k_alloc(length);
  for (u64 i = 0; i < length; ++i)
    k_store_u8(handle + i, (unsigned char)text[i]);
  return handle;
}
static inline void k_output_text(const char* text) {
  u64 handle = k_text(text);
  u64 length = 0;
  while (text[length])
    ++length;
  k_output_set(handle, length);
}
#endif
