// JSON <-> Lua, directly between the host's JSON value and Lua tables (no JSON
// text in between). Integers stay integers and floats floats; arrays carry a
// marker metatable so an empty array survives the round trip; JSON null is the
// sentinel `outlet.null`, so "present and null" differs from absent (nil).
#pragma once

#include <chrono>
#include <cstddef>
#include <lua.hpp>
#include <string>

#include "outlet/json.h"

namespace outlet::lua {

struct ValueRefs {
  int null_ref = LUA_NOREF;        // registry: the outlet.null sentinel
  int array_meta_ref = LUA_NOREF;  // registry: the metatable that marks arrays
};

struct ConversionLimits {
  size_t max_depth = 128;
  size_t max_values = 1'000'000;
  size_t max_string_bytes = size_t{16} << 20;  // all strings together
  // When set, reading stops once this passes: converting a million values takes
  // far longer than a call's deadline.
  const std::chrono::steady_clock::time_point* deadline = nullptr;
};

// Creates the sentinel and the array metatable (raises on memory errors).
ValueRefs create_value_refs(lua_State* L);

// Sets the array marker as the metatable of the table at `index` (raises on
// memory errors). Plugins can reach the marker through getmetatable; a __gc
// field put there is dropped first, since Lua would otherwise make the table
// finalizable, and finalizers run where no deadline can stop them.
void set_array_marker(lua_State* L, const ValueRefs& refs, int index);

// Pushes `value` (raises on memory errors: call under lua_pcall).
void push_json(lua_State* L, const ValueRefs& refs, const Json& value);

// Reads the value at `index`. Never raises. On failure `error` says what and
// where, e.g. "at $.items[2]: a function cannot become JSON".
bool to_json(lua_State* L, const ValueRefs& refs, int index, const ConversionLimits& limits,
             Json& out, std::string& error);

bool is_valid_utf8(std::string_view text);

}  // namespace outlet::lua
