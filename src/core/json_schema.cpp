#include "core/json_schema.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <exception>
#include <map>
#include <optional>
#include <string_view>
#include <type_traits>
#include <unordered_map>

namespace outlet {
namespace {

// Each validate() recursion is one frame; a legitimate recursive schema needs a
// few per instance level, so this only trips on pathological `$ref` structures.
constexpr int kMaxEvalFrames = 4 * kMaxJsonSchemaDepth;

constexpr std::string_view kMetaSchemaUri = "http://json-schema.org/draft-07/schema";
constexpr std::string_view kMetaSchemaUriHttps = "https://json-schema.org/draft-07/schema";

// The draft-07 meta-schema, so that `{"$ref": "http://json-schema.org/draft-07/schema#"}`
// (a schema describing schemas) works without a network.
constexpr const char* kMetaSchemaText = R"json({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "$id": "http://json-schema.org/draft-07/schema#",
  "title": "Core schema meta-schema",
  "definitions": {
    "schemaArray": {"type": "array", "minItems": 1, "items": {"$ref": "#"}},
    "nonNegativeInteger": {"type": "integer", "minimum": 0},
    "nonNegativeIntegerDefault0": {
      "allOf": [{"$ref": "#/definitions/nonNegativeInteger"}, {"default": 0}]
    },
    "simpleTypes": {
      "enum": ["array", "boolean", "integer", "null", "number", "object", "string"]
    },
    "stringArray": {"type": "array", "items": {"type": "string"}, "uniqueItems": true, "default": []}
  },
  "type": ["object", "boolean"],
  "properties": {
    "$id": {"type": "string", "format": "uri-reference"},
    "$schema": {"type": "string", "format": "uri"},
    "$ref": {"type": "string", "format": "uri-reference"},
    "$comment": {"type": "string"},
    "title": {"type": "string"},
    "description": {"type": "string"},
    "default": true,
    "readOnly": {"type": "boolean", "default": false},
    "writeOnly": {"type": "boolean", "default": false},
    "examples": {"type": "array", "items": true},
    "multipleOf": {"type": "number", "exclusiveMinimum": 0},
    "maximum": {"type": "number"},
    "exclusiveMaximum": {"type": "number"},
    "minimum": {"type": "number"},
    "exclusiveMinimum": {"type": "number"},
    "maxLength": {"$ref": "#/definitions/nonNegativeInteger"},
    "minLength": {"$ref": "#/definitions/nonNegativeIntegerDefault0"},
    "pattern": {"type": "string", "format": "regex"},
    "additionalItems": {"$ref": "#"},
    "items": {"anyOf": [{"$ref": "#"}, {"$ref": "#/definitions/schemaArray"}], "default": true},
    "maxItems": {"$ref": "#/definitions/nonNegativeInteger"},
    "minItems": {"$ref": "#/definitions/nonNegativeIntegerDefault0"},
    "uniqueItems": {"type": "boolean", "default": false},
    "contains": {"$ref": "#"},
    "maxProperties": {"$ref": "#/definitions/nonNegativeInteger"},
    "minProperties": {"$ref": "#/definitions/nonNegativeIntegerDefault0"},
    "required": {"$ref": "#/definitions/stringArray"},
    "additionalProperties": {"$ref": "#"},
    "definitions": {"type": "object", "additionalProperties": {"$ref": "#"}, "default": {}},
    "properties": {"type": "object", "additionalProperties": {"$ref": "#"}, "default": {}},
    "patternProperties": {
      "type": "object",
      "additionalProperties": {"$ref": "#"},
      "propertyNames": {"format": "regex"},
      "default": {}
    },
    "dependencies": {
      "type": "object",
      "additionalProperties": {"anyOf": [{"$ref": "#"}, {"$ref": "#/definitions/stringArray"}]}
    },
    "propertyNames": {"$ref": "#"},
    "const": true,
    "enum": {"type": "array", "items": true},
    "type": {
      "anyOf": [
        {"$ref": "#/definitions/simpleTypes"},
        {
          "type": "array",
          "items": {"$ref": "#/definitions/simpleTypes"},
          "minItems": 1,
          "uniqueItems": true
        }
      ]
    },
    "format": {"type": "string"},
    "contentMediaType": {"type": "string"},
    "contentEncoding": {"type": "string"},
    "if": {"$ref": "#"},
    "then": {"$ref": "#"},
    "else": {"$ref": "#"},
    "allOf": {"$ref": "#/definitions/schemaArray"},
    "anyOf": {"$ref": "#/definitions/schemaArray"},
    "oneOf": {"$ref": "#/definitions/schemaArray"},
    "not": {"$ref": "#"}
  },
  "default": true
})json";

// ---------------------------------------------------------------------------
// Paths and text

bool is_plain_key(std::string_view key) {
  if (key.empty()) {
    return false;
  }
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '$';
  });
}

// Never throws on invalid UTF-8: a hostile string must not turn a report into a crash.
std::string dump(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string quote(std::string_view text) {
  return dump(Json(std::string(text)));
}

// Values from a schema can be long (an `enum` of hundreds of entries); keep a
// rule readable and bounded.
std::string dump_short(const Json& value) {
  constexpr size_t kMax = 200;
  std::string text = dump(value);
  if (text.size() <= kMax) {
    return text;
  }
  size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) {
    --cut;
  }
  text.resize(cut);
  return text + "...";
}

// Keys that read as identifiers join with a dot; anything else is bracketed
// and quoted so a path is unambiguous (`a.b` versus `["a.b"]`).
void append_key(std::string& path, std::string_view key) {
  if (is_plain_key(key)) {
    if (!path.empty()) {
      path += '.';
    }
    path += key;
  } else {
    path += '[';
    path += quote(key);
    path += ']';
  }
}

void append_index(std::string& path, size_t index) {
  path += '[';
  path += std::to_string(index);
  path += ']';
}

std::string join_key(const std::string& path, std::string_view key) {
  std::string out = path;
  append_key(out, key);
  return out;
}

std::string join_index(const std::string& path, size_t index) {
  std::string out = path;
  append_index(out, index);
  return out;
}

std::string plural(uint64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

size_t utf8_length(std::string_view text) {
  size_t n = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
      ++n;
    }
  }
  return n;
}

// ---------------------------------------------------------------------------
// JSON values

const char* type_name(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::object:
      return "object";
    case Json::value_t::array:
      return "array";
    case Json::value_t::string:
      return "string";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number";
    default:
      return "binary";
  }
}

bool is_integral(const Json& value) {
  if (value.is_number_integer()) {
    return true;
  }
  if (!value.is_number_float()) {
    return false;
  }
  double d = value.get<double>();
  return std::isfinite(d) && std::trunc(d) == d;
}

// long double holds every int64, uint64 and double exactly on the platforms
// Outlet targets (x87 80-bit, or IEEE quad), so one conversion compares them all.
long double as_long_double(const Json& value) {
  if (value.is_number_unsigned()) {
    return static_cast<long double>(value.get<uint64_t>());
  }
  if (value.is_number_integer()) {
    return static_cast<long double>(value.get<int64_t>());
  }
  return static_cast<long double>(value.get<double>());
}

int compare_numbers(const Json& a, const Json& b) {
  long double x = as_long_double(a);
  long double y = as_long_double(b);
  return x < y ? -1 : (x > y ? 1 : 0);
}

bool scalar_equal(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) {
    return compare_numbers(a, b) == 0;
  }
  if (a.type() != b.type()) {
    return false;
  }
  switch (a.type()) {
    case Json::value_t::null:
      return true;
    case Json::value_t::boolean:
      return a.get<bool>() == b.get<bool>();
    case Json::value_t::string:
      return a.get_ref<const std::string&>() == b.get_ref<const std::string&>();
    default:
      return a == b;
  }
}

// JSON equality where 1 == 1.0. Iterative so that comparing two deeply nested
// instances cannot overflow the stack (nlohmann's operator== recurses).
bool json_equal(const Json& a, const Json& b) {
  std::vector<std::pair<const Json*, const Json*>> stack{{&a, &b}};
  while (!stack.empty()) {
    auto [x, y] = stack.back();
    stack.pop_back();
    if (x->is_object() && y->is_object()) {
      if (x->size() != y->size()) {
        return false;
      }
      // Both are std::maps, so keys line up in order.
      auto xi = x->begin();
      auto yi = y->begin();
      for (; xi != x->end(); ++xi, ++yi) {
        if (xi.key() != yi.key()) {
          return false;
        }
        stack.emplace_back(&xi.value(), &yi.value());
      }
    } else if (x->is_array() && y->is_array()) {
      if (x->size() != y->size()) {
        return false;
      }
      for (size_t i = 0; i < x->size(); ++i) {
        stack.emplace_back(&(*x)[i], &(*y)[i]);
      }
    } else if (x->is_structured() || y->is_structured() || !scalar_equal(*x, *y)) {
      return false;
    }
  }
  return true;
}

size_t scalar_hash(const Json& value) {
  if (value.is_number()) {
    return std::hash<double>{}(static_cast<double>(as_long_double(value)));
  }
  if (value.is_string()) {
    return std::hash<std::string>{}(value.get_ref<const std::string&>());
  }
  if (value.is_boolean()) {
    return value.get<bool>() ? 0x9e37 : 0x7f4a;
  }
  return static_cast<size_t>(value.type()) * 0x51ed27;
}

