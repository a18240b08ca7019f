#include "core/json_schema.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <string>
#include <vector>

namespace outlet {

static void PrintTo(const SchemaIssue& issue, std::ostream* os) {
  *os << "{" << (issue.path.empty() ? "(root)" : issue.path) << ": " << issue.rule << "}";
}

namespace {

using ::testing::TestWithParam;

JsonSchema compile_ok(const Json& schema) {
  Result<JsonSchema> result = JsonSchema::compile(schema);
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().to_string());
  return result.ok() ? std::move(result).value() : JsonSchema();
}

std::vector<ErrorDetail> compile_errors(const Json& schema) {
  Result<JsonSchema> result = JsonSchema::compile(schema);
  EXPECT_FALSE(result.ok()) << "schema unexpectedly compiled: " << schema.dump();
  if (result.ok()) {
    return {};
  }
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  return result.error().details();
}

// The issues validate() reports, checked against is_valid() on the way.
std::vector<SchemaIssue> issues(const Json& schema, const Json& instance) {
  JsonSchema compiled = compile_ok(schema);
  std::vector<SchemaIssue> found = compiled.validate(instance);
  EXPECT_EQ(compiled.is_valid(instance), found.empty()) << instance.dump();
  return found;
}

std::vector<SchemaIssue> one(std::string path, std::string rule) {
  return {{std::move(path), std::move(rule)}};
}

Json nested_arrays(int depth) {
  Json value = Json::array();
  for (int i = 1; i < depth; ++i) {
    value = Json::array({std::move(value)});
  }
  return value;
}

// ---------------------------------------------------------------------------
// Type, enum, const

TEST(JsonSchemaTest, TypeNamesBothSides) {
  EXPECT_EQ(issues({{"type", "string"}}, 5), one("", R"(expected type "string", got "number")"));
  EXPECT_EQ(issues({{"type", {"integer", "string"}}}, nullptr),
            one("", R"(expected type "integer" or "string", got "null")"));
  EXPECT_EQ(issues({{"type", {"array", "object", "null"}}}, true),
            one("", R"(expected type "array", "object" or "null", got "boolean")"));
}

TEST(JsonSchemaTest, IntegerAcceptsWholeFloats) {
  Json schema = {{"type", "integer"}};
  EXPECT_TRUE(issues(schema, 1).empty());
  EXPECT_TRUE(issues(schema, 1.0).empty());
  EXPECT_TRUE(issues(schema, -3).empty());
  EXPECT_TRUE(issues(schema, 18446744073709551615ull).empty());
  EXPECT_TRUE(issues(schema, 1e40).empty());
  EXPECT_EQ(issues(schema, 1.5), one("", R"(expected type "integer", got "number")"));
  EXPECT_FALSE(issues(schema, "1").empty());
}

TEST(JsonSchemaTest, EnumAndConstUseJsonEquality) {
  EXPECT_TRUE(issues({{"enum", {1, "a"}}}, 1.0).empty());
  EXPECT_EQ(issues({{"enum", {"a", "b"}}}, "c"), one("", R"(must be one of ["a","b"])"));
  EXPECT_FALSE(issues({{"enum", {0}}}, false).empty());
  EXPECT_TRUE(issues({{"const", {{"a", {1, 2}}}}}, Json::parse(R"({"a": [1.0, 2]})")).empty());
  EXPECT_EQ(issues({{"const", {{"a", false}}}}, Json::parse(R"({"a": 0})")),
            one("", R"(must equal {"a":false})"));
  EXPECT_FALSE(issues({{"const", nullptr}}, 0).empty());
}

TEST(JsonSchemaTest, LongEnumIsTruncatedInTheRule) {
  Json values = Json::array();
  for (int i = 0; i < 500; ++i) {
    values.push_back("value-" + std::to_string(i));
  }
  std::vector<SchemaIssue> found = issues({{"enum", values}}, "nope");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_LT(found[0].rule.size(), 260u);
  EXPECT_EQ(found[0].rule.substr(found[0].rule.size() - 3), "...");
}

// ---------------------------------------------------------------------------
// Numbers

TEST(JsonSchemaTest, NumericLimits) {
  Json schema = {{"minimum", 1}, {"maximum", 10}};
  EXPECT_TRUE(issues(schema, 1).empty());
  EXPECT_TRUE(issues(schema, 10.0).empty());
  EXPECT_EQ(issues(schema, 0.5), one("", "must be >= 1"));
  EXPECT_EQ(issues(schema, 11), one("", "must be <= 10"));
  Json exclusive = {{"exclusiveMinimum", 0}, {"exclusiveMaximum", 2.5}};
  EXPECT_EQ(issues(exclusive, 0), one("", "must be > 0"));
  EXPECT_EQ(issues(exclusive, 2.5), one("", "must be < 2.5"));
  EXPECT_TRUE(issues(exclusive, 2.4).empty());
  EXPECT_TRUE(issues({{"minimum", 5}}, "not a number").empty());
}

TEST(JsonSchemaTest, LimitsCompareExactlyAcrossIntegerAndFloat) {
  // 2^53 + 1 is not representable as a double; a naive comparison says equal.
  EXPECT_EQ(issues({{"maximum", 9007199254740992.0}}, 9007199254740993ll),
            one("", "must be <= 9.007199254740992e+15"));
  EXPECT_TRUE(issues({{"maximum", 18446744073709551615ull}}, 18446744073709551600ull).empty());
  EXPECT_TRUE(issues({{"minimum", -9223372036854775807ll - 1}}, -9223372036854775807ll).empty());
}

TEST(JsonSchemaTest, MultipleOfHandlesFloats) {
  EXPECT_TRUE(issues({{"multipleOf", 2}}, 10).empty());
  EXPECT_EQ(issues({{"multipleOf", 2}}, 7), one("", "must be a multiple of 2"));
  EXPECT_TRUE(issues({{"multipleOf", 0.0001}}, 0.0075).empty());
  EXPECT_FALSE(issues({{"multipleOf", 0.0001}}, 0.00751).empty());
  EXPECT_TRUE(issues({{"multipleOf", 0.1}}, 0.3).empty());
  EXPECT_TRUE(issues({{"multipleOf", 0.01}}, 19.99).empty());
  EXPECT_TRUE(issues({{"multipleOf", 1.5}}, 4.5).empty());
  EXPECT_FALSE(issues({{"multipleOf", 1.5}}, 35).empty());
  EXPECT_TRUE(issues({{"multipleOf", 3}}, -9).empty());
  EXPECT_TRUE(issues({{"multipleOf", 1e-8}}, 12391239123).empty());
  // The quotient overflows to infinity: not a multiple, and no crash.
  EXPECT_FALSE(issues({{"multipleOf", 0.123456789}}, 1e308).empty());
}

// ---------------------------------------------------------------------------
// Strings

TEST(JsonSchemaTest, LengthCountsCodePoints) {
  Json schema = {{"minLength", 2}, {"maxLength", 3}};
  EXPECT_TRUE(issues(schema, "\xC3\xA9\xE2\x82\xAC").empty());  // "é€": 5 bytes, 2 code points
  EXPECT_TRUE(issues(schema, "\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80").empty());
  EXPECT_EQ(issues(schema, "\xF0\x9F\x98\x80"), one("", "must be at least 2 characters"));
  EXPECT_EQ(issues(schema, "abcd"), one("", "must be at most 3 characters"));
  EXPECT_EQ(issues({{"maxLength", 1}}, "ab"), one("", "must be at most 1 character"));
  EXPECT_EQ(issues({{"maxLength", 10}}, "abcdefghijk"), one("", "must be at most 10 characters"));
}

TEST(JsonSchemaTest, PatternIsUnanchoredEcmaStyle) {
  EXPECT_EQ(issues({{"pattern", "^[a-z]+$"}}, "Abc"), one("", R"(must match pattern "^[a-z]+$")"));
  EXPECT_TRUE(issues({{"pattern", "a+"}}, "xxaayy").empty());
  EXPECT_TRUE(issues({{"pattern", "^\\d{3}$"}}, "123").empty());
  EXPECT_TRUE(issues({{"pattern", "^\\u00e9$"}}, "\xC3\xA9").empty());
  EXPECT_TRUE(issues({{"pattern", "^\\uD83D\\uDE00$"}}, "\xF0\x9F\x98\x80").empty());
  EXPECT_TRUE(issues({{"pattern", "^a\\sb$"}},
                     "a\xC2\xA0"
                     "b")
                  .empty());  // ECMA \s includes U+00A0
  EXPECT_TRUE(issues({{"pattern", "^(?<year>\\d{4})$"}}, "2024").empty());
  EXPECT_TRUE(issues({{"pattern", "^[^]$"}}, "\n").empty());
  EXPECT_FALSE(issues({{"pattern", "[]"}}, "anything").empty());
  // `$` is the end of the text, not before a trailing newline.
  EXPECT_FALSE(issues({{"pattern", "^abc$"}}, "abc\n").empty());
}

TEST(JsonSchemaTest, PatternRunsInLinearTime) {
  // Catastrophic for a backtracking engine; RE2 answers at once.
  std::string input(30000, 'a');
  input += '!';
  EXPECT_FALSE(issues({{"pattern", "^(a+)+$"}}, input).empty());
}

TEST(JsonSchemaTest, ColorFormatIsAlwaysEnforced) {
  Json schema = {{"format", "color"}};
  EXPECT_TRUE(issues(schema, "#a0B1c2").empty());
  for (const char* bad : {"#abc", "a0b1c2", "#a0b1c2f", "#a0b1cg", "", " #a0b1c2"}) {
    EXPECT_EQ(issues(schema, bad), one("", R"(must be a color "#RRGGBB")")) << bad;
  }
  EXPECT_TRUE(issues(schema, 7).empty());  // formats only constrain strings
}

struct FormatCase {
  const char* format;
  const char* value;
  bool valid;
};

class JsonSchemaFormatTest : public TestWithParam<FormatCase> {};

TEST_P(JsonSchemaFormatTest, Checks) {
  const FormatCase& c = GetParam();
  EXPECT_EQ(issues({{"format", c.format}}, c.value).empty(), c.valid) << c.format << " " << c.value;
}

INSTANTIATE_TEST_SUITE_P(
    Formats, JsonSchemaFormatTest,
    ::testing::Values(
        FormatCase{"date-time", "2024-02-29T13:45:00Z", true},
        FormatCase{"date-time", "2024-01-31t13:45:00.123+05:30", true},
        FormatCase{"date-time", "2023-02-29T13:45:00Z", false},
        FormatCase{"date-time", "2024-01-31T13:45:00", false},
        FormatCase{"date-time", "2024-01-31 13:45:00Z", false},
        FormatCase{"date", "2024-12-31", true}, FormatCase{"date", "2024-13-01", false},
        FormatCase{"date", "2024-1-01", false}, FormatCase{"date", "1900-02-29", false},
        FormatCase{"date", "2000-02-29", true}, FormatCase{"time", "23:59:60Z", true},
        FormatCase{"time", "24:00:00Z", false}, FormatCase{"time", "12:00:00", false},
        FormatCase{"time", "12:00:00.5-08:00", true},
        FormatCase{"email", "a.b+c@example.com", true},
        FormatCase{"email", "a..b@example.com", false}, FormatCase{"email", "@example.com", false},
        FormatCase{"email", "joe@[192.168.0.1]", true}, FormatCase{"email", "no-at-sign", false},
        FormatCase{"ipv4", "10.0.0.255", true}, FormatCase{"ipv4", "10.0.0.256", false},
        FormatCase{"ipv4", "10.0.0.01", false}, FormatCase{"ipv4", "10.0.0", false},
        FormatCase{"ipv6", "::", true}, FormatCase{"ipv6", "2001:db8::1", true},
        FormatCase{"ipv6", "::ffff:192.168.0.1", true}, FormatCase{"ipv6", "1:2:3:4:5:6:7:8", true},
        FormatCase{"ipv6", "1:2:3:4:5:6:7:8:9", false}, FormatCase{"ipv6", "1::2::3", false},
        FormatCase{"ipv6", "12345::", false}, FormatCase{"ipv6", "::g", false},
        FormatCase{"uri", "https://example.com:8080/a/b?c=d#e", true},
        FormatCase{"uri", "urn:isbn:0451450523", true},
        FormatCase{"uri", "http://[2001:db8::7]/x", true},
        FormatCase{"uri", "/relative/path", false}, FormatCase{"uri", "http://a b.com", false},
        FormatCase{"uri", "http://x.com/%zz", false},
        FormatCase{"hostname", "plugins.example.com", true},
        FormatCase{"hostname", "-bad.example.com", false},
        FormatCase{"hostname", "under_score.com", false}, FormatCase{"hostname", "a..b", false},
        FormatCase{"regex", "^[a-z]+(\\d+)?$", true}, FormatCase{"regex", "^(abc]", false},
        FormatCase{"regex", "(?=lookahead)", false},
        FormatCase{"no-such-format", "anything at all", true}));

// ---------------------------------------------------------------------------
// Arrays

TEST(JsonSchemaTest, ItemsPathsAndCounts) {
  Json schema = {{"type", "array"},
                 {"items", {{"type", "object"}, {"required", {"name"}}}},
                 {"minItems", 1},
                 {"maxItems", 3}};
  Json instance = Json::parse(R"([{"name": 1}, {}, 5, {"name": "x"}])");
  std::vector<SchemaIssue> expected = {
      {"", "must have at most 3 items"},
      {"[1]", R"(required property "name" is missing)"},
      {"[2]", R"(expected type "object", got "number")"},
  };
  EXPECT_EQ(issues(schema, instance), expected);
  EXPECT_EQ(issues(schema, Json::array()), one("", "must have at least 1 item"));
}

TEST(JsonSchemaTest, TupleItemsAndAdditionalItems) {
  Json schema = {{"items", {{{"type", "integer"}}, {{"type", "string"}}}},
                 {"additionalItems", false}};
  EXPECT_TRUE(issues(schema, Json::parse("[1]")).empty());
  EXPECT_EQ(issues(schema, Json::parse(R"([1, 2])")),
            one("[1]", R"(expected type "string", got "number")"));
  EXPECT_EQ(issues(schema, Json::parse(R"([1, "a", null])")),
            one("", "must have at most 2 items (additional items are not allowed)"));
  Json typed = {{"items", {true}}, {"additionalItems", {{"type", "boolean"}}}};
  EXPECT_EQ(issues(typed, Json::parse(R"([1, true, 3])")),
            one("[2]", R"(expected type "boolean", got "number")"));
  // additionalItems means nothing without a tuple.
  EXPECT_TRUE(issues({{"items", true}, {"additionalItems", false}}, Json::parse("[1, 2]")).empty());
}

TEST(JsonSchemaTest, UniqueItemsAndContains) {
  EXPECT_EQ(issues({{"uniqueItems", true}}, Json::parse(R"([1, {"a": 2}, "x", {"a": 2.0}])")),
            one("", "must not contain duplicate items (items 1 and 3 are equal)"));
  EXPECT_TRUE(
      issues({{"uniqueItems", true}}, Json::parse(R"([1, true, 0, false, [1], [true]])")).empty());
  Json big = Json::array();
  for (int i = 0; i < 20000; ++i) {
    big.push_back(i);
  }
  EXPECT_TRUE(issues({{"uniqueItems", true}}, big).empty());
  // Items that differ only deep down must not all land in one hash bucket.
  Json deep_items = Json::array();
  for (int i = 0; i < 20000; ++i) {
    deep_items.push_back({{"a", {{"b", Json::array({i})}}}});
  }
  EXPECT_TRUE(issues({{"uniqueItems", true}}, deep_items).empty());
  deep_items.push_back({{"a", {{"b", Json::array({7.0})}}}});
  EXPECT_EQ(issues({{"uniqueItems", true}}, deep_items),
            one("", "must not contain duplicate items (items 7 and 20000 are equal)"));
  Json schema = {{"contains", {{"const", "needle"}}}};
  EXPECT_TRUE(issues(schema, Json::parse(R"(["hay", "needle"])")).empty());
  EXPECT_EQ(issues(schema, Json::parse(R"(["hay"])")),
            one("", R"(must contain at least one item matching "contains")"));
}

// ---------------------------------------------------------------------------
// Objects

TEST(JsonSchemaTest, PropertiesRequiredAndAdditional) {
  Json schema = Json::parse(R"({
    "type": "object",
    "properties": {
      "name": {"type": "string", "minLength": 1},
      "color": {"type": "string", "format": "color"},
      "tags": {"type": "array", "items": {"type": "string"}}
    },
    "required": ["name", "color"],
    "additionalProperties": false
  })");
  Json instance = Json::parse(R"({"color": "red", "colour": "#ff0000", "tags": ["a", 2]})");
  std::vector<SchemaIssue> expected = {
      {"", R"(required property "name" is missing)"},
      {"color", R"(must be a color "#RRGGBB")"},
      {"colour", R"(additional property "colour" is not allowed (additionalProperties is false))"},
      {"tags[1]", R"(expected type "string", got "number")"},
  };
  EXPECT_EQ(issues(schema, instance), expected);
}

TEST(JsonSchemaTest, NestedPathsQuoteUnusualKeys) {
  Json schema = Json::parse(R"({
    "properties": {"items": {"items": {"properties": {
      "name": {"type": "string"}, "a.b": {"type": "string"}, "": {"type": "string"}}}}}})");
  Json instance = Json::parse(R"({"items": [{}, {}, {"name": 1, "a.b": 2, "": 3}]})");
  std::vector<SchemaIssue> expected = {
      {R"(items[2][""])", R"(expected type "string", got "number")"},
      {R"(items[2]["a.b"])", R"(expected type "string", got "number")"},
      {"items[2].name", R"(expected type "string", got "number")"},
  };
  EXPECT_EQ(issues(schema, instance), expected);
}

TEST(JsonSchemaTest, PatternPropertiesAndAdditionalPropertiesSchema) {
  Json schema = {{"properties", {{"id", {{"type", "integer"}}}}},
                 {"patternProperties", {{"^x-", {{"type", "string"}}}}},
                 {"additionalProperties", {{"type", "boolean"}}}};
  EXPECT_TRUE(issues(schema, Json::parse(R"({"id": 1, "x-a": "s", "flag": true})")).empty());
  std::vector<SchemaIssue> expected = {
      {"flag", R"(expected type "boolean", got "string")"},
      {"x-a", R"(expected type "string", got "number")"},
  };
  EXPECT_EQ(issues(schema, Json::parse(R"({"x-a": 1, "flag": "yes"})")), expected);
}

TEST(JsonSchemaTest, PropertyNamesSayWhichName) {
  Json schema = {{"propertyNames", {{"pattern", "^[a-z]+$"}, {"maxLength", 5}}}};
  std::vector<SchemaIssue> expected = {
      {"", R"(property name "Bad" is invalid: must match pattern "^[a-z]+$")"},
      {"", R"(property name "toolong" is invalid: must be at most 5 characters)"},
  };
  EXPECT_EQ(issues(schema, Json::parse(R"({"Bad": 1, "fine": 2, "toolong": 3})")), expected);
}

TEST(JsonSchemaTest, PropertyCountsAndDependencies) {
  EXPECT_EQ(issues({{"minProperties", 2}}, Json::parse(R"({"a": 1})")),
            one("", "must have at least 2 properties"));
  EXPECT_EQ(issues({{"maxProperties", 1}}, Json::parse(R"({"a": 1, "b": 2})")),
            one("", "must have at most 1 property"));
  Json schema = Json::parse(R"({"dependencies": {
      "card": ["billing"],
      "tls": {"properties": {"port": {"minimum": 443}}}}})");
  EXPECT_EQ(issues(schema, Json::parse(R"({"card": 1})")),
            one("", R"(property "card" requires property "billing")"));
  EXPECT_EQ(issues(schema, Json::parse(R"({"tls": true, "port": 80})")),
            one("port", "must be >= 443"));
  EXPECT_TRUE(issues(schema, Json::parse(R"({"port": 80})")).empty());
}

// ---------------------------------------------------------------------------
// Combinators and booleans

TEST(JsonSchemaTest, Combinators) {
  Json all_of = {{"allOf", {{{"minimum", 2}}, {{"multipleOf", 2}}}}};
  std::vector<SchemaIssue> both = {{"", "must be >= 2"}, {"", "must be a multiple of 2"}};
  EXPECT_EQ(issues(all_of, 1), both);
  Json any_of = {{"anyOf", {{{"type", "string"}}, {{"minimum", 10}}}}};
  EXPECT_TRUE(issues(any_of, "x").empty());
  EXPECT_EQ(issues(any_of, 3), one("", R"(must match at least one of the "anyOf" schemas)"));
  Json one_of = {{"oneOf", {{{"type", "integer"}}, {{"minimum", 2}}}}};
  EXPECT_TRUE(issues(one_of, 1).empty());
  EXPECT_EQ(issues(one_of, 3),
            one("", R"(must match exactly one of the "oneOf" schemas, but matches more than one )"
                    R"((oneOf[0] and oneOf[1]))"));
  EXPECT_EQ(issues(one_of, 1.5),
            one("", R"(must match exactly one of the "oneOf" schemas, but matches none)"));
  EXPECT_EQ(issues({{"not", {{"type", "null"}}}}, nullptr),
            one("", R"(must not match the "not" schema)"));
}

TEST(JsonSchemaTest, IfThenElse) {
  Json schema = Json::parse(R"({
    "if": {"properties": {"kind": {"const": "http"}}},
    "then": {"required": ["url"]},
    "else": {"required": ["command"]}})");
  EXPECT_EQ(issues(schema, Json::parse(R"({"kind": "http"})")),
            one("", R"(required property "url" is missing)"));
  EXPECT_EQ(issues(schema, Json::parse(R"({"kind": "exec"})")),
            one("", R"(required property "command" is missing)"));
  EXPECT_TRUE(issues({{"then", false}}, 1).empty());  // then without if does nothing
}

