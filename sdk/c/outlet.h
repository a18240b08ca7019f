/* outlet.h: the C SDK for Outlet's WebAssembly plugins.
 *
 * One header, all static inline, so a plugin is one .c file:
 *
 *   clang-14 --target=wasm32-wasi -O2 -mexec-model=reactor -I sdk/c -o plugin.wasm plugin.c
 *
 * Outlet speaks the Extism plugin ABI (docs/wasm-abi.md): the kernel functions
 * come from "extism:host/env", Outlet's host functions from "extism:host/user",
 * and handlers are exports `int32_t name(void)` that read their input and write
 * their output through the kernel. Kernel memory is not the plugin's linear
 * memory: bytes cross with load/store, which is what the block helpers do.
 *
 * Only what a plugin calls is imported (an unused static inline function leaves
 * no trace), so including this header asks the host for nothing by itself.
 *
 * Ownership, as in Extism: blocks handed to output_set, error_set, config_get,
 * var_get, var_set, http_request and log_* belong to the host from then on, so
 * these helpers never free them; blocks handed to host functions (call, has and
 * the functions a plugin imports) stay the plugin's, and the helpers free them
 * after the call, with the result block once it is read. The kernel memory is
 * emptied before every call anyway, so a block forgotten inside one call is
 * reclaimed at the next.
 *
 * Every malloc'd result is the caller's to free(). Text read from the host is
 * NUL-terminated for convenience, but may itself contain NUL bytes (a JSON
 * string with \u0000): use the returned length when it matters.
 */
#ifndef OUTLET_H
#define OUTLET_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef uint64_t outlet_handle; /* a kernel memory block; 0 = none */

#define OUTLET_KERNEL_MODULE "extism:host/env"
#define OUTLET_HOST_MODULE "extism:host/user"

/* Declares a kernel import (the Extism kernel's function `name`). */
#define OUTLET_KERNEL(name) __attribute__((import_module(OUTLET_KERNEL_MODULE), import_name(name)))
/* Declares an Outlet host function import: `name` as the manifest's permission
 * grants it, e.g. OUTLET_HOST_FUNCTION("kv.get") outlet_handle kv_get(outlet_handle key);
 * importing a function the plugin is not granted fails instantiation. */
#define OUTLET_HOST_FUNCTION(name) \
  __attribute__((import_module(OUTLET_HOST_MODULE), import_name(name)))
/* Exports a handler under `name`: OUTLET_EXPORT("on_chat_message") int32_t on_chat_message(void).
 */
#define OUTLET_EXPORT(name) __attribute__((export_name(name)))

/* ---- The kernel (extism:host/env), signatures as in the Extism C PDK ---- */

OUTLET_KERNEL("alloc") outlet_handle outlet_kernel_alloc(uint64_t length);
OUTLET_KERNEL("free") void outlet_kernel_free(outlet_handle block);
OUTLET_KERNEL("length") uint64_t outlet_kernel_length(outlet_handle block);
OUTLET_KERNEL("length_unsafe") uint64_t outlet_kernel_length_unsafe(outlet_handle block);
OUTLET_KERNEL("load_u8") uint8_t outlet_kernel_load_u8(uint64_t address);
OUTLET_KERNEL("load_u64") uint64_t outlet_kernel_load_u64(uint64_t address);
OUTLET_KERNEL("store_u8") void outlet_kernel_store_u8(uint64_t address, uint8_t value);
OUTLET_KERNEL("store_u64") void outlet_kernel_store_u64(uint64_t address, uint64_t value);
OUTLET_KERNEL("input_length") uint64_t outlet_kernel_input_length(void);
OUTLET_KERNEL("input_offset") outlet_handle outlet_kernel_input_offset(void);
OUTLET_KERNEL("input_load_u8") uint8_t outlet_kernel_input_load_u8(uint64_t index);
OUTLET_KERNEL("input_load_u64") uint64_t outlet_kernel_input_load_u64(uint64_t index);
OUTLET_KERNEL("output_set") void outlet_kernel_output_set(outlet_handle block, uint64_t length);
OUTLET_KERNEL("error_set") void outlet_kernel_error_set(outlet_handle message);
OUTLET_KERNEL("config_get") outlet_handle outlet_kernel_config_get(outlet_handle key);
OUTLET_KERNEL("var_get") outlet_handle outlet_kernel_var_get(outlet_handle key);
OUTLET_KERNEL("var_set") void outlet_kernel_var_set(outlet_handle key, outlet_handle value);
OUTLET_KERNEL("http_request")
outlet_handle outlet_kernel_http_request(outlet_handle request, outlet_handle body);
OUTLET_KERNEL("http_status_code") int32_t outlet_kernel_http_status_code(void);
OUTLET_KERNEL("http_headers") outlet_handle outlet_kernel_http_headers(void);
OUTLET_KERNEL("log_trace") void outlet_kernel_log_trace(outlet_handle message);
OUTLET_KERNEL("log_debug") void outlet_kernel_log_debug(outlet_handle message);
OUTLET_KERNEL("log_info") void outlet_kernel_log_info(outlet_handle message);
OUTLET_KERNEL("log_warn") void outlet_kernel_log_warn(outlet_handle message);
OUTLET_KERNEL("log_error") void outlet_kernel_log_error(outlet_handle message);
OUTLET_KERNEL("get_log_level") int32_t outlet_kernel_get_log_level(void);

