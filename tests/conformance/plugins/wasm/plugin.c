/* The conformance plugin in C, compiled to WebAssembly: the same behaviours as the
 * native one (tests/conformance/plugins/native/conformance.cpp), chosen by the
 * message body.
 *
 *   clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -I sdk/c \
 *     -o tests/conformance/plugins/wasm/plugin.wasm tests/conformance/plugins/wasm/plugin.c
 *
 * Its subscriptions come from its exports, as in the other languages: the typed
 * exports filter_chat_message, on_chat_message and on_chat_trigger cover the chat
 * domain's events, and `register` lists the events the host's domain does not
 * name for it (the plugin's own conformance.echoed, the test's conformance.panels
 * and conformance.key), which reach the generic exports on_event, on_collect and
 * on_dispatch inside an envelope {"event": ..., "payload": ...}. */
#include <outlet.h>

/* Host functions its permissions grant; importing one that is not granted would
 * fail instantiation, which is why the ungranted chat.send is probed through
 * `call` (outlet_call) instead. */
OUTLET_HOST_FUNCTION("kv.set") outlet_handle kv_set(outlet_handle key, outlet_handle value);
OUTLET_HOST_FUNCTION("events.emit")
outlet_handle events_emit(outlet_handle event, outlet_handle payload);
OUTLET_HOST_FUNCTION("config.get") outlet_handle config_get(outlet_handle key);

#define OUT_OF_MEMORY "conformance: out of memory"

/* Whether the string value at `path` is exactly `expected`. */
static int string_is(const char* json, size_t length, const char* path, const char* expected) {
  size_t n;
  char* text = outlet_json_string(json, length, path, &n);
  int same = text && n == strlen(expected) && memcmp(text, expected, n) == 0;
  free(text);
  return same;
}

/* A copy of `length` bytes at `value` as a C string, for host arguments. */
static char* copy(const char* value, size_t length) {
  char* text = malloc(length + 1);
  if (text) {
    memcpy(text, value, length);
    text[length] = '\0';
  }
  return text;
}

/* The message filter: the body picks the behaviour under test. */
OUTLET_EXPORT("filter_chat_message") int32_t filter_chat_message(void) {
  size_t length, body_length;
  char* message = outlet_input(&length);
  if (!message)
    return outlet_error(OUT_OF_MEMORY);
  char* body = outlet_json_string(message, length, "body", &body_length);
  outlet_buf verdict = OUTLET_BUF_INIT;
  int32_t status = 0;
  if (body && body_length >= 5 && memcmp(body, "drop:", 5) == 0) {
    outlet_buf_append_str(&verdict, "{\"action\":\"drop\",\"reason\":");
    outlet_buf_append_json_string(&verdict, body + 5, body_length - 5);
    outlet_buf_append_char(&verdict, '}');
    status = outlet_output_buf(&verdict);
  } else if (body && strcmp(body, "upper") == 0 && body_length == 5) {
    /* The rest of the message stays as it came: only the body's value is replaced. */
    outlet_buf upper = OUTLET_BUF_INIT;
    for (size_t i = 0; i < body_length; ++i) {
      char c = body[i];
      outlet_buf_append_char(&upper, c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c);
    }
    outlet_buf value = OUTLET_BUF_INIT;
    if (!upper.failed)
      outlet_buf_append_json_string(&value, upper.data, upper.length);
    outlet_buf_append_str(&verdict, "{\"action\":\"modify\",\"payload\":");
    if (!value.failed)
      outlet_json_replace(message, length, "body", value.data, value.length, &verdict);
    outlet_buf_append_char(&verdict, '}');
    status =
        upper.failed || value.failed ? outlet_error(OUT_OF_MEMORY) : outlet_output_buf(&verdict);
    outlet_buf_free(&value);
    outlet_buf_free(&upper);
  } else if (body && strcmp(body, "throw") == 0) {
    status = outlet_error("conformance: asked to fail");
  } else if (body && strcmp(body, "loop") == 0) {
    /* volatile: the optimizer may not delete a loop whose every step is observable.
     * Only the host's per-call deadline ends it. */
    volatile uint64_t spins = 0;
    for (;;)
      spins = spins + 1;
  } else if (body && strcmp(body, "garbage") == 0) {
    status = outlet_output_str("42"); /* not a verdict: the host must fail open */
  } else {
    status = outlet_output_str("{\"action\":\"pass\"}");
  }
  outlet_buf_free(&verdict);
  free(body);
  free(message);
  return status;
}

/* The message notification: remembers the body, and emits on "emit". */
OUTLET_EXPORT("on_chat_message") int32_t on_chat_message(void) {
  size_t length, body_length;
  char* message = outlet_input(&length);
  if (!message)
    return outlet_error(OUT_OF_MEMORY);
  /* The body's JSON is passed on as it came; a missing one is stored as null. */
  const char* found = outlet_json_find(message, length, "body", &body_length);
  char* body = copy(found ? found : "null", found ? body_length : 4);
  int32_t status = 0;
  if (!body) {
    status = outlet_error(OUT_OF_MEMORY);
  } else {
    free(outlet_invoke2(kv_set, "\"last\"", body));
    if (string_is(message, length, "body", "emit")) {
      outlet_buf payload = OUTLET_BUF_INIT;
      outlet_buf_append_str(&payload, "{\"body\":");
      outlet_buf_append_str(&payload, body);
      outlet_buf_append_char(&payload, '}');
      if (payload.failed)
        status = outlet_error(OUT_OF_MEMORY);
      else
        free(outlet_invoke2(events_emit, "\"conformance.echoed\"", payload.data));
      outlet_buf_free(&payload);
    }
  }
  free(body);
  free(message);
  return status;
}