TEST(JsonSchemaTest, BooleanSchemas) {
  EXPECT_TRUE(issues(true, Json::parse(R"({"any": ["thing"]})")).empty());
  EXPECT_EQ(issues(false, 1), one("", "is not allowed (the schema is false)"));
  EXPECT_EQ(issues({{"properties", {{"secret", false}}}}, Json::parse(R"({"secret": 1})")),
            one("secret", "is not allowed (the schema is false)"));
  EXPECT_TRUE(JsonSchema().is_valid(Json::parse("[1, 2]")));
}

TEST(JsonSchemaTest, IssuesAreCapped) {
  Json instance = Json::array();
  for (int i = 0; i < 1000; ++i) {
    instance.push_back(i);
  }
  std::vector<SchemaIssue> found = issues({{"items", {{"type", "string"}}}}, instance);
  EXPECT_EQ(found.size(), static_cast<size_t>(kMaxSchemaIssues));
  EXPECT_EQ(found.back().path, "[99]");
}

// ---------------------------------------------------------------------------
// $ref

TEST(JsonSchemaTest, RefsToDefinitionsAndPointers) {
  Json schema = Json::parse(R"({
    "definitions": {
      "port": {"type": "integer", "minimum": 1, "maximum": 65535},
      "odd~/name%": {"type": "string"}
    },
    "properties": {
      "http": {"$ref": "#/definitions/port"},
      "https": {"$ref": "#/properties/http"},
      "label": {"$ref": "#/definitions/odd~0~1name%25"}
    }})");
  EXPECT_TRUE(issues(schema, Json::parse(R"({"http": 80, "https": 443, "label": "x"})")).empty());
  std::vector<SchemaIssue> expected = {
      {"http", "must be >= 1"},
      {"https", "must be <= 65535"},
      {"label", R"(expected type "string", got "number")"},
  };
  EXPECT_EQ(issues(schema, Json::parse(R"({"http": 0, "https": 70000, "label": 1})")), expected);
}