/* ---- Outlet's two always-present host functions (extism:host/user) ---- */

/* Calls a host function by name; never traps for the host's refusals. */
OUTLET_HOST_FUNCTION("call") outlet_handle outlet_host_call(outlet_handle name, outlet_handle args);
/* 1 if the named host function is granted to this plugin. */
OUTLET_HOST_FUNCTION("has") int32_t outlet_host_has(outlet_handle name);

/* ---- Blocks: plugin bytes <-> kernel memory ---- */

/* The kernel cannot hold an empty block (alloc(0) is 0), so empty data gives 0. */
static inline outlet_handle outlet_block_from(const void* data, size_t length) {
  if (length == 0)
    return 0;
  outlet_handle block = outlet_kernel_alloc((uint64_t)length);
  if (block == 0)
    return 0;
  const unsigned char* bytes = (const unsigned char*)data;
  size_t i = 0;
  for (; length - i >= 8; i += 8) {
    uint64_t word; /* memcpy: the plugin's bytes need not be 8-aligned */
    memcpy(&word, bytes + i, 8);
    outlet_kernel_store_u64(block + i, word);
  }
  for (; i < length; ++i)
    outlet_kernel_store_u8(block + i, bytes[i]);
  return block;
}

/* For C strings, the common case of host arguments and messages. */
static inline outlet_handle outlet_block_from_str(const char* text) {
  return text ? outlet_block_from(text, strlen(text)) : 0;
}

/* The checked `length` (0 for anything but a live block) so a stale or made-up
 * handle reads as empty instead of as someone else's bytes. NULL for handle 0. */
static inline char* outlet_block_read(outlet_handle block, size_t* length) {
  if (length)
    *length = 0;
  if (block == 0)
    return NULL;
  uint64_t n = outlet_kernel_length(block);
  if (n >= (uint64_t)SIZE_MAX)
    return NULL;
  char* copy = (char*)malloc((size_t)n + 1);
  if (!copy)
    return NULL;
  size_t i = 0;
  for (; (size_t)n - i >= 8; i += 8) {
    uint64_t word = outlet_kernel_load_u64(block + i);
    memcpy(copy + i, &word, 8);
  }
  for (; i < (size_t)n; ++i)
    copy[i] = (char)outlet_kernel_load_u8(block + i);
  copy[n] = '\0';
  if (length)
    *length = (size_t)n;
  return copy;
}

/* Frees a block the plugin still owns (not one it handed to the host). */
static inline void outlet_block_free(outlet_handle block) {
  if (block)
    outlet_kernel_free(block);
}

/* ---- Input, output, errors ---- */

/* Eight bytes per kernel call, then the tail byte by byte (a u64 read that would
 * cross the input's end gives 0). Never NULL for an empty input: "". */
static inline char* outlet_input(size_t* length) {
  if (length)
    *length = 0;
  uint64_t n = outlet_kernel_input_length();
  if (n >= (uint64_t)SIZE_MAX)
    return NULL;
  char* copy = (char*)malloc((size_t)n + 1);
  if (!copy)
    return NULL;
  size_t i = 0;
  for (; (size_t)n - i >= 8; i += 8) {
    uint64_t word = outlet_kernel_input_load_u64(i);
    memcpy(copy + i, &word, 8);
  }
  for (; i < (size_t)n; ++i)
    copy[i] = (char)outlet_kernel_input_load_u8(i);
  copy[n] = '\0';
  if (length)
    *length = (size_t)n;
  return copy;
}

/* Sets an error message; returns 1 so that a handler can `return outlet_error("...")`.
 * An empty message becomes a generic one: error_set(0) would clear the error. */
static inline int32_t outlet_error(const char* message) {
  outlet_handle block = outlet_block_from_str(message && *message ? message : "plugin error");
  outlet_kernel_error_set(block);
  return 1;
}

/* Returns 0, or 1 with an error set, so a handler can `return outlet_output(...)`.
 * Empty output needs no block: no output is empty output. */
