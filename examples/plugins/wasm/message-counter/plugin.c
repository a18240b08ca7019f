/* Message Counter (seeds/003 example): keeps "count:<user id>" and "total" in the
 * plugin's KV namespace, so counts survive reloads and restarts; "!count" reports
 * yours. The C twin of examples/plugins/lua/message-counter/plugin.lua, compiled
 * to WebAssembly:
 *
 *   clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -I sdk/c \
 *     -o examples/plugins/wasm/message-counter/plugin.wasm \
 *     examples/plugins/wasm/message-counter/plugin.c */
#include <outlet.h>

/* Granted by "storage.kv". Each argument and the result are JSON texts in kernel
 * blocks; a refused call (a bad key, say) traps, failing the call as in Lua. */
OUTLET_HOST_FUNCTION("kv.get") outlet_handle kv_get(outlet_handle key);
OUTLET_HOST_FUNCTION("kv.set") outlet_handle kv_set(outlet_handle key, outlet_handle value);

/* Adds one to an integer key (a missing or non-integer value counts as 0) and
 * returns the new value through *value; 0 when memory ran out. */
static int increment(const char* key, size_t key_length, int64_t* value) {
  outlet_buf key_json = OUTLET_BUF_INIT, value_json = OUTLET_BUF_INIT;
  outlet_buf_append_json_string(&key_json, key, key_length);
  if (key_json.failed) {
    outlet_buf_free(&key_json);
    return 0;
  }
  char* current = outlet_invoke1(kv_get, key_json.data); /* NULL when absent */
  int64_t next = 0;
  if (current && !outlet_json_int(current, strlen(current), "", &next))
    next = 0;
  free(current);
  /* Lua integers wrap around; so does this, without C's signed overflow. */
  next = (int64_t)((uint64_t)next + 1);
  outlet_buf_append_int(&value_json, next);
  int ok = !value_json.failed;
  if (ok)
    free(outlet_invoke2(kv_set, key_json.data, value_json.data));
  outlet_buf_free(&value_json);
  outlet_buf_free(&key_json);
  *value = next;
  return ok;
}

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

/* Sends the "!count" reply. A refused reply (a display name too long for a chat
 * line) is a warning, not a failed call: five failed calls in a row would
 * auto-disable the plugin. */
static void report(const char* message, size_t length, int64_t mine, int64_t total) {
  char* name = display_name(message, length);
  outlet_buf text = OUTLET_BUF_INIT, args = OUTLET_BUF_INIT;
  outlet_buf_append_str(&text, name ? name : "someone");
  outlet_buf_append_str(&text, " has sent ");
  outlet_buf_append_int(&text, mine);
  outlet_buf_append_str(&text, " messages (");
  outlet_buf_append_int(&text, total);
  outlet_buf_append_str(&text, " in all)");
  outlet_buf_append_char(&args, '[');
  if (text.data)
    outlet_buf_append_json_string(&args, text.data, text.length);
  outlet_buf_append_char(&args, ']');

  char* envelope = (text.failed || args.failed) ? NULL : outlet_call("chat.send", args.data);
  size_t envelope_length = envelope ? strlen(envelope) : 0;
  int ok = 0;
  if (!envelope || !outlet_json_bool(envelope, envelope_length, "ok", &ok) || !ok) {
    char* problem = outlet_json_string(envelope, envelope_length, "error", NULL);
    outlet_buf warning = OUTLET_BUF_INIT;
    outlet_buf_append_str(&warning, "count not sent: ");
    outlet_buf_append_str(&warning, problem    ? problem
                                    : envelope ? "the host gave no reason"
                                               : "out of memory");
    if (!warning.failed)
      outlet_log_warn(warning.data);
    outlet_buf_free(&warning);
    free(problem);
  }
  free(envelope);
  outlet_buf_free(&args);
  outlet_buf_free(&text);
  free(name);
}

OUTLET_EXPORT("on_chat_message") int32_t on_chat_message(void) {
  size_t length, user_length, body_length;
  char* message = outlet_input(&length);
  if (!message)
    return outlet_error("message-counter: out of memory");
  char* user = outlet_json_string(message, length, "user.id", &user_length);
  outlet_buf key = OUTLET_BUF_INIT;
  outlet_buf_append_str(&key, "count:");
  if (user)
    outlet_buf_append(&key, user, user_length);
  else
    outlet_buf_append_str(&key, "anonymous");

  int64_t mine = 0, total = 0;
  int32_t status = 0;
  if (key.failed || !increment(key.data, key.length, &mine) ||
      !increment("total", sizeof "total" - 1, &total)) {
    status = outlet_error("message-counter: out of memory");
  } else {
    char* body = outlet_json_string(message, length, "body", &body_length);
    if (body && body_length == sizeof "!count" - 1 && memcmp(body, "!count", body_length) == 0)
      report(message, length, mine, total);
    free(body);
  }
  outlet_buf_free(&key);
  free(user);
  free(message);
  return status;
}
