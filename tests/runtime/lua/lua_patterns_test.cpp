// The sandbox's own Lua pattern engine (lua_patterns.cpp) against stock Lua 5.4:
// the same snippet runs in a stock state and in a sandboxed one, and what each
// returned (or the error it raised) must be the same.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "runtime/lua/lua_test_states.h"

namespace outlet::lua {
namespace {

using namespace std::string_literals;
using testing::lua_quote;
using testing::run_snippet;
using testing::SandboxState;
using testing::StockState;

// Calls `expression` in argument position (not a tail call, so errors name the
// function the same way in both states) and returns all its results.
std::string all_results(const std::string& expression) {
  return "local r = table.pack(" + expression + ") return table.unpack(r, 1, r.n)";
}

// Every match string.gmatch gives, each as a packed table of its captures.
std::string gmatch_all(const std::string& subject, const std::string& pattern,
                       const std::string& init = "") {
  return "local it = string.gmatch(" + subject + ", " + pattern +
         (init.empty() ? "" : ", " + init) +
         ") local out = {} for k = 1, 200 do local c = table.pack(it()) if c[1] == nil then "
         "break end out[k] = c end return out";
}

class PatternDifferentialTest : public ::testing::Test {
 protected:
  // Runs `code` in both states; they must agree.
  void expect_same(const std::string& code) {
    std::string stock = run_snippet(stock_.L, code);
    std::string ours = run_snippet(ours_.L, code);
    EXPECT_EQ(stock, ours) << "snippet: " << code;
    ++cases_;
  }

  void TearDown() override { std::printf("[   INFO   ] %d differential cases\n", cases_); }