TEST(JsonSchemaTest, RecursiveRefs) {
  Json schema = Json::parse(R"({
    "type": "object",
    "properties": {"name": {"type": "string"},
                   "children": {"type": "array", "items": {"$ref": "#"}}}})");
  Json tree =
      Json::parse(R"({"name": "a", "children": [{"name": "b", "children": [{"name": 3}]}]})");
  EXPECT_EQ(issues(schema, tree),
            one("children[0].children[0].name", R"(expected type "string", got "number")"));
}

TEST(JsonSchemaTest, RefsToIds) {
  Json schema = Json::parse(R"({
    "$id": "https://outlet.example/plugin.json",
    "properties": {
      "a": {"$ref": "item.json"},
      "b": {"$ref": "#thing"},
      "c": {"$ref": "item.json#/properties/n"}
    },
    "definitions": {
      "item": {"$id": "item.json", "properties": {"n": {"type": "integer"}}},
      "thing": {"$id": "#thing", "type": "string"}
    }})");
  EXPECT_TRUE(issues(schema, Json::parse(R"({"a": {"n": 1}, "b": "s", "c": 2})")).empty());
  std::vector<SchemaIssue> expected = {
      {"a.n", R"(expected type "integer", got "string")"},
      {"b", R"(expected type "string", got "number")"},
      {"c", R"(expected type "integer", got "number")"},
  };
  EXPECT_EQ(issues(schema, Json::parse(R"({"a": {"n": "x"}, "b": 1, "c": 2.5})")), expected);
}

