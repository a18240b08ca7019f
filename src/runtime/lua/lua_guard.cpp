#include "runtime/lua/lua_guard.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "core/text.h"

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
  // The count hook sees VM instructions, not time: one instruction (a `..`) or
  // one stock C call (string.sub) can copy tens of MiB, and a loop of them runs
  // hundreds of times between two hooks. Large blocks are where that time goes,
  // so past the deadline they are refused; the call is then stopped as a timeout.
  if (nsize >= kLargeAllocation && nsize > osize && guard->past_deadline()) {
    guard->refused_allocation = true;
    guard->refused_for_time = true;
    return nullptr;
  }
  void* resized = std::realloc(ptr, nsize);
  if (resized == nullptr)
    return nullptr;
  guard->used_bytes = guard->used_bytes - osize + nsize;
  return resized;
}

// The extra space holds the guard's address; its lowest bit (free: the guard is
// aligned) marks a coroutine that lost its hook. The main thread is never marked:
// new threads copy its extra space.
constexpr uintptr_t kLostHookBit = 1;

uintptr_t extra_bits(lua_State* L) {
  uintptr_t bits = 0;
  std::memcpy(&bits, lua_getextraspace(L), sizeof bits);
  return bits;
}

void mark_lost_hook(lua_State* L) {
  bool main_thread = lua_pushthread(L) == 1;  // no allocation: hooks get LUA_MINSTACK slots
  lua_pop(L, 1);
  if (main_thread)
    return;  // recovered by the host's lua_pcall, or by a pcall on the way there
  uintptr_t bits = extra_bits(L) | kLostHookBit;
  std::memcpy(lua_getextraspace(L), &bits, sizeof bits);
}

void deadline_hook(lua_State* L, lua_Debug*) {
  LuaGuard& guard = guard_of(L);
  if (guard.abort == AbortKind::kNone && !guard.past_deadline())
    return;
  // The error is raised from inside the hook: this thread's hooks stay off.
  mark_lost_hook(L);
  if (guard.abort != AbortKind::kNone) {
    // Already aborting (a pcall tried to swallow it): keep unwinding.
    lua_pushstring(L, guard.abort_message.c_str());
    lua_error(L);
  }
  abort_call(L, AbortKind::kTimeout, guard.timeout_message);
}

}  // namespace

void LuaGuard::begin(SteadyTime until, std::string message, const CallContext* context) {
  deadline = until;
  // A call's message is built only if it times out (most calls never do).
  timeout_message = std::move(message);
  abort = AbortKind::kNone;
  abort_message.clear();
  refused_allocation = false;
  refused_for_time = false;
  call = context;
}

void LuaGuard::end() {
  deadline = SteadyTime::max();
  call = nullptr;
}

LuaGuard& guard_of(lua_State* L) {
  // The address round-trips through an integer only to carry the lost-hook bit.
  return *reinterpret_cast<LuaGuard*>(  // NOLINT(performance-no-int-to-ptr)
      extra_bits(L) & ~kLostHookBit);
}

bool lost_its_hook(lua_State* L) {
  return (extra_bits(L) & kLostHookBit) != 0;
}

lua_State* new_guarded_state(LuaGuard& guard) {
  lua_State* L = lua_newstate(budget_alloc, &guard);
  if (L == nullptr)
    return nullptr;
  static_assert(alignof(LuaGuard) > kLostHookBit && sizeof(uintptr_t) <= LUA_EXTRASPACE);
  auto bits = reinterpret_cast<uintptr_t>(&guard);
  // Threads copy the main thread's extra space, so coroutines find the guard too.
  std::memcpy(lua_getextraspace(L), &bits, sizeof bits);
  // Conversions stop at the call's deadline too.
  guard.limits.deadline = &guard.deadline;
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
  if (kind == AbortKind::kTimeout && guard.timeout_message.empty() && guard.call != nullptr)
    guard.timeout_message = guard.call->timeout_message();  // `message` refers to it
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
    const char* text =
        lua_type(L, error_index) == LUA_TSTRING ? lua_tolstring(L, error_index, &length) : nullptr;
    if (text != nullptr && std::strcmp(text, "not enough memory") == 0) {
      if (guard.refused_for_time) {
        if (guard.timeout_message.empty() && guard.call != nullptr)
          guard.timeout_message = guard.call->timeout_message();
        guard.abort = AbortKind::kTimeout;
        guard.abort_message = guard.timeout_message;
      } else {
        guard.abort = AbortKind::kMemory;
        guard.abort_message =
            "ran out of its " + describe_bytes(guard.limit_bytes) + " memory limit";
      }
    }
  }
  if (guard.abort != AbortKind::kNone) {
    lua_pushstring(L, guard.abort_message.c_str());
    lua_error(L);
  }
}

}  // namespace outlet::lua