/* chat.trigger requests: probe a host function by name through `call`, whose
 * envelope ({"ok":true,"value":...} or {"ok":false,"error":...}) is the answer;
 * otherwise answer with the configured greeting. */
OUTLET_EXPORT("on_chat_trigger") int32_t on_chat_trigger(void) {
  size_t length;
  char* request = outlet_input(&length);
  if (!request)
    return outlet_error(OUT_OF_MEMORY);
  int32_t status;
  size_t name_length;
  char* name = outlet_json_string(request, length, "call", &name_length);
  if (name && name_length > 0) {
    size_t args_length;
    const char* args = outlet_json_find(request, length, "args", &args_length);
    char* args_text = args && outlet_json_kind(args) == 'a' ? copy(args, args_length) : NULL;
    char* envelope = outlet_call(name, args_text);
    status = envelope ? outlet_output_str(envelope) : outlet_error(OUT_OF_MEMORY);
    free(envelope);
    free(args_text);
  } else {
    char* greeting = outlet_invoke1(config_get, "\"greeting\"");
    size_t greeting_length = greeting ? strlen(greeting) : 0, text_length, body_length;
    char* text = outlet_json_string(greeting, greeting_length, "", &text_length);
    char* body = outlet_json_string(request, length, "body", &body_length);
    outlet_buf message = OUTLET_BUF_INIT, answer = OUTLET_BUF_INIT;
    if (text)
      outlet_buf_append(&message, text, text_length);
    else if (greeting) /* not a string: written as its JSON */
      outlet_buf_append(&message, greeting, greeting_length);
    outlet_buf_append_char(&message, ' ');
    if (body)
      outlet_buf_append(&message, body, body_length);
    outlet_buf_append_str(&answer, "{\"action\":\"send_message\",\"message\":");
    if (!message.failed)
      outlet_buf_append_json_string(&answer, message.data, message.length);
    outlet_buf_append_char(&answer, '}');
    status = message.failed ? outlet_error(OUT_OF_MEMORY) : outlet_output_buf(&answer);
    outlet_buf_free(&answer);
    outlet_buf_free(&message);
    free(body);
    free(text);
    free(greeting);
  }
  free(name);
  free(request);
  return status;
}

/* The subscriptions the typed exports do not cover. */
OUTLET_EXPORT("register") int32_t register_plugin(void) {
  return outlet_output_str(
      "{\"subscriptions\":{"
      "\"notify\":[\"conformance.echoed\"],"
      "\"collect\":[\"conformance.panels\"],"
      "\"dispatch\":[\"conformance.key\"]}}");
}

/* Generic notifications: {"event": ..., "payload": ...}. */
OUTLET_EXPORT("on_event") int32_t on_event(void) {
  size_t length, body_length;
  char* envelope = outlet_input(&length);
  if (!envelope)
    return outlet_error(OUT_OF_MEMORY);
  int32_t status = 0;
  if (string_is(envelope, length, "event", "conformance.echoed")) {
    const char* found = outlet_json_find(envelope, length, "payload.body", &body_length);
    char* body = copy(found ? found : "null", found ? body_length : 4);
    if (!body)
      status = outlet_error(OUT_OF_MEMORY);
    else
      free(outlet_invoke2(kv_set, "\"echoed\"", body));
    free(body);
  }
  free(envelope);
  return status;
}

/* Like JavaScript's truthiness for a JSON value: false, null, "", and 0 are falsy. */
static int truthy(const char* value, size_t length) {
  switch (outlet_json_kind(value)) {
    case 0:
    case 'z':
      return 0;
    case 'b':
      return *value == 't';
    case 's':
      return length > 2;
    case 'n':
      for (size_t i = 0; i < length && value[i] != 'e' && value[i] != 'E'; ++i) {
        if (value[i] >= '1' && value[i] <= '9')
          return 1;
      }
      return 0;
    default:
      return 1;
  }
}

/* Generic collect: one panel showing the state's text. */
OUTLET_EXPORT("on_collect") int32_t on_collect(void) {
  size_t length, text_length;
  char* envelope = outlet_input(&length);
  if (!envelope)
    return outlet_error(OUT_OF_MEMORY);
  int32_t status = 0;
  if (string_is(envelope, length, "event", "conformance.panels")) {
    const char* text = outlet_json_find(envelope, length, "payload.text", &text_length);
    outlet_buf panels = OUTLET_BUF_INIT;
    outlet_buf_append_str(&panels,
                          "[{\"title\":\"Conformance\",\"items\":[{\"type\":\"text\",\"text\":");
    if (truthy(text, text_length))
      outlet_buf_append(&panels, text, text_length);
    else
      outlet_buf_append_str(&panels, "\"\"");
    outlet_buf_append_str(&panels, "}]}]");
    status = outlet_output_buf(&panels);
    outlet_buf_free(&panels);
  }
  free(envelope);
  return status;
}

/* Generic dispatch: consumes "char:c", answers null to anything else. */
OUTLET_EXPORT("on_dispatch") int32_t on_dispatch(void) {
  size_t length;
  char* envelope = outlet_input(&length);
  if (!envelope)
    return outlet_error(OUT_OF_MEMORY);
  int32_t status = 0;
  if (string_is(envelope, length, "event", "conformance.key")) {
    status = string_is(envelope, length, "payload.key", "char:c")
                 ? outlet_output_str("{\"consume\":true,\"flash\":\"conformance\"}")
                 : outlet_output_str("null");
  }
  free(envelope);
  return status;
}
