/* An output larger than the host accepts (16 MiB) from a kernel that holds it. */
#include "../../../support/extism_abi.h"
EXPORT(on_chat_trigger) int big(void) {
  u64 length = 17ull << 20;
  u64 handle = k_alloc(length);
  if (handle == 0) {
    k_error_set(k_text("big_output: the kernel refused the block"));
    return 1;
  }
  k_output_set(handle, length);
  return 0;
}