TEST(JsonSchemaTest, RefToMetaSchemaValidatesSchemas) {
  Json schema = {{"$ref", "http://json-schema.org/draft-07/schema#"}};
  EXPECT_TRUE(issues(schema, Json::parse(R"({"type": "string", "minLength": 1})")).empty());
  EXPECT_FALSE(issues(schema, Json::parse(R"({"minLength": -1})")).empty());
}

TEST(JsonSchemaTest, RefSiblingsAreIgnored) {
  Json schema = Json::parse(R"({
    "definitions": {"list": {"type": "array"}},
    "properties": {"a": {"$ref": "#/definitions/list", "maxItems": 1}}})");
  EXPECT_TRUE(issues(schema, Json::parse(R"({"a": [1, 2, 3]})")).empty());
}

TEST(JsonSchemaTest, RefCyclesAreReportedNotFollowedForever) {
  for (const char* text : {
           R"({"$ref": "#"})",
           R"({"definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}},
               "$ref": "#/definitions/a"})",
           R"({"allOf": [{"$ref": "#"}]})",
           R"({"anyOf": [{"not": {"$ref": "#"}}]})",
       }) {
    Json schema = Json::parse(text);
    JsonSchema compiled = compile_ok(schema);
    std::vector<SchemaIssue> found = compiled.validate(1);
    ASSERT_FALSE(found.empty()) << text;
    EXPECT_FALSE(compiled.is_valid(1)) << text;
    (void)compiled.apply_defaults(Json::object());
  }
}

