// C-stack safety: deep recursion (in Lua, through library callbacks and through
// metamethods) and deeply nested values fail cleanly, never crash the process.
#include "security/lua/lua_security_fixture.h"

namespace outlet::lua_security {
namespace {

struct Recursion {
  std::string name;
  std::string attack;
  std::string error;  // what the failure says
};

void PrintTo(const Recursion& recursion, std::ostream* out) {
  *out << recursion.name;
}

class LuaRecursionTest : public LuaSecurityTest, public ::testing::WithParamInterface<Recursion> {};

TEST_P(LuaRecursionTest, FailsWithAClearError) {
  ASSERT_NO_FATAL_FAILURE(install_hostile(then_escape(GetParam().attack)));
  Attempt attack = request_attack();
  expect_failed(attack, ErrorCode::kPluginError, HasSubstr(GetParam().error));
  EXPECT_EQ(stats(HookKind::kRequest).timeouts, 0u);
  EXPECT_LE(attack.message().size(), 8192u) << "tracebacks are bounded";
  expect_all_well();
}

class LuaStackRecursionTest : public LuaRecursionTest {};

// Recursion of Lua functions grows the Lua stack (a million slots at most) and
// its call records: whichever limit it meets first, stack or memory, fails it.
TEST_P(LuaStackRecursionTest, FailsAtTheStackOrMemoryLimit) {
  ASSERT_NO_FATAL_FAILURE(install_hostile(
      then_escape(GetParam().attack), "",
      {{"limits", {{"memoryBytes", 64 << 20}, {"timeoutMs", {{"request", 1500}}}}}}));
  Attempt attack = request_attack();
  ASSERT_FALSE(attack.ok());
  if (attack.error().code() == ErrorCode::kResourceExhausted) {
    EXPECT_THAT(attack.message(), HasSubstr("ran out of its 64 MiB memory limit"));
  } else {
    expect_failed(attack, ErrorCode::kPluginError, HasSubstr("stack overflow"));
    EXPECT_LE(attack.message().size(), 8192u) << "tracebacks are bounded";
  }
  EXPECT_LT(attack.elapsed, kGenerous);
  EXPECT_EQ(stats(HookKind::kRequest).timeouts, 0u);
  expect_all_well();
}

INSTANTIATE_TEST_SUITE_P(
    Sandbox, LuaStackRecursionTest,
    ::testing::Values(
        Recursion{"lua_function", "local function f() return 1 + f() end return f()", ""},
        Recursion{"lua_function_with_arguments",
                  "local function f(a, b, c, d) return 1 + f(a, b, c, d) end return f(1, 2, 3, 4)",
                  ""},
        Recursion{"mutual",
                  "local g local function f() return 1 + g() end "
                  "function g() return 1 + f() end return f()",
                  ""},
        Recursion{"call_metamethod",
                  "local t = setmetatable({}, { __call = function(self) return 1 + self() end }) "
                  "return t()",
                  ""}),
    [](const auto& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(
    Sandbox, LuaRecursionTest,
    ::testing::Values(
        Recursion{"through_gsub_callbacks",
                  "local function f() return (string.gsub('x', 'x', f)) end return f()",
                  "stack overflow"},
        Recursion{"through_sort_comparators",
                  "local function f(a, b) table.sort({ 1, 2, 3 }, f) return a < b end "
                  "table.sort({ 1, 2, 3 }, f)",
                  "stack overflow"},
        Recursion{"through_wrapped_coroutines",
                  "local function f() return coroutine.wrap(f)() end return f()", "stack overflow"},
        Recursion{"through_pcall_then_rethrown",
                  "local function f() local ok, err = pcall(f) error(err, 0) end f()",
                  "stack overflow"},
        Recursion{"index_function",
                  "local t = setmetatable({}, { __index = function(self, key) "
                  "return self[key] end }) return t.x",
                  "stack overflow"},
        Recursion{"newindex_function",
                  "local t = setmetatable({}, { __newindex = function(self, "
                  "key, value) self[key] = value end }) t.x = 1",
                  "stack overflow"},
        Recursion{"index_chain_loop",
                  "local a, b = {}, {} setmetatable(a, { __index = b }) "
                  "setmetatable(b, { __index = a }) return a.x",
                  "'__index' chain too long; possible loop"},
        Recursion{"newindex_chain_loop",
                  "local a, b = {}, {} setmetatable(a, { __newindex = b }) "
                  "setmetatable(b, { __newindex = a }) a.x = 1",
                  "'__newindex' chain too long; possible loop"},
        Recursion{"tostring_metamethod",
                  "local t = setmetatable({}, { __tostring = function(self) "
                  "return tostring(self) end }) return tostring(t)",
                  "stack overflow"},
        Recursion{"tostring_through_format",
                  "local t = setmetatable({}, { __tostring = function(self) "
                  "return string.format('%s', self) end }) return tostring(t)",
                  "stack overflow"},
        Recursion{"less_than_metamethod",
                  "local mt = {} mt.__lt = function(a, b) return a < b end "
                  "return setmetatable({}, mt) < setmetatable({}, mt)",
                  "stack overflow"},
        Recursion{"equality_metamethod",
                  "local mt = {} mt.__eq = function(a, b) return a == b end "
                  "return setmetatable({}, mt) == setmetatable({}, mt)",
                  "stack overflow"},
        Recursion{"length_metamethod",
                  "local t = setmetatable({}, { __len = function(self) return #self end }) "
                  "return #t",
                  "stack overflow"},
        Recursion{"concat_metamethod",
                  "local t = setmetatable({}, { __concat = function(a, b) return a .. b end }) "
                  "return t .. 'x'",
                  "stack overflow"}),
    [](const auto& info) { return info.param.name; });

TEST_F(LuaSecurityTest, AnErrorObjectWithARecursiveToStringIsReportedByType) {
  // The host never calls a plugin's __tostring to describe its error.
  ASSERT_NO_FATAL_FAILURE(install_hostile(R"lua(
    local mt = {}
    mt.__tostring = function(self) return tostring(self) end
    error(setmetatable({}, mt))
  )lua"));
  Attempt attack = request_attack();
  expect_failed(attack, ErrorCode::kPluginError, HasSubstr("an error object of type table"));
  expect_all_well();
}

TEST_F(LuaSecurityTest, AnErrorObjectWhoseToStringLoopsIsReportedByType) {
  ASSERT_NO_FATAL_FAILURE(install_hostile(R"lua(
    error(setmetatable({}, { __tostring = function() while true do end end }))
  )lua"));
  Attempt attack = request_attack();
  expect_failed(attack, ErrorCode::kPluginError, HasSubstr("an error object of type table"));
  EXPECT_EQ(stats(HookKind::kRequest).timeouts, 0u);
  expect_all_well();
}

TEST_F(LuaSecurityTest, AHugeErrorMessageIsCut) {
  ASSERT_NO_FATAL_FAILURE(install_hostile("error(string.rep('x', 2 ^ 20))"));
  Attempt attack = request_attack();
  expect_failed(attack, ErrorCode::kPluginError, HasSubstr("xxxxxxxx"));
  EXPECT_LE(attack.message().size(), 8192u);
  expect_all_well();
}

constexpr const char* kDeepArray = "local deep = {} for i = 1, 10000 do deep = { deep } end\n";
constexpr const char* kDeepObject =
    "local deep = {} for i = 1, 10000 do deep = { child = deep } end\n";

TEST_F(LuaSecurityTest, ReturningTenThousandNestedArraysFails) {
  ASSERT_NO_FATAL_FAILURE(install_hostile(std::string(kDeepArray) + "return deep"));
  Attempt attack = request_attack();
  expect_failed(
      attack, ErrorCode::kPluginError,
      ::testing::AllOf(HasSubstr("returned a value JSON cannot hold"), HasSubstr("at $[0][0][0]"),
                       HasSubstr("nested deeper than 128 levels")));
  expect_all_well();
}

TEST_F(LuaSecurityTest, ReturningTenThousandNestedObjectsFails) {
  ASSERT_NO_FATAL_FAILURE(install_hostile(std::string(kDeepObject) + "return deep"));
  Attempt attack = request_attack();
  expect_failed(attack, ErrorCode::kPluginError,
                ::testing::AllOf(HasSubstr("at $.child.child.child"),
                                 HasSubstr("nested deeper than 128 levels")));
  expect_all_well();
}

TEST_F(LuaSecurityTest, AFilterModifyingToADeepPayloadFailsOpen) {
  ASSERT_NO_FATAL_FAILURE(
      install_hostile(std::string(kDeepObject) + "return outlet.filter.modify(deep)"));
  Attempt attack = filter_attack();
  expect_failed(attack, ErrorCode::kPluginError, HasSubstr("nested deeper than 128 levels"));
  expect_all_well();
}

TEST_F(LuaSecurityTest, PassingTenThousandNestedTablesToAHostFunctionFails) {
  ASSERT_NO_FATAL_FAILURE(install_hostile(std::string(kDeepArray) + R"lua(
    local ok, err = pcall(outlet.kv.set, "deep", deep)
    assert(not ok, "kv.set took it")
    local ok2, err2 = pcall(outlet.call, "kv.set", "deep", { child = deep })
    assert(not ok2, "outlet.call took it")
    assert(err2:find("nested deeper than 128 levels", 1, true), err2)
    error(err, 0)
  )lua"));
  Attempt attack = request_attack();
  expect_failed(attack, ErrorCode::kPluginError,
                ::testing::AllOf(HasSubstr("outlet.kv.set: argument 2 at $[0][0]"),
                                 HasSubstr("nested deeper than 128 levels")));
  auto stored = host_->kv().get(host_->kv_namespace("hostile"), "deep");
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->has_value()) << "nothing was stored";
  expect_all_well();
}

TEST_F(LuaSecurityTest, ADeepValueAtTheLimitStillWorks) {
  // 127 levels of nesting is within the limit in both directions.
  ASSERT_NO_FATAL_FAILURE(install_hostile(R"lua(
    local deep = "bottom"
    for i = 1, 126 do deep = { deep } end
    outlet.kv.set("deep", deep)
    local back = outlet.kv.get("deep")
    local levels = 0
    while type(back) == "table" do back = back[1] levels = levels + 1 end
    return { levels = levels, bottom = back, value = deep }
  )lua"));
  Attempt attack = request_attack();
  ASSERT_TRUE(attack.ok()) << attack.message();
  EXPECT_EQ(attack.value().at("levels"), 126);
  EXPECT_EQ(attack.value().at("bottom"), "bottom");
  expect_all_well();
}

}  // namespace
}  // namespace outlet::lua_security
