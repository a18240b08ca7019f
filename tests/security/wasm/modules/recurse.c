/* Unbounded recursion: the engine's stack check must end it with a trap. */
#include "../../../support/extism_abi.h"
volatile int sink;
volatile int keep_going = 1;
__attribute__((noinline)) int deeper(int n) {
  sink = n;
  if (!keep_going)
    return n;
  int r = deeper(n + 1);
  sink = r;
  return r + 1;
}
EXPORT(on_chat_trigger) int recurse(void) {
  return deeper(0);
}