// ---------------------------------------------------------------------------
// Defaults

TEST(JsonSchemaTest, ApplyDefaultsFillsAbsentProperties) {
  Json schema = Json::parse(R"({
    "definitions": {"retries": {"type": "integer", "default": 3}},
    "properties": {
      "color": {"type": "string", "default": "#336699"},
      "retries": {"$ref": "#/definitions/retries"},
      "present": {"default": "unused"},
      "server": {
        "type": "object",
        "default": {"host": "localhost"},
        "properties": {"host": {"default": "0.0.0.0"}, "port": {"default": 8080}}
      },
      "limits": {
        "type": "object",
        "properties": {"memory": {"default": 64}}
      },
      "nested": {
        "properties": {"inner": {"default": true}}
      }
    }})");
  JsonSchema compiled = compile_ok(schema);
  Json filled = compiled.apply_defaults(Json::parse(R"({"present": null, "nested": {}})"));
  EXPECT_EQ(filled, Json::parse(R"({
    "color": "#336699",
    "retries": 3,
    "present": null,
    "server": {"host": "localhost", "port": 8080},
    "nested": {"inner": true}
  })"));
  // Not an object: nothing to fill, and no validation either.
  EXPECT_EQ(compiled.apply_defaults(42), Json(42));
  EXPECT_EQ(JsonSchema().apply_defaults(Json::parse(R"({"a": [1]})")),
            Json::parse(R"({"a": [1]})"));
}