  StockState stock_;
  SandboxState ours_;
  int cases_ = 0;
};

// Subjects and patterns for the operation matrix below.
std::vector<std::pair<std::string, std::string>> pattern_cases() {
  const std::string classes = "aZ09 \t\n!.,_~\x01\x7f\x80\xff\0zQ"s;
  std::vector<std::pair<std::string, std::string>> cases = {
      // Anchors.
      {"hello", "^h"},
      {"hello", "^e"},
      {"hello", "o$"},
      {"hello", "l$"},
      {"hello", "^hello$"},
      {"hello", "^hell$"},
      {"", "^$"},
      {"", ""},
      {"", "a*"},
      {"abc", ""},
      {"abc", "^"},
      {"abc", "$"},
      {"a$b", "a$b"},
      {"a$b", "%$"},
      {"a$b", "$b"},
      {"a^b", "a^b"},
      {"^a", "^^a"},
      {"x^", "^x^"},
      {"aaa", "^a"},
      {"aaa", "^a*$"},
      {"ab\nab", "^ab"},
      // Plain text without specials (find takes the plain path).
      {"hello world", "o w"},
      {"hello world", "xyz"},
      {"hello world", "world"},
      {"aaaaab", "aab"},
      {"a\0b\0c"s, "\0c"s},
      {"a\0b"s, "\0"s},
      // Any character and escaped specials.
      {"a.b", "a.b"},
      {"axb", "a.b"},
      {"a.b", "a%.b"},
      {"axb", "a%.b"},
      {"100%", "%d+%%"},
      {"(x)", "%(x%)"},
      {"a+b", "a%+b"},
      {"a-b", "a%-b"},
      {"a*b?", "a%*b%?"},
      {"[x]", "%[x%]"},
      {"[x]", "%[(.)]"},
      {"a]b", "a]b"},
      {"a]b", "%]"},
      {"a/b", "%/"},
      {"a b", "a%sb"},
  };
  // Every class and its complement over bytes of every kind.
  for (const char* klass : {"%a", "%c", "%d", "%g", "%l", "%p", "%s", "%u", "%w", "%x", "%z"}) {
    std::string upper = klass;
    upper[1] = static_cast<char>(std::toupper(upper[1]));
    for (const std::string& pattern :
         {std::string(klass), std::string(klass) + "+", upper, upper + "+",
          "[" + std::string(klass) + "]+", "[^" + std::string(klass) + "]+", "[" + upper + "]+"}) {
      cases.emplace_back(classes, pattern);
    }
  }
  std::vector<std::pair<std::string, std::string>> more = {
      // Sets.
      {"abcdef", "[abc]+"},
      {"abcdef", "[^abc]+"},
      {"abcdef", "[a-c]+"},
      {"abcdef", "[c-a]+"},
      {"abc123", "[%a%d]+"},
      {"a b\tc", "[^%s]+"},
      {"]]a", "[]]+"},
      {"]a]b", "[]a]+"},
      {"]a]b", "[^]]+"},
      {"a-b-c", "[a-]+"},
      {"a-b-c", "[-a]+"},
      {"a-b-c", "[%-]+"},
      {"a-z", "[a%-z]+"},
      {"m", "[a-z]"},
      {"-", "[a-]"},
      {"]x", "[%]]"},
      {"]x]", "[^%]]+"},
      {"a.b", "[.]"},
      {"foo_bar1 x", "[%w_]+"},
      {"abcde-", "[a-c-e]+"},
      {"^^a", "[^^]+"},
      {"^^a", "[%^]+"},
      {"aXb", "[%u]"},
      {"a%b", "[%%]"},
      {"a[b", "[[]"},
      {"a\0b"s, "[\0]"s},
      {"a\0b"s, "[^\0]+"s},
      {"\x80\xff\x7f", "[\x80-\xff]+"},
      // Quantifiers.
      {"aaab", "a*"},
      {"aaab", "a+"},
      {"aaab", "a-"},
      {"aaab", "a?"},
      {"aaab", "a-b"},
      {"aaab", "a*b"},
      {"aaab", "a+b"},
      {"aaab", "a?b"},
      {"baaac", "a*"},
      {"baaac", "a+"},
      {"baaac", "a-c"},
      {"xaxbxc", ".-b"},
      {"xaxbxc", ".*b"},
      {"xaxbxc", ".-"},
      {"xaxbxc", ".*"},
      {"abcabc", "[ab]*c"},
      {"abc", "x*$"},
      {"abc", "b?a"},
      {"abc", "a?b?c?d?"},
      {"<<a>>", "<.->"},
      {"<<a>>", "<.*>"},
      {"int x = 10;", "%a+%s*=%s*(%d+)"},
      {"  trim  ", "^%s*(.-)%s*$"},
      {"key = value", "(%w+)%s*=%s*(%w+)"},
      {"a,b,,c", "[^,]*"},
      {"hello world", "%w*"},
      {"abc", "()"},
      {"abc", ".-$"},
      {"ab", "a**"},
      {"a*", "a**"},
      {"a+", "a?+"},
      {"aaa", "a-+"},
      // Captures.
      {"ab", "(a)(b)"},
      {"aaXb c", "(a*(.)%w(%s*))"},
      {"abc", "()a()"},
      {"abc", "(()a)"},
      {"abc", "((a)(b))"},
      {"hello", "(h)(e)(l)(l)(o)"},
      {"one two", "(.-)%s"},
      {"10-20", "(%d+)-(%d+)"},
      {"abc", "a(.-)c"},
      {"abc", "()b()"},
      {"abc", "(b)()"},
      {"abc", "x()"},
      {"abc", "()$"},
      {"abc", "^()"},
      // Back-references.
      {"aa", "(a)%1"},
      {"xyzzy", "(.)%1"},
      {"say \"hi\" and 'bye'", "([\"'])(.-)%1"},
      {"hey hey you", "(%w+) %1"},
      {"abab", "(ab)%1"},
      {"abab", "(a)(b)%2"},
      {"abc", "()%1"},
      {"aXa", "(a)X%1$"},
      // Balanced.
      {"f(a(b)c) (d", "%b()"},
      {"f(a(b)c) (d", "%b)("},
      {"<a<b>><c>", "%b<>"},
      {"x(y)z", "%b()z"},
      {"x(y)z", "x%b()"},
      {"((", "%b()"},
      {"xaby", "%bab"},
      {"aaa", "%baa"},
      {"", "%b()"},
      // Frontier.
      {"THE (quick) fox", "%f[%a]%a+"},
      {"THE (quick) fox", "%f[%l]%a+"},
      {"hello world", "%f[%w]%w+"},
      {"hello world", "%f[%W]"},
      {"hello", "%f[%a]"},
      {"hello", "%f[%z]"},
      {"hello", "%f[^%z]"},
      {"aaa", "%f[a]"},
      {" x", "%f[%S]."},
      // Malformed patterns and other errors.
      {"abc", "[a"},
      {"abc", "[^a"},
      {"abc", "[a%"},
      {"abc", "["},
      {"abc", "[]"},
      {"abc", "[^]"},
      {"abc", "%"},
      {"abc", "a%"},
      {"abc", "(()"},
      {"abc", "("},
      {"abc", "a("},
      {"abc", ")"},
      {"abc", "a)"},
      {"abc", "%1"},
      {"abc", "(a%1)"},
      {"abc", "(a)%2"},
      {"abc", "%0"},
      {"abc", "(a)%0"},
      {"abc", "%b"},
      {"abc", "%ba"},
      {"abc", "%f"},
      {"abc", "%fa"},
      {"abc", "%f["},
      {"abc", "%f[a"},
      {"abc", std::string(33, '(') + std::string(33, ')')},
      {"abc", std::string(32, '(') + std::string(32, ')')},
      {"abc", std::string(33, '(') + "a" + std::string(33, ')')},
      {std::string(40, 'a'),
       "(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)"
       "(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)"},
      {std::string(300, 'a'),
       [] {
         std::string p;
         for (int i = 0; i < 250; ++i)
           p += "a?";
         return p;
       }()},
      {std::string(150, 'a'),
       [] {
         std::string p;
         for (int i = 0; i < 150; ++i)
           p += "a?";
         return p;
       }()},
      {"abc", "%g%"},
      {"a\0b"s, "%z"},
      {"a\0b"s, "a%zb"},
      {"a\0b\0"s, "\0"s},
      {"ab", "a\0"s},
  };
  cases.insert(cases.end(), more.begin(), more.end());
  return cases;
}

TEST_F(PatternDifferentialTest, OperationMatrix) {
  for (const auto& [raw_subject, raw_pattern] : pattern_cases()) {
    std::string s = lua_quote(raw_subject), p = lua_quote(raw_pattern);
    expect_same(all_results("string.find(" + s + ", " + p + ")"));
    expect_same(all_results("string.find(" + s + ", " + p + ", 3)"));
    expect_same(all_results("string.find(" + s + ", " + p + ", -2)"));
    expect_same(all_results("string.find(" + s + ", " + p + ", 1, true)"));
    expect_same(all_results("string.match(" + s + ", " + p + ")"));
    expect_same(all_results("string.match(" + s + ", " + p + ", 2)"));
    expect_same(gmatch_all(s, p));
    expect_same(all_results("string.gsub(" + s + ", " + p + ", \"<%0>\")"));
    expect_same(all_results("string.gsub(" + s + ", " + p + ", \"[%1]\")"));
    expect_same(all_results("string.gsub(" + s + ", " + p +
                            ", function(...) return select('#', ...) .. ':' .. tostring((...)) "
                            "end)"));
    expect_same(all_results("string.gsub(" + s + ", " + p + ", \"%0%0\", 1)"));
    expect_same(all_results("(" + s + "):match(" + p + ")"));
  }
}

TEST_F(PatternDifferentialTest, FindInitAndPlain) {
  for (const char* init : {"1", "2", "0", "-1", "-3", "-100", "5", "6", "7", "100", "2.0", "'3'",
                           "math.mininteger", "math.maxinteger", "nil", "2.5", "'x'", "{}"}) {
    for (const char* pattern : {"l", "o", "", "l+", "$", "^h", "()", "%w*", "x?"}) {
      std::string args = std::string("\"hello\", \"") + pattern + "\", " + init;
      expect_same(all_results("string.find(" + args + ")"));
      expect_same(all_results("string.find(" + args + ", true)"));
      expect_same(all_results("string.match(" + args + ")"));
      expect_same(gmatch_all("\"hello\"", std::string("\"") + pattern + "\"", init));
    }
  }
  // Plain finds of specials, and patterns that look plain.
  for (const char* code : {
           "string.find('a.b', '.', 1, true)",
           "string.find('a+b', '+', 1, true)",
           "string.find('a(b', '(', 1, true)",
           "string.find('a%b', '%', 1, true)",
           "string.find('a[b', '[', 2, true)",
           "string.find('abc', '', 10, true)",
           "string.find('abc', '', 4, true)",
           "string.find('abc', '', 3, true)",
           "string.find('abc', 'c', -1, true)",
           "string.find('', '', 1, true)",
           "string.find('', '', 2, true)",
           "string.find('abc', 'abcd', 1, true)",
           "string.find('abc', 'a', 1, false)",
           "string.find('a.c', '.', 2, nil)",
           "string.find('a.c', '.', 2, 0)",
           "string.find(12345, 34)",
           "string.find(1.5, '.', 1, true)",
           "string.find('aXb', 88)",
           "string.find()",
           "string.find('a')",
           "string.find(nil, 'a')",
           "string.find({}, 'a')",
           "string.match('a', {})",
           "string.match()",
           "string.find('abc', 'b', 1, {})",
           "('x'):find()",
       }) {
    expect_same(all_results(code));
  }
}

TEST_F(PatternDifferentialTest, Gmatch) {
  for (const char* code : {
           "'hello world from Lua', '%a+'",
           "'k1=v1, k2=v2', '(%w+)=(%w+)'",
           "'abc', ''",
           "'abc', '()'",
           "'abc', 'x*'",
           "'a,b,,c,', '([^,]*)'",
           "'aaa', 'a*'",
           "'aaa', 'a-'",
           "'one two', '^%a+'",
           "'^a^a', '^a'",
           "'abc', '.', 2",
           "'abc', '.', -1",
           "'abc', '.', 0",
           "'abc', '.', 4",
           "'abc', '.', 5",
           "'abc', '', 4",
           "'abc', '', 5",
           "'abc', '()', -10",
           "'abc', '%'",
           "'abc', '[a'",
           "'abab', '(a)(b)()'",
           "'', ''",
           "'', 'x'",
       }) {
    expect_same("local it = string.gmatch(" + std::string(code) +
                ") local out = {} for k = 1, 200 do local c = table.pack(it()) if c[1] == nil then "
                "break end out[k] = c end return out");
  }
  // The iterator keeps going after the end, and errors come from the first call.
  expect_same("local it = string.gmatch('ab', '.') return it(), it(), it(), it()");
  expect_same("local ok, e = pcall(string.gmatch, 'a', '%') return ok");
  expect_same("local it = string.gmatch('a', '%') return pcall(function() return it() end)");
  expect_same(all_results("string.gmatch()"));
  expect_same(all_results("string.gmatch('a')"));
  expect_same(all_results("string.gmatch('a', 'a', 'x')"));
}

TEST_F(PatternDifferentialTest, GsubReplacements) {
  const std::vector<std::string> replacements = {
      "'%0'",
      "'<%0>'",
      "'%1'",
      "'%2'",
      "'%1%2'",
      "'%9'",
      "'%%'",
      "'100%%'",
      "'%'",
      "'a%'",
      "'%x'",
      "'%-'",
      "'%1-%0'",
      "''",
      "5",
      "1.5",
      "-0.0",
      "math.maxinteger",
      "{hello = 'HI', h = 'H', ['1'] = 'one', e = 7, l = false, o = {}}",
      "{}",
      "function() return nil end",
      "function() return false end",
      "function(x) return x .. x end",
      "function(x) return 7 end",
      "function(x) return 2.5 end",
      "function(x) return {} end",
      "function(x) return true end",
      "function(...) return select('#', ...) end",
      "function(x, y) return tostring(y) end",
      "function() error('inside') end",
      "function() error({}) end",
      "true",
      "nil",
      "print == nil and 1 or 2",
  };
  const std::vector<std::pair<std::string, std::string>> inputs = {
      {"'hello world'", "'o'"},
      {"'hello world'", "'(o)'"},
      {"'hello world'", "'(h)(e)'"},
      {"'hello world'", "'%w+'"},
      {"'hello world'", "'(%w+)'"},
      {"'hello world'", "'()l()'"},
      {"'hello world'", "''"},
      {"'hello world'", "'x*'"},
      {"'hello world'", "'^h'"},
      {"'hello world'", "'^(h)'"},
      {"'hello world'", "'d$'"},
      {"'hello'", "'.'"},
      {"'1 2 3'", "'%d'"},
      {"''", "''"},
      {"''", "'x'"},
      {"'abc'", "'%w'"},
  };
  for (const auto& [subject, pattern] : inputs) {
    for (const std::string& replacement : replacements) {
      std::string base = "string.gsub(" + subject + ", " + pattern + ", " + replacement;
      expect_same(all_results(base + ")"));
      expect_same(all_results(base + ", 1)"));
      expect_same(all_results(base + ", 2)"));
      expect_same(all_results(base + ", 0)"));
      expect_same(all_results(base + ", -1)"));
    }
  }
  for (const char* code : {
           "string.gsub('abc', 'b', 'x', 2.5)",
           "string.gsub('abc', 'b', 'x', '1')",
           "string.gsub('abc', 'b', 'x', math.maxinteger)",
           "string.gsub('abc', 'b', 'x', math.mininteger)",
           "string.gsub('abc', 'b')",
           "string.gsub('abc')",
           "string.gsub()",
           "string.gsub('abc', 'b', true, 'x')",
           "string.gsub('abc', 'b', nil, 1)",
           "string.gsub(123, 2, 9)",
           "string.gsub('abc', '%w', '%1', 2)",
           "string.gsub('abc', '(%w)', '%2')",
           "string.gsub('abc', '()', '%1')",
           "string.gsub('abc', '()', {[1] = 'one', [2] = 'two'})",
           "string.gsub('abc', '()', function(p) return p * 10 end)",
           "string.gsub('abc', '(b)', {b = 'B'})",
           "string.gsub('a.b.c', '%.', '%%')",
           "string.gsub('hello', '', '-')",
           "string.gsub('hello', 'l*', '-')",
           "string.gsub('hello', 'l-', '-')",
           "string.gsub('abc', '.', {a = 1, b = true})",
           "string.gsub('abc', '[', 'x')",
           "string.gsub('abc', '(', 'x')",
           "string.gsub('abc', '%f[%w]', '^')",
           "string.gsub('one two', '(%w+) (%w+)', '%2 %1')",
           "string.gsub('$1.00', '%$(%d+)', '%1 dollars')",
           "string.gsub('abc', 'b', function() return 'x' end, 0)",
           "string.gsub('x = 1, y = 2', '(%w+) = (%w+)', '%2 = %1')",
           "string.gsub('abc', '%w', function(c) return c:upper() .. '.' end)",
           "string.gsub('abc', '%w', string.upper)",
           "string.gsub(string.rep('ab', 100), 'a', 'xyz')",
           "string.gsub(string.rep('a', 1000), '', '.')",
           "string.gsub('abc', '.', function(c) return string.gsub(c, '.', '%0%0') end)",
           "('abc'):gsub('b', 'B')",
           "('abc'):gsub()",
       }) {
    expect_same(all_results(code));
  }
}

TEST_F(PatternDifferentialTest, CapturesPastTheirLimitsAndDepth) {
  // 32 captures is the most; 33 is an error, even when only gmatch or gsub meets it.
  std::string many;
  for (int i = 0; i < 32; ++i)
    many += "(.)";
  std::string subject = lua_quote(std::string(40, 'x'));
  expect_same(all_results("string.match(" + subject + ", '" + many + "')"));
  expect_same(all_results("string.match(" + subject + ", '" + many + "(.)')"));
  expect_same(all_results("string.gsub(" + subject + ", '" + many + "(.)', '')"));
  expect_same(gmatch_all(subject, "'" + many + "(.)'"));
  expect_same(all_results("string.match(" + subject + ", '" + many + "()')"));
  // Deep backtracking stops at the same depth ("pattern too complex").
  for (int n : {100, 190, 197, 198, 199, 200, 201, 250}) {
    expect_same(all_results("string.match(string.rep('a', " + std::to_string(n) +
                            "), string.rep('a?', " + std::to_string(n) + "))"));
    expect_same(all_results("string.match(string.rep('a', " + std::to_string(n) +
                            "), string.rep('a?', " + std::to_string(n) + ") .. '$')"));
    expect_same(all_results("string.find(string.rep('a', " + std::to_string(n) +
                            ") .. 'b', string.rep('a?', " + std::to_string(n) + ") .. 'b')"));
    expect_same(all_results("string.match(string.rep('ab', " + std::to_string(n) +
                            "), string.rep('(a)b', 31) .. '.-$')"));
  }
}

// Random patterns built from the pattern language's tokens, random subjects from a
// small alphabet: both engines must agree on every result and every error.
TEST_F(PatternDifferentialTest, RandomPatternsAgreeWithStockLua) {
  std::mt19937 random(20240521);
  const std::vector<std::string> tokens = {
      "a",    "b",     "c",    ".",  "%a",  "%d", "%s",   "%w",   "%W",     "%p",    "%z",
      "%%",   "%.",    "%(",   "(",  ")",   "()", "%1",   "%2",   "%0",     "[",     "]",
      "^",    "$",     "*",    "+",  "-",   "?",  "%b()", "%bab", "%f[%w]", "%f[a]", "[ab]",
      "[^a]", "[a-c]", "[%a]", "[]", "[^]", "%",  " ",    "1",    "[%]]",   "%f",    "%b",
  };
  const std::string alphabet = "aabbc ()1.%]\0"s;
  const std::vector<std::string> replacements = {
      "'<%0>'",
      "'%1'",
      "'%2%1'",
      "'%%'",
      "'%'",
      "'%x'",
      "'[%3]'",
      "'x'",
      "''",
      "{a = 'A', ['('] = false, [' '] = 1}",
      "function(a, b) return b end",
  };
  auto random_text = [&](size_t max_length) {
    std::string text;
    size_t length = random() % (max_length + 1);
    for (size_t i = 0; i < length; ++i)
      text += alphabet[random() % alphabet.size()];
    return text;
  };
  int errors = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string pattern;
    size_t length = random() % 7;
    for (size_t i = 0; i < length; ++i)
      pattern += tokens[random() % tokens.size()];
    std::string s = lua_quote(random_text(10)), p = lua_quote(pattern);
    std::string init = std::to_string(static_cast<int>(random() % 15) - 7);
    std::string find = all_results("string.find(" + s + ", " + p + ", " + init + ")");
    std::string stock = run_snippet(stock_.L, find);
    if (stock.rfind("error", 0) == 0)
      ++errors;
    EXPECT_EQ(stock, run_snippet(ours_.L, find)) << find;
    ++cases_;
    expect_same(all_results("string.match(" + s + ", " + p + ")"));
    expect_same(gmatch_all(s, p));
    expect_same(all_results("string.gsub(" + s + ", " + p + ", " +
                            replacements[random() % replacements.size()] + ", " +
                            std::to_string(random() % 4 + 1) + ")"));
    expect_same(all_results("string.gsub(" + s + ", " + p +
                            ", function(...) return select('#', ...) .. tostring((...)) end)"));
    if (HasFailure())
      return;
  }
  // Both kinds of outcome were exercised.
  EXPECT_GT(errors, 100);
  EXPECT_LT(errors, 2500);
}

TEST(PatternMeterTest, APathologicalPatternStopsAtTheDeadline) {
  // Stock Lua would backtrack for a very long time; the metered engine stops.
  testing::SandboxState ours;
  ours.guard->begin(std::chrono::steady_clock::now() + std::chrono::milliseconds(50),
                    "took longer than 50 ms", nullptr);
  auto started = std::chrono::steady_clock::now();
  std::string result =
      run_snippet(ours.L, "return string.find(string.rep('a', 40), string.rep('a*', 40) .. 'b')");
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_NE(result.find("took longer than 50 ms"), std::string::npos) << result;
  EXPECT_LT(took, std::chrono::seconds(5));
  ours.guard->end();
}

}  // namespace
}  // namespace outlet::lua
