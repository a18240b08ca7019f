// What a Lua plugin gets, as data (Redis scripting's habit: the policy is a
// table an auditor can read, not code scattered through the runtime).
#pragma once

#include <lua.hpp>
#include <span>

namespace outlet::lua {

// A standard library the sandbox opens; only the members listed in
// kAllowedMembers survive, and the library table is made read-only.
struct SandboxLibrary {
  const char* name;  // "_G" for the base library
  lua_CFunction open;
};

// A member a plugin may use: as the stock function, or replaced by a bounded
// or restricted version.
struct AllowedMember {
  const char* library;
  const char* name;
  lua_CFunction replacement;  // null: the stock function
  const char* why;            // for replacements: the rule it enforces
};

// Something a plugin does not get, and why (documentation and tests read this).
struct DeniedMember {
  const char* library;
  const char* name;  // null: the whole library
  const char* why;
};

std::span<const SandboxLibrary> sandbox_libraries();
std::span<const AllowedMember> allowed_members();
std::span<const DeniedMember> denied_members();

// Opens the libraries into a fresh state and applies the policy: only allowed
// members, replacements installed, library tables and the string metatable
// read-only, `getmetatable("")` answering a guard. Raises on memory errors
// (call it under lua_pcall).
int install_sandbox(lua_State* L);

// Makes the table at the top of the stack read-only: it is replaced by a proxy
// that reads through, refuses writes (also via rawset) and hides its metatable.
// With `strict_prefix`, reading a missing name is an error naming
// `<strict_prefix><name>` (the `outlet` namespaces), not nil.
void make_read_only(lua_State* L, const char* strict_prefix = nullptr);

}  // namespace outlet::lua
