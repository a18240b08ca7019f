// JSON <-> Lua (lua_values.cpp): what survives a round trip exactly, what Lua
// values cannot become JSON and how the error names where they are, the
// conversion limits, and the UTF-8 validator the conversion relies on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "runtime/lua/lua_test_states.h"

namespace outlet::lua {
namespace {

using namespace std::string_literals;
using ::testing::HasSubstr;
using testing::SandboxState;

struct PushRequest {
  const ValueRefs* refs;
  const Json* value;
};

int push_trampoline(lua_State* L) {
  const auto* request = static_cast<const PushRequest*>(lua_touserdata(L, 1));
  lua_pop(L, 1);
  push_json(L, *request->refs, *request->value);
  return 1;
}

class LuaValuesTest : public ::testing::Test {
 protected:
  lua_State* L() { return state_.L; }
  const ValueRefs& refs() { return state_.guard->refs; }

  // Pushes `value` (under protection, as the runtime does).
  void push(const Json& value) {
    PushRequest request{&refs(), &value};
    lua_pushcfunction(L(), push_trampoline);
    lua_pushlightuserdata(L(), &request);
    ASSERT_EQ(lua_pcall(L(), 1, 1, 0), LUA_OK) << lua_tostring(L(), -1);
  }

  // JSON -> Lua -> JSON.
  Json round_trip(const Json& value) {
    lua_settop(L(), 0);
    push(value);
    Json out;
    std::string error;
    EXPECT_TRUE(to_json(L(), refs(), -1, limits_, out, error)) << error;
    lua_settop(L(), 0);
    return out;
  }

  // Runs `code` with the global `input` set to `value`; its first result.
  // Returns false (with `error` set) when the code raised or the result cannot
  // become JSON.
  bool evaluate(const std::string& code, const Json& input, Json& out, std::string& error) {
    lua_settop(L(), 0);
    push(input);
    lua_setglobal(L(), "input");
    if (luaL_loadbufferx(L(), code.data(), code.size(), "=case", "t") != LUA_OK ||
        lua_pcall(L(), 0, 1, 0) != LUA_OK) {
      error = "lua: " + std::string(lua_tostring(L(), -1));
      lua_settop(L(), 0);
      return false;
    }
    bool ok = to_json(L(), refs(), -1, limits_, out, error);
    lua_settop(L(), 0);
    return ok;
  }
  Json evaluate(const std::string& code, const Json& input = Json()) {
    Json out;
    std::string error;
    EXPECT_TRUE(evaluate(code, input, out, error)) << code << "\n" << error;
    return out;
  }
  // The error converting what `code` returns.
  std::string conversion_error(const std::string& code) {
    Json out;
    std::string error;
    EXPECT_FALSE(evaluate(code, Json(), out, error)) << code << " gave " << out.dump();
    EXPECT_EQ(error.rfind("lua: ", 0), std::string::npos) << code << "\n" << error;
    return error;
  }

