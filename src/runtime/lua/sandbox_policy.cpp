#include "runtime/lua/sandbox_policy.h"

#include <cstring>

#include "runtime/lua/lua_bounded.h"

namespace outlet::lua {
namespace {

constexpr SandboxLibrary kLibraries[] = {
    {"_G", luaopen_base},   {"string", luaopen_string}, {"table", luaopen_table},
    {"math", luaopen_math}, {"utf8", luaopen_utf8},     {"coroutine", luaopen_coroutine},
};

constexpr const char* kMetered = "its work grows with plugin input: metered against the deadline";
constexpr const char* kAbortSafe =
    "a timeout or memory abort must not be caught: re-raised when the call is being stopped; a "
    "coroutine it stopped lost its hook, so its __close handlers never run";

constexpr AllowedMember kAllowed[] = {
    // Base functions.
    {"_G", "assert", nullptr, nullptr},
    {"_G", "error", nullptr, nullptr},
    {"_G", "getmetatable", nullptr, nullptr},  // shared metatables answer a guard
    {"_G", "ipairs", nullptr, nullptr},
    {"_G", "next", nullptr, nullptr},
    {"_G", "pairs", nullptr, nullptr},
    {"_G", "rawequal", nullptr, nullptr},
    {"_G", "rawget", nullptr, nullptr},
    {"_G", "rawlen", nullptr, nullptr},
    {"_G", "select", nullptr, nullptr},
    {"_G", "setmetatable", sandboxed_setmetatable,
     "no __gc: Lua runs finalizers with the debug hook off, so no deadline could stop one "
     "(shared tables' metatables are protected too)"},
    {"_G", "tonumber", nullptr, nullptr},
    {"_G", "tostring", nullptr, nullptr},
    {"_G", "type", nullptr, nullptr},
    {"_G", "warn", nullptr, nullptr},  // goes to the plugin's warnings
    {"_G", "_VERSION", nullptr, nullptr},
    {"_G", "load", sandboxed_load,
     "text chunks only (a binary chunk can break the VM), at most 256 KiB (the compiler "
     "cannot be interrupted), in the plugin's own environment"},
    {"_G", "collectgarbage", sandboxed_collectgarbage,
     "\"count\" only: collection and tuning belong to the host"},
    {"_G", "rawset", sandboxed_rawset, "refuses the read-only shared tables"},
    {"_G", "pcall", protected_call_pcall, kAbortSafe},
    {"_G", "xpcall", protected_call_xpcall, kAbortSafe},
    // string, without dump.
    {"string", "byte", nullptr, nullptr},
    {"string", "char", nullptr, nullptr},
    {"string", "format", bounded_format,
     "%q quotes at most 256 KiB per call (the stock quoting cannot be interrupted)"},
    {"string", "len", nullptr, nullptr},
    {"string", "sub", nullptr, nullptr},
    {"string", "pack", nullptr, nullptr},
    {"string", "packsize", nullptr, nullptr},
    {"string", "unpack", nullptr, nullptr},
    {"string", "find", bounded_find, kMetered},
    {"string", "match", bounded_match, kMetered},
    {"string", "gmatch", bounded_gmatch, kMetered},
    {"string", "gsub", bounded_gsub, kMetered},
    {"string", "rep", bounded_rep, kMetered},
    {"string", "upper", bounded_upper, kMetered},
    {"string", "lower", bounded_lower, kMetered},
    {"string", "reverse", bounded_reverse, kMetered},
    // table.
    {"table", "pack", nullptr, nullptr},
    {"table", "unpack", nullptr, nullptr},  // bounded by the stack limit
    {"table", "concat", bounded_concat, kMetered},
    {"table", "insert", bounded_insert, kMetered},
    {"table", "remove", bounded_remove, kMetered},
    {"table", "move", bounded_move, kMetered},
    {"table", "sort", bounded_sort, kMetered},
    // math: every function is constant time.
    {"math", "abs", nullptr, nullptr},
    {"math", "ceil", nullptr, nullptr},
    {"math", "cos", nullptr, nullptr},
    {"math", "deg", nullptr, nullptr},
    {"math", "exp", nullptr, nullptr},
    {"math", "floor", nullptr, nullptr},
    {"math", "fmod", nullptr, nullptr},
    {"math", "huge", nullptr, nullptr},
    {"math", "log", nullptr, nullptr},
    {"math", "max", nullptr, nullptr},
    {"math", "maxinteger", nullptr, nullptr},
    {"math", "min", nullptr, nullptr},
    {"math", "mininteger", nullptr, nullptr},
    {"math", "modf", nullptr, nullptr},
    {"math", "pi", nullptr, nullptr},
    {"math", "rad", nullptr, nullptr},
    {"math", "random", nullptr, nullptr},
    {"math", "randomseed", nullptr, nullptr},
    {"math", "sin", nullptr, nullptr},
    {"math", "sqrt", nullptr, nullptr},
    {"math", "tan", nullptr, nullptr},
    {"math", "tointeger", nullptr, nullptr},
    {"math", "type", nullptr, nullptr},
    {"math", "ult", nullptr, nullptr},
    {"math", "asin", nullptr, nullptr},
    {"math", "acos", nullptr, nullptr},
    {"math", "atan", nullptr, nullptr},
    // utf8.
    {"utf8", "char", nullptr, nullptr},
    {"utf8", "charpattern", nullptr, nullptr},
    {"utf8", "codes", nullptr, nullptr},
    {"utf8", "codepoint", nullptr, nullptr},  // bounded by the stack limit
    {"utf8", "len", bounded_utf8_len, kMetered},
    {"utf8", "offset", bounded_utf8_offset, kMetered},
    // coroutine: coroutines inherit the deadline hook.
    {"coroutine", "create", nullptr, nullptr},
    {"coroutine", "isyieldable", nullptr, nullptr},
    {"coroutine", "running", nullptr, nullptr},
    {"coroutine", "status", nullptr, nullptr},
    {"coroutine", "wrap", sandboxed_wrap, kAbortSafe},
    {"coroutine", "yield", nullptr, nullptr},
    {"coroutine", "resume", protected_resume, kAbortSafe},
    {"coroutine", "close", protected_close, kAbortSafe},
};

constexpr DeniedMember kDenied[] = {
    {"io", nullptr, "files and processes belong to the host"},
    {"os", nullptr, "processes, files, environment and exit belong to the host"},
    {"debug", nullptr, "reaches into other functions' locals, upvalues and hooks"},
    {"package", nullptr, "loads C libraries and files"},
    {"_G", "dofile", "reads files"},
    {"_G", "loadfile", "reads files"},
    {"_G", "require", "loads modules from the filesystem"},
    {"_G", "print", "replaced by the SDK: lines go to the plugin's log"},
    {"string", "dump", "produces binary chunks, which the sandbox never loads"},
};

bool is_allowed(const char* library, const char* name) {
  for (const AllowedMember& member : kAllowed) {
    if (std::strcmp(member.library, library) == 0 && std::strcmp(member.name, name) == 0)
      return true;
  }
  return false;
}

int refuse_write(lua_State* L) {
  const char* key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";
  return luaL_error(L, "cannot set \"%s\": this table is read-only (it is shared by the sandbox)",
                    key);
}

// __index of a strict proxy: upvalue 1 the real table, 2 the name prefix.
int strict_index(lua_State* L) {
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL)
    return 1;
  const char* key = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "?";
  return luaL_error(L,
                    "%s%s is not available to this plugin (no such host function, or its "
                    "permission is not granted; outlet.has(\"name\") tells)",
                    lua_tostring(L, lua_upvalueindex(2)), key);
}

// __pairs for a proxy: iterate the table it reads through.
int proxy_pairs(lua_State* L) {
  lua_getmetatable(L, 1);
  lua_getfield(L, -1, "__index");
  if (lua_type(L, -1) == LUA_TFUNCTION)  // a strict proxy: the table is its upvalue
    lua_getupvalue(L, -1, 1);
  lua_getglobal(L, "next");
  lua_insert(L, -2);
  lua_pushnil(L);
  return 3;
}

// Keeps only the allowed members of the table at the top (named `library`).
void filter_members(lua_State* L, const char* library) {
  int table = lua_gettop(L);
  lua_newtable(L);  // the names to drop, collected first: no writes during next()
  int doomed = lua_gettop(L);
  lua_Integer count = 0;
  lua_pushnil(L);
  while (lua_next(L, table) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING || !is_allowed(library, lua_tostring(L, -1))) {
      lua_pushvalue(L, -1);
      lua_rawseti(L, doomed, ++count);
    }
  }
  for (lua_Integer i = 1; i <= count; ++i) {
    lua_rawgeti(L, doomed, i);
    lua_pushnil(L);
    lua_rawset(L, table);
  }
  lua_pop(L, 1);
  for (const AllowedMember& member : kAllowed) {
    if (member.replacement == nullptr || std::strcmp(member.library, library) != 0)
      continue;
    // The stock function stays reachable to the replacement only (upvalue 1).
    lua_getfield(L, table, member.name);
    lua_pushcclosure(L, member.replacement, 1);
    lua_setfield(L, table, member.name);
  }
}

}  // namespace