TEST(JsonSchemaTest, ApplyDefaultsDoesNotMutateTheInput) {
  JsonSchema compiled = compile_ok({{"properties", {{"a", {{"default", 1}}}}}});
  Json input = Json::object();
  Json filled = compiled.apply_defaults(input);
  EXPECT_EQ(input, Json::object());
  EXPECT_EQ(filled, Json::parse(R"({"a": 1})"));
}

// ---------------------------------------------------------------------------
// Malformed schemas

bool has_detail(const std::vector<ErrorDetail>& details, const std::string& path,
                const std::string& rule_part) {
  for (const ErrorDetail& detail : details) {
    if (detail.path == path && detail.rule.find(rule_part) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(JsonSchemaTest, CompileErrorsNameTheSchemaPath) {
  Json schema = Json::parse(R"json({
    "type": "object",
    "properties": {
      "color": {"type": "string", "pattern": "(?=x)"},
      "count": {"type": "integr", "minimum": "1"},
      "name": {"minLength": -1, "maxLength": 2.5},
      "list": {"items": [{"type": 3}, 7]},
      "ref": {"$ref": "#/definitions/nope"}
    },
    "required": ["a", 1],
    "allOf": [],
    "patternProperties": {"(a": {}},
    "dependencies": {"x": 5},
    "exclusiveMinimum": true,
    "multipleOf": 0,
    "enum": 3
  })json");
  std::vector<ErrorDetail> details = compile_errors(schema);
  EXPECT_TRUE(has_detail(details, "properties.color.pattern", "lookahead")) << details.size();
  EXPECT_TRUE(has_detail(details, "properties.count.type", R"(unknown type "integr")"));
  EXPECT_TRUE(has_detail(details, "properties.count.minimum", "must be a number"));
  EXPECT_TRUE(has_detail(details, "properties.name.minLength", "non-negative integer"));
  EXPECT_TRUE(has_detail(details, "properties.name.maxLength", "non-negative integer"));
  EXPECT_TRUE(has_detail(details, "properties.list.items[0].type", "type name"));
  EXPECT_TRUE(has_detail(details, "properties.list.items[1]", "must be a schema"));
  EXPECT_TRUE(has_detail(details, "properties.ref.$ref", R"(cannot resolve "#/definitions/nope")"));
  EXPECT_TRUE(has_detail(details, "required[1]", "must be a string"));
  EXPECT_TRUE(has_detail(details, "allOf", "non-empty array"));
  EXPECT_TRUE(has_detail(details, R"(patternProperties["(a"])", "invalid pattern"));
  EXPECT_TRUE(has_detail(details, "dependencies.x", "array of property names or a schema"));
  EXPECT_TRUE(has_detail(details, "exclusiveMinimum", "draft-04"));
  EXPECT_TRUE(has_detail(details, "multipleOf", "greater than 0"));
  EXPECT_TRUE(has_detail(details, "enum", "non-empty array"));
  EXPECT_EQ(details.size(), 15u) << Error(ErrorCode::kInvalidArgument, "", details).to_string();
}

TEST(JsonSchemaTest, UnsupportedRegexFeaturesFailClearly) {
  struct Case {
    const char* pattern;
    const char* message;
  };
  for (const Case& c :
       {Case{"(?!x)", "lookahead"}, Case{"(?<=x)y", "lookbehind"}, Case{"(a)\\1", "backreferences"},
        Case{"(?<n>a)\\k<n>", "named backref"}, Case{"a{2000}", "invalid pattern"}}) {
    std::vector<ErrorDetail> details = compile_errors({{"pattern", c.pattern}});
    ASSERT_EQ(details.size(), 1u) << c.pattern;
    EXPECT_EQ(details[0].path, "pattern");
    EXPECT_NE(details[0].rule.find(c.message), std::string::npos) << details[0].rule;
  }
}

TEST(JsonSchemaTest, RemoteRefsAreRejected) {
  std::vector<ErrorDetail> details =
      compile_errors({{"properties", {{"a", {{"$ref", "https://example.com/s.json"}}}}}});
  ASSERT_EQ(details.size(), 1u);
  EXPECT_EQ(details[0].path, "properties.a.$ref");
  EXPECT_NE(details[0].rule.find("self-contained"), std::string::npos);
}

TEST(JsonSchemaTest, NonSchemaDocumentsAreRejected) {
  EXPECT_FALSE(JsonSchema::compile(3).ok());
  EXPECT_FALSE(JsonSchema::compile("string").ok());
  EXPECT_TRUE(JsonSchema::compile(Json::object()).ok());
  EXPECT_TRUE(JsonSchema::compile(false).ok());
}

// ---------------------------------------------------------------------------
// Hostile depth

TEST(JsonSchemaTest, DeepSchemaIsRejected) {
  Json schema = true;
  for (int i = 0; i < 100000; ++i) {
    schema = Json{{"not", std::move(schema)}};
  }
  std::vector<ErrorDetail> details = compile_errors(schema);
  ASSERT_EQ(details.size(), 1u);
  EXPECT_NE(details[0].rule.find("deeper than 128"), std::string::npos);

  Json ok_schema = true;
  for (int i = 0; i < 60; ++i) {
    ok_schema = Json{{"items", std::move(ok_schema)}};
  }
  EXPECT_TRUE(JsonSchema::compile(ok_schema).ok());
}

TEST(JsonSchemaTest, DeepInstanceIsReportedNotRecursed) {
  Json deep = nested_arrays(200000);
  JsonSchema recursive = compile_ok({{"items", {{"$ref", "#"}}}});
  std::vector<SchemaIssue> found = recursive.validate(deep);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].rule, "nesting is deeper than 128 levels");
  EXPECT_FALSE(recursive.is_valid(deep));
  // A schema that does not descend is satisfied at the top.
  EXPECT_TRUE(compile_ok({{"type", "array"}}).is_valid(deep));
  // Equality and copying are iterative too.
  Json pair = Json::array();
  pair.push_back(nested_arrays(200000));
  pair.push_back(nested_arrays(200000));
  EXPECT_FALSE(compile_ok({{"uniqueItems", true}}).is_valid(pair));
  EXPECT_FALSE(compile_ok({{"enum", {1}}}).is_valid(deep));
  Json copy = compile_ok({{"properties", {{"a", {{"default", 1}}}}}}).apply_defaults(deep);
  EXPECT_TRUE(copy.is_array());
}

// Evaluation needs about 150 KB at the worst at -O1 and under 256 KB at -O0;
// AddressSanitizer's redzones make every frame several times larger.
#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kSmallStack = 2 << 20;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr size_t kSmallStack = 2 << 20;
#else
constexpr size_t kSmallStack = 256 << 10;
#endif
#else
constexpr size_t kSmallStack = 256 << 10;
#endif

// Runs `body` on a thread with a small stack, as a plugin host worker might have.
void run_with_small_stack(void (*body)()) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kSmallStack);
  pthread_t thread;
  ASSERT_EQ(pthread_create(
                &thread, &attr,
                [](void* arg) -> void* {
                  reinterpret_cast<void (*)()>(arg)();
                  return nullptr;
                },
                reinterpret_cast<void*>(body)),
            0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}

TEST(JsonSchemaTest, WorstCaseRecursionFitsASmallStack) {
  run_with_small_stack([] {
    // Each instance level passes through several schema levels and refs.
    Json schema = Json::parse(R"({
      "definitions": {"a": {"allOf": [{"$ref": "#/definitions/b"}]},
                      "b": {"anyOf": [{"items": {"$ref": "#/definitions/a"}}]}},
      "$ref": "#/definitions/a"})");
    JsonSchema compiled = JsonSchema::compile(schema).value();
    Json deep = nested_arrays(5000);
    EXPECT_FALSE(compiled.is_valid(deep));
    EXPECT_FALSE(compiled.validate(deep).empty());
  });
}

}  // namespace
}  // namespace outlet
