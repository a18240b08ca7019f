/* Allocates kernel blocks until alloc gives 0: the kernel's memory is capped
 * too (it holds inputs, outputs and host results). */
#include "../../../support/extism_abi.h"
EXPORT(on_chat_trigger) int bomb(void) {
  for (;;) {
    if (k_alloc(1 << 20) == 0)
      break;
  }
  k_output_text("{\"refused\":true}");
  return 0;
}