// A hash consistent with json_equal() (1 and 1.0 hash alike), over the whole
// value, so that items differing only deep down do not all collide and turn
// uniqueItems quadratic. Iterative, like json_equal().
size_t json_hash(const Json& value) {
  size_t h = 0;
  auto mix = [&h](size_t token) { h = (h ^ token) * 0x100000001b3ull + 0x9e3779b97f4a7c15ull; };
  struct Entry {
    const Json* value;
    const std::string* key;  // the member name, for an object's members
  };
  std::vector<Entry> stack{{&value, nullptr}};
  while (!stack.empty()) {
    Entry entry = stack.back();
    stack.pop_back();
    if (entry.key) {
      mix(std::hash<std::string>{}(*entry.key));
    }
    const Json& v = *entry.value;
    if (!v.is_structured()) {
      mix(scalar_hash(v));
      continue;
    }
    mix(static_cast<size_t>(v.type()) * 31 + v.size());
    // Pushed in reverse, so members are mixed in order.
    if (v.is_object()) {
      for (auto it = v.crbegin(); it != v.crend(); ++it) {
        stack.push_back({&it.value(), &it.key()});
      }
    } else {
      for (auto it = v.crbegin(); it != v.crend(); ++it) {
        stack.push_back({&*it, nullptr});
      }
    }
  }
  return h;
}

// Iterative deep copy: nlohmann's copy constructor recurses, and apply_defaults()
// must copy instances of any depth.
Json deep_copy(const Json& source) {
  auto shell = [](const Json& v) {
    if (v.is_object()) {
      return Json::object();
    }
    if (v.is_array()) {
      return Json::array();
    }
    return v;
  };
  Json root = shell(source);
  std::vector<std::pair<const Json*, Json*>> stack{{&source, &root}};
  while (!stack.empty()) {
    auto [from, to] = stack.back();
    stack.pop_back();
    if (from->is_object()) {
      for (auto it = from->begin(); it != from->end(); ++it) {
        (*to)[it.key()] = shell(it.value());
      }
      for (auto it = from->begin(); it != from->end(); ++it) {
        if (it.value().is_structured()) {
          stack.emplace_back(&it.value(), &(*to)[it.key()]);
        }
      }
    } else if (from->is_array()) {
      to->get_ref<Json::array_t&>().reserve(from->size());
      for (const Json& child : *from) {
        to->push_back(shell(child));
      }
      for (size_t i = 0; i < from->size(); ++i) {
        if ((*from)[i].is_structured()) {
          stack.emplace_back(&(*from)[i], &(*to)[i]);
        }
      }
    }
  }
  return root;
}

bool deeper_than(const Json& value, int max_depth) {
  std::vector<std::pair<const Json*, int>> stack{{&value, 1}};
  while (!stack.empty()) {
    auto [v, depth] = stack.back();
    stack.pop_back();
    if (!v->is_structured()) {
      continue;
    }
    if (depth > max_depth) {
      return true;
    }
    for (const Json& child : *v) {
      if (child.is_structured()) {
        stack.emplace_back(&child, depth + 1);
      }
    }
  }
  return false;
}

// ---------------------------------------------------------------------------
// Regular expressions: ECMA-262 patterns, run by RE2

// ECMA's \s is Unicode-aware; RE2's is ASCII-only.
constexpr std::string_view kEcmaSpaces =
    "\\t\\n\\x0B\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}"
    "\\x{205F}\\x{3000}\\x{FEFF}";

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

// Reads four hex digits at `at`, or returns -1.
int read_hex4(std::string_view in, size_t at) {
  if (at + 4 > in.size()) {
    return -1;
  }
  int value = 0;
  for (size_t i = at; i < at + 4; ++i) {
    int digit = hex_value(in[i]);
    if (digit < 0) {
      return -1;
    }
    value = value * 16 + digit;
  }
  return value;
}

std::string hex_escape(long code_point) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "\\x{%lX}", code_point);
  return buf;
}

// Rewrites the ECMA-262 syntax JSON Schema specifies into RE2 syntax where the
// two differ only in spelling, and rejects what RE2 cannot do in linear time.
bool translate_ecma_regex(std::string_view in, std::string* out, std::string* error) {
  const std::string kHint = " (Outlet runs patterns with RE2, which guarantees linear time)";
  bool in_class = false;
  out->reserve(in.size() + 8);
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\\') {
      if (i + 1 >= in.size()) {
        *error = "pattern ends with a lone backslash";
        return false;
      }
      char e = in[++i];
      if (e >= '1' && e <= '9') {
        *error = std::string("backreferences such as \"\\") + e + "\" are not supported" + kHint;
        return false;
      }
      if (e == 'k' && i + 1 < in.size() && in[i + 1] == '<') {
        *error = "named backreferences (\"\\k<name>\") are not supported" + kHint;
        return false;
      }
      if (e == 'u') {
        if (i + 1 < in.size() && in[i + 1] == '{') {
          size_t close = in.find('}', i + 2);
          if (close != std::string_view::npos && close > i + 2) {
            *out += "\\x";
            *out += in.substr(i + 1, close - i);
            i = close;
            continue;
          }
        }
        int unit = read_hex4(in, i + 1);
        if (unit >= 0) {
          long code_point = unit;
          i += 4;
          // A surrogate pair spelled as two escapes is one code point to RE2.
          if (unit >= 0xD800 && unit <= 0xDBFF && i + 2 < in.size() && in[i + 1] == '\\' &&
              in[i + 2] == 'u') {
            int low = read_hex4(in, i + 3);
            if (low >= 0xDC00 && low <= 0xDFFF) {
              code_point = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
              i += 6;
            }
          }
          *out += hex_escape(code_point);
          continue;
        }
        *out += 'u';  // ECMA reads a malformed \u as a literal "u"
        continue;
      }
      if (e == 'c' && i + 1 < in.size() && std::isalpha(static_cast<unsigned char>(in[i + 1]))) {
        *out += hex_escape(in[++i] % 32);
        continue;
      }
      if (e == '0' && !(i + 1 < in.size() && std::isdigit(static_cast<unsigned char>(in[i + 1])))) {
        *out += "\\x00";
        continue;
      }
      if (e == 's') {
        *out += in_class ? std::string(kEcmaSpaces) : "[" + std::string(kEcmaSpaces) + "]";
        continue;
      }
      if (e == 'S' && !in_class) {
        *out += "[^" + std::string(kEcmaSpaces) + "]";
        continue;
      }
      if (static_cast<unsigned char>(e) >= 0x80) {
        *out += e;  // an escaped non-ASCII character is itself; RE2 rejects the escape
        continue;
      }
      *out += '\\';
      *out += e;
      continue;
    }
    if (in_class) {
      if (c == ']') {
        in_class = false;
      }
      *out += c;
      continue;
    }
    if (c == '[') {
      // ECMA's "[]" matches nothing and "[^]" anything; RE2 reads a leading "]" as a literal.
      if (in.substr(i, 2) == "[]") {
        *out += "[^\\x00-\\x{10FFFF}]";
        ++i;
        continue;
      }
      if (in.substr(i, 3) == "[^]") {
        *out += "[\\x00-\\x{10FFFF}]";
        i += 2;
        continue;
      }
      in_class = true;
      *out += c;
      if (i + 1 < in.size() && in[i + 1] == '^') {
        *out += in[++i];
      }
      continue;
    }
    if (c == '(' && in.substr(i, 2) == "(?") {
      std::string_view rest = in.substr(i + 2);
      if (rest.substr(0, 1) == "=" || rest.substr(0, 1) == "!") {
        *error = "lookahead (\"(?=\" and \"(?!\") is not supported" + kHint;
        return false;
      }
      if (rest.substr(0, 2) == "<=" || rest.substr(0, 2) == "<!") {
        *error = "lookbehind (\"(?<=\" and \"(?<!\") is not supported" + kHint;
        return false;
      }
      if (rest.substr(0, 1) == "<") {
        *out += "(?P<";  // named group: ECMA's spelling to RE2's
        i += 2;
        continue;
      }
    }
    *out += c;
  }
  return true;
}

std::unique_ptr<RE2> compile_regex(std::string_view pattern, std::string* error) {
  std::string translated;
  if (!translate_ecma_regex(pattern, &translated, error)) {
    return nullptr;
  }
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_unique<RE2>(translated, options);
  if (!re->ok()) {
    *error = re->error();
    return nullptr;
  }
  return re;
}

// ---------------------------------------------------------------------------
// Formats

enum class Format {
  kNone,
  kColor,
  kDateTime,
  kDate,
  kTime,
  kEmail,
  kIpv4,
  kIpv6,
  kUri,
  kHostname,
  kRegex,
};

Format parse_format(std::string_view name) {
  static const std::map<std::string_view, Format> kFormats = {
      {"color", Format::kColor},       {"date-time", Format::kDateTime},
      {"date", Format::kDate},         {"time", Format::kTime},
      {"email", Format::kEmail},       {"ipv4", Format::kIpv4},
      {"ipv6", Format::kIpv6},         {"uri", Format::kUri},
      {"hostname", Format::kHostname}, {"regex", Format::kRegex},
  };
  auto it = kFormats.find(name);
  return it == kFormats.end() ? Format::kNone : it->second;
}

