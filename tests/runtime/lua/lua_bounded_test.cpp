// The sandbox's bounded string, table and utf8 functions (lua_bounded.cpp)
// against stock Lua 5.4: the same snippet runs in both states and must give the
// same results and the same errors. table.sort is a heapsort, so where equal
// elements may end up in another order only sortedness and contents are compared.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "runtime/lua/lua_test_states.h"

namespace outlet::lua {
namespace {

using testing::run_snippet;
using testing::SandboxState;
using testing::StockState;

std::string all_results(const std::string& expression) {
  return "local r = table.pack(" + expression + ") return table.unpack(r, 1, r.n)";
}

class BoundedDifferentialTest : public ::testing::Test {
 protected:
  void expect_same(const std::string& code, bool unordered = false) {
    std::string stock = run_snippet(stock_.L, code, unordered);
    std::string ours = run_snippet(ours_.L, code, unordered);
    EXPECT_EQ(stock, ours) << "snippet: " << code;
    ++cases_;
  }
  void expect_same_results(const std::vector<std::string>& expressions) {
    for (const std::string& expression : expressions)
      expect_same(all_results(expression));
  }
  void TearDown() override { std::printf("[   INFO   ] %d differential cases\n", cases_); }

  StockState stock_;
  SandboxState ours_;
  int cases_ = 0;
};

TEST_F(BoundedDifferentialTest, StringRep) {
  expect_same_results({
      "string.rep('ab', 3)",
      "string.rep('ab', 3, ',')",
      "string.rep('ab', 1, ',')",
      "string.rep('ab', 0, ',')",
      "string.rep('ab', -1)",
      "string.rep('ab', math.mininteger)",
      "string.rep('', 5)",
      "string.rep('', 5, '')",
      "string.rep('', 3, '-')",
      "string.rep('x', 4, '')",
      "string.rep('a\\0b', 3, '\\0')",
      "string.rep('ab', 3, 5)",
      "string.rep(12, 2)",
      "string.rep('x', 2.0)",
      "string.rep('x', '3')",
      "string.rep('x', 2.5)",
      "string.rep('x', 'y')",
      "string.rep('x')",
      "string.rep()",
      "string.rep('x', 2, {})",
      "string.rep('x', nil)",
      "('ab'):rep(2, '|')",
      "#string.rep('abc', 30000, '--')",
      "string.rep('abc', 30000, '--') == string.rep('abc--', 29999) .. 'abc'",
      "string.sub(string.rep('abcdefg', 20000, 'XY'), 65530, 65560)",
  });
  // Across the 64 KiB chunks the result is built in.
  expect_same("return string.rep('abcdefg', 20000, 'XY')");
}

TEST_F(BoundedDifferentialTest, StringCaseAndReverse) {
  for (const char* function : {"upper", "lower", "reverse"}) {
    std::string f = std::string("string.") + function;
    expect_same_results({
        f + "('aBc')",
        f + "('')",
        f + "('aBc\\0\\233\\255xYz')",
        f + "(12)",
        f + "(1.5)",
        f + "()",
        f + "({})",
        f + "(nil)",
        f + "('Hello, World! 123 _-')",
        "('MiXeD'):" + std::string(function) + "()",
    });
    expect_same("return " + f + "(string.rep('aB\\0\\200', 40000))");
    expect_same("local s = '' for i = 0, 255 do s = s .. string.char(i) end return " + f + "(s)");
  }
}

TEST_F(BoundedDifferentialTest, TableConcat) {
  expect_same_results({
      "table.concat({1, 2, 3})",
      "table.concat({1, 2, 3}, ', ')",
      "table.concat({1, 2, 3}, ', ', 2)",
      "table.concat({1, 2, 3}, ', ', 2, 3)",
      "table.concat({1, 2, 3}, ', ', 3, 3)",
      "table.concat({1, 2, 3}, ', ', 3, 2)",
      "table.concat({1, 2, 3}, ', ', 1, 4)",
      "table.concat({1, 2, 3}, ', ', 0)",
      "table.concat({1, 2, 3}, ', ', -1, 1)",
      "table.concat({1, 2, 3}, nil, 2)",
      "table.concat({1, 2, 3}, ', ', 1, 2.0)",
      "table.concat({1, 2, 3}, ', ', '2')",
      "table.concat({1, 2, 3}, ', ', 1.5)",
      "table.concat({1, 2, 3}, ', ', 1, 'x')",
      "table.concat({}, 'x')",
      "table.concat({}, 'x', 1, 0)",
      "table.concat({'a', 2.5, 3, -0.0, 1e100, math.mininteger}, '-')",
      "table.concat({1, {}, 3})",
      "table.concat({1, true, 3})",
      "table.concat({1, 2, nil, 4}, ',', 1, 4)",
      "table.concat({[0] = 'z', 'a'}, ',', 0)",
      "table.concat({}, 'x', math.maxinteger - 1, math.maxinteger)",
      "table.concat({}, '', math.maxinteger, math.maxinteger)",
      "table.concat({}, '', math.mininteger, math.mininteger + 1)",
      "table.concat({'a', 'b'}, '', math.maxinteger, 1)",
      "table.concat(nil)",
      "table.concat()",
      "table.concat('abc')",
      "table.concat({1}, {})",
      "table.concat({1, 2}, 5)",
      "table.concat({'a\\0', 'b'}, '\\0')",
      "table.concat(setmetatable({}, {__index = function(t, i) return 'v' .. i end, "
      "__len = function() return 3 end}), '+')",
      "table.concat(setmetatable({}, {__len = function() return 2.5 end}))",
      "table.concat(setmetatable({}, {__len = function() return 'x' end}), '', 1, 0)",
      "#table.concat({string.rep('x', 50000), string.rep('y', 50000)}, string.rep('-', 100))",
  });
}

TEST_F(BoundedDifferentialTest, TableInsertAndRemove) {
  const std::vector<std::string> calls = {
      "table.insert(t, 4)",
      "table.insert(t, 1, 0)",
      "table.insert(t, 2, 'x')",
      "table.insert(t, 3, 'x')",
      "table.insert(t, 4, 'x')",
      "table.insert(t, 5, 'x')",
      "table.insert(t, 0, 'x')",
      "table.insert(t, -1, 'x')",
      "table.insert(t, math.mininteger, 'x')",
      "table.insert(t, 2, nil)",
      "table.insert(t, 2.0, 'x')",
      "table.insert(t, 2.5, 'x')",
      "table.insert(t, '2', 'x')",
      "table.insert(t, 'x', 'y')",
      "table.insert(t)",
      "table.insert(t, 1, 2, 3)",
      "table.insert(nil, 1)",
      "table.insert('abc', 1)",
      "table.insert()",
      "table.remove(t)",
      "table.remove(t, 1)",
      "table.remove(t, 2)",
      "table.remove(t, 3)",
      "table.remove(t, 4)",
      "table.remove(t, 5)",
      "table.remove(t, 0)",
      "table.remove(t, -1)",
      "table.remove(t, nil)",
      "table.remove(t, '1')",
      "table.remove(t, 1.5)",
      "table.remove(t, 1, 2)",
      "table.remove(nil)",
      "table.remove()",
  };
  for (const char* table : {"{1, 2, 3}", "{}", "{'a'}", "{[0] = 'z'}", "{1, 2, 3, n = 'x'}"}) {
    for (const std::string& call : calls) {
      expect_same("local t = " + std::string(table) + " local r = table.pack(" + call +
                  ") return r, t");
    }
  }
  expect_same("local t = {} table.remove(t, 0) return t, #t");
  expect_same("local t = {[0] = 'z'} return table.remove(t, 0), t");
  expect_same("local t = {} return table.remove(t, -1)");
  // Through metamethods: a proxy that logs every access.
  expect_same(
      "local log, real = {}, {10, 20, 30} "
      "local t = setmetatable({}, {__index = function(_, k) log[#log + 1] = 'get' .. k "
      "return real[k] end, __newindex = function(_, k, v) log[#log + 1] = 'set' .. k "
      "real[k] = v end, __len = function() return #real end}) "
      "table.insert(t, 2, 15) table.insert(t, 40) local removed = table.remove(t, 1) "
      "return log, real, removed");
  // A large shift.
  expect_same(
      "local t = {} for i = 1, 5000 do t[i] = i end table.insert(t, 1, 0) "
      "local a = table.remove(t, 2) return a, #t, t[1], t[2], t[5000]");
}

TEST_F(BoundedDifferentialTest, TableMove) {
  expect_same_results({
      "table.move({1, 2, 3, 4, 5}, 2, 4, 1)",
      "table.move({1, 2, 3, 4, 5}, 1, 3, 2)",
      "table.move({1, 2, 3, 4, 5}, 1, 3, 3)",
      "table.move({1, 2, 3, 4, 5}, 1, 5, 1)",
      "table.move({1, 2, 3, 4, 5}, 2, 5, 1)",
      "table.move({1, 2, 3, 4, 5}, 1, 4, 2)",
      "table.move({1, 2, 3}, 1, 0, 5)",
      "table.move({1, 2, 3}, 3, 1, 1)",
      "table.move({1, 2, 3}, 2, 3, 10)",
      "table.move({1, 2, 3}, -1, 1, 1)",
      "table.move({1, 2, 3}, 1, 3, -5)",
      "table.move({1, 2, 3}, 1, 3, 1, {})",
      "table.move({1, 2, 3}, 1, 3, 2, {'a', 'b', 'c', 'd'})",
      "table.move({1, 2, 3}, 1, 3, 3, nil)",
      "table.move({1, 2, 3}, 1, math.maxinteger, 2)",
      "table.move({1, 2, 3}, 0, math.maxinteger, 1)",
      "table.move({1, 2, 3}, -1, math.maxinteger - 1, 1)",
      "table.move({1, 2, 3}, -2, math.maxinteger - 3, math.maxinteger)",
      "table.move({1, 2, 3}, 1, 2, math.maxinteger)",
      "table.move({1, 2, 3}, 1, 2, math.maxinteger - 1)",
      "table.move({1, 2, 3}, math.mininteger, -1, 1)",
      "table.move({1, 2, 3}, 1, 2, 3, 5)",
      "table.move({1, 2, 3}, 1, 2)",
      "table.move({1, 2, 3}, 1.5, 2, 3)",
      "table.move({1, 2, 3}, '1', '2', '3')",
      "table.move(nil, 1, 2, 3)",
      "table.move(nil, 'x', 2, 3)",
      "table.move({}, 1, 2, 'x')",
      "table.move({}, 1, 2, 3, 'x')",
      "table.move('abc', 1, 2, 1, {})",
      "table.move('abc', 1, 2, 1)",
      "table.move()",
  });
  // The destination is returned as itself.
  expect_same(
      "local a, b = {1, 2}, {} return table.move(a, 1, 2, 3) == a, "
      "table.move(a, 1, 2, 1, b) == b, b");
  // Same table given as the destination: still overlapping in place.
  expect_same("local a = {1, 2, 3, 4, 5} table.move(a, 1, 4, 2, a) return a");
  expect_same("local a = {1, 2, 3, 4, 5} table.move(a, 2, 5, 1, a) return a");
  // Through metamethods, in the order the elements are touched.
  expect_same(
      "local log = {} local src = setmetatable({}, {__index = function(_, k) "
      "log[#log + 1] = 'get' .. k return k * 10 end}) "
      "local dst = setmetatable({}, {__newindex = function(_, k, v) "
      "log[#log + 1] = 'set' .. k .. '=' .. v end}) "
      "table.move(src, 1, 3, 2, dst) table.move(src, 5, 7, 6) return log");
}

TEST_F(BoundedDifferentialTest, Utf8Len) {
  const std::vector<std::string> strings = {
      "''",
      "'abc'",
      "'h\\195\\164ll\\226\\130\\172'",         // "häll€"
      "'\\240\\159\\152\\128x'",                // U+1F600
      "'\\255'",                                // never valid
      "'a\\128b'",                              // a lone continuation byte
      "'\\195'",                                // truncated
      "'\\195\\040'",                           // a bad continuation
      "'\\192\\128'",                           // overlong NUL
      "'\\224\\128\\128'",                      // overlong 3 bytes
      "'\\240\\128\\128\\128'",                 // overlong 4 bytes
      "'\\237\\160\\128'",                      // a surrogate
      "'\\244\\143\\191\\191'",                 // U+10FFFF
      "'\\244\\144\\128\\128'",                 // U+110000
      "'\\248\\136\\128\\128\\128'",            // 5 bytes
      "'\\252\\132\\128\\128\\128\\128'",       // 6 bytes
      "'\\253\\191\\191\\191\\191\\191'",       // 0x7FFFFFFF
      "'\\254\\128\\128\\128\\128\\128\\128'",  // 7 bytes
      "'\\248\\128\\128\\128\\128'",            // overlong 5 bytes
      "'ok\\226\\130'",                         // truncated at the end
      "'a\\0b'",
  };
  const std::vector<std::string> arguments = {
      "",
      ", 1",
      ", 2",
      ", 3",
      ", 4",
      ", 5",
      ", 0",
      ", -1",
      ", -2",
      ", -100",
      ", 1, -1",
      ", 1, -2",
      ", 1, 0",
      ", 1, 1",
      ", 1, 2",
      ", 2, 1",
      ", 1, 10",
      ", 1, -100",
      ", 1, -1, true",
      ", 2, -1, true",
      ", nil, nil, true",
      ", 1.5",
      ", 'x'",
      ", 1, 2.5",
      ", math.maxinteger",
      ", math.mininteger",
      ", 1, math.maxinteger",
  };
  for (const std::string& text : strings) {
    for (const std::string& argument : arguments)
      expect_same(all_results("utf8.len(" + text + argument + ")"));
  }
  expect_same_results({"utf8.len()", "utf8.len({})", "utf8.len(12345)", "utf8.len(1.5)",
                       "utf8.len(string.rep('\\226\\130\\172', 30000))"});
}

TEST_F(BoundedDifferentialTest, Utf8Offset) {
  const std::vector<std::string> strings = {
      "''",
      "'abc'",
      "'a\\226\\130\\172b'",
      "'\\226\\130\\172'",
      "'\\240\\159\\152\\128x\\195\\164'",
      "'\\128\\128a'",
      "'a\\128\\128'",
  };
  std::vector<std::string> arguments;
  for (int n = -5; n <= 5; ++n) {
    arguments.push_back(", " + std::to_string(n));
    for (int i = -8; i <= 8; ++i)
      arguments.push_back(", " + std::to_string(n) + ", " + std::to_string(i));
  }
  for (const char* extra :
       {", 1, 1.5", ", 1.5", ", 'x'", ", 1, 'x'", ", math.maxinteger", ", math.mininteger",
        ", 1, math.maxinteger", ", 1, math.mininteger", ", -1, math.mininteger", ""}) {
    arguments.push_back(extra);
  }
  for (const std::string& text : strings) {
    for (const std::string& argument : arguments)
      expect_same(all_results("utf8.offset(" + text + argument + ")"));
  }
  expect_same_results({"utf8.offset()", "utf8.offset(12345, 2)",
                       "utf8.offset(string.rep('\\226\\130\\172', 30000), 29000)",
                       "utf8.offset(string.rep('\\226\\130\\172', 30000), -29000)"});
}

TEST_F(BoundedDifferentialTest, TableSort) {
  // Every element distinct (or equal ones indistinguishable): the exact order matches.
  expect_same_results({
      "table.sort({})",
      "table.sort({}, 5)",
      "table.sort({1}, 5)",
      "table.sort({1}, 'x')",
      "table.sort({2, 1}, 5)",
      "table.sort({2, 1}, nil)",
      "table.sort(nil)",
      "table.sort('abc')",
      "table.sort()",
      "table.sort({{}, {}})",
      "table.sort({3, 2, 1}, function(a, b) error('cmp failed') end)",
      "table.sort({3, 2, 1}, function(a, b) error({}) end)",
  });
  for (const char* elements : {
           "{5, 3, 1, 4, 2}",
           "{2, 1}",
           "{1, 2}",
           "{1}",
           "{}",
           "{1, 1, 1}",
           "{3, 3, 1, 1, 2, 2}",
           "{'b', 'a', 'c', 'aa', '', 'B'}",
           "{3, 1.5, 2, -1, 1e10, math.huge, -math.huge, 0}",
           "{math.maxinteger, math.mininteger, 0, -1, 1}",
           "{'10', '9', '1', '100'}",
       }) {
    for (const char* comparator :
         {"", ", function(a, b) return a > b end", ", function(a, b) return a < b end", ", nil"}) {
      expect_same("local t = " + std::string(elements) + " table.sort(t" + comparator +
                  ") return t");
    }
  }
  // Random integers with many duplicates.
  std::mt19937 random(7);
  for (int round = 0; round < 40; ++round) {
    std::string elements = "{";
    size_t count = random() % 300;
    for (size_t i = 0; i < count; ++i)
      elements += std::to_string(static_cast<int>(random() % 50) - 25) + ",";
    elements += "}";
    expect_same("local t = " + elements + " table.sort(t) return t");
    expect_same("local t = " + elements +
                " table.sort(t, function(a, b) return a > b end) return t");
  }
  // Records with equal keys: sorted, and the same records, in whatever order.
  const char* check_sorted =
      " for i = 2, #t do if cmp(t[i], t[i - 1]) then return 'unsorted at ' .. i end end"
      " return t";
  for (int round = 0; round < 40; ++round) {
    std::string elements = "{";
    size_t count = random() % 200;
    for (size_t i = 0; i < count; ++i) {
      elements += "{k = " + std::to_string(random() % 10) + ", v = " + std::to_string(i) + "},";
    }
    elements += "}";
    expect_same("local t = " + elements +
                    " local cmp = function(a, b) return a.k < b.k end table.sort(t, cmp)" +
                    check_sorted,
                /*unordered=*/true);
    expect_same("local t = " + elements +
                    " local cmp = function(a, b) return a.k > b.k end table.sort(t, cmp)" +
                    check_sorted,
                /*unordered=*/true);
  }
  // Strings through a comparator that ignores case.
  expect_same(
      "local t = {'b', 'A', 'a', 'B', 'c', 'C'} local cmp = function(x, y) return x:lower() < "
      "y:lower() end table.sort(t, cmp)" +
          std::string(check_sorted),
      /*unordered=*/true);
}

TEST(BoundedSortTest, AnInconsistentComparatorNeitherCrashesNorLosesElements) {
  SandboxState ours;
  for (const char* comparator :
       {"function() return true end", "function() return false end",
        "function(a, b) return math.random() < 0.5 end", "function(a, b) return a <= b end"}) {
    std::string code = "local t = {} for i = 1, 500 do t[i] = i % 37 end table.sort(t, " +
                       std::string(comparator) +
                       ") local seen = {} for i = 1, 500 do seen[t[i]] = (seen[t[i]] or 0) + 1 "
                       "end local total = 0 for k, v in pairs(seen) do total = total + v end "
                       "return #t, total, seen[0], seen[36]";
    EXPECT_EQ(run_snippet(ours.L, code), "ok i500 i500 i13 i13") << comparator;
  }
  // Comparisons that fail name the types, as stock Lua does (in either order).
  std::string mixed = run_snippet(ours.L, "table.sort({1, 'x', 2})");
  EXPECT_NE(mixed.find("attempt to compare"), std::string::npos) << mixed;
}

TEST(BoundedMeterTest, LongWorkStopsAtTheDeadline) {
  for (const char* code : {
           "local t = {} for i = 1, 200000 do t[i] = -i end table.sort(t, function(a, b) "
           "return a < b end)",
           "local s = string.rep('x', 1 << 20) for i = 1, 10000 do s:upper() end",
           "local t = {} for i = 1, 100000 do t[i] = 'x' end for i = 1, 1000 do "
           "table.concat(t, ',') end",
           "local t = {} for i = 1, 100000 do t[i] = i end for i = 1, 100000 do "
           "table.insert(t, 1, i) end",
       }) {
    SandboxState ours;
    ours.guard->begin(std::chrono::steady_clock::now() + std::chrono::milliseconds(30),
                      "took longer than 30 ms", nullptr);
    auto started = std::chrono::steady_clock::now();
    std::string result = run_snippet(ours.L, code);
    auto took = std::chrono::steady_clock::now() - started;
    // A large allocation refused past the deadline surfaces here as Lua's memory
    // error; the runtime reports it as the timeout it is (LuaRuntime's finish).
    bool stopped_in_allocation =
        ours.guard->refused_for_time && result.find("not enough memory") != std::string::npos;
    EXPECT_TRUE(result.find("took longer than 30 ms") != std::string::npos || stopped_in_allocation)
        << code << "\n"
        << result;
    EXPECT_LT(took, std::chrono::seconds(3)) << code;
    ours.guard->end();
  }
}

TEST(BoundedRepTest, AResultLargerThanTheMemoryLimitIsRefusedUpFront) {
  SandboxState ours(size_t{64} << 20);
  std::string result = run_snippet(ours.L, "return string.rep('x', 1 << 40)");
  EXPECT_NE(result.find("larger than the plugin's memory limit"), std::string::npos) << result;
  result = run_snippet(ours.L, "return string.rep('ab', math.maxinteger, 'cd')");
  EXPECT_NE(result.find("larger than the plugin's memory limit"), std::string::npos) << result;
  EXPECT_EQ(run_snippet(ours.L, "return #string.rep('x', 1 << 20)"), "ok i1048576");
}

}  // namespace
}  // namespace outlet::lua
