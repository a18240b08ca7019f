// Bounded versions of the standard functions whose work grows with plugin input,
// and the base functions that carry sandbox rules. Semantics follow the Lua 5.4
// manual; the difference is that work is metered against the call's deadline.
//
// These functions run inside Lua and may raise (longjmp): nothing in their
// frames may have a destructor.
#include "runtime/lua/lua_bounded.h"

#include <climits>
#include <cstring>

#include "runtime/lua/lua_guard.h"

namespace outlet::lua {
namespace {

constexpr size_t kChunkBytes = size_t{64} * 1024;

// Builds a string of `length` bytes, `fill(out, offset, count)` writing each chunk.
template <typename Fill>
int push_built_string(lua_State* L, size_t length, Fill fill) {
  luaL_Buffer buffer;
  char* out = luaL_buffinitsize(L, &buffer, length);
  WorkMeter meter(L);
  for (size_t offset = 0; offset < length; offset += kChunkBytes) {
    size_t count = length - offset < kChunkBytes ? length - offset : kChunkBytes;
    fill(out + offset, offset, count);
    meter.add(count);
  }
  luaL_pushresultsize(&buffer, length);
  return 1;
}

int change_case(lua_State* L, int (*convert)(int)) {
  size_t length = 0;
  const char* text = luaL_checklstring(L, 1, &length);
  return push_built_string(L, length, [&](char* out, size_t offset, size_t count) {
    for (size_t i = 0; i < count; ++i)
      out[i] = static_cast<char>(convert(static_cast<unsigned char>(text[offset + i])));
  });
}

// What a table function needs of its argument (ltablib.c's checktab): a table,
// or a value whose metatable has the metamethods standing in for the access.
constexpr int kTableRead = 1;
constexpr int kTableWrite = 2;
constexpr int kTableLength = 4;

bool has_metamethod(lua_State* L, const char* name, int metatable) {
  lua_pushstring(L, name);
  bool present = lua_rawget(L, metatable) != LUA_TNIL;
  lua_pop(L, 1);
  return present;
}

void check_table(lua_State* L, int arg, int what) {
  if (lua_type(L, arg) == LUA_TTABLE)
    return;
  if (lua_getmetatable(L, arg)) {
    int metatable = lua_gettop(L);
    bool usable = (!(what & kTableRead) || has_metamethod(L, "__index", metatable)) &&
                  (!(what & kTableWrite) || has_metamethod(L, "__newindex", metatable)) &&
                  (!(what & kTableLength) || has_metamethod(L, "__len", metatable));
    lua_pop(L, 1);
    if (usable)
      return;
  }
  luaL_checktype(L, arg, LUA_TTABLE);  // raises the usual "table expected"
}

// The length of a table argument, checked as the stock functions check it.
lua_Integer checked_length(lua_State* L, int index, int what) {
  check_table(L, index, what | kTableLength);
  return luaL_len(L, index);
}

// utf8 helpers: the position rules of the utf8 library.
lua_Integer relative_position(lua_Integer position, size_t length) {
  if (position >= 0)
    return position;
  if (0u - static_cast<size_t>(position) > length)
    return 0;
  return static_cast<lua_Integer>(length) + position + 1;
}

bool is_continuation(const char* p) {
  return (static_cast<unsigned char>(*p) & 0xC0) == 0x80;
}

// Decodes one UTF-8 sequence; null when invalid. Strict: at most U+10FFFF and no
// surrogates; lax: any value up to 2^31 - 1 (as utf8.len's `lax`).
const char* decode_utf8(const char* s, const char* end, bool strict) {
  auto c = static_cast<unsigned char>(s[0]);
  if (c < 0x80)
    return s + 1;
  int extra;
  uint32_t value;
  if (c >= 0xC0 && c < 0xE0) {
    extra = 1;
    value = c & 0x1F;
  } else if (c >= 0xE0 && c < 0xF0) {
    extra = 2;
    value = c & 0x0F;
  } else if (c >= 0xF0 && c < 0xF8) {
    extra = 3;
    value = c & 0x07;
  } else if (c >= 0xF8 && c < 0xFC) {
    extra = 4;
    value = c & 0x03;
  } else if (c >= 0xFC && c < 0xFE) {
    extra = 5;
    value = c & 0x01;
  } else {
    return nullptr;
  }
  if (end - s <= extra)
    return nullptr;
  for (int i = 1; i <= extra; ++i) {
    if (!is_continuation(s + i))
      return nullptr;
    value = (value << 6) | (static_cast<unsigned char>(s[i]) & 0x3F);
  }
  static constexpr uint32_t kSmallest[] = {0, 0x80, 0x800, 0x10000, 0x200000, 0x4000000};
  if (value < kSmallest[extra])
    return nullptr;  // overlong
  if (strict && (value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)))
    return nullptr;
  return s + extra + 1;
}

// Calls the original function in upvalue 1 with every argument; a `false, error`
// answer is re-raised when the call is being aborted. The continuation keeps
// yields across pcall working inside coroutines.
int finish_protected(lua_State* L, int /*status*/, lua_KContext /*context*/) {
  if (lua_gettop(L) >= 1 && lua_type(L, 1) == LUA_TBOOLEAN && !lua_toboolean(L, 1))
    reraise_if_aborting(L, 2);
  return lua_gettop(L);
}

// While a call is being stopped, guest code runs only in __close handlers on the
// way out; a protected call started there is refused at once.
void raise_if_aborting(lua_State* L) {
  LuaGuard& guard = guard_of(L);
  if (guard.abort != AbortKind::kNone) {
    lua_pushstring(L, guard.abort_message.c_str());
    lua_error(L);
  }
}

int call_original_protected(lua_State* L) {
  raise_if_aborting(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_callk(L, lua_gettop(L) - 1, LUA_MULTRET, 0, finish_protected);
  return finish_protected(L, LUA_OK, 0);
}

// xpcall's message handler, upvalue 1 the plugin's. A limit's error is raised
// from inside the deadline hook, and Lua calls the message handler before
// unwinding, so with the hook still switched off: the plugin's handler must not
// run then (an endless one could never be stopped).
int guarded_message_handler(lua_State* L) {
  if (guard_of(L).abort != AbortKind::kNone)
    return 1;  // the abort's message, unchanged
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

// A coroutine that died of an error raised inside the deadline hook has no hook
// any more (see lost_its_hook): its pending __close handlers must not run.
bool is_stopped_coroutine(lua_State* co) {
  int status = lua_status(co);
  return status != LUA_OK && status != LUA_YIELD && lost_its_hook(co);
}

// The function coroutine.wrap returns (lcorolib.c auxwrap), upvalue 1 the coroutine.
int resume_wrapped(lua_State* L) {
  lua_State* co = lua_tothread(L, lua_upvalueindex(1));
  raise_if_aborting(L);
  int arguments = lua_gettop(L);
  if (!lua_checkstack(co, arguments))
    return luaL_error(L, "too many arguments to resume");
  lua_xmove(L, co, arguments);
  int results = 0;
  int status = lua_resume(co, L, arguments, &results);
  if (status == LUA_OK || status == LUA_YIELD) {
    if (!lua_checkstack(L, results + 1)) {
      lua_pop(co, results);
      return luaL_error(L, "too many results to resume");
    }
    lua_xmove(co, L, results);
    return results;
  }
  lua_xmove(co, L, 1);  // the error
  reraise_if_aborting(L, lua_gettop(L));
  int state = lua_status(co);
  if (state != LUA_OK && state != LUA_YIELD && !is_stopped_coroutine(co)) {
    state = lua_resetthread(co);  // close its to-be-closed variables
    lua_xmove(co, L, 1);
  }
  if (state != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
    luaL_where(L, 1);
    lua_insert(L, -2);
    lua_concat(L, 2);
  }
  return lua_error(L);
}

}  // namespace

int bounded_rep(lua_State* L) {
  size_t length = 0, separator_length = 0;
  const char* text = luaL_checklstring(L, 1, &length);
  lua_Integer count = luaL_checkinteger(L, 2);
  const char* separator = luaL_optlstring(L, 3, "", &separator_length);
  if (count <= 0 || length + separator_length == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  size_t unit = length + separator_length;
  auto repeats = static_cast<size_t>(count);
  LuaGuard& guard = guard_of(L);
  // Refused before allocating: the size alone shows it cannot fit.
  if (repeats > (guard.limit_bytes / unit) + 1) {
    return luaL_error(L,
                      "string.rep: the result (%f bytes) is larger than the plugin's memory limit",
                      static_cast<double>(unit) * static_cast<double>(repeats));
  }
  size_t total = unit * repeats - separator_length;
  return push_built_string(L, total, [&](char* out, size_t offset, size_t chunk) {
    for (size_t i = 0; i < chunk; ++i) {
      size_t at = (offset + i) % unit;
      out[i] = at < length ? text[at] : separator[at - length];
    }
  });
}

int bounded_upper(lua_State* L) {
  return change_case(L, std::toupper);
}

int bounded_lower(lua_State* L) {
  return change_case(L, std::tolower);
}

int bounded_reverse(lua_State* L) {
  size_t length = 0;
  const char* text = luaL_checklstring(L, 1, &length);
  return push_built_string(L, length, [&](char* out, size_t offset, size_t count) {
    for (size_t i = 0; i < count; ++i)
      out[i] = text[length - 1 - (offset + i)];
  });
}

int bounded_concat(lua_State* L) {
  lua_Integer last = checked_length(L, 1, kTableRead);  // also when `j` is given, as stock
  size_t separator_length = 0;
  const char* separator = luaL_optlstring(L, 2, "", &separator_length);
  lua_Integer first = luaL_optinteger(L, 3, 1);
  last = luaL_optinteger(L, 4, last);
  luaL_Buffer buffer;
  luaL_buffinit(L, &buffer);
  WorkMeter meter(L);
  for (lua_Integer i = first; i <= last; ++i) {
    lua_geti(L, 1, i);
    if (!lua_isstring(L, -1)) {
      return luaL_error(L, "invalid value (%s) at index %I in table for 'concat'",
                        luaL_typename(L, -1), static_cast<LUAI_UACINT>(i));
    }
    size_t length = 0;
    lua_tolstring(L, -1, &length);
    luaL_addvalue(&buffer);
    if (i != last)
      luaL_addlstring(&buffer, separator, separator_length);
    meter.add(length + separator_length + 1);
    if (i == LUA_MAXINTEGER)
      break;
  }
  luaL_pushresult(&buffer);
  return 1;
}

int bounded_insert(lua_State* L) {
  // The first empty slot (wrapping as stock Lua's luaL_intop does).
  auto end = static_cast<lua_Integer>(
      static_cast<lua_Unsigned>(checked_length(L, 1, kTableRead | kTableWrite)) + 1u);
  lua_Integer position;
  switch (lua_gettop(L)) {
    case 2:
      position = end;
      break;
    case 3: {
      position = luaL_checkinteger(L, 2);
      luaL_argcheck(L, static_cast<lua_Unsigned>(position) - 1u < static_cast<lua_Unsigned>(end), 2,
                    "position out of bounds");
      WorkMeter meter(L);
      for (lua_Integer i = end; i > position; --i) {
        lua_geti(L, 1, i - 1);
        lua_seti(L, 1, i);
        meter.add(1);
      }
      break;
    }
    default:
      return luaL_error(L, "wrong number of arguments to 'insert'");
  }
  lua_seti(L, 1, position);
  return 0;
}

int bounded_remove(lua_State* L) {
  lua_Integer size = checked_length(L, 1, kTableRead | kTableWrite);
  lua_Integer position = luaL_optinteger(L, 2, size);
  if (position != size) {
    // Argument 1, not 2: what stock Lua 5.4 says.
    luaL_argcheck(L, static_cast<lua_Unsigned>(position) - 1u <= static_cast<lua_Unsigned>(size), 1,
                  "position out of bounds");
  }
  lua_geti(L, 1, position);
  WorkMeter meter(L);
  for (; position < size; ++position) {
    lua_geti(L, 1, position + 1);
    lua_seti(L, 1, position);
    meter.add(1);
  }
  lua_pushnil(L);
  lua_seti(L, 1, position);
  return 1;
}

int bounded_move(lua_State* L) {
  lua_Integer from = luaL_checkinteger(L, 2);
  lua_Integer end = luaL_checkinteger(L, 3);
  lua_Integer to = luaL_checkinteger(L, 4);
  int destination = lua_isnoneornil(L, 5) ? 1 : 5;
  check_table(L, 1, kTableRead);
  check_table(L, destination, kTableWrite);
  if (end >= from) {
    luaL_argcheck(L, from > 0 || end < LUA_MAXINTEGER + from, 3, "too many elements to move");
    lua_Integer count = end - from + 1;
    luaL_argcheck(L, to <= LUA_MAXINTEGER - count + 1, 4, "destination wrap around");
    WorkMeter meter(L);
    bool forward =
        to > end || to <= from || (destination != 1 && !lua_compare(L, 1, destination, LUA_OPEQ));
    for (lua_Integer i = 0; i < count; ++i) {
      lua_Integer offset = forward ? i : count - 1 - i;
      lua_geti(L, 1, from + offset);
      lua_seti(L, destination, to + offset);
      meter.add(1);
    }
  }
  lua_pushvalue(L, destination);
  return 1;
}

namespace {

// t[a] < t[b] by the comparator at index 2 (or `<`).
bool sort_less(lua_State* L, lua_Integer a, lua_Integer b) {
  bool custom = !lua_isnoneornil(L, 2);
  if (custom)
    lua_pushvalue(L, 2);
  lua_geti(L, 1, a);
  lua_geti(L, 1, b);
  bool less;
  if (custom) {
    lua_call(L, 2, 1);
    less = lua_toboolean(L, -1);
    lua_pop(L, 1);
  } else {
    less = lua_compare(L, -2, -1, LUA_OPLT);
    lua_pop(L, 2);
  }
  return less;
}

void sort_swap(lua_State* L, lua_Integer a, lua_Integer b) {
  lua_geti(L, 1, a);
  lua_geti(L, 1, b);
  lua_seti(L, 1, a);
  lua_seti(L, 1, b);
}

// Heapsort: O(n log n) whatever the comparator answers, and never out of bounds.
void sift_down(lua_State* L, WorkMeter& meter, lua_Integer root, lua_Integer size) {
  while (true) {
    lua_Integer largest = root;
    lua_Integer left = 2 * root, right = 2 * root + 1;
    if (left <= size && sort_less(L, largest, left))
      largest = left;
    if (right <= size && sort_less(L, largest, right))
      largest = right;
    meter.add(2);
    if (largest == root)
      return;
    sort_swap(L, root, largest);
    root = largest;
  }
}

}  // namespace

int bounded_sort(lua_State* L) {
  lua_Integer size = checked_length(L, 1, kTableRead | kTableWrite);
  if (size <= 1)
    return 0;  // nothing to sort, and (as stock Lua) the comparator goes unchecked
  luaL_argcheck(L, size < INT_MAX, 1, "array too big");
  if (!lua_isnoneornil(L, 2))
    luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  luaL_checkstack(L, 4, "sort");
  WorkMeter meter(L);
  for (lua_Integer root = size / 2; root >= 1; --root)
    sift_down(L, meter, root, size);
  for (lua_Integer last = size; last > 1; --last) {
    sort_swap(L, 1, last);
    sift_down(L, meter, 1, last - 1);
  }
  return 0;
}

int bounded_utf8_len(lua_State* L) {
  size_t length = 0;
  const char* text = luaL_checklstring(L, 1, &length);
  lua_Integer start = relative_position(luaL_optinteger(L, 2, 1), length);
  lua_Integer end = relative_position(luaL_optinteger(L, 3, -1), length);
  bool lax = lua_toboolean(L, 4);
  luaL_argcheck(L, 1 <= start && --start <= static_cast<lua_Integer>(length), 2,
                "initial position out of bounds");
  luaL_argcheck(L, --end < static_cast<lua_Integer>(length), 3, "final position out of bounds");
  lua_Integer count = 0;
  WorkMeter meter(L);
  while (start <= end) {
    const char* next = decode_utf8(text + start, text + length, !lax);
    if (next == nullptr) {
      luaL_pushfail(L);
      lua_pushinteger(L, start + 1);
      return 2;
    }
    meter.add(static_cast<size_t>(next - (text + start)));
    start = next - text;
    ++count;
  }
  lua_pushinteger(L, count);
  return 1;
}

int bounded_utf8_offset(lua_State* L) {
  size_t length = 0;
  const char* text = luaL_checklstring(L, 1, &length);
  lua_Integer n = luaL_checkinteger(L, 2);
  lua_Integer default_start = n >= 0 ? 1 : static_cast<lua_Integer>(length) + 1;
  lua_Integer position = relative_position(luaL_optinteger(L, 3, default_start), length);
  luaL_argcheck(L, 1 <= position && --position <= static_cast<lua_Integer>(length), 3,
                "position out of bounds");
  WorkMeter meter(L);
  if (n == 0) {
    while (position > 0 && is_continuation(text + position)) {
      --position;
      meter.add(1);
    }
  } else {
    if (is_continuation(text + position))
      return luaL_error(L, "initial position is a continuation byte");
    if (n < 0) {
      while (n < 0 && position > 0) {
        do {
          --position;
          meter.add(1);
        } while (position > 0 && is_continuation(text + position));
        ++n;
      }
    } else {
      --n;
      while (n > 0 && position < static_cast<lua_Integer>(length)) {
        do {
          ++position;
          meter.add(1);
        } while (is_continuation(text + position));  // text[length] is '\0'
        --n;
      }
    }
  }
  if (n == 0)
    lua_pushinteger(L, position + 1);
  else
    luaL_pushfail(L);
  return 1;
}

int sandboxed_load(lua_State* L) {
  int env_index = lua_isnone(L, 4) ? 0 : 4;
  size_t length = 0;
  const char* text = nullptr;
  if (lua_type(L, 1) == LUA_TSTRING) {
    text = lua_tolstring(L, 1, &length);
    lua_pushvalue(L, 1);
  } else {
    // A reader function: its pieces are gathered (up to the cap), then compiled.
    luaL_checktype(L, 1, LUA_TFUNCTION);
    luaL_Buffer buffer;
    luaL_buffinit(L, &buffer);
    size_t total = 0;
    while (true) {
      lua_pushvalue(L, 1);
      lua_call(L, 0, 1);
      if (lua_isnil(L, -1) || (lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) == 0)) {
        lua_pop(L, 1);
        break;
      }
      if (lua_type(L, -1) != LUA_TSTRING)
        return luaL_error(L, "reader function must return a string");
      total += lua_rawlen(L, -1);
      if (total > kMaxLoadChunkBytes) {
        lua_pop(L, 1);
        break;
      }
      luaL_addvalue(&buffer);
    }
    luaL_pushresult(&buffer);
    text = lua_tolstring(L, -1, &length);
    if (total > kMaxLoadChunkBytes)
      length = total;
  }
  // The compiler cannot be interrupted, so what it compiles is capped.
  if (length > kMaxLoadChunkBytes) {
    luaL_pushfail(L);
    lua_pushfstring(L, "load: chunk of %I bytes is over the %d KiB limit for plugins",
                    static_cast<LUAI_UACINT>(length), static_cast<int>(kMaxLoadChunkBytes / 1024));
    return 2;
  }
  const char* name = luaL_optstring(L, 2, "=(load)");
  // Text only: a binary chunk could break the VM's invariants.
  int status = luaL_loadbufferx(L, text, length, name, "t");
  if (status != LUA_OK) {
    luaL_pushfail(L);
    lua_insert(L, -2);
    return 2;
  }
  if (env_index != 0) {
    lua_pushvalue(L, env_index);
    if (lua_setupvalue(L, -2, 1) == nullptr)
      lua_pop(L, 1);
  }
  return 1;
}

int sandboxed_collectgarbage(lua_State* L) {
  const char* option = luaL_optstring(L, 1, "collect");
  if (std::strcmp(option, "count") != 0) {
    return luaL_error(L, "collectgarbage(\"%s\") is not available to plugins (only \"count\")",
                      option);
  }
  int kilobytes = lua_gc(L, LUA_GCCOUNT);
  int bytes = lua_gc(L, LUA_GCCOUNTB);
  lua_pushnumber(L, static_cast<lua_Number>(kilobytes) + static_cast<lua_Number>(bytes) / 1024);
  return 1;
}

int sandboxed_rawset(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  lua_getfield(L, LUA_REGISTRYINDEX, "outlet.readonly");
  lua_pushvalue(L, 1);
  bool read_only = lua_rawget(L, -2) != LUA_TNIL;
  lua_pop(L, 2);
  if (read_only)
    return luaL_error(L, "rawset: this table is read-only (it is shared by the sandbox)");
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

int protected_call_pcall(lua_State* L) {
  luaL_checkany(L, 1);
  return call_original_protected(L);
}

int protected_call_xpcall(lua_State* L) {
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, guarded_message_handler, 1);
  lua_replace(L, 2);
  return call_original_protected(L);
}

int protected_resume(lua_State* L) {
  return call_original_protected(L);
}

int protected_close(lua_State* L) {
  lua_State* co = lua_tothread(L, 1);
  if (co != nullptr && is_stopped_coroutine(co)) {
    raise_if_aborting(L);
    lua_pushboolean(L, 0);
    lua_pushliteral(L,
                    "coroutine.close: this coroutine was stopped by a limit; its __close handlers "
                    "do not run");
    return 2;
  }
  return call_original_protected(L);
}

int sandboxed_wrap(lua_State* L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_State* co = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 1);
  lua_pushcclosure(L, resume_wrapped, 1);
  return 1;
}

int sandboxed_setmetatable(lua_State* L) {
  int type = lua_type(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argexpected(L, type == LUA_TNIL || type == LUA_TTABLE, 2, "nil or table");
  if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
    return luaL_error(L, "cannot change a protected metatable");
  // Lua makes a table finalizable when its new metatable has a __gc field of any
  // value (lgc.c luaC_checkfinalizer looks it up raw), so that is what is refused.
  if (type == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL) {
      return luaL_error(L,
                        "setmetatable: __gc finalizers are not available to plugins (Lua runs them "
                        "with the debug hook off, where no time limit can stop them)");
    }
    lua_pop(L, 1);
  }
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

// string.format, with %q capped: quoting costs ~80 ns per control byte in the
// stock function, which cannot be interrupted (5 MiB took 414 ms).
int bounded_format(lua_State* L) {
  size_t format_length = 0;
  const char* format = luaL_checklstring(L, 1, &format_length);
  size_t quoted = 0;
  int argument = 1;
  for (size_t i = 0; i + 1 < format_length; ++i) {
    if (format[i] != '%')
      continue;
    if (format[++i] == '%')
      continue;
    ++argument;
    while (i < format_length && std::strchr("-+ #0123456789.", format[i]) != nullptr)
      ++i;
    if (i < format_length && format[i] == 'q' && lua_type(L, argument) == LUA_TSTRING)
      quoted += lua_rawlen(L, argument);
  }
  check_deadline(L);  // a loop of stock format calls runs many times between hooks
  if (quoted > kMaxQuotedBytes) {
    return luaL_error(L, "string.format: %%q of %I bytes is over the %d KiB limit for plugins",
                      static_cast<LUAI_UACINT>(quoted), static_cast<int>(kMaxQuotedBytes / 1024));
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

}  // namespace outlet::lua