static inline int32_t outlet_output(const char* data, size_t length) {
  if (length == 0)
    return 0;
  outlet_handle block = outlet_block_from(data, length);
  if (block == 0)
    return outlet_error("out of kernel memory for the output");
  outlet_kernel_output_set(block, (uint64_t)length);
  return 0;
}

/* For outputs held in a C string. */
static inline int32_t outlet_output_str(const char* text) {
  return outlet_output(text, text ? strlen(text) : 0);
}

/* ---- Logging ---- */

/* Levels as get_log_level numbers them (Extism's order). */
enum {
  OUTLET_LOG_TRACE = 0,
  OUTLET_LOG_DEBUG = 1,
  OUTLET_LOG_INFO = 2,
  OUTLET_LOG_WARN = 3,
  OUTLET_LOG_ERROR = 4
};

/* The lowest level that goes anywhere (Outlet: trace with the "log" permission,
 * warn without), so a plugin can skip building lines nobody reads. The helpers
 * below do not check it: the host drops what it does not want anyway. */
static inline int32_t outlet_log_level(void) {
  return outlet_kernel_get_log_level();
}

/* One helper per level; the host frees the block (Extism's rule for log_*). */
static inline void outlet_log_trace(const char* message) {
  outlet_handle block = outlet_block_from_str(message);
  if (block)
    outlet_kernel_log_trace(block);
}
/* See outlet_log_trace. */
static inline void outlet_log_debug(const char* message) {
  outlet_handle block = outlet_block_from_str(message);
  if (block)
    outlet_kernel_log_debug(block);
}
/* See outlet_log_trace. */
static inline void outlet_log_info(const char* message) {
  outlet_handle block = outlet_block_from_str(message);
  if (block)
    outlet_kernel_log_info(block);
}
/* Without the "log" permission the host keeps this as a plugin warning. */
static inline void outlet_log_warn(const char* message) {
  outlet_handle block = outlet_block_from_str(message);
  if (block)
    outlet_kernel_log_warn(block);
}
/* Without the "log" permission the host keeps this as a plugin warning. */
static inline void outlet_log_error(const char* message) {
  outlet_handle block = outlet_block_from_str(message);
  if (block)
    outlet_kernel_log_error(block);
}

/* ---- Host functions ---- */

/* Reads a host function's result and frees its block: the JSON text, or NULL for
 * a null result (the host sends the text `null`; older hosts sent handle 0) or
 * when memory ran out. */
static inline char* outlet_host_result(outlet_handle result, size_t* length) {
  size_t read = 0;
  char* text = outlet_block_read(result, &read);
  outlet_block_free(result);
  if (text != NULL && read == 4 && memcmp(text, "null", 4) == 0) {
    free(text);
    text = NULL;
    read = 0;
  }
  if (length != NULL)
    *length = read;
  return text;
}

/* Calls `name` with `args_json` (a JSON array, or NULL for none) through `call`, so
 * that a refusal comes back as {"ok":false,"error":"..."} instead of a trap.
 * Returns that envelope's text ({"ok":true,"value":...} on success). */
static inline char* outlet_call(const char* name, const char* args_json) {
  outlet_handle name_block = outlet_block_from_str(name);
  outlet_handle args_block = outlet_block_from_str(args_json);
  /* The result is read before the arguments are freed: were the host to free
   * them itself, their space could hold the result by now. */
  char* envelope = outlet_host_result(outlet_host_call(name_block, args_block), NULL);
  outlet_block_free(args_block);
  outlet_block_free(name_block);
  return envelope;
}

/* Lets optional features test for a permission instead of failing to load. */
static inline int outlet_has(const char* name) {
  outlet_handle block = outlet_block_from_str(name);
  int granted = outlet_host_has(block) == 1;
  outlet_block_free(block);
  return granted;
}

/* Host function pointer types for the outlet_invoke helpers. */
typedef outlet_handle (*outlet_host_fn0)(void);
typedef outlet_handle (*outlet_host_fn1)(outlet_handle);
typedef outlet_handle (*outlet_host_fn2)(outlet_handle, outlet_handle);
typedef outlet_handle (*outlet_host_fn3)(outlet_handle, outlet_handle, outlet_handle);

/* Calls an imported host function with JSON texts (NULL = absent) and returns the
 * result's JSON text (NULL for null). A host error traps: the call fails. */
