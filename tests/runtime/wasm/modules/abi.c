/* Extism's kernel semantics as plugins rely on them, one export each; the
 * runtime tests call them with raw input (as `outlet call` does). */
#include "../../../support/extism_abi.h"

KERNEL(free) void k_free(u64 handle);
KERNEL(length) u64 k_length(u64 handle);
KERNEL(load_u8) unsigned k_load_u8(u64 address);
KERNEL(load_u64) u64 k_load_u64(u64 address);
KERNEL(store_u64) void k_store_u64(u64 address, u64 value);
KERNEL(input_offset) u64 k_input_offset(void);
KERNEL(input_load_u8) unsigned k_input_load_u8(u64 index);
KERNEL(input_load_u64) u64 k_input_load_u64(u64 index);
KERNEL(var_get) u64 k_var_get(u64 key);
KERNEL(var_set) void k_var_set(u64 key, u64 value);
KERNEL(config_get) u64 k_config_get(u64 key);
KERNEL(log_info) void k_log_info(u64 message);
KERNEL(log_warn) void k_log_warn(u64 message);
KERNEL(get_log_level) int k_get_log_level(void);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_exit"))) void proc_exit(
    int code);

static int fail(const char* why) {
  k_error_set(k_text(why));
  return 1;
}

/* The input back, read as PDKs read it: 8-byte words, then the tail. */
EXPORT(echo) int echo(void) {
  u64 length = k_input_length();
  u64 out = k_alloc(length);
  u64 i = 0;
  for (; i + 8 <= length; i += 8)
    k_store_u64(out + i, k_input_load_u64(i));
  for (; i < length; ++i)
    k_store_u8(out + i, k_input_load_u8(i));
  k_output_set(out, length);
  return 0;
}

/* Edges of the kernel's contract (input must be at least 4 bytes). */
EXPORT(edges) int edges(void) {
  u64 length = k_input_length();
  if (k_input_load_u8(length) != 0)
    return fail("input_load_u8 past the end is not 0");
  if (k_input_load_u64(length - 3) != 0)
    return fail("input_load_u64 across the end is not 0");
  if (k_length(k_input_offset()) != length)
    return fail("length(input) is not the input's length");
  if (k_length(k_input_offset() + 1) != 0)
    return fail("length of an interior pointer is not 0");
  if (k_length(0) != 0 || k_alloc(0) != 0)
    return fail("length(0) or alloc(0) is not 0");
  u64 block = k_alloc(24);
  k_free(block);
  k_free(block); /* a double free is harmless */
  k_free(0);
  if (k_length(block) != 0)
    return fail("a freed block still has a length");
  if (k_load_u64(1ull << 40) != 0 || k_load_u8(~0ull) != 0)
    return fail("a load outside the memory is not 0");
  /* An output may start inside a block (handle + offset). */
  u64 text = k_text("xxok");
  k_output_set(text + 2, 2);
  return 0;
}

/* A counter kept in vars: survives calls, not instances. */
EXPORT(count) int count(void) {
  u64 key = k_text("n");
  u64 value = k_var_get(key);
  unsigned n = value ? k_load_u8(value) : 0;
  u64 next = k_alloc(1);
  k_store_u8(next, n + 1);
  k_var_set(k_text("n"), next);
  char text[2] = {(char)('0' + n + 1), 0};
  k_output_text(text);
  return 0;
}

EXPORT(forget) int forget(void) {
  k_var_set(k_text("n"), 0);
  return 0;
}

/* config_get of the input's key; "(none)" when missing. */
EXPORT(config) int config(void) {
  u64 length = k_input_length();
  u64 key = k_alloc(length);
  for (u64 i = 0; i < length; ++i)
    k_store_u8(key + i, k_input_load_u8(i));
  u64 value = k_config_get(key);
  if (value == 0) {
    k_output_text("(none)");
    return 0;
  }
  k_output_set(value, k_length(value));
  return 0;
}

EXPORT(logs) int logs(void) {
  k_log_info(k_text("an info line"));
  k_log_warn(k_text("a warning line"));
  char level[2] = {(char)('0' + k_get_log_level()), 0};
  k_output_text(level);
  return 0;
}

EXPORT(exit_zero) int exit_zero(void) {
  k_output_text("before exit");
  proc_exit(0);
  return 1;
}

EXPORT(exit_three) int exit_three(void) {
  proc_exit(3);
  return 0;
}

EXPORT(returns_seven) int returns_seven(void) {
  return 7;
}

/* Takes an argument: not a handler; a typed name with it is a load error. */
EXPORT(takes_argument) int takes_argument(int x) {
  return x;
}
