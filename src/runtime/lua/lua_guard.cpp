#include "runtime/lua/lua_guard.h"

#include <cstdlib>
#include <cstring>

namespace outlet::lua {
namespace {

// Lua's allocator contract: free on nsize 0; when ptr is null, osize is a type
// tag, not a size. Growth past the budget returns null, which Lua turns into a
// "not enough memory" error after one emergency collection.
void* budget_alloc(void* ud, void* ptr, size_t osize, size_t nsize) {
  auto* guard = static_cast<LuaGuard*>(ud);
  if (ptr == nullptr)
    osize = 0;
  if (nsize == 0) {
    std::free(ptr);
    guard->used_bytes -= osize;
    return nullptr;
  }
  if (nsize > osize && guard->used_bytes - osize + nsize > guard->limit_bytes) {
    guard->refused_allocation = true;
    return nullptr;
  }
  void* resized = std::realloc(ptr, nsize);
  if (resized == nullptr)
    return nullptr;
  guard->used_bytes = guard->used_bytes - osize + nsize;
  return resized;
}

void deadline_hook(lua_State* L, lua_Debug*) {
  LuaGuard& guard = guard_of(L);
  if (guard.abort != AbortKind::kNone) {
    // Already aborting (a pcall tried to swallow it): keep unwinding.
    lua_pushstring(L, guard.abort_message.c_str());
    lua_error(L);
  }
  if (guard.past_deadline())
    abort_call(L, AbortKind::kTimeout, guard.timeout_message);
}

}  // namespace

void LuaGuard::begin(SteadyTime until, std::string message, const CallContext* context) {
  deadline = until;
  timeout_message = std::move(message);
  abort = AbortKind::kNone;
  abort_message.clear();
  refused_allocation = false;
  call = context;
}

void LuaGuard::end() {
  deadline = SteadyTime::max();
  call = nullptr;
}

LuaGuard& guard_of(lua_State* L) {
  LuaGuard* guard = nullptr;
  std::memcpy(&guard, lua_getextraspace(L), sizeof guard);
  return *guard;
}

lua_State* new_guarded_state(LuaGuard& guard) {
  lua_State* L = lua_newstate(budget_alloc, &guard);
  if (L == nullptr)
    return nullptr;
  LuaGuard* pointer = &guard;
  // Threads copy the main thread's extra space, so coroutines find the guard too.
  std::memcpy(lua_getextraspace(L), &pointer, sizeof pointer);
  // Coroutines inherit the hook of the thread that creates them.
  lua_sethook(L, deadline_hook, LUA_MASKCOUNT, kHookInstructionCount);
  return L;
}

void check_deadline(lua_State* L) {
  LuaGuard& guard = guard_of(L);
  if (guard.abort != AbortKind::kNone || guard.past_deadline())
    abort_call(L, AbortKind::kTimeout, guard.timeout_message);
}

void abort_call(lua_State* L, AbortKind kind, const std::string& message) {
  LuaGuard& guard = guard_of(L);
  if (guard.abort == AbortKind::kNone) {
    guard.abort = kind;
    guard.abort_message = message;
    // Where the plugin was when it was stopped, for the author.
    lua_Debug where;
    for (int level = 0; lua_getstack(L, level, &where); ++level) {
      if (lua_getinfo(L, "Sl", &where) && where.currentline > 0) {
        guard.abort_message += " (stopped at " + std::string(where.short_src) + ":" +
                               std::to_string(where.currentline) + ")";
        break;
      }
    }
  }
  lua_pushstring(L, guard.abort_message.c_str());
  lua_error(L);
  std::abort();  // lua_error does not return
}

void reraise_if_aborting(lua_State* L, int error_index) {
  LuaGuard& guard = guard_of(L);
  if (guard.abort == AbortKind::kNone && guard.refused_allocation) {
    size_t length = 0;
    const char* text = lua_type(L, error_index) == LUA_TSTRING
                           ? lua_tolstring(L, error_index, &length)
                           : nullptr;
    if (text != nullptr && std::strcmp(text, "not enough memory") == 0) {
      guard.abort = AbortKind::kMemory;
      guard.abort_message = "ran out of its " + std::to_string(guard.limit_bytes >> 20) +
                            " MiB memory limit";
    }
  }
  if (guard.abort != AbortKind::kNone) {
    lua_pushstring(L, guard.abort_message.c_str());
    lua_error(L);
  }
}

}  // namespace outlet::lua
