/* `unreachable` on every filter call: each is a strike until auto-disable. */
#include "../../../support/extism_abi.h"
EXPORT(filter_chat_message) int trap(void) {
  __builtin_trap();
}