static inline char* outlet_invoke0(outlet_host_fn0 fn) {
  return outlet_host_result(fn(), NULL);
}
/* See outlet_invoke0. */
static inline char* outlet_invoke1(outlet_host_fn1 fn, const char* a0) {
  outlet_handle b0 = outlet_block_from_str(a0);
  char* result = outlet_host_result(fn(b0), NULL);
  outlet_block_free(b0);
  return result;
}
/* See outlet_invoke0. */
static inline char* outlet_invoke2(outlet_host_fn2 fn, const char* a0, const char* a1) {
  outlet_handle b0 = outlet_block_from_str(a0), b1 = outlet_block_from_str(a1);
  char* result = outlet_host_result(fn(b0, b1), NULL);
  outlet_block_free(b1);
  outlet_block_free(b0);
  return result;
}
/* See outlet_invoke0. */
static inline char* outlet_invoke3(outlet_host_fn3 fn, const char* a0, const char* a1,
                                   const char* a2) {
  outlet_handle b0 = outlet_block_from_str(a0), b1 = outlet_block_from_str(a1),
                b2 = outlet_block_from_str(a2);
  char* result = outlet_host_result(fn(b0, b1, b2), NULL);
  outlet_block_free(b2);
  outlet_block_free(b1);
  outlet_block_free(b0);
  return result;
}

/* ---- Kernel config and vars (Extism's; Outlet's own config is the "config.get"
 * host function, which returns JSON) ---- */

/* Extism's string config (a non-string value comes as JSON text); NULL if unset.
 * The key block goes to the host (Extism's config_get frees it). */
static inline char* outlet_config_get(const char* key, size_t* length) {
  outlet_handle value = outlet_kernel_config_get(outlet_block_from_str(key));
  return outlet_host_result(value, length);
}

/* NULL when the var is unset. */
static inline char* outlet_var_get(const char* key, size_t* length) {
  outlet_handle value = outlet_kernel_var_get(outlet_block_from_str(key));
  return outlet_host_result(value, length);
}

/* An empty value deletes the var: the kernel has no empty blocks, and var_set's
 * value 0 means delete. Both blocks go to the host. */
static inline void outlet_var_set(const char* key, const void* value, size_t length) {
  outlet_kernel_var_set(outlet_block_from_str(key), outlet_block_from(value, length));
}

/* ---- JSON reading ----
 *
 * Values are found in place, in the text: outlet_json_find returns a pointer to
 * the first byte of a value and its length, and the other readers take the same
 * (text, length, path) triple. A path is keys separated by dots ("user.id"); a
 * segment of digits indexes an array ("args.0"); the empty path is the whole text,
 * so `outlet_json_string(value, value_len, "", &n)` decodes a value found before.
 * Keys are compared after unescaping; a repeated key's last value wins, as in the
 * host's parser. Malformed or truncated text, nesting deeper than
 * OUTLET_JSON_MAX_DEPTH and bad escapes give NULL / 0; nothing reads past `length`.
 */

#define OUTLET_JSON_MAX_DEPTH 128

/* JSON whitespace only: form feeds and the like are not JSON. */
static inline const char* outlet_json__ws(const char* p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    ++p;
  return p;
}

/* Shared by escapes and the UTF-8 checks. */
static inline int outlet_json__hex4(const char* p, uint32_t* out) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) {
    char c = p[i];
    uint32_t digit;
    if (c >= '0' && c <= '9')
      digit = (uint32_t)(c - '0');
    else if (c >= 'a' && c <= 'f')
      digit = (uint32_t)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      digit = (uint32_t)(c - 'A' + 10);
    else
      return 0;
    value = value << 4 | digit;
  }
  *out = value;
  return 1;
}

