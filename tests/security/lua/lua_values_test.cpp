// Values a plugin hands the host that JSON cannot hold: each fails with an
// error naming the problem and where it is, as a return value, in a filter
// verdict, or as a host function's argument.
#include "security/lua/lua_security_fixture.h"

namespace outlet::lua_security {
namespace {

struct Malformed {
  std::string name;
  std::string value;  // a Lua expression (statements may precede it: `...; return`)
  std::string error;  // what the failure says
  std::string setup = "";
};

void PrintTo(const Malformed& malformed, std::ostream* out) {
  *out << malformed.name;
}

const std::vector<Malformed>& malformed_values() {
  static const std::vector<Malformed> values = {
      {"function", "function() end", "at $: a function value cannot become JSON"},
      {"c_function", "print", "at $: a function value cannot become JSON"},
      {"coroutine", "coroutine.create(function() end)", "at $: a thread value cannot become JSON"},
      {"nested_function", "{ items = { 1, 2, function() end } }",
       "at $.items[2]: a function value cannot become JSON"},
      {"self_cycle", "cycle", "a table that contains itself (a cycle) cannot become JSON",
       "local cycle = {} cycle.self = cycle"},
      {"array_cycle", "cycle", "at $[0]: a table that contains itself (a cycle)",
       "local cycle = {} cycle[1] = cycle"},
      {"long_cycle", "a", "at $.b.c: a table that contains itself (a cycle)",
       "local a = {} a.b = { c = a }"},
      {"invalid_utf8", "'\\xff\\xfe'", "a string that is not valid UTF-8 cannot become JSON"},
      {"truncated_utf8", "'caf\\xc3'", "a string that is not valid UTF-8"},
      {"surrogate_utf8", "'\\xed\\xa0\\x80'", "a string that is not valid UTF-8"},
      {"overlong_utf8", "'\\xc0\\xaf'", "a string that is not valid UTF-8"},
      {"invalid_utf8_nested", "{ name = 'ok', bio = '\\xff' }", "at $.bio: a string that is not"},
      {"invalid_utf8_key", "{ ['\\xc3'] = 1 }", "a key that is not valid UTF-8"},
      {"nan", "0 / 0", "at $: NaN cannot become JSON"},
      {"nan_nested", "{ score = 0 / 0 }", "at $.score: NaN cannot become JSON"},
      {"infinity", "{ 1, math.huge }", "at $[1]: an infinite number cannot become JSON"},
      {"sparse_array", "{ 1, nil, 3 }", "a sparse array, or mixed keys"},
      {"array_with_a_hole_at_the_start", "{ [2] = 'b', [3] = 'c' }",
       "a sparse array, or mixed keys"},
      {"mixed_keys", "{ 1, 2, x = 3 }", "a table with both string and other keys"},
      {"float_key", "{ [1.5] = 'x' }", "a table with both string and other keys"},
      {"boolean_key", "{ [true] = 'x' }", "a table with both string and other keys"},
      {"table_key", "{ [{}] = 'x' }", "a table with both string and other keys"},
      {"marked_array_with_string_keys", "outlet.array({ x = 1 })",
       "an outlet.array with keys other than 1..n"},
  };
  return values;
}

class LuaMalformedReturnTest : public LuaSecurityTest,
                               public ::testing::WithParamInterface<Malformed> {};

TEST_P(LuaMalformedReturnTest, FailsNamingTheProblem) {
  ASSERT_NO_FATAL_FAILURE(install_hostile(GetParam().setup + "\nreturn " + GetParam().value));
  Attempt attack = request_attack();
  expect_failed(
      attack, ErrorCode::kPluginError,
      ::testing::AllOf(HasSubstr("request[\"chat.trigger\"] returned a value JSON cannot hold: "),
                       HasSubstr(GetParam().error)));
  EXPECT_EQ(stats(HookKind::kRequest).failures, 1u) << "a malformed value is a failure";
  expect_all_well();
}

INSTANTIATE_TEST_SUITE_P(Values, LuaMalformedReturnTest, ::testing::ValuesIn(malformed_values()),
                         [](const auto& info) { return info.param.name; });

class LuaMalformedVerdictTest : public LuaSecurityTest,
                                public ::testing::WithParamInterface<Malformed> {};

TEST_P(LuaMalformedVerdictTest, FailsOpen) {
  ASSERT_NO_FATAL_FAILURE(install_hostile(
      GetParam().setup + "\nreturn outlet.filter.modify({ body = " + GetParam().value + " })"));
  Attempt attack = filter_attack();
  expect_failed(attack, ErrorCode::kPluginError, HasSubstr("returned a value JSON cannot hold"));
  EXPECT_EQ(stats(HookKind::kFilter).failures, 1u);
  expect_all_well();
}

INSTANTIATE_TEST_SUITE_P(Values, LuaMalformedVerdictTest, ::testing::ValuesIn(malformed_values()),
                         [](const auto& info) { return info.param.name; });

class LuaMalformedArgumentTest : public LuaSecurityTest,
                                 public ::testing::WithParamInterface<Malformed> {};

TEST_P(LuaMalformedArgumentTest, IsRefusedBeforeTheHostFunctionRuns) {
  ASSERT_NO_FATAL_FAILURE(
      install_hostile(GetParam().setup + "\noutlet.kv.set('stored', " + GetParam().value + ")"));
  Attempt attack = request_attack();
  std::string where = GetParam().error;
  if (where.rfind("at $", 0) == 0)
    where = "argument 2 " + where;  // e.g. "argument 2 at $.items[2]: a function value ..."
  expect_failed(attack, ErrorCode::kPluginError,
                ::testing::AllOf(HasSubstr("outlet.kv.set: argument 2 at $"), HasSubstr(where)));
  auto stored = host_->kv().get(host_->kv_namespace("hostile"), "stored");
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->has_value()) << "nothing was stored";
  expect_all_well();
}

INSTANTIATE_TEST_SUITE_P(Values, LuaMalformedArgumentTest, ::testing::ValuesIn(malformed_values()),
                         [](const auto& info) { return info.param.name; });

TEST_F(LuaSecurityTest, AHugeReturnedTableFailsNamingTheLimit) {
  ASSERT_NO_FATAL_FAILURE(install_hostile(
      "local t = {} for i = 1, 1000001 do t[i] = true end return t", "",
      {{"limits", {{"memoryBytes", 64 << 20}, {"timeoutMs", {{"request", 1500}}}}}}));
  Attempt attack = request_attack();
  expect_failed(attack, ErrorCode::kPluginError, HasSubstr("more than 1000000 values"));
  expect_all_well();
}

// A million values take far longer than a short deadline to convert (hundreds of
// milliseconds in a debug build): the conversion stops at the deadline instead.
constexpr const char* kMillionValues =
    "local huge = {} for i = 1, 1000000 do huge[i] = i end  -- built while loading\n";
const Json kFiveMilliseconds = {
    {"limits", {{"memoryBytes", 64 << 20}, {"timeoutMs", {{"request", 5}}}}}};

TEST_F(LuaSecurityTest, ConvertingAHugeReturnedTableStopsAtTheDeadline) {
  ASSERT_NO_FATAL_FAILURE(install_hostile("return huge", kMillionValues, kFiveMilliseconds));
  Attempt attack = request_attack();
  expect_failed(attack, ErrorCode::kDeadlineExceeded,
                HasSubstr("ran over the 5 ms limit for request hooks (converting what"));
  expect_all_well();
}

TEST_F(LuaSecurityTest, ConvertingAHugeHostFunctionArgumentStopsAtTheDeadline) {
  ASSERT_NO_FATAL_FAILURE(
      install_hostile("outlet.kv.set('huge', huge)", kMillionValues, kFiveMilliseconds));
  Attempt attack = request_attack();
  ASSERT_FALSE(attack.ok());
  // Either the conversion says so, or the deadline check right after it does.
  EXPECT_THAT(attack.message(),
              ::testing::AnyOf(HasSubstr("outlet.kv.set: argument 2 at $"),
                               HasSubstr("ran over the 5 ms limit for request hooks")));
  EXPECT_THAT(attack.message(), Not(HasSubstr("more than")));
  EXPECT_LT(attack.elapsed, kGenerous);
  auto stored = host_->kv().get(host_->kv_namespace("hostile"), "huge");
  ASSERT_TRUE(stored.ok());
  EXPECT_FALSE(stored->has_value()) << "nothing was stored";
  expect_all_well();
}

TEST_F(LuaSecurityTest, ReturnedStringsOverTheLimitFail) {
  // Building 18 MiB is work, not a runaway: a roomy limit keeps slow (sanitizer) builds honest.
  ASSERT_NO_FATAL_FAILURE(install_hostile(
      "local s = string.rep('x', 9 * 2 ^ 20) return { s, s }", "",
      {{"limits", {{"memoryBytes", 64 << 20}, {"timeoutMs", {{"request", 5000}}}}}}));
  Attempt attack = request_attack();
  expect_failed(attack, ErrorCode::kPluginError, HasSubstr("more than 16 MiB of strings"));
  expect_all_well();
}

TEST_F(LuaSecurityTest, NullAndEmptyArraysAreNotMalformed) {
  // The sentinel and the array marker are the documented way to say null and [].
  ASSERT_NO_FATAL_FAILURE(install_hostile(
      "return { none = outlet.null, empty = outlet.array(), list = outlet.array({ 1, 2 }), "
      "object = {} }"));
  Attempt attack = request_attack();
  ASSERT_TRUE(attack.ok()) << attack.message();
  EXPECT_EQ(attack.value(), (Json{{"none", nullptr},
                                  {"empty", Json::array()},
                                  {"list", {1, 2}},
                                  {"object", Json::object()}}));
  expect_all_well();
}

}  // namespace
}  // namespace outlet::lua_security
