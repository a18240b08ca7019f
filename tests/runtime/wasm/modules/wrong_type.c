/* A typed handler name on a function that takes an argument: a load error. */
#include "../../../support/extism_abi.h"
EXPORT(on_chat_message) int wrong(int x) {
  return x;
}