const char* format_rule(Format format) {
  switch (format) {
    case Format::kColor:
      return "must be a color \"#RRGGBB\"";
    case Format::kDateTime:
      return "must be a date-time like \"2024-01-31T13:45:00Z\" (RFC 3339)";
    case Format::kDate:
      return "must be a date like \"2024-01-31\"";
    case Format::kTime:
      return "must be a time with an offset like \"13:45:00Z\" (RFC 3339)";
    case Format::kEmail:
      return "must be an email address";
    case Format::kIpv4:
      return "must be an IPv4 address like \"192.168.0.1\"";
    case Format::kIpv6:
      return "must be an IPv6 address like \"2001:db8::1\"";
    case Format::kUri:
      return "must be an absolute URI like \"https://example.com/path\"";
    case Format::kHostname:
      return "must be a hostname like \"example.com\"";
    case Format::kRegex:
      return "must be a valid regular expression";
    case Format::kNone:
      break;
  }
  return "";
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_hex(char c) {
  return hex_value(c) >= 0;
}

// Parses exactly `width` digits at `at`.
bool read_digits(std::string_view s, size_t at, size_t width, int* value) {
  if (at + width > s.size()) {
    return false;
  }
  *value = 0;
  for (size_t i = at; i < at + width; ++i) {
    if (!is_digit(s[i])) {
      return false;
    }
    *value = *value * 10 + (s[i] - '0');
  }
  return true;
}

bool is_color(std::string_view s) {
  return s.size() == 7 && s[0] == '#' && std::all_of(s.begin() + 1, s.end(), is_hex);
}

bool is_date(std::string_view s) {
  int year, month, day;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') {
    return false;
  }
  if (!read_digits(s, 0, 4, &year) || !read_digits(s, 5, 2, &month) ||
      !read_digits(s, 8, 2, &day)) {
    return false;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) {
    return false;
  }
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  int max_day = kDays[month - 1] + (month == 2 && leap ? 1 : 0);
  return day <= max_day;
}

// RFC 3339 full-time: HH:MM:SS[.frac](Z|+HH:MM|-HH:MM).
bool is_time(std::string_view s) {
  int hour, minute, second;
  if (s.size() < 9 || s[2] != ':' || s[5] != ':') {
    return false;
  }
  if (!read_digits(s, 0, 2, &hour) || !read_digits(s, 3, 2, &minute) ||
      !read_digits(s, 6, 2, &second)) {
    return false;
  }
  if (hour > 23 || minute > 59 || second > 60) {  // 60: a leap second
    return false;
  }
  size_t i = 8;
  if (i < s.size() && s[i] == '.') {
    size_t start = ++i;
    while (i < s.size() && is_digit(s[i])) {
      ++i;
    }
    if (i == start) {
      return false;
    }
  }
  std::string_view offset = s.substr(i);
  if (offset == "Z" || offset == "z") {
    return true;
  }
  int off_hour, off_minute;
  return offset.size() == 6 && (offset[0] == '+' || offset[0] == '-') && offset[3] == ':' &&
         read_digits(offset, 1, 2, &off_hour) && read_digits(offset, 4, 2, &off_minute) &&
         off_hour <= 23 && off_minute <= 59;
}

bool is_date_time(std::string_view s) {
  return s.size() > 11 && (s[10] == 'T' || s[10] == 't') && is_date(s.substr(0, 10)) &&
         is_time(s.substr(11));
}

bool is_ipv4(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (true) {
    size_t start = i;
    while (i < s.size() && is_digit(s[i])) {
      ++i;
    }
    size_t len = i - start;
    if (len == 0 || len > 3 || (len > 1 && s[start] == '0')) {
      return false;
    }
    if (std::stoi(std::string(s.substr(start, len))) > 255) {
      return false;
    }
    ++parts;
    if (i == s.size()) {
      break;
    }
    if (s[i] != '.' || parts == 4) {
      return false;
    }
    ++i;
  }
  return parts == 4;
}

// Counts the 16-bit groups in a colon-separated run; an IPv4 tail counts as two.
bool ipv6_groups(std::string_view part, bool ipv4_tail_allowed, int* groups) {
  *groups = 0;
  if (part.empty()) {
    return true;
  }
  size_t start = 0;
  while (true) {
    size_t colon = part.find(':', start);
    std::string_view group =
        part.substr(start, colon == std::string_view::npos ? colon : colon - start);
    bool last = colon == std::string_view::npos;
    if (last && ipv4_tail_allowed && group.find('.') != std::string_view::npos) {
      if (!is_ipv4(group)) {
        return false;
      }
      *groups += 2;
      return true;
    }
    if (group.empty() || group.size() > 4 || !std::all_of(group.begin(), group.end(), is_hex)) {
      return false;
    }
    ++*groups;
    if (last) {
      return true;
    }
    start = colon + 1;
  }
}

bool is_ipv6(std::string_view s) {
  if (s.size() < 2 || s.size() > 45) {
    return false;
  }
  size_t gap = s.find("::");
  int head = 0;
  int tail = 0;
  if (gap == std::string_view::npos) {
    return ipv6_groups(s, true, &head) && head == 8;
  }
  if (s.find("::", gap + 1) != std::string_view::npos) {
    return false;
  }
  std::string_view after = s.substr(gap + 2);
  return ipv6_groups(s.substr(0, gap), false, &head) && ipv6_groups(after, true, &tail) &&
         head + tail <= 7;
}

bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view label = s.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!is_alpha(c) && !is_digit(c) && c != '-') {
        return false;
      }
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

bool is_email(std::string_view s) {
  size_t at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64) {
    return false;
  }
  std::string_view local = s.substr(0, at);
  std::string_view domain = s.substr(at + 1);
  if (local.size() >= 2 && local.front() == '"' && local.back() == '"') {
    for (char c : local.substr(1, local.size() - 2)) {
      if (c < 0x20 || c > 0x7E) {
        return false;
      }
    }
  } else {
    static constexpr std::string_view kSpecials = "!#$%&'*+/=?^_`{|}~-";
    if (local.front() == '.' || local.back() == '.' || local.find("..") != std::string_view::npos) {
      return false;
    }
    for (char c : local) {
      if (!is_alpha(c) && !is_digit(c) && c != '.' && kSpecials.find(c) == std::string_view::npos) {
        return false;
      }
    }
  }
  if (domain.size() >= 2 && domain.front() == '[' && domain.back() == ']') {
    std::string_view literal = domain.substr(1, domain.size() - 2);
    if (literal.substr(0, 5) == "IPv6:") {
      return is_ipv6(literal.substr(5));
    }
    return is_ipv4(literal);
  }
  return is_hostname(domain);
}

bool is_unreserved(char c) {
  return is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~';
}
bool is_sub_delim(char c) {
  return std::string_view("!$&'()*+,;=").find(c) != std::string_view::npos;
}

