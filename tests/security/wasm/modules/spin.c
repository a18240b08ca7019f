/* A notification handler that never returns: the deadline must stop it. */
#include "../../../support/extism_abi.h"
volatile unsigned counter;
EXPORT(on_chat_trigger) int spin(void) {
  for (;;)
    ++counter;
}
/* A filter that is fine, so the test can show the instance still answers. */
EXPORT(filter_chat_message) int pass(void) {
  return 0;
}