std::span<const SandboxLibrary> sandbox_libraries() {
  return kLibraries;
}
std::span<const AllowedMember> allowed_members() {
  return kAllowed;
}
std::span<const DeniedMember> denied_members() {
  return kDenied;
}

void make_read_only(lua_State* L, const char* strict_prefix) {
  int real = lua_gettop(L);
  lua_newtable(L);  // the proxy
  lua_createtable(L, 0, 4);
  lua_pushvalue(L, real);
  if (strict_prefix != nullptr) {
    lua_pushstring(L, strict_prefix);
    lua_pushcclosure(L, strict_index, 2);
  }
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, refuse_write);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, proxy_pairs);
  lua_setfield(L, -2, "__pairs");
  lua_pushliteral(L, "read-only");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  // Remembered so rawset can refuse it.
  lua_getfield(L, LUA_REGISTRYINDEX, "outlet.readonly");
  lua_pushvalue(L, -2);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  lua_replace(L, real);
}

int install_sandbox(lua_State* L) {
  // Weak keys: the set of read-only proxies, consulted by rawset.
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, "outlet.readonly");

  for (const SandboxLibrary& library : kLibraries) {
    bool base = std::strcmp(library.name, "_G") == 0;
    luaL_requiref(L, library.name, library.open, 0);
    filter_members(L, library.name);
    if (base) {
      lua_pop(L, 1);  // the globals stay writable: they are the plugin's own
      continue;
    }
    if (std::strcmp(library.name, "string") == 0) {
      // Method calls on strings ("x"):upper() read through the same filtered,
      // read-only table; the stock metatable (which reaches string.dump) is replaced.
      lua_pushvalue(L, -1);
      make_read_only(L);
      lua_pushliteral(L, "");
      lua_createtable(L, 0, 2);
      lua_pushvalue(L, -3);
      lua_setfield(L, -2, "__index");
      lua_pushliteral(L, "the string metatable is protected");
      lua_setfield(L, -2, "__metatable");
      lua_setmetatable(L, -2);
      lua_pop(L, 2);
    }
    make_read_only(L);
    lua_setglobal(L, library.name);
  }
  // The loaded-modules table would still hold the unfiltered libraries; it is
  // unreachable without `require`/`package`, but nothing needs it either.
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushglobaltable(L);
  lua_pushvalue(L, -1);
  lua_setfield(L, -2, "_G");
  lua_pop(L, 1);
  return 0;
}

}  // namespace outlet::lua