// Checks every character is in `extra`, unreserved, a sub-delimiter, or a
// well-formed percent-encoding.
bool uri_chars_ok(std::string_view s, std::string_view extra) {
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) {
        return false;
      }
      i += 2;
    } else if (!is_unreserved(c) && !is_sub_delim(c) && extra.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// RFC 3986 absolute URI: scheme ":" hier-part ["?" query] ["#" fragment].
bool is_uri(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0 || !is_alpha(s[0])) {
    return false;
  }
  for (char c : s.substr(0, colon)) {
    if (!is_alpha(c) && !is_digit(c) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  std::string_view rest = s.substr(colon + 1);
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) {
    if (!uri_chars_ok(rest.substr(hash + 1), ":@/?")) {
      return false;
    }
    rest = rest.substr(0, hash);
  }
  size_t question = rest.find('?');
  if (question != std::string_view::npos) {
    if (!uri_chars_ok(rest.substr(question + 1), ":@/?")) {
      return false;
    }
    rest = rest.substr(0, question);
  }
  std::string_view path = rest;
  if (rest.substr(0, 2) == "//") {
    size_t slash = rest.find('/', 2);
    std::string_view authority =
        rest.substr(2, slash == std::string_view::npos ? slash : slash - 2);
    path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    size_t at = authority.rfind('@');
    if (at != std::string_view::npos) {
      if (!uri_chars_ok(authority.substr(0, at), ":")) {
        return false;
      }
      authority = authority.substr(at + 1);
    }
    std::string_view host = authority;
    std::string_view port;
    if (!host.empty() && host.front() == '[') {
      size_t close = host.find(']');
      if (close == std::string_view::npos) {
        return false;
      }
      std::string_view literal = host.substr(1, close - 1);
      std::string_view after = host.substr(close + 1);
      bool future = !literal.empty() && (literal[0] == 'v' || literal[0] == 'V');
      if (!future && !is_ipv6(literal)) {
        return false;
      }
      if (!after.empty()) {
        if (after[0] != ':') {
          return false;
        }
        port = after.substr(1);
      }
      host = std::string_view();
    } else {
      size_t port_colon = host.rfind(':');
      if (port_colon != std::string_view::npos) {
        port = host.substr(port_colon + 1);
        host = host.substr(0, port_colon);
      }
    }
    if (!std::all_of(port.begin(), port.end(), is_digit)) {
      return false;
    }
    if (!uri_chars_ok(host, "")) {
      return false;
    }
  }
  return uri_chars_ok(path, ":@/");
}

bool check_format(Format format, const std::string& s) {
  switch (format) {
    case Format::kColor:
      return is_color(s);
    case Format::kDateTime:
      return is_date_time(s);
    case Format::kDate:
      return is_date(s);
    case Format::kTime:
      return is_time(s);
    case Format::kEmail:
      return is_email(s);
    case Format::kIpv4:
      return is_ipv4(s);
    case Format::kIpv6:
      return is_ipv6(s);
    case Format::kUri:
      return is_uri(s);
    case Format::kHostname:
      return is_hostname(s);
    case Format::kRegex: {
      std::string error;
      return compile_regex(s, &error) != nullptr;
    }
    case Format::kNone:
      break;
  }
  return true;
}

// ---------------------------------------------------------------------------
// URI references, for `$id` and `$ref`

struct UriParts {
  std::string scheme, authority, path, query, fragment;
  bool has_scheme = false, has_authority = false, has_query = false, has_fragment = false;
};

UriParts split_uri(std::string_view s) {
  UriParts u;
  size_t i = 0;
  size_t stop = s.find_first_of(":/?#");
  if (stop != std::string_view::npos && s[stop] == ':' && stop > 0) {
    u.scheme = s.substr(0, stop);
    u.has_scheme = true;
    i = stop + 1;
  }
  if (s.substr(i, 2) == "//") {
    size_t end = std::min(s.find_first_of("/?#", i + 2), s.size());
    u.authority = s.substr(i + 2, end - i - 2);
    u.has_authority = true;
    i = end;
  }
  size_t end = std::min(s.find_first_of("?#", i), s.size());
  u.path = s.substr(i, end - i);
  i = end;
  if (i < s.size() && s[i] == '?') {
    end = std::min(s.find('#', i), s.size());
    u.query = s.substr(i + 1, end - i - 1);
    u.has_query = true;
    i = end;
  }
  if (i < s.size() && s[i] == '#') {
    u.fragment = s.substr(i + 1);
    u.has_fragment = true;
  }
  return u;
}

// RFC 3986 section 5.2.4.
std::string remove_dot_segments(std::string_view in) {
  std::string out;
  while (!in.empty()) {
    if (in.substr(0, 3) == "../") {
      in.remove_prefix(3);
    } else if (in.substr(0, 2) == "./" || in.substr(0, 3) == "/./") {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.substr(0, 4) == "/../" || in == "/..") {
      in = in.size() == 3 ? std::string_view("/") : in.substr(3);
      size_t slash = out.rfind('/');
      out.resize(slash == std::string::npos ? 0 : slash);
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      size_t next = in.find('/', 1);
      if (next == std::string_view::npos) {
        next = in.size();
      }
      out += in.substr(0, next);
      in.remove_prefix(next);
    }
  }
  return out;
}

std::string join_uri(const UriParts& u) {
  std::string out;
  if (u.has_scheme) {
    out += u.scheme + ":";
  }
  if (u.has_authority) {
    out += "//" + u.authority;
  }
  out += u.path;
  if (u.has_query) {
    out += "?" + u.query;
  }
  if (u.has_fragment) {
    out += "#" + u.fragment;
  }
  return out;
}

// RFC 3986 section 5.2.2. Works with a relative base too, which is what a
// schema without a root `$id` has.
std::string resolve_uri(std::string_view base_text, std::string_view ref_text) {
  UriParts base = split_uri(base_text);
  UriParts ref = split_uri(ref_text);
  UriParts t;
  if (ref.has_scheme) {
    t = ref;
    t.path = remove_dot_segments(ref.path);
  } else {
    if (ref.has_authority) {
      t.authority = ref.authority;
      t.has_authority = true;
      t.path = remove_dot_segments(ref.path);
      t.query = ref.query;
      t.has_query = ref.has_query;
    } else {
      if (ref.path.empty()) {
        t.path = base.path;
        t.query = ref.has_query ? ref.query : base.query;
        t.has_query = ref.has_query || base.has_query;
      } else {
        if (ref.path[0] == '/') {
          t.path = remove_dot_segments(ref.path);
        } else {
          std::string merged;
          if (base.has_authority && base.path.empty()) {
            merged = "/" + ref.path;
          } else {
            size_t slash = base.path.rfind('/');
            merged = (slash == std::string::npos ? "" : base.path.substr(0, slash + 1)) + ref.path;
          }
          t.path = remove_dot_segments(merged);
        }
        t.query = ref.query;
        t.has_query = ref.has_query;
      }
      t.authority = base.authority;
      t.has_authority = base.has_authority;
    }
    t.scheme = base.scheme;
    t.has_scheme = base.has_scheme;
  }
  t.fragment = ref.fragment;
  t.has_fragment = ref.has_fragment;
  return join_uri(t);
}

bool percent_decode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      *out += in[i];
      continue;
    }
    if (i + 2 >= in.size() || !is_hex(in[i + 1]) || !is_hex(in[i + 2])) {
      return false;
    }
    *out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
    i += 2;
  }
  return true;
}

std::string escape_pointer_token(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

// Splits an RFC 6901 pointer ("" or "/a/b~1c") into unescaped tokens.
bool pointer_tokens(std::string_view pointer, std::vector<std::string>* tokens) {
  tokens->clear();
  if (pointer.empty()) {
    return true;
  }
  if (pointer[0] != '/') {
    return false;
  }
  size_t start = 1;
  while (true) {
    size_t slash = pointer.find('/', start);
    std::string_view raw =
        pointer.substr(start, slash == std::string_view::npos ? slash : slash - start);
    std::string token;
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '~') {
        token += raw[i];
      } else if (i + 1 < raw.size() && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
        token += raw[++i] == '0' ? '~' : '/';
      } else {
        return false;
      }
    }
    tokens->push_back(std::move(token));
    if (slash == std::string_view::npos) {
      return true;
    }
    start = slash + 1;
  }
}

// The child of a container named by a pointer token, or null.
const Json* pointer_step(const Json& container, const std::string& token) {
  if (container.is_object()) {
    auto it = container.find(token);
    return it == container.end() ? nullptr : &*it;
  }
  if (container.is_array()) {
    if (token.empty() || token.size() > 9 || (token.size() > 1 && token[0] == '0') ||
        !std::all_of(token.begin(), token.end(), is_digit)) {
      return nullptr;
    }
    size_t index = std::stoul(token);
    return index < container.size() ? &container[index] : nullptr;
  }
  return nullptr;
}

bool is_schema(const Json& value) {
  return value.is_object() || value.is_boolean();
}

// `$id` changes the base URI, except beside `$ref`, whose siblings draft-07 ignores.
const std::string* scope_id(const Json& schema) {
  if (!schema.is_object() || schema.contains("$ref")) {
    return nullptr;
  }
  auto it = schema.find("$id");
  return it != schema.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

// ---------------------------------------------------------------------------
// Compiled schemas

enum TypeBit : uint8_t {
  kTypeNull = 1 << 0,
  kTypeBoolean = 1 << 1,
  kTypeObject = 1 << 2,
  kTypeArray = 1 << 3,
  kTypeNumber = 1 << 4,
  kTypeString = 1 << 5,
  kTypeInteger = 1 << 6,
};

uint8_t type_bit(std::string_view name) {
  static const std::map<std::string_view, uint8_t> kTypes = {
      {"null", kTypeNull},       {"boolean", kTypeBoolean}, {"object", kTypeObject},
      {"array", kTypeArray},     {"number", kTypeNumber},   {"string", kTypeString},
      {"integer", kTypeInteger},
  };
  auto it = kTypes.find(name);
  return it == kTypes.end() ? 0 : it->second;
}

bool type_matches(uint8_t types, const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return types & kTypeNull;
    case Json::value_t::boolean:
      return types & kTypeBoolean;
    case Json::value_t::object:
      return types & kTypeObject;
    case Json::value_t::array:
      return types & kTypeArray;
    case Json::value_t::string:
      return types & kTypeString;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return (types & kTypeNumber) || ((types & kTypeInteger) && is_integral(value));
    default:
      return false;
  }
}

struct SchemaNode {
  struct PatternProperty {
    std::unique_ptr<RE2> re;
    const SchemaNode* schema = nullptr;
  };
  struct Dependency {
    std::string property;
    std::vector<std::string> required;
    const SchemaNode* schema = nullptr;
  };

  bool reject_all = false;  // the schema `false`
  bool is_ref = false;      // `$ref` replaces every sibling keyword in draft-07
  const SchemaNode* ref = nullptr;

  uint8_t types = 0;
  std::string types_text;  // `"integer" or "string"`, for messages
  std::optional<Json> const_value;
  std::optional<Json> enum_values;

  std::optional<Json> minimum, maximum, exclusive_minimum, exclusive_maximum, multiple_of;

  std::optional<uint64_t> min_length, max_length;
  std::string pattern_text;
  std::unique_ptr<RE2> pattern;
  Format format = Format::kNone;

  const SchemaNode* items = nullptr;
  bool has_tuple = false;
  std::vector<const SchemaNode*> tuple_items;
  const SchemaNode* additional_items = nullptr;
  const SchemaNode* contains = nullptr;
  std::optional<uint64_t> min_items, max_items;
  bool unique_items = false;

  std::map<std::string, const SchemaNode*, std::less<>> properties;
  std::vector<PatternProperty> pattern_properties;
  const SchemaNode* additional_properties = nullptr;
  const SchemaNode* property_names = nullptr;
  std::vector<Dependency> dependencies;
  std::optional<uint64_t> min_properties, max_properties;
  std::vector<std::string> required;

  std::vector<const SchemaNode*> all_of, any_of, one_of;
  const SchemaNode* not_schema = nullptr;
  const SchemaNode* if_schema = nullptr;
  const SchemaNode* then_schema = nullptr;
  const SchemaNode* else_schema = nullptr;

  std::optional<Json> default_value;
};

using Node = SchemaNode;

}  // namespace

struct JsonSchema::Impl {
  std::deque<SchemaNode> nodes;  // a deque, so pointers between nodes stay valid as it grows
  const SchemaNode* root = nullptr;
};

