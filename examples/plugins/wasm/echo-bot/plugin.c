/* Echo Bot (seeds/003 example): repeats what follows "!echo ". The C twin of
 * examples/plugins/lua/echo-bot/plugin.lua, compiled to WebAssembly:
 *
 *   clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -I sdk/c \
 *     -o examples/plugins/wasm/echo-bot/plugin.wasm examples/plugins/wasm/echo-bot/plugin.c
 *
 * The command is matched here, on every chat message, so that it works in any
 * host; under `outlet serve` a `command` trigger and an `on_chat_trigger` export
 * would do the same. */
#include <outlet.h>

#define COMMAND "!echo "
#define COMMAND_LENGTH (sizeof COMMAND - 1)

/* The sender's display name, else their id, else "someone" (malloc'd). */
static char* display_name(const char* message, size_t length) {
  char* name = outlet_json_string(message, length, "user.displayName", NULL);
  if (!name)
    name = outlet_json_string(message, length, "user.id", NULL);
  if (!name) {
    name = malloc(sizeof "someone");
    if (name)
      memcpy(name, "someone", sizeof "someone");
  }
  return name;
}

OUTLET_EXPORT("on_chat_message") int32_t on_chat_message(void) {
  size_t length, body_length;
  char* message = outlet_input(&length);
  if (!message)
    return outlet_error("echo-bot: out of memory");
  char* body = outlet_json_string(message, length, "body", &body_length);
  if (!body || body_length <= COMMAND_LENGTH || memcmp(body, COMMAND, COMMAND_LENGTH) != 0) {
    free(body);
    free(message);
    return 0;
  }

  char* name = display_name(message, length);
  outlet_buf text = OUTLET_BUF_INIT, args = OUTLET_BUF_INIT;
  if (name) {
    outlet_buf_append_str(&text, name);
    outlet_buf_append_str(&text, " said: ");
    outlet_buf_append(&text, body + COMMAND_LENGTH, body_length - COMMAND_LENGTH);
  }
  outlet_buf_append_char(&args, '[');
  if (text.data)
    outlet_buf_append_json_string(&args, text.data, text.length);
  outlet_buf_append_char(&args, ']');
  int32_t status = 0;
  if (!name || text.failed || args.failed) {
    status = outlet_error("echo-bot: out of memory");
  } else {
    /* A chat line holds at most 4096 bytes; a longer echo is refused by the host.
     * That is the chatter's doing, not a fault of the plugin: through `call` the
     * refusal comes back as {"ok":false,...} and becomes a warning (log_warn
     * without the "log" permission is a plugin warning) instead of a failed call,
     * since five failed calls in a row would auto-disable the plugin. */
    size_t envelope_length = 0;
    char* envelope = outlet_call("chat.send", args.data);
    int ok = 0;
    if (envelope)
      envelope_length = strlen(envelope);
    if (!envelope || !outlet_json_bool(envelope, envelope_length, "ok", &ok) || !ok) {
      char* problem = outlet_json_string(envelope, envelope_length, "error", NULL);
      outlet_buf warning = OUTLET_BUF_INIT;
      outlet_buf_append_str(&warning, "echo not sent: ");
      outlet_buf_append_str(&warning, problem ? problem : "the host gave no reason");
      if (!warning.failed)
        outlet_log_warn(warning.data);
      outlet_buf_free(&warning);
      free(problem);
    }
    free(envelope);
  }
  outlet_buf_free(&args);
  outlet_buf_free(&text);
  free(name);
  free(body);
  free(message);
  return status;
}
