/* Word Filter (seeds/001 built-in): masks blocked words (case-insensitive, whole
 * words only) or drops the message, depending on config. The C twin of
 * examples/plugins/lua/word-filter/plugin.lua, compiled to WebAssembly:
 *
 *   clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -I sdk/c \
 *     -o examples/plugins/wasm/word-filter/plugin.wasm examples/plugins/wasm/word-filter/plugin.c
 */
#include <outlet.h>

/* Granted by "config.read": the config (validated, defaults applied) as JSON, or
 * one key of it. Passing 0 (no key) asks for the whole object. */
OUTLET_HOST_FUNCTION("config.get") outlet_handle config_get(outlet_handle key);

/* ASCII only, like Lua's string.lower in the C locale the Lua twin runs in. */
static char lower(char c) {
  return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Letters, digits and "_" make up words (ASCII, as in the Lua and native twins). */
static int is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Plain search for needle in haystack[from..), like string.find(s, needle, from, true). */
static size_t find(const outlet_buf* haystack, size_t from, const char* needle, size_t length) {
  if (length > haystack->length)
    return SIZE_MAX;
  for (size_t at = from; at + length <= haystack->length; ++at) {
    if (memcmp(haystack->data + at, needle, length) == 0)
      return at;
  }
  return SIZE_MAX;
}

/* Replaces each whole-word, case-insensitive occurrence of `word` in `body` with
 * `replacement`, step for step as the Lua twin does: the lowered copy it searches
 * gets the replacement too, so word boundaries are judged on the text as masked
 * so far. Returns how many occurrences were replaced. */
static size_t mask_word(outlet_buf* body, outlet_buf* haystack, const char* word, size_t length,
                        const char* replacement, size_t replacement_length) {
  char* needle = malloc(length + 1);
  if (!needle) {
    body->failed = 1;
    return 0;
  }
  for (size_t i = 0; i < length; ++i)
    needle[i] = lower(word[i]);
  size_t count = 0, at = 0;
  for (;;) {
    size_t first = find(haystack, at, needle, length);
    if (first == SIZE_MAX)
      break;
    size_t last = first + length; /* one past the match */
    int starts_word = first == 0 || !is_word_char(haystack->data[first - 1]);
    int ends_word = last == haystack->length || !is_word_char(haystack->data[last]);
    if (starts_word && ends_word) {
      if (!outlet_buf_splice(body, first, length, replacement, replacement_length) ||
          !outlet_buf_splice(haystack, first, length, replacement, replacement_length)) {
        body->failed = 1;
        break;
      }
      at = first + replacement_length;
      ++count;
    } else {
      at = last;
    }
  }
  free(needle);
  return count;
}

OUTLET_EXPORT("filter_chat_message") int32_t filter_chat_message(void) {
  size_t length, config_length, body_length;
  char* message = outlet_input(&length);
  if (!message)
    return outlet_error("word-filter: out of memory");
  char* body = outlet_json_string(message, length, "body", &body_length);
  if (!body) {
    free(message); /* a message without a text body has nothing to mask */
    return outlet_output_str("{\"action\":\"pass\"}");
  }
  char* config = outlet_invoke1(config_get, NULL); /* NULL only if the host answered null */
  config_length = config ? strlen(config) : 0;

  size_t replacement_length;
  char* replacement = outlet_json_string(config, config_length, "replacement", &replacement_length);
  if (!replacement) {
    replacement = malloc(sizeof "***");
    if (replacement)
      memcpy(replacement, "***", sizeof "***");
    replacement_length = sizeof "***" - 1;
  }

  outlet_buf masked = OUTLET_BUF_INIT, haystack = OUTLET_BUF_INIT;
  outlet_buf_append(&masked, body, body_length);
  outlet_buf_append(&haystack, body, body_length);
  for (size_t i = 0; i < haystack.length; ++i)
    haystack.data[i] = lower(haystack.data[i]);

  size_t hits = 0, words_length, element_length;
  const char* words = outlet_json_find(config, config_length, "words", &words_length);
  const char* element;
  outlet_json_iter it;
  if (outlet_json_array_begin(&it, words, words_length)) {
    while (replacement && (element = outlet_json_array_next(&it, &element_length))) {
      size_t word_length;
      char* word = outlet_json_string(element, element_length, "", &word_length);
      if (word && word_length > 0) /* an empty word would match everywhere */
        hits += mask_word(&masked, &haystack, word, word_length, replacement, replacement_length);
      free(word);
    }
  }

  int32_t status;
  if (!replacement || masked.failed || haystack.failed) {
    status = outlet_error("word-filter: out of memory");
  } else if (hits == 0) {
    status = outlet_output_str("{\"action\":\"pass\"}");
  } else {
    char* mode = outlet_json_string(config, config_length, "mode", NULL);
    if (mode && strcmp(mode, "drop") == 0) {
      status = outlet_output_str(
          "{\"action\":\"drop\",\"reason\":\"word-filter: message contains a blocked word\"}");
    } else {
      /* The rest of the message goes back byte for byte; only the body changes. */
      outlet_buf body_json = OUTLET_BUF_INIT, verdict = OUTLET_BUF_INIT;
      outlet_buf_append_json_string(&body_json, masked.data, masked.length);
      outlet_buf_append_str(&verdict, "{\"action\":\"modify\",\"payload\":");
      if (!body_json.failed)
        outlet_json_replace(message, length, "body", body_json.data, body_json.length, &verdict);
      outlet_buf_append_char(&verdict, '}');
      status = body_json.failed ? outlet_error("word-filter: out of memory")
                                : outlet_output_buf(&verdict);
      outlet_buf_free(&verdict);
      outlet_buf_free(&body_json);
    }
    free(mode);
  }
  outlet_buf_free(&haystack);
  outlet_buf_free(&masked);
  free(replacement);
  free(body);
  free(config);
  free(message);
  return status;
}