namespace {

const Json& meta_schema() {
  static const Json kSchema = Json::parse(kMetaSchemaText, nullptr, false);
  return kSchema;
}

std::optional<uint64_t> as_count(const Json& value) {
  if (value.is_number_unsigned()) {
    return value.get<uint64_t>();
  }
  if (value.is_number_integer()) {
    int64_t n = value.get<int64_t>();
    return n >= 0 ? std::optional<uint64_t>(static_cast<uint64_t>(n)) : std::nullopt;
  }
  if (value.is_number_float() && is_integral(value)) {
    double d = value.get<double>();
    if (d >= 0 && d < 18446744073709551616.0) {
      return static_cast<uint64_t>(d);
    }
  }
  return std::nullopt;
}

class Compiler {
 public:
  explicit Compiler(std::deque<Node>* nodes) : nodes_(nodes) {}

  const Node* run(const Json& schema) {
    docs_.push_back(&schema);
    if (!is_schema(schema)) {
      error("", "a schema must be an object or a boolean");
      return nullptr;
    }
    ids_.emplace("", Location{0, ""});
    index(schema, 0, "", "");
    const Node* root = compile(schema, 0, "", "", "");
    while (!pending_.empty()) {
      PendingRef ref = std::move(pending_.back());
      pending_.pop_back();
      resolve(ref);
    }
    return root;
  }

  std::vector<ErrorDetail> errors;

 private:
  struct Location {
    int doc;
    std::string pointer;  // RFC 6901, escaped
  };
  struct PendingRef {
    Node* node;
    std::string ref;
    std::string base;
    std::string path;
  };

  void error(std::string path, std::string rule) {
    errors.push_back({std::move(path), std::move(rule)});
  }

  void add_id(const std::string& uri, int doc, const std::string& pointer) {
    std::string key = uri;
    if (!key.empty() && key.back() == '#') {
      key.pop_back();
    }
    ids_.emplace(key, Location{doc, pointer});
  }

  // Records every `$id` in a document, so a `$ref` may name a subschema the
  // main walk has not reached yet (or never reaches, beside another `$ref`).
  void index(const Json& schema, int doc, const std::string& pointer, std::string base) {
    if (!schema.is_object()) {
      return;
    }
    if (const std::string* id = scope_id(schema)) {
      base = resolve_uri(base, *id);
      add_id(base, doc, pointer);
    }
    for (auto it = schema.begin(); it != schema.end(); ++it) {
      const std::string& key = it.key();
      const Json& value = it.value();
      std::string at = pointer + "/" + escape_pointer_token(key);
      if (key == "items" || key == "additionalItems" || key == "additionalProperties" ||
          key == "contains" || key == "propertyNames" || key == "not" || key == "if" ||
          key == "then" || key == "else") {
        index(value, doc, at, base);
      }
      if ((key == "items" || key == "allOf" || key == "anyOf" || key == "oneOf") &&
          value.is_array()) {
        for (size_t i = 0; i < value.size(); ++i) {
          index(value[i], doc, at + "/" + std::to_string(i), base);
        }
      }
      if ((key == "properties" || key == "patternProperties" || key == "definitions" ||
           key == "dependencies") &&
          value.is_object()) {
        for (auto child = value.begin(); child != value.end(); ++child) {
          index(child.value(), doc, at + "/" + escape_pointer_token(child.key()), base);
        }
      }
    }
  }

  const Node* compile(const Json& schema, int doc, const std::string& pointer,
                      const std::string& path, std::string base) {
    std::string key = std::to_string(doc) + pointer;
    if (auto it = by_location_.find(key); it != by_location_.end()) {
      return it->second;
    }
    Node& node = nodes_->emplace_back();
    by_location_.emplace(std::move(key), &node);
    if (schema.is_boolean()) {
      node.reject_all = !schema.get<bool>();
      return &node;
    }
    if (const std::string* id = scope_id(schema)) {
      base = resolve_uri(base, *id);
    }
    compile_keywords(node, schema, doc, pointer, path, base);
    return &node;
  }

  // A value in a position where the draft expects a schema.
  const Node* subschema(const Json& value, int doc, const std::string& pointer,
                        const std::string& path, const std::string& base) {
    if (!is_schema(value)) {
      error(path, "must be a schema (an object or a boolean)");
      return nullptr;
    }
    return compile(value, doc, pointer, path, base);
  }

  std::unique_ptr<RE2> regex(const std::string& pattern, const std::string& path) {
    std::string why;
    std::unique_ptr<RE2> re = compile_regex(pattern, &why);
    if (!re) {
      error(path, "invalid pattern " + quote(pattern) + ": " + why);
    }
    return re;
  }

  // Where a schema object sits: its document, JSON pointer, display path and base URI.
  struct Site {
    const Json& schema;
    int doc;
    const std::string& pointer;
    const std::string& path;
    const std::string& base;

    const Json* find(const char* keyword) const {
      auto it = schema.find(keyword);
      return it == schema.end() ? nullptr : &*it;
    }
    std::string path_of(std::string_view keyword) const { return join_key(path, keyword); }
    std::string pointer_of(std::string_view keyword) const {
      return pointer + "/" + escape_pointer_token(keyword);
    }
  };

  // The keyword groups below are separate, out-of-line functions so that the
  // recursion through nested subschemas only carries the frame of the group it
  // passes through; a schema may nest kMaxJsonSchemaDepth deep.
  void compile_keywords(Node& node, const Json& schema, int doc, const std::string& pointer,
                        const std::string& path, const std::string& base) {
    Site site{schema, doc, pointer, path, base};
    if (compile_core(node, site)) {
      return;
    }
    compile_values(node, site);
    compile_arrays(node, site);
    compile_objects(node, site);
    compile_combinators(node, site);
  }

  // The subschema at `keyword`, if present.
  [[gnu::noinline]] const Node* child(const Site& site, const char* keyword) {
    const Json* value = site.find(keyword);
    if (!value) {
      return nullptr;
    }
    return subschema(*value, site.doc, site.pointer_of(keyword), site.path_of(keyword), site.base);
  }

  // The subschema at `keyword[index]`.
  [[gnu::noinline]] const Node* child(const Site& site, const char* keyword, size_t index) {
    return subschema((*site.find(keyword))[index], site.doc,
                     site.pointer_of(keyword) + "/" + std::to_string(index),
                     join_index(site.path_of(keyword), index), site.base);
  }

  // The subschema at `keyword.name`.
  [[gnu::noinline]] const Node* child(const Site& site, const char* keyword,
                                      const std::string& name) {
    return subschema((*site.find(keyword))[name], site.doc,
                     site.pointer_of(keyword) + "/" + escape_pointer_token(name),
                     join_key(site.path_of(keyword), name), site.base);
  }

  // Compiles each member of an object of schemas, calling each(name, node).
  template <typename Each>
  void schema_map(const Site& site, const char* keyword, const Each& each) {
    const Json* value = site.find(keyword);
    if (!value) {
      return;
    }
    if (!value->is_object()) {
      error(site.path_of(keyword), "must be an object");
      return;
    }
    for (auto it = value->begin(); it != value->end(); ++it) {
      each(it.key(), child(site, keyword, it.key()));
    }
  }

  void schema_list(const Site& site, const char* keyword, std::vector<const Node*>* out) {
    const Json* value = site.find(keyword);
    if (!value) {
      return;
    }
    if (!value->is_array() || value->empty()) {
      error(site.path_of(keyword), "must be a non-empty array of schemas");
      return;
    }
    for (size_t i = 0; i < value->size(); ++i) {
      out->push_back(child(site, keyword, i));
    }
  }

  void number(const Site& site, const char* keyword, std::optional<Json>* out) {
    const Json* value = site.find(keyword);
    if (!value) {
      return;
    }
    if (value->is_number()) {
      *out = *value;
    } else if (value->is_boolean() && std::string_view(keyword).substr(0, 9) == "exclusive") {
      error(site.path_of(keyword),
            "must be a number (the boolean form is draft-04; draft-07 takes the limit itself)");
    } else {
      error(site.path_of(keyword), "must be a number");
    }
  }

  void count(const Site& site, const char* keyword, std::optional<uint64_t>* out) {
    const Json* value = site.find(keyword);
    if (!value) {
      return;
    }
    *out = as_count(*value);
    if (!*out) {
      error(site.path_of(keyword), "must be a non-negative integer");
    }
  }

  void string_list(const Json& value, const std::string& path, std::vector<std::string>* out) {
    if (!value.is_array()) {
      error(path, "must be an array of strings");
      return;
    }
    for (size_t i = 0; i < value.size(); ++i) {
      if (value[i].is_string()) {
        out->push_back(value[i].get<std::string>());
      } else {
        error(join_index(path, i), "must be a string");
      }
    }
  }

  // Annotations, `definitions` and `$ref`; true when `$ref` makes the rest moot.
  [[gnu::noinline]] bool compile_core(Node& node, const Site& site) {
    for (const char* keyword : {"$id", "$schema", "$comment", "title", "description"}) {
      const Json* value = site.find(keyword);
      if (value && !value->is_string()) {
        error(site.path_of(keyword), "must be a string");
      }
    }
    // `definitions` are schemas even beside `$ref`: report their mistakes.
    schema_map(site, "definitions", [](const std::string&, const Node*) {});
    const Json* ref = site.find("$ref");
    if (!ref) {
      return false;
    }
    if (!ref->is_string()) {
      error(site.path_of("$ref"), "must be a string");
      return true;
    }
    node.is_ref = true;
    pending_.push_back({&node, ref->get<std::string>(), site.base, site.path_of("$ref")});
    return true;
  }

