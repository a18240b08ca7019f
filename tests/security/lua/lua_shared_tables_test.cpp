// The string metatable, the library tables and the SDK's `outlet` tables are
// shared by everything in the state: writes to them (plain, raw, or through
// metatables) fail, and the libraries behave as before.
#include "security/lua/lua_security_fixture.h"

namespace outlet::lua_security {
namespace {

struct SharedWrite {
  std::string name;
  std::string attack;  // Lua statements writing to a shared table
  std::string error;   // what the failure says
};

void PrintTo(const SharedWrite& write, std::ostream* out) {
  *out << write.name;
}

constexpr const char* kReadOnly = "this table is read-only (it is shared by the sandbox)";
constexpr const char* kRawsetRefused = "rawset: this table is read-only";
constexpr const char* kProtected = "cannot change a protected metatable";

class LuaSharedTableWriteTest : public LuaSecurityTest,
                                public ::testing::WithParamInterface<SharedWrite> {};

TEST_P(LuaSharedTableWriteTest, FailsAndChangesNothing) {
  ASSERT_NO_FATAL_FAILURE(install_hostile(GetParam().attack + "\nreturn { wrote = true }"));
  Attempt attack = request_attack();
  expect_failed(attack, ErrorCode::kPluginError, HasSubstr(GetParam().error));
  EXPECT_EQ(stats(HookKind::kRequest).failures, 1u);
  // string.upper, ("x"):upper(), find, match, table.insert, math.pi and
  // outlet.kv.get/set answer as before.
  expect_all_well();
}

const char* const kPwned = "function() return 'pwned' end";

std::string with_pwned(const std::string& code) {
  std::string out = code;
  for (size_t at; (at = out.find("PWNED")) != std::string::npos;)
    out.replace(at, 5, kPwned);
  return out;
}

INSTANTIATE_TEST_SUITE_P(
    Sandbox, LuaSharedTableWriteTest,
    ::testing::Values(
        // The string metatable: getmetatable answers a guard string, not the table.
        SharedWrite{"string_metatable_index",
                    with_pwned("getmetatable('').__index = function() return PWNED end"),
                    "attempt to index a string value"},
        SharedWrite{"string_metatable_field", "getmetatable('').x = 1",
                    "attempt to index a string value"},
        SharedWrite{"string_metatable_index_member",
                    with_pwned("getmetatable('').__index.upper = PWNED"),
                    "attempt to index a nil value (field '__index')"},
        SharedWrite{"setmetatable_on_a_string", "setmetatable('', {})",
                    "bad argument #1 to 'setmetatable' (table expected, got string)"},
        // Library tables.
        SharedWrite{"string_member_nil", "string.upper = nil", kReadOnly},
        SharedWrite{"string_member_replaced", with_pwned("string.upper = PWNED"), kReadOnly},
        SharedWrite{"string_member_through_G", with_pwned("_G.string.upper = PWNED"), kReadOnly},
        SharedWrite{"string_new_member", "string.x = 1", kReadOnly},
        SharedWrite{"rawset_on_string", with_pwned("rawset(string, 'upper', PWNED)"),
                    kRawsetRefused},
        SharedWrite{"rawset_new_member", "rawset(string, 'x', 1)", kRawsetRefused},
        SharedWrite{"setmetatable_on_string", "setmetatable(string, {})", kProtected},
        SharedWrite{"setmetatable_nil_on_string", "setmetatable(string, nil)", kProtected},
        SharedWrite{"library_metatable_index",
                    with_pwned("getmetatable(string).__index.upper = PWNED"),
                    "attempt to index a nil value (field '__index')"},
        SharedWrite{"table_insert_replaced", "table.insert = function() end", kReadOnly},
        SharedWrite{"rawset_on_table", "rawset(table, 'insert', print)", kRawsetRefused},
        SharedWrite{"table_insert_into_string", "table.insert(string, print)", kReadOnly},
        SharedWrite{"table_move_into_string", "table.move({ print }, 1, 1, 1, string)", kReadOnly},
        SharedWrite{"clear_every_member", "for name in pairs(string) do string[name] = nil end",
                    kReadOnly},
        SharedWrite{"math_pi", "math.pi = 3", kReadOnly},
        SharedWrite{"coroutine_resume", "coroutine.resume = function() return true end", kReadOnly},
        SharedWrite{"utf8_charpattern", "utf8.charpattern = '.'", kReadOnly},
        // The SDK's tables.
        SharedWrite{"outlet_kv_get", with_pwned("outlet.kv.get = PWNED"),
                    "cannot set \"get\": this table is read-only"},
        SharedWrite{"outlet_kv_table", "outlet.kv = {}",
                    "cannot set \"kv\": this table is read-only"},
        SharedWrite{"rawset_on_outlet_kv", with_pwned("rawset(outlet.kv, 'get', PWNED)"),
                    kRawsetRefused},
        SharedWrite{"rawset_on_outlet", "rawset(outlet, 'kv', {})", kRawsetRefused},
        SharedWrite{"setmetatable_on_outlet_kv", "setmetatable(outlet.kv, nil)", kProtected},
        SharedWrite{"outlet_filter_drop", "outlet.filter.drop = nil", kReadOnly},
        SharedWrite{"outlet_null_metatable", "setmetatable(outlet.null, {})",
                    "bad argument #1 to 'setmetatable' (table expected, got outlet.null)"}),
    [](const auto& info) { return info.param.name; });

TEST_F(LuaSecurityTest, WritesCaughtByPcallLeaveTheLibrariesAsTheyWere) {
  ASSERT_NO_FATAL_FAILURE(install_hostile(R"lua(
    local pwned = function() return "pwned" end
    local attempts = {
      function() getmetatable("").__index = pwned end,
      function() string.upper = pwned end,
      function() rawset(string, "upper", pwned) end,
      function() setmetatable(string, { __index = function() return pwned end }) end,
      function() table.insert = pwned end,
      function() outlet.kv.get = pwned end,
      function() rawset(outlet.kv, "get", pwned) end,
    }
    local refused = 0
    for _, write in ipairs(attempts) do
      if not pcall(write) then refused = refused + 1 end
    end
    local list = {}
    table.insert(list, "x")
    outlet.kv.set("k", "v")
    return {
      refused = refused,
      upper = string.upper("abc"),
      method = ("abc"):upper(),
      rawget = rawget(string, "upper") == nil,  -- the proxy holds nothing of its own
      inserted = #list,
      kv = outlet.kv.get("k"),
    }
  )lua"));
  Attempt attack = request_attack();
  ASSERT_TRUE(attack.ok()) << attack.message();
  EXPECT_EQ(attack.value(), (Json{{"refused", 7},
                                  {"upper", "ABC"},
                                  {"method", "ABC"},
                                  {"rawget", true},
                                  {"inserted", 1},
                                  {"kv", "v"}}));
  expect_all_well();
}

TEST_F(LuaSecurityTest, ReplacingAGlobalLibraryOnlyChangesThePluginsOwnGlobals) {
  // The globals table is the plugin's own: rebinding `string` there is allowed,
  // but the string metatable (method calls) still reads the real library, and
  // another plugin's state is untouched.
  ASSERT_NO_FATAL_FAILURE(install_hostile(R"lua(
    string = { upper = function() return "pwned" end }
    return { global = string.upper("abc"), method = ("abc"):upper() }
  )lua"));
  Attempt attack = request_attack();
  ASSERT_TRUE(attack.ok()) << attack.message();
  EXPECT_EQ(attack.value().at("global"), "pwned");
  EXPECT_EQ(attack.value().at("method"), "ABC");
  expect_neighbour_works();
}

}  // namespace
}  // namespace outlet::lua_security