  SandboxState state_;
  ConversionLimits limits_;
};

// dump() tells 1 from 1.0 and -0.0 from 0 (Json's operator== does not).
void expect_identical(const Json& expected, const Json& actual) {
  EXPECT_EQ(expected.dump(), actual.dump());
  EXPECT_EQ(expected.type(), actual.type()) << expected.dump();
}

TEST_F(LuaValuesTest, NumbersKeepTheirKind) {
  Json document = Json::parse(
      R"({"i": 1, "f": 1.0, "neg": -5, "zero": 0, "fzero": 0.0, "negzero": -0.0,
          "half": 0.5, "big": 1e300, "tiny": 5e-324, "exp": 1e2})");
  Json back = round_trip(document);
  expect_identical(document, back);
  EXPECT_TRUE(back["i"].is_number_integer());
  EXPECT_TRUE(back["f"].is_number_float());
  EXPECT_TRUE(back["fzero"].is_number_float());
  EXPECT_TRUE(back["exp"].is_number_float());
  // In Lua, as math.type sees them.
  EXPECT_EQ(
      evaluate("return {math.type(input.i), math.type(input.f), math.type(input.exp)}", document),
      Json::array({"integer", "float", "float"}));
}

TEST_F(LuaValuesTest, Int64ExtremesStayExactIntegers) {
  for (int64_t value : {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min(),
                        int64_t{0}, int64_t{-1}, int64_t{1} << 53, (int64_t{1} << 53) + 1}) {
    Json back = round_trip(Json(value));
    EXPECT_TRUE(back.is_number_integer()) << value;
    EXPECT_EQ(back.get<int64_t>(), value);
  }
  EXPECT_EQ(evaluate("return math.type(input) .. ' ' .. tostring(input == math.maxinteger)",
                     Json(std::numeric_limits<int64_t>::max())),
            "integer true");
  EXPECT_EQ(evaluate("return input == math.mininteger", Json(std::numeric_limits<int64_t>::min())),
            true);
  // Lua arithmetic wraps; what comes back is what Lua holds.
  EXPECT_EQ(evaluate("return input + 1", Json(std::numeric_limits<int64_t>::max())),
            Json(std::numeric_limits<int64_t>::min()));
}

TEST_F(LuaValuesTest, UnsignedIntegersAboveInt64BecomeFloats) {
  // Parsed as unsigned; within int64 they stay integers.
  Json fits = Json::parse("9223372036854775807");
  ASSERT_TRUE(fits.is_number_unsigned());
  Json back = round_trip(fits);
  EXPECT_TRUE(back.is_number_integer());
  EXPECT_EQ(back.get<int64_t>(), std::numeric_limits<int64_t>::max());
  for (const char* text : {"9223372036854775808", "18446744073709551615"}) {
    Json large = Json::parse(text);
    ASSERT_TRUE(large.is_number_unsigned());
    back = round_trip(large);
    EXPECT_TRUE(back.is_number_float()) << text;
    EXPECT_DOUBLE_EQ(back.get<double>(), static_cast<double>(large.get<uint64_t>()));
    EXPECT_EQ(evaluate("return math.type(input)", large), "float");
  }
}

TEST_F(LuaValuesTest, EmptyArraysAndObjectsStayApart) {
  for (const char* text : {"[]", "{}", R"({"a": [], "b": {}})", "[[], {}, [[]], [{}]]",
                           R"({"a": {"b": {"c": []}}})"}) {
    Json document = Json::parse(text);
    expect_identical(document, round_trip(document));
  }
  // In Lua: both are tables, the array marked; the mark survives edits.
  EXPECT_EQ(evaluate("input.a[1] = 'x' return input", Json::parse(R"({"a": [], "b": {}})")),
            Json::parse(R"({"a": ["x"], "b": {}})"));
  EXPECT_EQ(evaluate("return #input.a, next(input.b)", Json::parse(R"({"a": [], "b": {}})")), 0);
  EXPECT_EQ(evaluate("local t = input.a t[1] = nil return t", Json::parse(R"({"a": [1]})")),
            Json::array());
  // Lua-made values: an empty table is an object; outlet.array marks an array.
  EXPECT_EQ(evaluate("return {}"), Json::object());
  EXPECT_EQ(evaluate("return outlet.array()"), Json::array());
  EXPECT_EQ(evaluate("return outlet.array({})"), Json::array());
  EXPECT_EQ(evaluate("return outlet.array({1, 2})"), Json::array({1, 2}));
  EXPECT_EQ(evaluate("return {1, 2, {}}"), Json::parse("[1, 2, {}]"));
}

TEST_F(LuaValuesTest, NestedValuesRoundTrip) {
  for (const char* text : {
           R"([[1, [2, [3, [4.5, "x"]]]], {"x": {"y": [{"z": true}, false]}}])",
           R"({"user": {"id": "u-1", "roles": ["a", "b"], "meta": {"n": 3, "ok": true}}})",
           R"(["a", 1, 1.5, true, false, null, {}, []])",
       }) {
    Json document = Json::parse(text);
    expect_identical(document, round_trip(document));
  }
  // Deep but within the limit.
  Json deep = Json::array();
  for (int i = 0; i < 120; ++i)
    deep = Json::array({deep});
  expect_identical(deep, round_trip(deep));
}

TEST_F(LuaValuesTest, NullIsTheOutletNullSentinel) {
  Json document = Json::parse(R"({"a": null, "b": [null, 1, null], "c": {"d": null}})");
  expect_identical(document, round_trip(document));
  expect_identical(Json(), round_trip(Json()));
  expect_identical(Json::array({nullptr}), round_trip(Json::array({nullptr})));
  // Present and null differs from absent.
  EXPECT_EQ(evaluate("return {input.a == outlet.null, input.missing == nil, #input.b, "
                     "input.b[1] == outlet.null, type(input.a), tostring(input.a)}",
                     document),
            Json::parse(R"([true, true, 3, true, "userdata", "outlet.null"])"));
  EXPECT_EQ(evaluate("return input == outlet.null", Json()), true);
  // Lua-made: outlet.null anywhere, nil at the top.
  EXPECT_EQ(evaluate("return {a = outlet.null, b = {outlet.null, 2}}"),
            Json::parse(R"({"a": null, "b": [null, 2]})"));
  EXPECT_EQ(evaluate("return nil"), Json());
  EXPECT_EQ(evaluate("return outlet.null"), Json());
  // A nil field is just absent.
  EXPECT_EQ(evaluate("return {a = nil, b = 1}"), Json::parse(R"({"b": 1})"));
}

TEST_F(LuaValuesTest, UnicodeStringsRoundTrip) {
  Json document = {{"plain", "hello"},
                   {"accents", "h\u00e9llo w\u00f6rld"},
                   {"cjk", "\u4f60\u597d"},
                   {"emoji", "\U0001F600 \u2713"},
                   {"nul", "a\0b"s},
                   {"controls", "\t\n\r\x01"},
                   {"\u00fcmlaut-key", "\U0010FFFF"}};
  expect_identical(document, round_trip(document));
  // Lua sees the bytes.
  EXPECT_EQ(evaluate("return {#input.emoji, utf8.len(input.emoji), #input.nul}", document),
            Json::array({8, 3, 3}));
  EXPECT_EQ(evaluate("return '\\u{1F600}' .. input.cjk", document), "\U0001F600\u4f60\u597d");
}

TEST_F(LuaValuesTest, ErrorsNameThePath) {
  EXPECT_EQ(conversion_error("return {a = {1, 2, function() end}}"),
            "at $.a[2]: a function value cannot become JSON");
  EXPECT_EQ(conversion_error("return function() end"), "at $: a function value cannot become JSON");
  EXPECT_EQ(conversion_error("return {list = {{}, {1, coroutine.create(function() end)}}}"),
            "at $.list[1][1]: a thread value cannot become JSON");
  EXPECT_EQ(conversion_error("return {x = {y = 0/0}}"), "at $.x.y: NaN cannot become JSON");
  EXPECT_EQ(conversion_error("return {math.huge}"),
            "at $[0]: an infinite number cannot become JSON");
  EXPECT_EQ(conversion_error("return -math.huge"), "at $: an infinite number cannot become JSON");
  EXPECT_EQ(conversion_error("return {s = 'ok', t = {'\\255'}}"),
            "at $.t[0]: a string that is not valid UTF-8 cannot become JSON");
  EXPECT_THAT(conversion_error("return {a = {['\\192\\128'] = 1}}"),
              HasSubstr("a key that is not valid UTF-8 cannot become JSON"));
  EXPECT_THAT(conversion_error("return {a = {['\\192\\128'] = 1}}"), HasSubstr("at $.a"));
}

TEST_F(LuaValuesTest, UserdataCannotBecomeJson) {
  lua_newuserdatauv(L(), 16, 0);
  lua_setglobal(L(), "some_userdata");
  lua_pushlightuserdata(L(), this);
  lua_setglobal(L(), "some_light_userdata");
  EXPECT_EQ(conversion_error("return {a = {b = some_userdata}}"),
            "at $.a.b: a userdata value cannot become JSON");
  EXPECT_EQ(conversion_error("return {some_light_userdata}"),
            "at $[0]: a userdata value cannot become JSON");
}

TEST_F(LuaValuesTest, CyclesAreErrorsButSharedTablesAreNot) {
  EXPECT_EQ(conversion_error("local t = {} t.self = t return t"),
            "at $.self: a table that contains itself (a cycle) cannot become JSON");
  EXPECT_EQ(conversion_error("local t = {} t[1] = {t} return {top = t}"),
            "at $.top[0][0]: a table that contains itself (a cycle) cannot become JSON");
  // The same table twice (a DAG) is two copies.
  EXPECT_EQ(evaluate("local shared = {1, {x = 2}} return {a = shared, b = shared, c = {shared, "
                     "shared}}"),
            Json::parse(R"({"a": [1, {"x": 2}], "b": [1, {"x": 2}],
                            "c": [[1, {"x": 2}], [1, {"x": 2}]]})"));
}

TEST_F(LuaValuesTest, TablesThatAreNeitherArraysNorObjects) {
  std::string sparse = "a table with keys other than 1..n (a sparse array, or mixed keys)";
  EXPECT_EQ(conversion_error("return {1, nil, 3}"), "at $: " + sparse + " cannot become JSON");
  EXPECT_EQ(conversion_error("return {a = {[1] = 1, [3] = 3}}"),
            "at $.a: " + sparse + " cannot become JSON");
  EXPECT_EQ(conversion_error("return {[2] = 'x'}"), "at $: " + sparse + " cannot become JSON");
  EXPECT_EQ(conversion_error("return {[2^40] = 'x'}"), "at $: " + sparse + " cannot become JSON");
  std::string mixed = "a table with both string and other keys cannot become JSON";
  EXPECT_THAT(conversion_error("return {1, a = 2}"), HasSubstr(mixed));
  EXPECT_THAT(conversion_error("return {x = {[0] = 1, 2}}"), HasSubstr("at $.x: "));
  EXPECT_THAT(conversion_error("return {[1.5] = 1}"), HasSubstr("at $: "));
  EXPECT_THAT(conversion_error("return {[true] = 1}"), HasSubstr("at $: "));
  EXPECT_EQ(conversion_error("return outlet.array({a = 1})"),
            "at $: an outlet.array with keys other than 1..n (a sparse array, or mixed keys) "
            "cannot become JSON");
  EXPECT_EQ(conversion_error("return {list = outlet.array({1, 2, x = 3})}"),
            "at $.list: an outlet.array with keys other than 1..n (a sparse array, or mixed "
            "keys) cannot become JSON");
  // Float keys with integer values are integer keys in Lua.
  EXPECT_EQ(evaluate("return {[1.0] = 'a', [2] = 'b'}"), Json::array({"a", "b"}));
}

TEST_F(LuaValuesTest, DepthIsLimitedTo128Levels) {
  auto nested = [](int levels) {
    return "local t = {} local top = t for i = 2, " + std::to_string(levels) +
           " do local inner = {} t[1] = inner t = inner end return top";
  };
  Json out = evaluate(nested(128));
  // 127 arrays of one element, then the innermost (empty) table.
  int depth = 1;
  for (const Json* at = &out; at->is_array() && !at->empty(); at = &(*at)[0])
    ++depth;
  EXPECT_EQ(depth, 128);
  EXPECT_THAT(conversion_error(nested(129)), HasSubstr("nested deeper than 128 levels"));
  EXPECT_THAT(conversion_error(nested(129)), HasSubstr("at $[0][0][0]"));
  EXPECT_THAT(conversion_error(nested(100000)), HasSubstr("nested deeper than 128 levels"));
}

TEST_F(LuaValuesTest, ValueAndStringLimits) {
  limits_.max_values = 10;
  // A table and nine values: ten.
  EXPECT_EQ(evaluate("return {1, 2, 3, 4, 5, 6, 7, 8, 9}").size(), 9u);
  EXPECT_THAT(conversion_error("return {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}"),
              HasSubstr("more than 10 values"));
  EXPECT_THAT(conversion_error("return {a = {b = {c = {1, 2, 3, 4, 5, 6, 7}}}}"),
              HasSubstr("more than 10 values"));
  limits_ = ConversionLimits{};
  limits_.max_string_bytes = 10;
  EXPECT_EQ(evaluate("return {'12345', '67890'}"), Json::array({"12345", "67890"}));
  std::string error = conversion_error("return {'12345', '67890', 'x'}");
  EXPECT_THAT(error, HasSubstr("at $[2]"));
  EXPECT_THAT(error, HasSubstr("10 bytes of strings"));
  // Keys count too.
  EXPECT_THAT(conversion_error("return {abcdef = 1, ghijkl = 2}"), HasSubstr("bytes of strings"));
  EXPECT_EQ(evaluate("return {abcde = 'x'}"), Json::parse(R"({"abcde": "x"})"));
  limits_.max_string_bytes = size_t{1} << 20;
  EXPECT_THAT(conversion_error("return {string.rep('x', 1 << 20), 'y'}"),
              HasSubstr("more than 1 MiB of strings"));
}

// A reference validator written from the Unicode standard's table 3-7.
bool reference_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    auto in = [&](size_t k, unsigned lo, unsigned hi) {
      return i + k < n && s[i + k] >= lo && s[i + k] <= hi;
    };
    if (c <= 0x7F) {
      i += 1;
    } else if (c >= 0xC2 && c <= 0xDF && in(1, 0x80, 0xBF)) {
      i += 2;
    } else if (c == 0xE0 && in(1, 0xA0, 0xBF) && in(2, 0x80, 0xBF)) {
      i += 3;
    } else if (((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) && in(1, 0x80, 0xBF) &&
               in(2, 0x80, 0xBF)) {
      i += 3;
    } else if (c == 0xED && in(1, 0x80, 0x9F) && in(2, 0x80, 0xBF)) {
      i += 3;
    } else if (c == 0xF0 && in(1, 0x90, 0xBF) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF)) {
      i += 4;
    } else if (c >= 0xF1 && c <= 0xF3 && in(1, 0x80, 0xBF) && in(2, 0x80, 0xBF) &&
               in(3, 0x80, 0xBF)) {
      i += 4;
    } else if (c == 0xF4 && in(1, 0x80, 0x8F) && in(2, 0x80, 0xBF) && in(3, 0x80, 0xBF)) {
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

TEST(Utf8ValidatorTest, KnownCases) {
  struct Case {
    std::string text;
    bool valid;
  };
  const Case cases[] = {
      {"", true},
      {"abc", true},
      {"a\0b"s, true},
      {"\x7f", true},
      {"\xc2\x80", true},               // U+0080, the smallest two-byte
      {"\xdf\xbf", true},               // U+07FF
      {"\xe0\xa0\x80", true},           // U+0800
      {"\xef\xbf\xbf", true},           // U+FFFF
      {"\xf0\x90\x80\x80", true},       // U+10000
      {"\xf4\x8f\xbf\xbf", true},       // U+10FFFF
      {"\xed\x9f\xbf", true},           // U+D7FF, below the surrogates
      {"\xee\x80\x80", true},           // U+E000, above them
      {"\xc0\x80", false},              // overlong NUL
      {"\xc1\xbf", false},              // overlong
      {"\xe0\x80\x80", false},          // overlong three bytes
      {"\xe0\x9f\xbf", false},          // overlong U+07FF
      {"\xf0\x80\x80\x80", false},      // overlong four bytes
      {"\xf0\x8f\xbf\xbf", false},      // overlong U+FFFF
      {"\xed\xa0\x80", false},          // U+D800
      {"\xed\xbf\xbf", false},          // U+DFFF
      {"\xf4\x90\x80\x80", false},      // U+110000
      {"\xf5\x80\x80\x80", false},      // past U+10FFFF by its first byte
      {"\xf8\x88\x80\x80\x80", false},  // five bytes
      {"\xfc\x84\x80\x80\x80\x80", false},
      {"\xfe", false},
      {"\xff", false},
      {"\x80", false},  // a lone continuation byte
      {"a\xbf", false},
      {"\xc3", false},  // truncated
      {"\xe2\x82", false},
      {"\xf0\x9f\x98", false},
      {"ok\xe2\x82", false},
      {"\xc3\x28", false},  // a bad continuation
      {"\xe2\x28\xa1", false},
      {"\xe2\x82\x28", false},
      {"\xf0\x9f\x98\x28", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(is_valid_utf8(c.text), c.valid) << testing::lua_quote(c.text);
    EXPECT_EQ(reference_utf8(c.text), c.valid) << "reference: " << testing::lua_quote(c.text);
  }
}

TEST(Utf8ValidatorTest, TheAsciiFastPathBoundaries) {
  // An invalid, a valid and a truncated sequence after every prefix length around
  // the 8-byte blocks, and ASCII after them.
  for (size_t prefix = 0; prefix <= 25; ++prefix) {
    std::string ascii(prefix, 'a');
    for (size_t suffix : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{9}}) {
      std::string tail(suffix, 'z');
      EXPECT_TRUE(is_valid_utf8(ascii + tail)) << prefix << "+" << suffix;
      EXPECT_TRUE(is_valid_utf8(ascii + "\xc3\xa9" + tail)) << prefix;
      EXPECT_TRUE(is_valid_utf8(ascii + "\xf0\x9f\x98\x80" + tail)) << prefix;
      EXPECT_FALSE(is_valid_utf8(ascii + "\xff" + tail)) << prefix;
      EXPECT_FALSE(is_valid_utf8(ascii + "\x80" + tail)) << prefix;
      EXPECT_FALSE(is_valid_utf8(ascii + "\xed\xa0\x80" + tail)) << prefix;
      EXPECT_FALSE(is_valid_utf8(ascii + "\xc0\xaf" + tail)) << prefix;
    }
    EXPECT_FALSE(is_valid_utf8(ascii + "\xc3")) << prefix;
    EXPECT_FALSE(is_valid_utf8(ascii + "\xe2\x82")) << prefix;
    EXPECT_FALSE(is_valid_utf8(ascii + "\xf0\x9f\x98")) << prefix;
    // A high byte at each position of an 8-byte block, then more ASCII.
    for (size_t at = 0; at < 9; ++at) {
      std::string text(prefix + 9, 'b');
      text[prefix + at] = '\x85';
      EXPECT_FALSE(is_valid_utf8(text)) << prefix << " at " << at;
    }
  }
}

TEST(Utf8ValidatorTest, AgreesWithAReferenceOnRandomBytes) {
  std::mt19937 random(99);
  const unsigned char interesting[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF,
                                       0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE,
                                       0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xF8, 0xFE, 0xFF};
  int valid = 0;
  for (int round = 0; round < 200000; ++round) {
    std::string text;
    size_t length = random() % 20;
    for (size_t i = 0; i < length; ++i) {
      // Mostly continuation bytes after a lead byte, so valid sequences occur.
      unsigned char byte = random() % 3 == 0 ? static_cast<unsigned char>(0x80 + random() % 0x40)
                                             : interesting[random() % sizeof interesting];
      text += static_cast<char>(byte);
    }
    bool expected = reference_utf8(text);
    valid += expected;
    ASSERT_EQ(is_valid_utf8(text), expected) << testing::lua_quote(text);
  }
  EXPECT_GT(valid, 1000);
}

}  // namespace
}  // namespace outlet::lua