  // Keywords that hold no subschemas: type, const, enum, default, numbers, strings.
  [[gnu::noinline]] void compile_values(Node& node, const Site& site) {
    if (const Json* type = site.find("type")) {
      std::vector<std::string> names;
      if (type->is_string()) {
        names.push_back(type->get<std::string>());
      } else if (type->is_array() && !type->empty() &&
                 std::all_of(type->begin(), type->end(),
                             [](const Json& t) { return t.is_string(); })) {
        for (const Json& t : *type) {
          names.push_back(t.get<std::string>());
        }
      } else {
        error(site.path_of("type"), "must be a type name or a non-empty array of type names");
      }
      for (size_t i = 0; i < names.size(); ++i) {
        uint8_t bit = type_bit(names[i]);
        if (bit == 0) {
          error(type->is_array() ? join_index(site.path_of("type"), i) : site.path_of("type"),
                "unknown type " + quote(names[i]) +
                    " (expected \"array\", \"boolean\", \"integer\", \"null\", \"number\", "
                    "\"object\" or \"string\")");
        }
        node.types |= bit;
        if (i > 0) {
          node.types_text += i + 1 == names.size() ? " or " : ", ";
        }
        node.types_text += quote(names[i]);
      }
    }
    if (const Json* value = site.find("const")) {
      node.const_value = *value;
    }
    if (const Json* value = site.find("enum")) {
      if (!value->is_array() || value->empty()) {
        error(site.path_of("enum"), "must be a non-empty array");
      } else {
        node.enum_values = *value;
      }
    }
    if (const Json* value = site.find("default")) {
      node.default_value = *value;
    }

    number(site, "minimum", &node.minimum);
    number(site, "maximum", &node.maximum);
    number(site, "exclusiveMinimum", &node.exclusive_minimum);
    number(site, "exclusiveMaximum", &node.exclusive_maximum);
    number(site, "multipleOf", &node.multiple_of);
    if (node.multiple_of && compare_numbers(*node.multiple_of, Json(0)) <= 0) {
      error(site.path_of("multipleOf"), "must be greater than 0");
      node.multiple_of.reset();
    }

    count(site, "minLength", &node.min_length);
    count(site, "maxLength", &node.max_length);
    if (const Json* value = site.find("pattern")) {
      if (!value->is_string()) {
        error(site.path_of("pattern"), "must be a string");
      } else {
        node.pattern_text = value->get<std::string>();
        node.pattern = regex(node.pattern_text, site.path_of("pattern"));
      }
    }
    if (const Json* value = site.find("format")) {
      if (!value->is_string()) {
        error(site.path_of("format"), "must be a string");
      } else {
        node.format = parse_format(value->get_ref<const std::string&>());
      }
    }
  }

  [[gnu::noinline]] void compile_arrays(Node& node, const Site& site) {
    if (const Json* items = site.find("items")) {
      if (items->is_array()) {
        node.has_tuple = true;
        for (size_t i = 0; i < items->size(); ++i) {
          node.tuple_items.push_back(child(site, "items", i));
        }
      } else if (is_schema(*items)) {
        node.items = child(site, "items");
      } else {
        error(site.path_of("items"), "must be a schema or an array of schemas");
      }
    }
    node.additional_items = child(site, "additionalItems");
    node.contains = child(site, "contains");
    count(site, "minItems", &node.min_items);
    count(site, "maxItems", &node.max_items);
    if (const Json* value = site.find("uniqueItems")) {
      if (value->is_boolean()) {
        node.unique_items = value->get<bool>();
      } else {
        error(site.path_of("uniqueItems"), "must be a boolean");
      }
    }
  }

  [[gnu::noinline]] void compile_objects(Node& node, const Site& site) {
    schema_map(site, "properties", [&](const std::string& name, const Node* schema) {
      node.properties.emplace(name, schema);
    });
    schema_map(site, "patternProperties", [&](const std::string& pattern, const Node* schema) {
      if (auto re = regex(pattern, join_key(site.path_of("patternProperties"), pattern))) {
        node.pattern_properties.push_back({std::move(re), schema});
      }
    });
    node.additional_properties = child(site, "additionalProperties");
    node.property_names = child(site, "propertyNames");
    if (const Json* value = site.find("required")) {
      string_list(*value, site.path_of("required"), &node.required);
    }
    count(site, "minProperties", &node.min_properties);
    count(site, "maxProperties", &node.max_properties);
    const Json* deps = site.find("dependencies");
    if (!deps) {
      return;
    }
    if (!deps->is_object()) {
      error(site.path_of("dependencies"), "must be an object");
      return;
    }
    for (auto it = deps->begin(); it != deps->end(); ++it) {
      Node::Dependency dep;
      dep.property = it.key();
      if (it.value().is_array()) {
        string_list(it.value(), join_key(site.path_of("dependencies"), it.key()), &dep.required);
      } else if (is_schema(it.value())) {
        dep.schema = child(site, "dependencies", it.key());
      } else {
        error(join_key(site.path_of("dependencies"), it.key()),
              "must be an array of property names or a schema");
        continue;
      }
      node.dependencies.push_back(std::move(dep));
    }
  }

  [[gnu::noinline]] void compile_combinators(Node& node, const Site& site) {
    schema_list(site, "allOf", &node.all_of);
    schema_list(site, "anyOf", &node.any_of);
    schema_list(site, "oneOf", &node.one_of);
    node.not_schema = child(site, "not");
    node.if_schema = child(site, "if");
    node.then_schema = child(site, "then");
    node.else_schema = child(site, "else");
  }

  void resolve(const PendingRef& pending) {
    auto fail = [&](const std::string& why) {
      error(pending.path, "cannot resolve " + quote(pending.ref) + ": " + why);
    };
    std::string target = resolve_uri(pending.base, pending.ref);
    size_t hash = target.find('#');
    std::string absolute = target.substr(0, hash);
    std::string fragment = hash == std::string::npos ? "" : target.substr(hash + 1);

    const Location* location = nullptr;
    std::string pointer;
    if (!fragment.empty() && fragment[0] != '/') {
      // A plain-name fragment names a subschema by its `$id: "#name"`.
      auto it = ids_.find(absolute + "#" + fragment);
      if (it == ids_.end()) {
        return fail("no subschema has this \"$id\"");
      }
      location = &it->second;
      pointer = location->pointer;
    } else {
      auto it = ids_.find(absolute);
      if (it == ids_.end() && (absolute == kMetaSchemaUri || absolute == kMetaSchemaUriHttps)) {
        load_meta_schema();
        it = ids_.find(std::string(kMetaSchemaUri));
      }
      if (it == ids_.end()) {
        return fail(
            "not found in this schema (remote references are not supported; a schema must be "
            "self-contained)");
      }
      location = &it->second;
      std::string decoded;
      if (!percent_decode(fragment, &decoded)) {
        return fail("malformed percent-encoding");
      }
      pointer = location->pointer + decoded;
    }

    std::vector<std::string> tokens;
    if (!pointer_tokens(pointer, &tokens)) {
      return fail("malformed JSON pointer");
    }
    // Walk to the target, tracking its display path and the base URI its
    // ancestors' `$id`s set, as the main walk would have.
    const Json* value = docs_[location->doc];
    std::string path;
    std::string base;
    for (const std::string& token : tokens) {
      if (const std::string* id = scope_id(*value)) {
        base = resolve_uri(base, *id);
      }
      bool in_array = value->is_array();
      value = pointer_step(*value, token);
      if (!value) {
        return fail("nothing exists at this location");
      }
      if (in_array) {
        append_index(path, std::stoul(token));
      } else {
        append_key(path, token);
      }
    }
    if (!is_schema(*value)) {
      return fail("the target is not a schema (an object or a boolean)");
    }
    if (location->doc != 0) {
      path = "(draft-07 meta-schema)" + (path.empty() ? "" : "." + path);
    }
    pending.node->ref = compile(*value, location->doc, pointer, path, base);
  }

  void load_meta_schema() {
    const Json& meta = meta_schema();
    if (meta.is_discarded()) {
      return;
    }
    int doc = static_cast<int>(docs_.size());
    docs_.push_back(&meta);
    index(meta, doc, "", "");
    ids_.emplace(std::string(kMetaSchemaUriHttps), Location{doc, ""});
  }

  std::deque<Node>* nodes_;
  std::vector<const Json*> docs_;  // [0] is the caller's schema, borrowed for compile()
  std::unordered_map<std::string, Node*> by_location_;
  std::unordered_map<std::string, Location> ids_;
  std::vector<PendingRef> pending_;
};

// ---------------------------------------------------------------------------
// Validation

class Evaluator {
 public:
  // `out` null means "is it valid?" only: stop at the first failure, record nothing.
  explicit Evaluator(std::vector<SchemaIssue>* out) : out_(out) {}

  // Evaluates the root and, if a recursion guard tripped, reports it last.
  bool run(const Node* root, const Json& v) {
    bool ok = eval(root, v, 0, 0, 0);
    if (guard_ && out_) {
      out_->push_back(std::move(*guard_));
    }
    return ok && !guard_;
  }

