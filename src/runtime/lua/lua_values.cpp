#include "runtime/lua/lua_values.h"

#include <cmath>
#include <cstring>
#include <vector>

#include "core/text.h"

namespace outlet::lua {
namespace {

int null_tostring(lua_State* L) {
  lua_pushliteral(L, "outlet.null");
  return 1;
}

class Reader {
 public:
  Reader(lua_State* L, const ValueRefs& refs, const ConversionLimits& limits)
      : L_(L), refs_(refs), limits_(limits) {}

  bool read(int index, Json& out, size_t depth) {
    if (++values_ > limits_.max_values)
      return fail("more than " + std::to_string(limits_.max_values) + " values");
    if (past_deadline())
      return false;
    switch (lua_type(L_, index)) {
      case LUA_TNIL:
        out = nullptr;
        return true;
      case LUA_TBOOLEAN:
        out = static_cast<bool>(lua_toboolean(L_, index));
        return true;
      case LUA_TNUMBER:
        if (lua_isinteger(L_, index)) {
          out = static_cast<int64_t>(lua_tointeger(L_, index));
          return true;
        } else {
          double number = lua_tonumber(L_, index);
          if (!std::isfinite(number))
            return fail(std::string(std::isnan(number) ? "NaN" : "an infinite number") +
                        " cannot become JSON");
          out = number;
          return true;
        }
      case LUA_TSTRING: {
        size_t length = 0;
        const char* text = lua_tolstring(L_, index, &length);
        if (!add_string_bytes(length))
          return false;
        if (!is_valid_utf8({text, length}))
          return fail("a string that is not valid UTF-8 cannot become JSON");
        out = std::string(text, length);
        return true;
      }
      case LUA_TUSERDATA:
        if (is_null(index)) {
          out = nullptr;
          return true;
        }
        return fail("a userdata value cannot become JSON");
      case LUA_TTABLE:
        return read_table(index, out, depth);
      default:
        return fail(std::string("a ") + lua_typename(L_, lua_type(L_, index)) +
                    " value cannot become JSON");
    }
  }

  const std::string& error() const { return error_; }
  const std::string& path() const { return path_; }

 private:
  bool fail(std::string message) {
    error_ = std::move(message);
    return false;
  }

  // Checks the clock every few thousand steps (values read, entries classified).
  bool past_deadline() {
    if (limits_.deadline == nullptr || ++steps_ % kStepsBetweenClockChecks != 0)
      return false;
    if (std::chrono::steady_clock::now() < *limits_.deadline)
      return false;
    fail("ran out of the call's time while being converted (after " + std::to_string(values_) +
         " values)");
    return true;
  }

  // Counts strings (values and keys) against max_string_bytes.
  bool add_string_bytes(size_t length) {
    string_bytes_ += length;
    if (string_bytes_ <= limits_.max_string_bytes)
      return true;
    fail("more than " + describe_bytes(limits_.max_string_bytes) + " of strings");
    return false;
  }

  bool is_null(int index) {
    index = lua_absindex(L_, index);  // -1 would be the sentinel pushed below
    lua_rawgeti(L_, LUA_REGISTRYINDEX, refs_.null_ref);
    bool same = lua_rawequal(L_, index, -1);
    lua_pop(L_, 1);
    return same;
  }

  bool has_array_marker(int index) {
    if (!lua_getmetatable(L_, index))
      return false;
    lua_rawgeti(L_, LUA_REGISTRYINDEX, refs_.array_meta_ref);
    bool marked = lua_rawequal(L_, -1, -2);
    lua_pop(L_, 2);
    return marked;
  }

