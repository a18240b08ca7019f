/* Passes made-up handles to a host function and to the kernel: every one must
 * be refused or read as nothing, never reach outside the kernel's memory. */
#include "../../../support/extism_abi.h"
__attribute__((import_module("extism:host/user"), import_name("kv.set"))) void kv_set(u64, u64);
KERNEL(length) u64 k_length(u64 handle);
KERNEL(load_u64) u64 k_load_u64(u64 address);
EXPORT(on_chat_trigger) int forge(void) {
  u64 real = k_text("\"key\"");
  /* Interior pointers, huge values and stale handles are not blocks. */
  if (k_length(real + 8) != 0 || k_length(0xffffffffffffull) != 0 || k_load_u64(1ull << 40) != 0) {
    k_error_set(k_text("forged_handle: the kernel accepted a forged handle"));
    return 1;
  }
  kv_set(real, real + 8); /* must fail the call: "invalid handle" */
  return 0;
}