 private:
  // `depth` is the instance nesting, `hops` the `$ref`s followed at this
  // instance location, `frames` the recursion so far.
  bool eval(const Node* node, const Json& v, int depth, int hops, int frames) {
    if (guard_) {
      return false;
    }
    if (frames > kMaxEvalFrames) {
      return trip([] { return "the schema recurses too deeply here (a cycle of \"$ref\"s?)"; });
    }
    if (node->reject_all) {
      return fail("is not allowed (the schema is false)");
    }
    if (node->is_ref) {
      if (!node->ref) {
        return true;
      }
      if (hops >= kMaxSchemaRefHops) {
        return trip([&] {
          return "followed more than " + std::to_string(kMaxSchemaRefHops) +
                 " \"$ref\"s without progress (a \"$ref\" cycle?)";
        });
      }
      return eval(node->ref, v, depth, hops + 1, frames + 1);
    }
    if (node->types && !type_matches(node->types, v)) {
      // The other keywords would only add noise about a value of the wrong type.
      return fail(
          [&] { return "expected type " + node->types_text + ", got " + quote(type_name(v)); });
    }
    bool ok = true;
    auto check = [&](bool good) { return keep_going(good, &ok); };
    if ((node->const_value || node->enum_values) && !check(eval_const_enum(node, v))) {
      return false;
    }

    bool kind_ok = true;
    switch (v.type()) {
      case Json::value_t::number_integer:
      case Json::value_t::number_unsigned:
      case Json::value_t::number_float:
        kind_ok = eval_number(node, v);
        break;
      case Json::value_t::string:
        kind_ok = eval_string(node, v.get_ref<const std::string&>());
        break;
      case Json::value_t::array:
        kind_ok = eval_array(node, v, depth, frames);
        break;
      case Json::value_t::object:
        kind_ok = eval_object(node, v, depth, hops, frames);
        break;
      default:
        break;
    }
    if (!check(kind_ok)) {
      return false;
    }
    return check(eval_combinators(node, v, depth, hops, frames)) && ok;
  }

  bool collecting() const { return out_ && out_->size() < static_cast<size_t>(kMaxSchemaIssues); }

  // Folds one keyword's outcome into `*ok` and says whether to go on: after a
  // failure only when collecting every issue, since a yes/no question is
  // answered by the first one.
  bool keep_going(bool good, bool* ok) const {
    *ok = *ok && good;
    return good || collecting();
  }

  // Records a rule at the current path; always returns false, for `return fail(...)`.
  // The text is built only when it will be kept (never in a probe) and out of
  // line, which keeps the recursive frames small: `eval` and its helpers are
  // the only stack that an instance's nesting can grow.
  template <typename MakeRule>
  [[gnu::noinline]] bool fail(const MakeRule& make_rule) {
    if (collecting()) {
      out_->push_back({path_, std::string(make_rule())});
    }
    return false;
  }
  bool fail(const char* rule) {
    return fail([rule] { return rule; });
  }
  template <typename MakeRule>
  bool fail_at_key(const std::string& key, const MakeRule& make_rule) {
    size_t mark = path_.size();
    append_key(path_, key);
    fail(make_rule);
    path_.resize(mark);
    return false;
  }

  // A recursion guard ends the whole evaluation as invalid. It cannot be an
  // ordinary failure: inside a `not` that would turn into a success.
  template <typename MakeRule>
  [[gnu::noinline]] bool trip(const MakeRule& make_rule) {
    if (!guard_) {
      guard_ = SchemaIssue{path_, std::string(make_rule())};
    }
    return false;
  }

  bool probe(const Node* node, const Json& v, int depth, int hops, int frames) {
    std::vector<SchemaIssue>* saved = out_;
    out_ = nullptr;
    bool ok = eval(node, v, depth, hops, frames + 1);
    out_ = saved;
    return ok;
  }

  template <typename Segment>
  bool eval_child(const Node* node, const Json& child, const Segment& segment, int depth,
                  int frames) {
    size_t mark = path_.size();
    if constexpr (std::is_same_v<Segment, size_t>) {
      append_index(path_, segment);
    } else {
      append_key(path_, segment);
    }
    bool ok;
    if (depth + 1 >= kMaxJsonSchemaDepth) {
      ok = trip([&] {
        return "nesting is deeper than " + std::to_string(kMaxJsonSchemaDepth) + " levels";
      });
    } else {
      ok = eval(node, child, depth + 1, 0, frames + 1);
    }
    path_.resize(mark);
    return ok;
  }

  [[gnu::noinline]] bool eval_const_enum(const Node* node, const Json& v) {
    bool ok = true;
    auto check = [&](bool good) { return keep_going(good, &ok); };
    if (node->const_value && !json_equal(*node->const_value, v) &&
        !check(fail([&] { return "must equal " + dump_short(*node->const_value); }))) {
      return false;
    }
    if (node->enum_values) {
      const Json& values = *node->enum_values;
      bool found = std::any_of(values.begin(), values.end(),
                               [&](const Json& option) { return json_equal(option, v); });
      if (!found && !check(fail([&] { return "must be one of " + dump_short(values); }))) {
        return false;
      }
    }
    return ok;
  }

  [[gnu::noinline]] bool eval_number(const Node* node, const Json& v) {
    bool ok = true;
    // `sign` is the comparison result with the limit that satisfies the keyword.
    auto limit = [&](const std::optional<Json>& bound, std::initializer_list<int> allowed,
                     const char* op) {
      if (!bound) {
        return true;
      }
      int sign = compare_numbers(v, *bound);
      bool good = std::find(allowed.begin(), allowed.end(), sign) != allowed.end();
      return keep_going(
          good || fail([&] { return std::string("must be ") + op + " " + dump(*bound); }), &ok);
    };
    if (!limit(node->minimum, {0, 1}, ">=") || !limit(node->maximum, {-1, 0}, "<=") ||
        !limit(node->exclusive_minimum, {1}, ">") || !limit(node->exclusive_maximum, {-1}, "<")) {
      return false;
    }
    if (node->multiple_of && !is_multiple_of(v, *node->multiple_of)) {
      ok = fail([&] { return "must be a multiple of " + dump(*node->multiple_of); });
    }
    return ok;
  }

  static bool is_multiple_of(const Json& v, const Json& divisor) {
    if (v.is_number_integer() && divisor.is_number_integer()) {
      auto magnitude = [](const Json& n) {
        if (n.is_number_unsigned()) {
          return n.get<uint64_t>();
        }
        int64_t i = n.get<int64_t>();
        return i < 0 ? 0 - static_cast<uint64_t>(i) : static_cast<uint64_t>(i);
      };
      return magnitude(v) % magnitude(divisor) == 0;
    }
    // Decimal fractions are inexact in binary (0.0075 / 0.0001 is 74.99999999999999),
    // so accept a quotient within rounding error of an integer.
    double q = v.get<double>() / divisor.get<double>();
    if (!std::isfinite(q)) {
      return false;
    }
    return std::fabs(q - std::round(q)) <= 1e-12 * std::max(1.0, std::fabs(q));
  }

  [[gnu::noinline]] bool eval_string(const Node* node, const std::string& s) {
    bool ok = true;
    auto check = [&](bool good) { return keep_going(good, &ok); };
    if (node->min_length || node->max_length) {
      uint64_t length = utf8_length(s);
      if (node->min_length && length < *node->min_length && !check(fail([&] {
            return "must be at least " + plural(*node->min_length, "character", "characters");
          }))) {
        return false;
      }
      if (node->max_length && length > *node->max_length && !check(fail([&] {
            return "must be at most " + plural(*node->max_length, "character", "characters");
          }))) {
        return false;
      }
    }
    if (node->pattern && !RE2::PartialMatch(s, *node->pattern) &&
        !check(fail([&] { return "must match pattern " + quote(node->pattern_text); }))) {
      return false;
    }
    if (node->format != Format::kNone && !check_format(node->format, s)) {
      check(fail([&] { return format_rule(node->format); }));
    }
    return ok;
  }

  [[gnu::noinline]] bool eval_array(const Node* node, const Json& v, int depth, int frames) {
    bool ok = true;
    auto check = [&](bool good) { return keep_going(good, &ok); };
    size_t size = v.size();
    if (node->min_items && size < *node->min_items && !check(fail([&] {
          return "must have at least " + plural(*node->min_items, "item", "items");
        }))) {
      return false;
    }
    if (node->max_items && size > *node->max_items && !check(fail([&] {
          return "must have at most " + plural(*node->max_items, "item", "items");
        }))) {
      return false;
    }
    if (node->has_tuple) {
      size_t fixed = std::min(size, node->tuple_items.size());
      for (size_t i = 0; i < fixed; ++i) {
        if (node->tuple_items[i] &&
            !check(eval_child(node->tuple_items[i], v[i], i, depth, frames))) {
          return false;
        }
      }
      const Node* extra = node->additional_items;
      if (extra && size > fixed) {
        if (extra->reject_all) {
          if (!check(fail([&] {
                return "must have at most " + plural(fixed, "item", "items") +
                       " (additional items are not allowed)";
              }))) {
            return false;
          }
        } else {
          for (size_t i = fixed; i < size; ++i) {
            if (!check(eval_child(extra, v[i], i, depth, frames))) {
              return false;
            }
          }
        }
      }
    } else if (node->items && size > 0) {
      if (node->items->reject_all) {
        if (!check(fail("must be empty (no items are allowed)"))) {
          return false;
        }
      } else {
        for (size_t i = 0; i < size; ++i) {
          if (!check(eval_child(node->items, v[i], i, depth, frames))) {
            return false;
          }
        }
      }
    }
    if (node->unique_items && size > 1 && !check(check_unique(v))) {
      return false;
    }
    if (node->contains) {
      bool found = false;
      for (size_t i = 0; i < size && !found; ++i) {
        found =
            depth + 1 < kMaxJsonSchemaDepth && probe(node->contains, v[i], depth + 1, 0, frames);
      }
      if (!found && !check(fail("must contain at least one item matching \"contains\""))) {
        return false;
      }
    }
    return ok;
  }

