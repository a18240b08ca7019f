/* seeds/003's wire protocol: `register` names the events, the envelope
 * exports handle them. on_filter answers modify with the envelope it got. */
#include "../../../support/extism_abi.h"
KERNEL(input_load_u8) unsigned k_input_load_u8(u64 index);

EXPORT(register) int registration(void) {
  k_output_text(
      "{\"id\":\"wasm-plugin\",\"version\":\"1.0.0\",\"subscriptions\":{"
      "\"notify\":[\"custom.event\"],"
      "\"filter\":[{\"event\":\"chat.message.received\",\"priority\":5}]}}");
  return 0;
}

EXPORT(on_event) int on_event(void) {
  return 0;
}

EXPORT(on_filter) int on_filter(void) {
  static const char head[] = "{\"action\":\"modify\",\"payload\":";
  u64 length = k_input_length();
  u64 out = k_alloc(sizeof head - 1 + length + 1);
  u64 at = 0;
  for (; at < sizeof head - 1; ++at)
    k_store_u8(out + at, (unsigned char)head[at]);
  for (u64 i = 0; i < length; ++i)
    k_store_u8(out + at++, k_input_load_u8(i));
  k_store_u8(out + at++, '}');
  k_output_set(out, at);
  return 0;
}
