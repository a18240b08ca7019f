#include "runtime/lua/lua_sdk.h"

#include <cstring>
#include <string>

#include "runtime/lua/lua_guard.h"
#include "runtime/lua/sandbox_policy.h"

namespace outlet::lua {
namespace {

// --- Host calls ---
//
// Lua raises errors with longjmp, which must not cross a frame that owns C++
// objects. So the work happens in a function that returns a status, with every
// Lua push that may raise done under lua_pcall; the Lua-facing function raises
// only after that frame is gone.

enum class Outcome { kReturned, kFailed, kPastDeadline };

struct PushRequest {
  const Json* json = nullptr;
  const std::string* text = nullptr;
};

int push_trampoline(lua_State* L) {
  const auto* request = static_cast<const PushRequest*>(lua_touserdata(L, 1));
  lua_pop(L, 1);
  if (request->json != nullptr)
    push_json(L, guard_of(L).refs, *request->json);
  else
    lua_pushlstring(L, request->text->data(), request->text->size());
  return 1;
}

// Pushes under protection; on a memory error the error object is pushed instead.
bool push_protected(lua_State* L, const PushRequest& request) {
  lua_pushcfunction(L, push_trampoline);
  lua_pushlightuserdata(L, const_cast<PushRequest*>(&request));
  return lua_pcall(L, 1, 1, 0) == LUA_OK;
}

Outcome fail_with(lua_State* L, const std::string& message) {
  PushRequest request;
  request.text = &message;
  push_protected(L, request);
  return Outcome::kFailed;
}

Outcome invoke_host(lua_State* L, size_t index, int first_argument) {
  LuaGuard& guard = guard_of(L);
  const std::string& name = guard.host->function_names()[index];
  if (guard.call == nullptr) {
    return fail_with(L, "outlet." + name +
                            ": host functions cannot be called while the plugin loads; call "
                            "them from a handler");
  }
  Json arguments = Json::array();
  int top = lua_gettop(L);
  for (int i = first_argument; i <= top; ++i) {
    Json argument;
    std::string problem;
    if (!to_json(L, guard.refs, i, guard.limits, argument, problem)) {
      return fail_with(L, "outlet." + name + ": argument " +
                              std::to_string(i - first_argument + 1) + " " + problem);
    }
    arguments.push_back(std::move(argument));
  }
  Result<Json> result = guard.host->invoke(index, arguments, *guard.call);
  if (guard.past_deadline())
    return Outcome::kPastDeadline;
  if (!result.ok()) {
    // Host functions name themselves in their errors ("chat.send: argument 1 ...").
    const std::string& message = result.error().message();
    bool named = message.rfind(name + ":", 0) == 0;
    return fail_with(L, "outlet." + (named ? message : name + ": " + message));
  }
  if (result->is_null()) {
    // Nothing (an absent key, a function with no answer) is nil, so
    // `outlet.kv.get(k) or default` works; nested nulls stay outlet.null.
    lua_pushnil(L);
    return Outcome::kReturned;
  }
  PushRequest request;
  request.json = &result.value();
  return push_protected(L, request) ? Outcome::kReturned : Outcome::kFailed;
}

int finish_host_call(lua_State* L, Outcome outcome) {
  switch (outcome) {
    case Outcome::kReturned:
      return 1;
    case Outcome::kFailed:
      return lua_error(L);
    case Outcome::kPastDeadline:
      check_deadline(L);
      return 0;
  }
  return 0;
}

// outlet.<namespace>.<name>(...): upvalue 1 is the function's index.
int host_function(lua_State* L) {
  auto index = static_cast<size_t>(lua_tointeger(L, lua_upvalueindex(1)));
  return finish_host_call(L, invoke_host(L, index, 1));
}

// Index of a granted function by name, or -1.
lua_Integer find_function(lua_State* L, const char* name) {
  const auto& names = guard_of(L).host->function_names();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name)
      return static_cast<lua_Integer>(i);
  }
  return -1;
}

// outlet.call(name, ...): for names chosen at run time.
int call_by_name(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  lua_Integer index = find_function(L, name);
  if (index < 0) {
    return luaL_error(L,
                      "host function \"%s\" is not available to this plugin (not declared in its "
                      "permissions, or not granted)",
                      name);
  }
  return finish_host_call(L, invoke_host(L, static_cast<size_t>(index), 2));
}

int has_function(lua_State* L) {
  lua_pushboolean(L, find_function(L, luaL_checkstring(L, 1)) >= 0);
  return 1;
}