  bool read_table(int index, Json& out, size_t depth) {
    if (depth >= limits_.max_depth)
      return fail("nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    const void* identity = lua_topointer(L_, index);
    for (const void* open : open_tables_) {
      if (open == identity)
        return fail("a table that contains itself (a cycle) cannot become JSON");
    }
    if (!lua_checkstack(L_, 4))
      return fail("out of Lua stack space");
    index = lua_absindex(L_, index);
    // Classify: keys 1..n only is an array, string keys only an object.
    size_t entries = 0, string_keys = 0;
    lua_Integer largest_index = 0;
    bool other_keys = false;
    lua_pushnil(L_);
    while (lua_next(L_, index) != 0) {
      lua_pop(L_, 1);
      if (past_deadline()) {
        lua_pop(L_, 1);
        return false;
      }
      ++entries;
      if (lua_type(L_, -1) == LUA_TSTRING) {
        ++string_keys;
      } else if (lua_isinteger(L_, -1) && lua_tointeger(L_, -1) >= 1) {
        largest_index = std::max(largest_index, lua_tointeger(L_, -1));
      } else {
        other_keys = true;
      }
    }
    bool marked_array = has_array_marker(index);
    size_t integer_keys = entries - string_keys - (other_keys ? 1 : 0);
    bool is_array = marked_array || (entries > 0 && string_keys == 0 && !other_keys);
    if (is_array) {
      if (string_keys > 0 || other_keys || static_cast<size_t>(largest_index) != integer_keys) {
        return fail(std::string(marked_array ? "an outlet.array" : "a table") +
                    " with keys other than 1..n (a sparse array, or mixed keys) cannot become "
                    "JSON");
      }
      open_tables_.push_back(identity);
      out = Json::array();
      out.get_ref<Json::array_t&>().reserve(static_cast<size_t>(largest_index));
      for (lua_Integer i = 1; i <= largest_index; ++i) {
        lua_rawgeti(L_, index, i);
        Json element;
        bool ok = read(-1, element, depth + 1);
        lua_pop(L_, 1);
        if (!ok) {
          path_ = "[" + std::to_string(i - 1) + "]" + path_;
          return false;
        }
        out.push_back(std::move(element));
      }
      open_tables_.pop_back();
      return true;
    }
    if (entries != string_keys) {
      return fail(
          "a table with both string and other keys cannot become JSON (an object needs string "
          "keys, an array the keys 1..n)");
    }
    open_tables_.push_back(identity);
    out = Json::object();
    lua_pushnil(L_);
    while (lua_next(L_, index) != 0) {
      size_t length = 0;
      const char* key = lua_tolstring(L_, -2, &length);  // a string: no conversion
      if (!is_valid_utf8({key, length})) {
        lua_pop(L_, 2);
        return fail("a key that is not valid UTF-8 cannot become JSON");
      }
      if (!add_string_bytes(length)) {
        lua_pop(L_, 2);
        return false;
      }
      Json element;
      bool ok = read(-1, element, depth + 1);
      lua_pop(L_, 1);
      if (!ok) {
        path_ = "." + std::string(key, length) + path_;
        lua_pop(L_, 1);
        return false;
      }
      out[std::string(key, length)] = std::move(element);
    }
    open_tables_.pop_back();
    return true;
  }

  lua_State* L_;
  const ValueRefs& refs_;
  const ConversionLimits& limits_;
  static constexpr size_t kStepsBetweenClockChecks = 4096;

  size_t values_ = 0;
  size_t steps_ = 0;
  size_t string_bytes_ = 0;
  std::vector<const void*> open_tables_;  // the tables on the current path
  std::string error_;
  std::string path_;  // built while unwinding from the failing value
};

}  // namespace

bool is_valid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size(), i = 0;
  while (i < n) {
    // ASCII runs, eight bytes at a time.
    while (i + 8 <= n) {
      uint64_t block;
      std::memcpy(&block, s + i, 8);
      if (block & 0x8080808080808080ull)
        break;
      i += 8;
    }
    if (i >= n)
      break;
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t extra;
    uint32_t value;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
      value = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      value = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      value = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= n)
      return false;
    for (size_t k = 1; k <= extra; ++k) {
      if ((s[i + k] & 0xC0) != 0x80)
        return false;
      value = (value << 6) | (s[i + k] & 0x3F);
    }
    if ((extra == 2 && value < 0x800) || (extra == 3 && (value < 0x10000 || value > 0x10FFFF)) ||
        (value >= 0xD800 && value <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

ValueRefs create_value_refs(lua_State* L) {
  ValueRefs refs;
  lua_newuserdatauv(L, 0, 0);
  lua_createtable(L, 0, 3);
  lua_pushcfunction(L, null_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushliteral(L, "outlet.null");
  lua_setfield(L, -2, "__name");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  refs.null_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_createtable(L, 0, 2);
  lua_pushliteral(L, "outlet.array");
  lua_setfield(L, -2, "__name");
  refs.array_meta_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return refs;
}

void set_array_marker(lua_State* L, const ValueRefs& refs, int index) {
  index = lua_absindex(L, index);
  lua_rawgeti(L, LUA_REGISTRYINDEX, refs.array_meta_ref);
  lua_pushliteral(L, "__gc");
  if (lua_rawget(L, -2) != LUA_TNIL) {
    lua_pushliteral(L, "__gc");
    lua_pushnil(L);
    lua_rawset(L, -4);
  }
  lua_pop(L, 1);
  lua_setmetatable(L, index);
}

void push_json(lua_State* L, const ValueRefs& refs, const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      lua_rawgeti(L, LUA_REGISTRYINDEX, refs.null_ref);
      return;
    case Json::value_t::boolean:
      lua_pushboolean(L, value.get<bool>());
      return;
    case Json::value_t::number_integer:
      lua_pushinteger(L, value.get<int64_t>());
      return;
    case Json::value_t::number_unsigned: {
      uint64_t number = value.get<uint64_t>();
      if (number <= static_cast<uint64_t>(LUA_MAXINTEGER))
        lua_pushinteger(L, static_cast<lua_Integer>(number));
      else
        lua_pushnumber(L, static_cast<lua_Number>(number));
      return;
    }
    case Json::value_t::number_float:
      lua_pushnumber(L, value.get<double>());
      return;
    case Json::value_t::string: {
      const std::string& text = value.get_ref<const std::string&>();
      lua_pushlstring(L, text.data(), text.size());
      return;
    }
    case Json::value_t::array: {
      luaL_checkstack(L, 3, "nested too deeply");
      const auto& array = value.get_ref<const Json::array_t&>();
      lua_createtable(L, static_cast<int>(array.size()), 0);
      lua_Integer i = 0;
      for (const Json& element : array) {
        push_json(L, refs, element);
        lua_rawseti(L, -2, ++i);
      }
      set_array_marker(L, refs, -1);
      return;
    }
    case Json::value_t::object: {
      luaL_checkstack(L, 3, "nested too deeply");
      const auto& object = value.get_ref<const Json::object_t&>();
      lua_createtable(L, 0, static_cast<int>(object.size()));
      for (const auto& entry : object) {
        lua_pushlstring(L, entry.first.data(), entry.first.size());
        push_json(L, refs, entry.second);
        lua_rawset(L, -3);
      }
      return;
    }
    default:  // binary and discarded values do not occur in the host's JSON
      lua_pushnil(L);
      return;
  }
}

bool to_json(lua_State* L, const ValueRefs& refs, int index, const ConversionLimits& limits,
             Json& out, std::string& error) {
  Reader reader(L, refs, limits);
  if (reader.read(index, out, 0))
    return true;
  error = "at $" + reader.path() + ": " + reader.error();
  return false;
}

}  // namespace outlet::lua
