/* Sets an error and returns 0: the error must still fail the call (Extism). */
#include "../../../support/extism_abi.h"
EXPORT(filter_chat_message) int fails(void) {
  k_error_set(k_text("fails: refused on purpose"));
  return 0;
}
