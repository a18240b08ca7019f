/* memory.grow until the engine refuses: the host's cap must hold. Outputs the
 * pages reached as JSON {"pages": N}. */
#include "../../../support/extism_abi.h"
EXPORT(on_chat_trigger) int grow(void) {
  while (__builtin_wasm_memory_grow(0, 16) != (unsigned long)-1) {
  }
  unsigned long pages = __builtin_wasm_memory_size(0);
  char text[40] = "{\"pages\":";
  char digits[12];
  int n = 0;
  do {
    digits[n++] = (char)('0' + pages % 10);
    pages /= 10;
  } while (pages);
  int at = 9;
  while (n)
    text[at++] = digits[--n];
  text[at++] = '}';
  text[at] = 0;
  k_output_text(text);
  return 0;
}
