// The limits one Lua state runs under: a memory budget enforced by its allocator,
// a deadline enforced by an instruction-count hook (and by every bounded library
// function), and an abort that guest code cannot catch once a limit is hit.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <lua.hpp>
#include <string>

#include "dispatch/plugin_instance.h"
#include "outlet/warnings.h"
#include "runtime/lua/lua_values.h"

namespace outlet::lua {

enum class AbortKind { kNone, kTimeout, kMemory };

struct LuaGuard {
  // Memory: every byte the state holds, counted by the allocator.
  size_t used_bytes = 0;
  size_t limit_bytes = 0;
  bool refused_allocation = false;  // since the call began
  bool refused_for_time = false;    // a large block refused past the deadline

  // CPU: the current call's deadline, and what to say when it passes.
  SteadyTime deadline = SteadyTime::max();
  std::string timeout_message;

  // Once a limit is hit the call is over: pcall, xpcall and coroutine.resume
  // re-raise instead of returning to guest code.
  AbortKind abort = AbortKind::kNone;
  std::string abort_message;

  // The call in progress (null while the plugin loads or between calls).
  const CallContext* call = nullptr;
  HostFunctionTable* host = nullptr;
  WarningLog* warnings = nullptr;  // the plugin's; may be null
  ValueRefs refs;                  // outlet.null and the array marker
  ConversionLimits limits;
  std::string pending_warning;  // a warn() message arriving in pieces

  void begin(SteadyTime until, std::string message, const CallContext* context);
  void end();
  bool past_deadline() const { return std::chrono::steady_clock::now() >= deadline; }
};

// The guard behind a state (stored in the state's extra space; coroutines share it).
LuaGuard& guard_of(lua_State* L);

// Whether the deadline hook raised its error on this coroutine. Lua switches a
// thread's hooks off while a hook runs and switches them on again only when the
// hook returns (ldo.c luaD_hook) or a pcall on that thread recovers; a coroutine
// that died of the hook's error keeps them off for good, so none of its code
// (its pending __close handlers) may run again: nothing could stop it.
bool lost_its_hook(lua_State* L);

// Creates a state whose allocator charges `guard`, with the deadline hook set.
lua_State* new_guarded_state(LuaGuard& guard);

// Raises the uncatchable timeout error if the deadline has passed. Bounded
// library functions call it every few thousand steps of work.
void check_deadline(lua_State* L);
// Raises an uncatchable error for `kind` (never returns).
[[noreturn]] void abort_call(lua_State* L, AbortKind kind, const std::string& message);

// After guest code returned false from a protected call: if the call is being
// aborted, or the error was a refused allocation, re-raise (never returns then).
void reraise_if_aborting(lua_State* L, int error_index);

// How often the hook runs, in VM instructions: rare enough to cost nothing
// measurable, often enough that a loop stops within microseconds of its deadline.
inline constexpr int kHookInstructionCount = 1000;
// Allocations this large check the deadline (see budget_alloc).
inline constexpr size_t kLargeAllocation = size_t{64} * 1024;
// Bounded library functions check the clock after this many units of work.
inline constexpr uint32_t kStepsBetweenClockChecks = 4096;

// Counts work and checks the deadline every kStepsBetweenClockChecks units.
class WorkMeter {
 public:
  explicit WorkMeter(lua_State* L) : L_(L) {}
  void add(size_t units) {
    pending_ += units;
    if (pending_ >= kStepsBetweenClockChecks) {
      pending_ = 0;
      check_deadline(L_);
    }
  }

 private:
  lua_State* L_;
  size_t pending_ = 0;
};

}  // namespace outlet::lua
