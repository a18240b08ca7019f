// Lua states for the runtime's unit tests: a stock one (luaL_openlibs) and a
// sandboxed one set up as lua_runtime.cpp does, plus a way to run a snippet in
// either and describe what it returned without using the library under test.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/lua/lua_guard.h"
#include "runtime/lua/lua_sdk.h"
#include "runtime/lua/lua_values.h"
#include "runtime/lua/sandbox_policy.h"

namespace outlet::lua::testing {

// A Lua string literal holding exactly `text` (every byte outside printable
// ASCII, and the quote and backslash, as a \ddd escape).
inline std::string lua_quote(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char escape[8];
      std::snprintf(escape, sizeof escape, "\\%03u", static_cast<unsigned>(c));
      out += escape;
    }
  }
  return out + "\"";
}

// How a value looks, built with the C API only (so a bug in the sandbox's
// string or table functions cannot hide in the description). Tables list their
// entries sorted; `unordered` also forgets the keys of the outermost table (a
// multiset of its values, for sorts whose order of equal elements may differ).
inline std::string describe_value(lua_State* L, int index, int depth = 0, bool unordered = false) {
  index = lua_absindex(L, index);
  switch (lua_type(L, index)) {
    case LUA_TNIL:
      return "nil";
    case LUA_TBOOLEAN:
      return lua_toboolean(L, index) ? "true" : "false";
    case LUA_TNUMBER: {
      if (lua_isinteger(L, index))
        return "i" + std::to_string(lua_tointeger(L, index));
      double number = lua_tonumber(L, index);
      char text[64];
      std::snprintf(text, sizeof text, "f%.17g", number);
      return text;
    }
    case LUA_TSTRING: {
      size_t length = 0;
      const char* text = lua_tolstring(L, index, &length);
      return lua_quote({text, length});
    }
    case LUA_TTABLE: {
      if (depth > 4)
        return "{...}";
      std::vector<std::string> entries;
      lua_checkstack(L, 4);
      lua_pushnil(L);
      while (lua_next(L, index) != 0) {
        std::string value = describe_value(L, -1, depth + 1);
        if (unordered) {
          entries.push_back(value);
        } else {
          entries.push_back(describe_value(L, -2, depth + 1) + "=" + value);
        }
        lua_pop(L, 1);
      }
      std::sort(entries.begin(), entries.end());
      std::string out = "{";
      for (const std::string& entry : entries)
        out += entry + ",";
      return out + "}";
    }
    default:
      return luaL_typename(L, index);
  }
}

// Drops the "chunk:line: " that errors raised from Lua code carry.
inline std::string strip_position(std::string message) {
  size_t colon = message.find(':');
  if (colon == std::string::npos)
    return message;
  size_t digits = colon + 1;
  while (digits < message.size() && std::isdigit(static_cast<unsigned char>(message[digits])))
    ++digits;
  if (digits > colon + 1 && message.compare(digits, 2, ": ") == 0)
    return message.substr(digits + 2);
  return message;
}

// Runs `code` (a chunk; its results are described) and says what happened.
inline std::string run_snippet(lua_State* L, const std::string& code, bool unordered = false) {
  lua_settop(L, 0);
  if (luaL_loadbufferx(L, code.data(), code.size(), "=case", "t") != LUA_OK) {
    std::string message = lua_tostring(L, -1);
    lua_settop(L, 0);
    return "compile error: " + message;
  }
  if (lua_pcall(L, 0, LUA_MULTRET, 0) != LUA_OK) {
    std::string message =
        lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : std::string("(non-string error)");
    lua_settop(L, 0);
    return "error: " + strip_position(message);
  }
  std::string out = "ok";
  int count = lua_gettop(L);
  for (int i = 1; i <= count; ++i)
    out += " " + describe_value(L, i, 0, unordered);
  lua_settop(L, 0);
  return out;
}

// A stock Lua 5.4 state: every standard library, as the reference.
struct StockState {
  StockState() {
    L = luaL_newstate();
    luaL_openlibs(L);
  }
  ~StockState() { lua_close(L); }
  StockState(const StockState&) = delete;
  StockState& operator=(const StockState&) = delete;
  lua_State* L;
};

inline int setup_sandbox(lua_State* L) {
  LuaGuard& guard = guard_of(L);
  install_sandbox(L);
  guard.refs = create_value_refs(L);
  install_sdk(L);  // with no host functions: outlet.null, outlet.array, ...
  return 0;
}

// A sandboxed state as the runtime builds it (no host functions, no deadline).
struct SandboxState {
  explicit SandboxState(size_t limit_bytes = size_t{1} << 30) {
    guard = std::make_unique<LuaGuard>();
    guard->limit_bytes = limit_bytes;
    guard->deadline = SteadyTime::max();
    L = new_guarded_state(*guard);
    lua_pushcfunction(L, setup_sandbox);
    int status = lua_pcall(L, 0, 0, 0);
    EXPECT_EQ(status, LUA_OK) << lua_tostring(L, -1);
    lua_settop(L, 0);
  }
  ~SandboxState() { lua_close(L); }
  SandboxState(const SandboxState&) = delete;
  SandboxState& operator=(const SandboxState&) = delete;
  std::unique_ptr<LuaGuard> guard;
  lua_State* L;
};

}  // namespace outlet::lua::testing
