/* Imports a host function its manifest does not declare: loading must fail
 * naming it. */
#include "../../../support/extism_abi.h"
__attribute__((import_module("extism:host/user"), import_name("chat.send"))) u64 chat_send(u64);
EXPORT(on_chat_message) int send(void) {
  chat_send(k_text("\"hi\""));
  return 0;
}
