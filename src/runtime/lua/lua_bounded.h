// Replacements for the standard library functions whose work grows with
// plugin-controlled input. The count hook cannot stop a C function, so each of
// these counts its own work and checks the call's deadline as it goes (see
// sandbox_policy.cpp for which function replaces which, and why).
#pragma once

#include <lua.hpp>

namespace outlet::lua {

// Lua patterns (lua_patterns.cpp): the Lua 5.4 pattern language, with a step
// meter instead of unbounded backtracking.
int bounded_find(lua_State* L);
int bounded_match(lua_State* L);
int bounded_gmatch(lua_State* L);
int bounded_gsub(lua_State* L);

// Strings and tables (lua_bounded.cpp).
int bounded_rep(lua_State* L);
int bounded_format(lua_State* L);  // %q capped
int bounded_upper(lua_State* L);
int bounded_lower(lua_State* L);
int bounded_reverse(lua_State* L);
int bounded_concat(lua_State* L);
int bounded_insert(lua_State* L);
int bounded_remove(lua_State* L);
int bounded_move(lua_State* L);
int bounded_sort(lua_State* L);
int bounded_utf8_len(lua_State* L);
int bounded_utf8_offset(lua_State* L);

// Base functions with sandbox rules (lua_bounded.cpp).
int sandboxed_load(lua_State* L);            // text chunks only, size-capped
int sandboxed_collectgarbage(lua_State* L);  // "count" only
int sandboxed_rawset(lua_State* L);          // refuses the read-only shared tables
int protected_call_pcall(lua_State* L);      // re-raise an abort instead of catching it
int protected_call_xpcall(lua_State* L);
int protected_resume(lua_State* L);
int protected_close(lua_State* L);         // ... and never resets a coroutine a limit stopped
int sandboxed_wrap(lua_State* L);          // coroutine.wrap, the same two rules
int sandboxed_setmetatable(lua_State* L);  // refuses __gc (finalizers run without the hook)

// The largest text chunk `load` compiles: the parser cannot be interrupted, so
// its input is capped (measured: ~25 MB/s, so 256 KiB compiles in ~10 ms).
// The most text one string.format call may quote with %q (stock, uninterruptible:
// measured ~80 ns per control byte, so 256 KiB stays near 20 ms).
inline constexpr size_t kMaxQuotedBytes = size_t{256} * 1024;

inline constexpr size_t kMaxLoadChunkBytes = size_t{256} * 1024;

}  // namespace outlet::lua