/* UTF-8 for a code point below 0x110000 (callers never pass surrogates). */
static inline int outlet_json__utf8(uint32_t cp, unsigned char out[4]) {
  if (cp < 0x80) {
    out[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    out[0] = (unsigned char)(0xC0 | cp >> 6);
    out[1] = (unsigned char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    out[0] = (unsigned char)(0xE0 | cp >> 12);
    out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
    out[2] = (unsigned char)(0x80 | (cp & 0x3F));
    return 3;
  }
  out[0] = (unsigned char)(0xF0 | cp >> 18);
  out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
  out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
  out[3] = (unsigned char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Decodes one character of a string's body at *p (not its closing quote) into
 * UTF-8, advancing *p; -1 if it is not JSON. A lone surrogate becomes U+FFFD so
 * that decoded text is always valid to send back. Never longer than its escape,
 * which is what lets outlet_json_string size its buffer from the input. */
static inline int outlet_json__char(const char** p, const char* end, unsigned char out[4]) {
  const char* s = *p;
  unsigned char c = (unsigned char)*s;
  if (c < 0x20)
    return -1;
  if (c != '\\') {
    out[0] = c;
    *p = s + 1;
    return 1;
  }
  if (end - s < 2)
    return -1;
  switch (s[1]) {
    case '"':
      out[0] = '"';
      break;
    case '\\':
      out[0] = '\\';
      break;
    case '/':
      out[0] = '/';
      break;
    case 'b':
      out[0] = '\b';
      break;
    case 'f':
      out[0] = '\f';
      break;
    case 'n':
      out[0] = '\n';
      break;
    case 'r':
      out[0] = '\r';
      break;
    case 't':
      out[0] = '\t';
      break;
    case 'u': {
      uint32_t cp, low;
      if (end - s < 6 || !outlet_json__hex4(s + 2, &cp))
        return -1;
      s += 6;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (end - s >= 6 && s[0] == '\\' && s[1] == 'u' && outlet_json__hex4(s + 2, &low) &&
            low >= 0xDC00 && low <= 0xDFFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          s += 6;
        } else {
          cp = 0xFFFD;
        }
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        cp = 0xFFFD;
      }
      *p = s;
      return outlet_json__utf8(cp, out);
    }
    default:
      return -1;
  }
  *p = s + 2;
  return 1;
}

/* p is at the opening quote; returns the byte after the closing one. */
static inline const char* outlet_json__skip_string(const char* p, const char* end) {
  unsigned char scratch[4];
  ++p;
  while (p < end) {
    if (*p == '"')
      return p + 1;
    if (outlet_json__char(&p, end, scratch) < 0)
      return NULL;
  }
  return NULL;
}

/* The JSON number grammar, so that "-", "01" or "1." are rejected. */
static inline const char* outlet_json__skip_number(const char* p, const char* end) {
  if (p < end && *p == '-')
    ++p;
  if (p >= end)
    return NULL;
  if (*p == '0') {
    ++p;
  } else if (*p >= '1' && *p <= '9') {
    while (p < end && *p >= '0' && *p <= '9')
      ++p;
  } else {
    return NULL;
  }
  if (p < end && *p == '.') {
    ++p;
    if (p >= end || *p < '0' || *p > '9')
      return NULL;
    while (p < end && *p >= '0' && *p <= '9')
      ++p;
  }
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-'))
      ++p;
    if (p >= end || *p < '0' || *p > '9')
      return NULL;
    while (p < end && *p >= '0' && *p <= '9')
      ++p;
  }
  return p;
}

/* A scalar (string, number, true, false, null) at p. */
static inline const char* outlet_json__skip_scalar(const char* p, const char* end) {
  size_t left = (size_t)(end - p);
  switch (*p) {
    case '"':
      return outlet_json__skip_string(p, end);
    case 't':
      return left >= 4 && memcmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
      return left >= 5 && memcmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
      return left >= 4 && memcmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
      return outlet_json__skip_number(p, end);
  }
}

/* Reads an object's `"key" :` at p (a quote expected), returning the byte after
 * the colon; the key's token is [*key, *key_end). */
static inline const char* outlet_json__member_key(const char* p, const char* end, const char** key,
                                                  const char** key_end) {
  if (p >= end || *p != '"')
    return NULL;
  *key = p;
  p = outlet_json__skip_string(p, end);
  if (!p)
    return NULL;
  *key_end = p;
  p = outlet_json__ws(p, end);
  if (p >= end || *p != ':')
    return NULL;
  return p + 1;
}

/* Returns the byte after the value at `value` (leading whitespace allowed), or
 * NULL if it is not a complete JSON value. Iterative, with the nesting bounded by
 * OUTLET_JSON_MAX_DEPTH, so hostile nesting cannot exhaust the stack. */
static inline const char* outlet_json_skip(const char* value, const char* end) {
  char open[OUTLET_JSON_MAX_DEPTH];
  int depth = 0;
  const char *p = value, *key, *key_end;
  for (;;) {
    /* A value is expected at p. */
    p = outlet_json__ws(p, end);
    if (p >= end)
      return NULL;
    if (*p == '{' || *p == '[') {
      if (depth == OUTLET_JSON_MAX_DEPTH)
        return NULL;
      char bracket = *p;
      p = outlet_json__ws(p + 1, end);
      if (p >= end)
        return NULL;
      if (*p == (bracket == '{' ? '}' : ']')) {
        ++p; /* empty: a complete value, fall through to what follows it */
      } else {
        open[depth++] = bracket;
        if (bracket == '{' && !(p = outlet_json__member_key(p, end, &key, &key_end)))
          return NULL;
        continue;
      }
    } else if (!(p = outlet_json__skip_scalar(p, end))) {
      return NULL;
    }
    /* After a complete value: close what it ends, or go on after a comma. */
    for (;;) {
      if (depth == 0)
        return p;
      p = outlet_json__ws(p, end);
      if (p >= end)
        return NULL;
      char bracket = open[depth - 1];
      if (*p == ',') {
        p = outlet_json__ws(p + 1, end);
        if (bracket == '{' && !(p = outlet_json__member_key(p, end, &key, &key_end)))
          return NULL;
        break;
      }
      if (*p != (bracket == '{' ? '}' : ']'))
        return NULL;
      ++p;
      --depth;
    }
  }
}

/* Whether a key token (quotes included) unescapes to exactly name[0..length). */
static inline int outlet_json__key_is(const char* key, const char* key_end, const char* name,
                                      size_t length) {
  const char *p = key + 1, *last = key_end - 1; /* inside the quotes */
  size_t at = 0;
  unsigned char bytes[4];
  while (p < last) {
    int n = outlet_json__char(&p, last, bytes);
    if (n < 0 || (size_t)n > length - at || memcmp(name + at, bytes, (size_t)n) != 0)
      return 0;
    at += (size_t)n;
  }
  return at == length;
}

/* One path step into the value at p: the member `name` of an object, or the
 * element at a decimal index of an array. */
static inline const char* outlet_json__step(const char* p, const char* end, const char* name,
                                            size_t length) {
  if (*p == '{') {
    const char *found = NULL, *key, *key_end;
    p = outlet_json__ws(p + 1, end);
    if (p < end && *p == '}')
      return NULL;
    for (;;) {
      if (!(p = outlet_json__member_key(p, end, &key, &key_end)))
        return NULL;
      p = outlet_json__ws(p, end);
      const char* value = p;
      if (!(p = outlet_json_skip(p, end)))
        return NULL;
      if (outlet_json__key_is(key, key_end, name, length))
        found = value; /* keep going: the last of repeated keys wins */
      p = outlet_json__ws(p, end);
      if (p >= end)
        return NULL;
      if (*p == '}')
        return found;
      if (*p != ',')
        return NULL;
      p = outlet_json__ws(p + 1, end);
    }
  }
  if (*p == '[') {
    size_t index = 0;
    if (length == 0 || length > 9)
      return NULL;
    for (size_t i = 0; i < length; ++i) {
      if (name[i] < '0' || name[i] > '9')
        return NULL;
      index = index * 10 + (size_t)(name[i] - '0');
    }
    p = outlet_json__ws(p + 1, end);
    if (p < end && *p == ']')
      return NULL;
    for (size_t i = 0;; ++i) {
      const char* value = p;
      if (!(p = outlet_json_skip(p, end)))
        return NULL;
      if (i == index)
        return value;
      p = outlet_json__ws(p, end);
      if (p >= end || *p != ',')
        return NULL;
      p = outlet_json__ws(p + 1, end);
    }
  }
  return NULL;
}

/* Pointer to the first byte of the value at `path` and its length, or NULL if
 * there is none (or the text around it is malformed). */
static inline const char* outlet_json_find(const char* json, size_t length, const char* path,
                                           size_t* value_length) {
  if (value_length)
    *value_length = 0;
  if (!json || !path)
    return NULL;
  const char* end = json + length;
  const char* p = outlet_json__ws(json, end);
  while (*path) {
    const char* dot = strchr(path, '.');
    size_t segment = dot ? (size_t)(dot - path) : strlen(path);
    if (p >= end || !(p = outlet_json__step(p, end, path, segment)))
      return NULL;
    path += segment + (dot ? 1 : 0);
  }
  const char* value_end = outlet_json_skip(p, end);
  if (!value_end)
    return NULL;
  if (value_length)
    *value_length = (size_t)(value_end - p);
  return p;
}

/* The string at `path`, unescaped to UTF-8 (\uXXXX and surrogate pairs included),
 * malloc'd and NUL-terminated; NULL if it is absent, not a string, or malformed. */
static inline char* outlet_json_string(const char* json, size_t length, const char* path,
                                       size_t* out_length) {
  if (out_length)
    *out_length = 0;
  size_t n;
  const char* value = outlet_json_find(json, length, path, &n);
  if (!value || *value != '"')
    return NULL;
  char* text = (char*)malloc(n); /* decoding never grows: n - 2 quotes + NUL fits */
  if (!text)
    return NULL;
  const char *p = value + 1, *last = value + n - 1;
  size_t at = 0;
  while (p < last) {
    int k = outlet_json__char(&p, last, (unsigned char*)text + at);
    if (k < 0) {
      free(text);
      return NULL;
    }
    at += (size_t)k;
  }
  text[at] = '\0';
  if (out_length)
    *out_length = at;
  return text;
}

/* An integer written without fraction or exponent that fits int64_t; 3.0, 1e3 and
 * out-of-range numbers are not integers (Lua's math.type agrees). 1 if found. */
static inline int outlet_json_int(const char* json, size_t length, const char* path, int64_t* out) {
  size_t n;
  const char* p = outlet_json_find(json, length, path, &n);
  if (!p)
    return 0;
  const char* end = p + n;
  int negative = *p == '-';
  if (negative)
    ++p;
  if (p == end)
    return 0;
  uint64_t magnitude = 0, limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  for (; p < end; ++p) {
    if (*p < '0' || *p > '9')
      return 0;
    uint64_t digit = (uint64_t)(*p - '0');
    if (magnitude > (limit - digit) / 10)
      return 0;
    magnitude = magnitude * 10 + digit;
  }
  if (out)
    *out = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
  return 1;
}

/* true or false at `path`; 1 if found (the value goes to *out as 1 or 0). */
static inline int outlet_json_bool(const char* json, size_t length, const char* path, int* out) {
  size_t n;
  const char* p = outlet_json_find(json, length, path, &n);
  if (!p || (*p != 't' && *p != 'f'))
    return 0;
  if (out)
    *out = *p == 't';
  return 1;
}

/* The kind of a found value, from its first byte: 'o' object, 'a' array, 's' string,
 * 'n' number, 'b' boolean, 'z' null, 0 for none. */
static inline char outlet_json_kind(const char* value) {
  if (!value)
    return 0;
  switch (*value) {
    case '{':
      return 'o';
    case '[':
      return 'a';
    case '"':
      return 's';
    case 't':
    case 'f':
      return 'b';
    case 'n':
      return 'z';
    default:
      return 'n';
  }
}

/* Walks the elements of an array value without copying it. */
typedef struct {
  const char* next; /* the next element, when not done */
  const char* end;
  int done;
} outlet_json_iter;

/* 0 if `value` is not an array; an empty array starts done. */
static inline int outlet_json_array_begin(outlet_json_iter* it, const char* value, size_t length) {
  it->end = value ? value + length : NULL;
  it->next = NULL;
  it->done = 1;
  if (!value)
    return 0;
  const char* p = outlet_json__ws(value, it->end);
  if (p >= it->end || *p != '[')
    return 0;
  p = outlet_json__ws(p + 1, it->end);
  if (p < it->end && *p == ']')
    return 1;
  it->next = p;
  it->done = 0;
  return 1;
}

/* The next element and its length, or NULL after the last (or at malformed text). */
static inline const char* outlet_json_array_next(outlet_json_iter* it, size_t* length) {
  if (length)
    *length = 0;
  if (it->done)
    return NULL;
  const char* element = it->next;
  const char* after = outlet_json_skip(element, it->end);
  if (!after) {
    it->done = 1;
    return NULL;
  }
  const char* p = outlet_json__ws(after, it->end);
  if (p < it->end && *p == ',')
    it->next = outlet_json__ws(p + 1, it->end);
  else
    it->done = 1;
  if (length)
    *length = (size_t)(after - element);
  return element;
}

/* ---- A growable string, for building JSON ----
 *
 * Appends never fail loudly: a failed allocation sets `failed`, later appends do
 * nothing, and the caller checks once at the end (outlet_output_buf does). The
 * text is kept NUL-terminated whenever `data` is not NULL.
 */

typedef struct {
  char* data;
  size_t length;
  size_t capacity;
  int failed;
} outlet_buf;

#define OUTLET_BUF_INIT \
  { NULL, 0, 0, 0 }

/* Doubling keeps appends amortized O(1); overflow counts as a failure. */
static inline int outlet_buf_reserve(outlet_buf* b, size_t extra) {
  if (b->failed)
    return 0;
  if (extra > SIZE_MAX - 1 - b->length) {
    b->failed = 1;
    return 0;
  }
  size_t need = b->length + extra + 1;
  if (need <= b->capacity)
    return 1;
  size_t capacity = b->capacity ? b->capacity : 64;
  while (capacity < need)
    capacity = capacity > SIZE_MAX / 2 ? need : capacity * 2;
  char* data = (char*)realloc(b->data, capacity);
  if (!data) {
    b->failed = 1;
    return 0;
  }
  b->data = data;
  b->capacity = capacity;
  return 1;
}

/* Raw bytes. */
static inline void outlet_buf_append(outlet_buf* b, const void* data, size_t length) {
  if (!outlet_buf_reserve(b, length))
    return;
  if (length)
    memcpy(b->data + b->length, data, length);
  b->length += length;
  b->data[b->length] = '\0';
}

/* A C string. */
static inline void outlet_buf_append_str(outlet_buf* b, const char* text) {
  outlet_buf_append(b, text, strlen(text));
}

/* One byte. */
static inline void outlet_buf_append_char(outlet_buf* b, char c) {
  outlet_buf_append(b, &c, 1);
}

/* Decimal, via unsigned arithmetic so INT64_MIN is no special case. */
static inline void outlet_buf_append_int(outlet_buf* b, int64_t value) {
  char digits[21];
  int at = (int)sizeof digits;
  uint64_t magnitude = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
  do {
    digits[--at] = (char)('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude);
  if (value < 0)
    digits[--at] = '-';
  outlet_buf_append(b, digits + at, sizeof digits - (size_t)at);
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if it is not one: overlong
 * forms, surrogates and code points past U+10FFFF are refused, as the host's
 * parser refuses them. */
static inline size_t outlet_json__utf8_length(const unsigned char* p, size_t left) {
  unsigned char c = p[0];
  size_t n;
  uint32_t min, cp;
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, min = 0x80, cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, min = 0x800, cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, min = 0x10000, cp = c & 0x07;
  } else {
    return 0;
  }
  if (left < n)
    return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xC0) != 0x80)
      return 0;
    cp = cp << 6 | (p[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

/* A JSON string literal (quotes included) for any bytes: controls are escaped, and
 * bytes that are not UTF-8 become U+FFFD, so the result always parses on the host
 * even when the plugin cut a character in half. */
static inline void outlet_buf_append_json_string(outlet_buf* b, const char* text, size_t length) {
  static const char hex[] = "0123456789abcdef";
  const unsigned char* p = (const unsigned char*)text;
  size_t run = 0; /* bytes copied as they are, flushed in one append */
  outlet_buf_append_char(b, '"');
  for (size_t i = 0; i < length;) {
    unsigned char c = p[i];
    size_t n = c < 0x80 ? 1 : outlet_json__utf8_length(p + i, length - i);
    if (n > 1 || (n == 1 && c >= 0x20 && c != '"' && c != '\\')) {
      i += n;
      run += n;
      continue;
    }
    outlet_buf_append(b, p + i - run, run);
    run = 0;
    switch (c) {
      case '"':
        outlet_buf_append(b, "\\\"", 2);
        break;
      case '\\':
        outlet_buf_append(b, "\\\\", 2);
        break;
      case '\n':
        outlet_buf_append(b, "\\n", 2);
        break;
      case '\r':
        outlet_buf_append(b, "\\r", 2);
        break;
      case '\t':
        outlet_buf_append(b, "\\t", 2);
        break;
      case '\b':
        outlet_buf_append(b, "\\b", 2);
        break;
      case '\f':
        outlet_buf_append(b, "\\f", 2);
        break;
      default:
        if (c < 0x20) {
          char escape[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
          outlet_buf_append(b, escape, 6);
        } else {
          outlet_buf_append(b, "\xEF\xBF\xBD", 3); /* not UTF-8: U+FFFD */
        }
    }
    i += 1;
  }
  outlet_buf_append(b, p + length - run, run);
  outlet_buf_append_char(b, '"');
}

/* Same, for a C string. */
static inline void outlet_buf_append_json_str(outlet_buf* b, const char* text) {
  outlet_buf_append_json_string(b, text, strlen(text));
}

/* Replaces `removed` bytes at `at` with `data`; 0 (and `failed`) if out of range. */
static inline int outlet_buf_splice(outlet_buf* b, size_t at, size_t removed, const void* data,
                                    size_t length) {
  if (b->failed || at > b->length || removed > b->length - at) {
    b->failed = 1;
    return 0;
  }
  if (length > removed && !outlet_buf_reserve(b, length - removed))
    return 0;
  if (!b->data) /* empty, nothing removed, nothing inserted */
    return 1;
  memmove(b->data + at + length, b->data + at + removed, b->length - at - removed);
  if (length)
    memcpy(b->data + at, data, length);
  b->length = b->length - removed + length;
  b->data[b->length] = '\0';
  return 1;
}

/* Frees the text and leaves an empty, usable buffer. */
static inline void outlet_buf_free(outlet_buf* b) {
  free(b->data);
  b->data = NULL;
  b->length = b->capacity = 0;
  b->failed = 0;
}

/* Outputs the buffer, or fails the call if building it ran out of memory. */
static inline int32_t outlet_output_buf(const outlet_buf* b) {
  if (b->failed)
    return outlet_error("out of memory while building the output");
  return outlet_output(b->data, b->length);
}

/* Writes `json` with the value at `path` replaced by `value` (JSON text) into
 * `out`, keeping every other byte as it was; 0 if there is no such value. Used
 * to modify one field of a payload without re-serializing the rest. */
static inline int outlet_json_replace(const char* json, size_t length, const char* path,
                                      const char* value, size_t value_length, outlet_buf* out) {
  size_t old_length;
  const char* old = outlet_json_find(json, length, path, &old_length);
  if (!old)
    return 0;
  outlet_buf_append(out, json, (size_t)(old - json));
  outlet_buf_append(out, value, value_length);
  outlet_buf_append(out, old + old_length, length - (size_t)(old - json) - old_length);
  return !out->failed;
}

#ifdef __cplusplus
}
#endif

#endif /* OUTLET_H */
