// CPU exhaustion: loops the count hook must stop however the plugin hides them
// (coroutines, pcall, metamethods, finalizer-free unwinding), and library
// functions whose work grows with plugin input, which the hook cannot interrupt
// and which must meter themselves against the call's deadline.
#include "security/lua/lua_security_fixture.h"

namespace outlet::lua_security {
namespace {

struct Overrun {
  std::string name;
  std::string attack;           // runs past any deadline unless stopped
  std::string prelude = "";     // top-level code, run when the plugin loads
  Json patch = Json::object();  // manifest changes
  int request_limit_ms = kRequestLimitMs;
  bool located = true;  // see expect_request_timeout
};

void PrintTo(const Overrun& overrun, std::ostream* out) {
  *out << overrun.name;
}

class LuaOverrunTest : public LuaSecurityTest, public ::testing::WithParamInterface<Overrun> {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(LuaSecurityTest::SetUp());
    Json patch = GetParam().patch;
    patch["limits"]["timeoutMs"]["request"] = GetParam().request_limit_ms;
    ASSERT_NO_FATAL_FAILURE(
        install_hostile(then_escape(GetParam().attack), GetParam().prelude, patch));
  }
};

TEST_P(LuaOverrunTest, IsStoppedAtItsDeadline) {
  Attempt attack = request_attack();
  expect_request_timeout(attack, GetParam().request_limit_ms, GetParam().located);
  EXPECT_EQ(host_->status("hostile")->stats->strikes, 1u) << "a timeout is a strike";
  expect_all_well();
}

// Loops, and the ways a plugin could try to keep one running past the hook.
INSTANTIATE_TEST_SUITE_P(
    Loops, LuaOverrunTest,
    ::testing::Values(
        Overrun{"infinite_loop", "while true do end"},
        Overrun{"loop_of_calls", "local function f() end while true do f() end"},
        Overrun{"endless_tail_calls", "local function f() return f() end return f()"},
        Overrun{"loop_in_loaded_chunk", "load('while true do end')()"},
        Overrun{"loop_in_coroutine",
                "coroutine.resume(coroutine.create(function() while true do end end))"},
        Overrun{"loop_in_wrapped_coroutine", "coroutine.wrap(function() while true do end end)()"},
        Overrun{"pcall_in_a_loop", "while true do pcall(function() while true do end end) end"},
        Overrun{"xpcall_in_a_loop",
                "while true do xpcall(function() while true do end end, function(e) return e end) "
                "end"},
        Overrun{"xpcall_handler_loops",
                "while true do xpcall(error, function() while true do end end) end"},
        Overrun{"resume_swallows_in_a_loop",
                "while true do coroutine.resume(coroutine.create(function() while true do end "
                "end)) end"},
        Overrun{"pcall_of_wrapped_coroutine_in_a_loop",
                "while true do pcall(coroutine.wrap(function() while true do end end)) end"},
        Overrun{"yield_ping_pong",
                "local co = coroutine.wrap(function() while true do coroutine.yield() end end) "
                "while true do co() end"},
        Overrun{"nested_coroutines",
                "local function deeper(n) if n == 0 then while true do end end "
                "coroutine.resume(coroutine.create(deeper), n - 1) end "
                "while true do pcall(deeper, 50) end"},
        Overrun{"close_swallows_in_a_loop",
                "local co = coroutine.create(function() "
                "  local guard <close> = setmetatable({}, { __close = function() "
                "    while true do end end }) "
                "  coroutine.yield() end) "
                "coroutine.resume(co) "
                "while true do coroutine.close(co) end"},
        Overrun{"close_handler_loops_while_unwinding",
                "local guard <close> = setmetatable({}, { __close = function() "
                "  while true do pcall(function() while true do end end) end end }) "
                "while true do end"},
        Overrun{"gsub_callback_swallows",
                "while true do pcall(string.gsub, 'aaa', 'a', function() while true do end end) "
                "end"},
        Overrun{"sort_comparator_loops",
                "while true do pcall(table.sort, { 3, 2, 1 }, function() while true do end end) "
                "end"},
        Overrun{"tostring_metamethod_loops",
                "local t = setmetatable({}, { __tostring = function() while true do end end }) "
                "while true do pcall(tostring, t) end"},
        Overrun{"index_metamethod_loops",
                "local t = setmetatable({}, { __index = function() while true do end end }) "
                "while true do pcall(function() return t.x end) end"},
        // A thread stopped from inside the count hook keeps its hooks switched off
        // (ldo.c luaD_hook), so its pending __close handlers must never run.
        Overrun{"wrapped_coroutine_with_endless_close_handler",
                "coroutine.wrap(function() "
                "  local guard <close> = setmetatable({}, { __close = function() "
                "    while true do end end }) "
                "  while true do end end)()"},
        Overrun{"close_handler_closes_a_stopped_coroutine",
                "local co = coroutine.create(function() "
                "  local guard <close> = setmetatable({}, { __close = function() "
                "    while true do end end }) "
                "  while true do end end) "
                "local closer <close> = setmetatable({}, { __close = function() "
                "  coroutine.close(co) end }) "
                "coroutine.resume(co)"},
        Overrun{"error_handler_spoofs_success",
                "while true do local ok = pcall(function() while true do end end) "
                "if not ok then error('not caught', 0) end end"}),
    [](const auto& info) { return info.param.name; });

// Work inside one C library call, where the count hook never runs.
INSTANTIATE_TEST_SUITE_P(
    Patterns, LuaOverrunTest,
    ::testing::Values(
        Overrun{"find_backtracking",
                "return string.find(string.rep('a', 40), string.rep('a*', 40) .. 'b')"},
        Overrun{"match_backtracking",
                "return string.match(string.rep('a', 40), string.rep('a*', 40) .. 'b')"},
        Overrun{"gmatch_backtracking",
                "for m in string.gmatch(string.rep('a', 40), string.rep('a*', 40) .. 'b') do end"},
        Overrun{"gsub_backtracking",
                "return (string.gsub(string.rep('a', 40), string.rep('a*', 40) .. 'b', 'x'))"},
        Overrun{"gsub_backtracking_as_method",
                "return (('a'):rep(40):gsub(('a*'):rep(40) .. 'b', '%0'))"},
        Overrun{"lazy_backtracking",
                "return string.find(string.rep('a', 40), string.rep('a-', 40) .. 'b')"},
        Overrun{"optional_backtracking",
                "return string.find(string.rep('a', 40), string.rep('a?', 40) .. string.rep('a', "
                "40) .. 'b')"},
        Overrun{"capture_backtracking",
                "return string.find(string.rep('a', 40), string.rep('(a*)', 30) .. 'b')"},
        Overrun{"balance_on_a_long_string", "return string.find(string.rep('(', 300000), '%b()')"},
        Overrun{"balance_in_gmatch",
                "for m in string.gmatch(string.rep('(', 300000), '%b()') do end"},
        Overrun{"long_character_set",
                "return string.find(string.rep('a', 2 ^ 20), '[' .. string.rep('b', 2 ^ 20) .. "
                "'a]*$')"},
        Overrun{"long_frontier_set",
                "return (string.gsub(string.rep('a', 2 ^ 20), '%f[' .. string.rep('b', 2 ^ 20) .. "
                "'a]', ''))"},
        Overrun{"plain_find_long_needle",
                "return string.find(string.rep('a', 2 ^ 20), string.rep('a', 2 ^ 18) .. 'b', 1, "
                "true)"},
        Overrun{"find_long_needle_without_specials",
                "return string.find(string.rep('a', 2 ^ 20), string.rep('a', 2 ^ 18) .. 'b')"}),
    [](const auto& info) { return info.param.name; });

constexpr const char* kBigString = "local big = string.rep('\\u{e9}', 8 * 2 ^ 20)  -- 16 MiB\n";
// The most the host allows (LuaRuntimeOptions::max_memory_bytes).
const Json kRoomy = {{"limits", {{"memoryBytes", 64 << 20}}}};

INSTANTIATE_TEST_SUITE_P(
    Library, LuaOverrunTest,
    ::testing::Values(
        Overrun{"table_move_huge_range", "table.move({}, 1, 1e12, 1)"},
        Overrun{"table_move_huge_range_backwards", "table.move({}, 1, 1e12, 2)"},
        Overrun{"table_move_to_another_table", "table.move({}, 1, 1e12, 1, {})"},
        Overrun{"table_insert_huge_length",
                "table.insert(setmetatable({}, { __len = function() return 2 ^ 40 end }), 1, 'x')"},
        Overrun{"table_remove_huge_length",
                "table.remove(setmetatable({}, { __len = function() return 2 ^ 40 end }), 1)"},
        Overrun{"table_concat_huge_range",
                "table.concat(setmetatable({}, { __index = function() return '' end }), '', 1, "
                "1e12)"},
        Overrun{"table_sort_huge_length",
                "table.sort(setmetatable({}, { __len = function() return 2 ^ 31 - 2 end, "
                "__index = function(_, i) return -i end, __newindex = function() end }))"},
        // Sorting a big array with the default comparator runs no Lua code at all.
        Overrun{"table_sort_big_array", "table.sort(big)",
                "local big = {} for i = 1, 2 ^ 20 do big[i] = (i * 7919) % 1000003 end\n", kRoomy,
                5},
        // A 16 MiB string built at load time; each call below takes well over 5 ms.
        Overrun{"utf8_len_big_string", "return utf8.len(big)", kBigString, kRoomy, 5},
        Overrun{"utf8_offset_big_string", "return utf8.offset(big, 8 * 2 ^ 20)", kBigString, kRoomy,
                5},
        Overrun{"upper_big_string", "return #string.upper(big)", kBigString, kRoomy, 5},
        Overrun{"reverse_big_string", "return #big:reverse()", kBigString, kRoomy, 5},
        Overrun{"rep_long_result", "return #string.rep('abc', 10 * 2 ^ 20)", "", kRoomy, 5},
        // One VM instruction, or one stock C call, copying 16 MiB, in a loop: the
        // count hook runs only every few hundred copies, so large allocations
        // check the deadline themselves.
        Overrun{"concatenation_of_a_big_string_in_a_loop",
                "while true do local copy = big .. 'x' end", kBigString, kRoomy, 5, false},
        Overrun{"sub_of_a_big_string_in_a_loop", "while true do local copy = big:sub(2) end",
                kBigString, kRoomy, 5, false},
        Overrun{"format_q_in_a_loop",
                "local s = string.rep('\\0', 200000) while true do string.format('%q', s) end", "",
                kRoomy, 5, false}),
    [](const auto& info) { return info.param.name; });

TEST_F(LuaSecurityTest, ACoroutineStoppedByItsDeadlineCannotRunItsCloseHandlerLater) {
  ASSERT_NO_FATAL_FAILURE(install_hostile(R"lua(
    if payload.step == 2 then
      local ok, err = coroutine.close(stopped)
      return { ok = ok, err = tostring(err), status = coroutine.status(stopped) }
    end
    stopped = coroutine.create(function()
      local guard <close> = setmetatable({}, { __close = function() while true do end end })
      while true do end
    end)
    coroutine.resume(stopped)
    return { escaped = true }
  )lua"));
  expect_request_timeout(request_attack());
  // The next call closes the coroutine the deadline stopped.
  Attempt later = request_attack({{"step", 2}});
  ASSERT_TRUE(later.ok()) << later.message();
  EXPECT_LT(later.elapsed, kGenerous);
  EXPECT_EQ(later.value().at("ok"), false);
  EXPECT_THAT(later.value().at("err").get<std::string>(), HasSubstr("stopped by a limit"));
  EXPECT_EQ(later.value().at("status"), "dead");
  expect_all_well();
}

TEST_F(LuaSecurityTest, AFilterStuckInAPatternFailsOpenAtItsDeadline) {
  ASSERT_NO_FATAL_FAILURE(
      install_hostile("return string.find(string.rep('a', 40), string.rep('a*', 40) .. 'b')"));
  Attempt attack = filter_attack();
  expect_failed(attack, ErrorCode::kPluginError,
                ::testing::AllOf(HasSubstr("ran over the 30 ms limit for filter hooks"),
                                 HasSubstr("(stopped at plugin.lua:")));
  EXPECT_EQ(stats(HookKind::kFilter).timeouts, 1u);
  expect_all_well();
}

struct QuickFailure {
  std::string name;
  std::string attack;
  std::vector<std::string> error;  // what the failure says (every part)
};

void PrintTo(const QuickFailure& failure, std::ostream* out) {
  *out << failure.name;
}

class LuaQuickFailureTest : public LuaSecurityTest,
                            public ::testing::WithParamInterface<QuickFailure> {};

// Requests too big to even start on fail at once with a clear error.
TEST_P(LuaQuickFailureTest, FailsAtOnceWithAClearError) {
  ASSERT_NO_FATAL_FAILURE(install_hostile(then_escape(GetParam().attack)));
  Attempt attack = request_attack();
  std::vector<::testing::Matcher<const std::string&>> parts;
  for (const std::string& part : GetParam().error)
    parts.push_back(HasSubstr(part));
  expect_failed(attack, ErrorCode::kPluginError, ::testing::AllOfArray(parts));
  EXPECT_EQ(stats(HookKind::kRequest).timeouts, 0u);
  expect_all_well();
}

INSTANTIATE_TEST_SUITE_P(
    Library, LuaQuickFailureTest,
    ::testing::Values(
        QuickFailure{"format_huge_width",
                     "return string.format('%099999d', 1)",
                     {"invalid conversion specification: '%099999d'"}},
        QuickFailure{"format_huge_precision",
                     "return string.format('%.99999f', 1)",
                     {"invalid conversion specification: '%.99999f'"}},
        QuickFailure{"format_width_of_a_thousand_digits",
                     "return string.format('%' .. string.rep('9', 1000) .. 's', 'x')",
                     {"invalid format (too long)"}},
        QuickFailure{"format_huge_string_width",
                     "return string.format('%999s', 'x')",
                     {"invalid conversion specification: '%999s'"}},
        QuickFailure{"sort_beyond_int_max",
                     "table.sort(setmetatable({}, { __len = function() return 2 ^ 40 end }))",
                     {"bad argument #1 to 'sort' (array too big)"}},
        QuickFailure{"move_too_many_elements",
                     "table.move({}, -1, math.maxinteger, 1)",
                     {"too many elements to move"}},
        QuickFailure{"move_wraps_around",
                     "table.move({}, 1, 1e12, math.maxinteger)",
                     {"destination wrap around"}},
        QuickFailure{
            "unpack_huge_range", "return table.unpack({}, 1, 1e8)", {"too many results to unpack"}},
        QuickFailure{"codepoint_whole_big_string",
                     "return utf8.codepoint(string.rep('a', 2 ^ 22), 1, -1)",
                     {"string slice too long"}},
        QuickFailure{"byte_whole_big_string",
                     "return string.byte(string.rep('a', 2 ^ 22), 1, -1)",
                     {"string slice too long"}}),
    [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace outlet::lua_security