// print(...): tab-separated, to the plugin's log when it may write there.
int print_to_log(lua_State* L) {
  int count = lua_gettop(L);
  luaL_Buffer buffer;
  luaL_buffinit(L, &buffer);
  for (int i = 1; i <= count; ++i) {
    luaL_tolstring(L, i, nullptr);
    if (i > 1)
      luaL_addchar(&buffer, '\t');
    luaL_addvalue(&buffer);
  }
  luaL_pushresult(&buffer);
  lua_replace(L, 1);
  lua_settop(L, 1);
  lua_Integer index = find_function(L, "log.info");
  if (index < 0) {
    LuaGuard& guard = guard_of(L);
    if (guard.warnings != nullptr)
      guard.warnings->add("print",
                          "print() output is dropped: the plugin lacks the \"log\" "
                          "permission");
    return 0;
  }
  Outcome outcome = invoke_host(L, static_cast<size_t>(index), 1);
  if (outcome == Outcome::kReturned)
    return 0;
  return finish_host_call(L, outcome);
}

// --- Values and filter verdicts ---

int make_array(lua_State* L) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  } else {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
  }
  set_array_marker(L, guard_of(L).refs, 1);
  return 1;
}

int verdict_pass(lua_State* L) {
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "pass");
  lua_setfield(L, -2, "action");
  return 1;
}

int verdict_modify(lua_State* L) {
  luaL_checkany(L, 1);
  lua_createtable(L, 0, 2);
  lua_pushliteral(L, "modify");
  lua_setfield(L, -2, "action");
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "payload");
  return 1;
}

int verdict_drop(lua_State* L) {
  const char* reason = luaL_optstring(L, 1, "");
  lua_createtable(L, 0, 2);
  lua_pushliteral(L, "drop");
  lua_setfield(L, -2, "action");
  lua_pushstring(L, reason);
  lua_setfield(L, -2, "reason");
  return 1;
}

// Seals the namespace tables under the table at `index` (depth first), then it.
void seal_tree(lua_State* L, int index, const char* prefix) {
  lua_pushnil(L);
  while (lua_next(L, index) != 0) {
    if (lua_type(L, -1) == LUA_TTABLE && lua_type(L, -2) == LUA_TSTRING) {
      lua_pushfstring(L, "%s%s.", prefix, lua_tostring(L, -2));
      seal_tree(L, lua_gettop(L) - 1, lua_tostring(L, -1));  // pushes the sealed proxy
      lua_replace(L, -3);                                    // key, proxy, prefix
      lua_pop(L, 1);
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, index);  // outlet.kv = its proxy (assigning existing keys is safe in next)
    } else {
      lua_pop(L, 1);
    }
  }
  lua_pushvalue(L, index);
  make_read_only(L, prefix);
}

}  // namespace

int install_sdk(lua_State* L) {
  LuaGuard& guard = guard_of(L);
  lua_newtable(L);  // outlet
  int outlet = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, guard.refs.null_ref);
  lua_setfield(L, outlet, "null");
  lua_pushcfunction(L, make_array);
  lua_setfield(L, outlet, "array");
  lua_pushcfunction(L, has_function);
  lua_setfield(L, outlet, "has");
  lua_pushcfunction(L, call_by_name);
  lua_setfield(L, outlet, "call");
  lua_createtable(L, 0, 3);
  lua_pushcfunction(L, verdict_pass);
  lua_setfield(L, -2, "pass");
  lua_pushcfunction(L, verdict_modify);
  lua_setfield(L, -2, "modify");
  lua_pushcfunction(L, verdict_drop);
  lua_setfield(L, -2, "drop");
  lua_setfield(L, outlet, "filter");

  // outlet.kv.get, outlet.chat.send, ...: one nested table per dotted segment.
  // (No std::string here: a memory error would longjmp over it.)
  if (guard.host != nullptr) {
    const auto& names = guard.host->function_names();
    for (size_t index = 0; index < names.size(); ++index) {
      const char* name = names[index].c_str();
      lua_pushvalue(L, outlet);
      while (true) {
        const char* dot = std::strchr(name, '.');
        if (dot == nullptr) {
          lua_pushinteger(L, static_cast<lua_Integer>(index));
          lua_pushcclosure(L, host_function, 1);
          lua_setfield(L, -2, name);
          break;
        }
        lua_pushlstring(L, name, static_cast<size_t>(dot - name));
        if (lua_rawget(L, -2) != LUA_TTABLE) {
          lua_pop(L, 1);
          lua_newtable(L);
          lua_pushlstring(L, name, static_cast<size_t>(dot - name));
          lua_pushvalue(L, -2);
          lua_rawset(L, -4);
        }
        lua_remove(L, -2);
        name = dot + 1;
      }
      lua_pop(L, 1);
    }
  }
  seal_tree(L, outlet, "outlet.");
  lua_setglobal(L, "outlet");
  lua_pop(L, 1);
  lua_pushcfunction(L, print_to_log);
  lua_setglobal(L, "print");
  return 0;
}

}  // namespace outlet::lua