  [[gnu::noinline]] bool check_unique(const Json& v) {
    std::vector<std::pair<size_t, size_t>> order;  // (hash, index)
    order.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      order.emplace_back(json_hash(v[i]), i);
    }
    std::sort(order.begin(), order.end());
    for (size_t start = 0; start < order.size();) {
      size_t end = start;
      while (end < order.size() && order[end].first == order[start].first) {
        ++end;
      }
      for (size_t a = start; a < end; ++a) {
        for (size_t b = a + 1; b < end; ++b) {
          if (json_equal(v[order[a].second], v[order[b].second])) {
            return fail([&] {
              return "must not contain duplicate items (items " + std::to_string(order[a].second) +
                     " and " + std::to_string(order[b].second) + " are equal)";
            });
          }
        }
      }
      start = end;
    }
    return true;
  }

  [[gnu::noinline]] bool eval_object(const Node* node, const Json& v, int depth, int hops,
                                     int frames) {
    bool ok = true;
    auto check = [&](bool good) { return keep_going(good, &ok); };
    for (const std::string& name : node->required) {
      if (!v.contains(name) &&
          !check(fail([&] { return "required property " + quote(name) + " is missing"; }))) {
        return false;
      }
    }
    if (node->min_properties && v.size() < *node->min_properties && !check(fail([&] {
          return "must have at least " + plural(*node->min_properties, "property", "properties");
        }))) {
      return false;
    }
    if (node->max_properties && v.size() > *node->max_properties && !check(fail([&] {
          return "must have at most " + plural(*node->max_properties, "property", "properties");
        }))) {
      return false;
    }
    bool check_each = !node->properties.empty() || !node->pattern_properties.empty() ||
                      node->additional_properties || node->property_names;
    for (auto it = v.begin(); check_each && it != v.end(); ++it) {
      const std::string& key = it.key();
      if (node->property_names &&
          !check(eval_property_name(node->property_names, key, depth, frames))) {
        return false;
      }
      bool matched = false;
      if (auto prop = node->properties.find(key); prop != node->properties.end()) {
        matched = true;
        if (prop->second && !check(eval_child(prop->second, it.value(), key, depth, frames))) {
          return false;
        }
      }
      for (const Node::PatternProperty& pp : node->pattern_properties) {
        if (!RE2::PartialMatch(key, *pp.re)) {
          continue;
        }
        matched = true;
        if (pp.schema && !check(eval_child(pp.schema, it.value(), key, depth, frames))) {
          return false;
        }
      }
      if (!matched && node->additional_properties) {
        // Reported at the key's own path, so an author sees `config.colour: ...`.
        bool good = node->additional_properties->reject_all
                        ? fail_at_key(key,
                                      [&] {
                                        return "additional property " + quote(key) +
                                               " is not allowed (additionalProperties is false)";
                                      })
                        : eval_child(node->additional_properties, it.value(), key, depth, frames);
        if (!check(good)) {
          return false;
        }
      }
    }
    for (const Node::Dependency& dep : node->dependencies) {
      if (!v.contains(dep.property)) {
        continue;
      }
      for (const std::string& needed : dep.required) {
        if (!v.contains(needed) && !check(fail([&] {
              return "property " + quote(dep.property) + " requires property " + quote(needed);
            }))) {
          return false;
        }
      }
      if (dep.schema && !check(eval(dep.schema, v, depth, hops, frames + 1))) {
        return false;
      }
    }
    return ok;
  }

  // A property name is a string at the object's own path; its issues are
  // re-worded to say which name broke the rule.
  [[gnu::noinline]] bool eval_property_name(const Node* schema, const std::string& key, int depth,
                                            int frames) {
    if (!out_) {
      return eval(schema, Json(key), depth, 0, frames + 1);
    }
    std::vector<SchemaIssue> inner;
    std::vector<SchemaIssue>* saved = out_;
    out_ = &inner;
    bool ok = eval(schema, Json(key), depth, 0, frames + 1);
    out_ = saved;
    for (SchemaIssue& issue : inner) {
      fail([&] { return "property name " + quote(key) + " is invalid: " + issue.rule; });
    }
    return ok;
  }

  [[gnu::noinline]] bool eval_combinators(const Node* node, const Json& v, int depth, int hops,
                                          int frames) {
    bool ok = true;
    auto check = [&](bool good) { return keep_going(good, &ok); };
    for (const Node* sub : node->all_of) {
      if (sub && !check(eval(sub, v, depth, hops, frames + 1))) {
        return false;
      }
    }
    if (!node->any_of.empty()) {
      bool any = std::any_of(node->any_of.begin(), node->any_of.end(), [&](const Node* sub) {
        return !sub || probe(sub, v, depth, hops, frames);
      });
      if (!any && !check(fail("must match at least one of the \"anyOf\" schemas"))) {
        return false;
      }
    }
    if (!node->one_of.empty()) {
      std::vector<size_t> matches;
      for (size_t i = 0; i < node->one_of.size() && matches.size() < 2; ++i) {
        if (!node->one_of[i] || probe(node->one_of[i], v, depth, hops, frames)) {
          matches.push_back(i);
        }
      }
      if (matches.size() != 1) {
        bool good = fail([&] {
          std::string rule = "must match exactly one of the \"oneOf\" schemas, but matches ";
          if (matches.empty()) {
            return rule + "none";
          }
          return rule + "more than one (oneOf[" + std::to_string(matches[0]) + "] and oneOf[" +
                 std::to_string(matches[1]) + "])";
        });
        if (!check(good)) {
          return false;
        }
      }
    }
    if (node->not_schema && probe(node->not_schema, v, depth, hops, frames) &&
        !check(fail("must not match the \"not\" schema"))) {
      return false;
    }
    if (node->if_schema) {
      const Node* branch =
          probe(node->if_schema, v, depth, hops, frames) ? node->then_schema : node->else_schema;
      if (branch && !check(eval(branch, v, depth, hops, frames + 1))) {
        return false;
      }
    }
    return ok;
  }

  std::vector<SchemaIssue>* out_;
  std::string path_;  // kept in probes too, so a guard can say where it tripped
  std::optional<SchemaIssue> guard_;
};

// Follows `$ref`s to the schema that holds the keywords, or null on a cycle.
const Node* follow_refs(const Node* node) {
  for (int hops = 0; node && node->is_ref; ++hops) {
    if (hops >= kMaxSchemaRefHops) {
      return nullptr;
    }
    node = node->ref;
  }
  return node;
}

void fill_defaults(const Node* node, Json& value, int depth) {
  node = follow_refs(node);
  if (!node || !value.is_object() || depth >= kMaxJsonSchemaDepth) {
    return;
  }
  for (const auto& [name, child] : node->properties) {
    const Node* property = follow_refs(child);
    if (!property) {
      continue;
    }
    auto it = value.find(name);
    if (it != value.end()) {
      fill_defaults(property, *it, depth + 1);
    } else if (property->default_value) {
      Json& slot = value[name];
      slot = *property->default_value;
      fill_defaults(property, slot, depth + 1);
    }
  }
}

}  // namespace

std::vector<ErrorDetail> to_error_details(const std::vector<SchemaIssue>& issues,
                                          std::string_view root) {
  std::vector<ErrorDetail> details;
  details.reserve(issues.size());
  for (const SchemaIssue& issue : issues) {
    std::string path(root);
    if (!issue.path.empty()) {
      // Index segments attach directly ("items[2]"); keys after a dot.
      if (!path.empty() && issue.path.front() != '[')
        path += '.';
      path += issue.path;
    }
    details.push_back({std::move(path), issue.rule});
  }
  return details;
}

Result<JsonSchema> JsonSchema::compile(const Json& schema) {
  try {
    if (deeper_than(schema, kMaxJsonSchemaDepth)) {
      return Error(
          ErrorCode::kInvalidArgument, "invalid JSON schema",
          {{"", "nesting is deeper than " + std::to_string(kMaxJsonSchemaDepth) + " levels"}});
    }
    auto impl = std::make_shared<Impl>();
    Compiler compiler(&impl->nodes);
    impl->root = compiler.run(schema);
    if (!compiler.errors.empty()) {
      return Error(ErrorCode::kInvalidArgument, "invalid JSON schema", std::move(compiler.errors));
    }
    return JsonSchema(std::move(impl));
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, std::string("compiling a JSON schema failed: ") + e.what());
  }
}

std::vector<SchemaIssue> JsonSchema::validate(const Json& instance) const {
  std::vector<SchemaIssue> issues;
  if (!impl_) {
    return issues;
  }
  try {
    Evaluator(&issues).run(impl_->root, instance);
  } catch (const std::exception& e) {
    issues.push_back({"", std::string("could not be validated: ") + e.what()});
  }
  return issues;
}

bool JsonSchema::is_valid(const Json& instance) const {
  if (!impl_) {
    return true;
  }
  try {
    return Evaluator(nullptr).run(impl_->root, instance);
  } catch (const std::exception&) {
    return false;
  }
}

Json JsonSchema::apply_defaults(const Json& instance) const {
  try {
    Json result = deep_copy(instance);
    if (impl_) {
      fill_defaults(impl_->root, result, 0);
    }
    return result;
  } catch (const std::exception&) {
    return Json();  // only on allocation failure; there is nothing sensible to copy into
  }
}

}  // namespace outlet
