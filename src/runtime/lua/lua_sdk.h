// The `outlet` table a Lua plugin sees (sdk/lua documents it): the host
// functions it was granted as outlet.<namespace>.<name>, plus outlet.null,
// outlet.array, outlet.filter.{pass,modify,drop}, outlet.has and outlet.call.
// `print` writes to the plugin's log.
#pragma once

#include <lua.hpp>

namespace outlet::lua {

// Builds `outlet` and `print` in the globals from guard_of(L): its host
// function table and value refs. Raises on memory errors (call under lua_pcall).
int install_sdk(lua_State* L);

}  // namespace outlet::lua
