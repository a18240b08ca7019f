/* The benchmark's wasm plugin: the same work as its JS twin (look at the
 * message, pass), done as a PDK does it: the input copied into the plugin's
 * memory in 8-byte words, then scanned. `kv_loop` makes 100 kv.get calls. */
#include "../../tests/support/extism_abi.h"
KERNEL(input_load_u64) u64 k_input_load_u64(u64 index);
KERNEL(input_load_u8) unsigned k_input_load_u8(u64 index);
__attribute__((import_module("extism:host/user"), import_name("kv.get"))) u64 kv_get(u64 key);

static unsigned char buffer[1 << 16];
volatile unsigned found; /* keeps the scan */

static u64 read_input(void) {
  u64 length = k_input_length();
  if (length > sizeof buffer)
    length = sizeof buffer;
  u64 i = 0;
  for (; i + 8 <= length; i += 8) {
    u64 word = k_input_load_u64(i);
    __builtin_memcpy(buffer + i, &word, 8);
  }
  for (; i < length; ++i)
    buffer[i] = (unsigned char)k_input_load_u8(i);
  return length;
}

EXPORT(filter_chat_message) int filter_chat_message(void) {
  u64 length = read_input();
  unsigned seen = 0;
  for (u64 i = 0; i + 4 < length; ++i)
    seen +=
        buffer[i] == 'b' && buffer[i + 1] == 'o' && buffer[i + 2] == 'd' && buffer[i + 3] == 'y';
  found = seen;
  return 0; /* no output: pass */
}

EXPORT(read_input) int read_only(void) {
  read_input();
  return 0;
}

EXPORT(on_chat_trigger) int kv_loop(void) {
  u64 key = k_text("\"k\"");
  for (int i = 0; i < 100; ++i)
    kv_get(key);
  return 0;
}

EXPORT(noop) int noop(void) {
  return 0;
}
