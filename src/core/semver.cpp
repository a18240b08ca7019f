#include "core/semver.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <optional>
#include <utility>

namespace outlet {
namespace {

constexpr uint64_t kMaxNumber = std::numeric_limits<uint64_t>::max();

// A reason something failed to parse, or nullopt for success. The callers add
// the context (which version, which range) so each reason stays short.
using Problem = std::optional<std::string>;

// Inputs come from untrusted manifests, so anything echoed into a message is
// escaped: a crafted version must not be able to forge log lines.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  out += '"';
  return out;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_identifier_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

Problem parse_number(std::string_view s, std::string_view what, uint64_t* out) {
  std::string name(what);
  if (s.empty())
    return name + " is empty";
  if (!all_digits(s))
    return name + " " + quote(s) + " is not a number";
  if (s.size() > 1 && s[0] == '0')
    return name + " " + quote(s) + " has a leading zero";
  uint64_t value = 0;
  for (char c : s) {
    auto digit = static_cast<uint64_t>(c - '0');
    if (value > (kMaxNumber - digit) / 10)
      return name + " " + quote(s) + " is too large";
    value = value * 10 + digit;
  }
  *out = value;
  return std::nullopt;
}

// Prerelease and build use the same identifier alphabet, but only prerelease
// identifiers are ever compared numerically, so only they get number rules.
Problem parse_identifiers(std::string_view list, bool prerelease, std::vector<std::string>* out) {
  std::string what = prerelease ? "prerelease" : "build metadata";
  if (list.empty())
    return what + " is empty";
  for (std::string_view id : split(list, '.')) {
    if (id.empty())
      return what + " " + quote(list) + " has an empty identifier";
    if (!std::all_of(id.begin(), id.end(), is_identifier_char)) {
      return what + " identifier " + quote(id) + " may only contain [0-9A-Za-z-]";
    }
    if (prerelease && all_digits(id)) {
      uint64_t ignored = 0;
      if (auto problem = parse_number(id, "prerelease identifier", &ignored))
        return problem;
    }
    out->emplace_back(id);
  }
  return std::nullopt;
}

// Neither prerelease nor build may contain '+', and the core contains no '-',
// so the first '+' starts the build and the first '-' before it the prerelease.
struct Pieces {
  std::string_view core;
  std::optional<std::string_view> prerelease;
  std::optional<std::string_view> build;
};

Pieces split_pieces(std::string_view s) {
  Pieces pieces;
  if (size_t plus = s.find('+'); plus != std::string_view::npos) {
    pieces.build = s.substr(plus + 1);
    s = s.substr(0, plus);
  }
  if (size_t dash = s.find('-'); dash != std::string_view::npos) {
    pieces.prerelease = s.substr(dash + 1);
    s = s.substr(0, dash);
  }
  pieces.core = s;
  return pieces;
}

constexpr std::string_view kComponentNames[] = {"major version", "minor version", "patch version"};

Problem parse_tail(const Pieces& pieces, Version* v) {
  if (pieces.prerelease) {
    if (auto problem = parse_identifiers(*pieces.prerelease, true, &v->prerelease))
      return problem;
  }
  if (pieces.build) {
    std::vector<std::string> ids;
    if (auto problem = parse_identifiers(*pieces.build, false, &ids))
      return problem;
    v->build = std::string(*pieces.build);
  }
  return std::nullopt;
}

// Compares numeric identifiers by value without converting, which also stays
// correct for hand-built Versions whose identifiers would overflow or have
// leading zeros.
std::strong_ordering compare_numeric(std::string_view a, std::string_view b) {
  a.remove_prefix(std::min(a.find_first_not_of('0'), a.size()));
  b.remove_prefix(std::min(b.find_first_not_of('0'), b.size()));
  if (a.size() != b.size())
    return a.size() <=> b.size();
  return a.compare(b) <=> 0;
}

std::strong_ordering compare_identifier(const std::string& a, const std::string& b) {
  bool a_numeric = all_digits(a);
  bool b_numeric = all_digits(b);
  if (a_numeric && b_numeric)
    return compare_numeric(a, b);
  // Spec 11.4.3: numeric identifiers always sort below alphanumeric ones.
  if (a_numeric)
    return std::strong_ordering::less;
  if (b_numeric)
    return std::strong_ordering::greater;
  return a.compare(b) <=> 0;
}

// ---- Ranges ---------------------------------------------------------------

// A version in a range may leave trailing components out or make them
// wildcards; `given` counts the leading numeric components (0 means "*").
struct Partial {
  int given = 0;
  Version version;  // omitted components are 0
};

bool is_wildcard(std::string_view s) {
  return s == "x" || s == "X" || s == "*";
}

Problem parse_partial(std::string_view s, Partial* out) {
  if (s[0] == 'v' || s[0] == 'V')
    return "a leading \"v\" is not allowed";
  Pieces pieces = split_pieces(s);
  std::vector<std::string_view> parts = split(pieces.core, '.');
  if (parts.size() > 3)
    return quote(s) + " has more than MAJOR.MINOR.PATCH";
  uint64_t* fields[] = {&out->version.major, &out->version.minor, &out->version.patch};
  for (size_t i = 0; i < parts.size(); ++i) {
    if (is_wildcard(parts[i]))
      continue;
    // "1.x.3" has no sensible meaning; reject rather than guess.
    if (out->given != static_cast<int>(i))
      return "a number cannot follow a wildcard";
    if (auto problem = parse_number(parts[i], kComponentNames[i], fields[i]))
      return problem;
    ++out->given;
  }
  if ((pieces.prerelease || pieces.build) && out->given < 3) {
    return "a prerelease or build needs a full MAJOR.MINOR.PATCH version";
  }
  return parse_tail(pieces, &out->version);
}

Version make_version(uint64_t major, uint64_t minor, uint64_t patch,
                     std::vector<std::string> prerelease = {}) {
  return Version{major, minor, patch, std::move(prerelease), {}};
}

// Upper bounds are written as `<X.Y.Z-0` (node-semver's trick): -0 is the
// lowest prerelease of X.Y.Z, so the bound excludes X.Y.Z's prereleases too.
// A bound past uint64's end is nullopt: nothing can exceed it, so no bound.
std::optional<Version> next_major(const Version& v) {
  if (v.major == kMaxNumber)
    return std::nullopt;
  return make_version(v.major + 1, 0, 0, {"0"});
}

std::optional<Version> next_minor(const Version& v) {
  if (v.minor == kMaxNumber)
    return next_major(v);
  return make_version(v.major, v.minor + 1, 0, {"0"});
}

std::optional<Version> next_patch(const Version& v) {
  if (v.patch == kMaxNumber)
    return next_minor(v);
  return make_version(v.major, v.minor, v.patch + 1, {"0"});
}

// The exclusive upper end of what a partial covers ("1.2" -> <1.3.0-0).
std::optional<Version> partial_ceiling(const Partial& p) {
  return p.given == 1 ? next_major(p.version) : next_minor(p.version);
}

bool is_operator_char(char c) {
  return c == '<' || c == '>' || c == '=' || c == '^' || c == '~';
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_spaces(std::string_view s) {
  std::vector<std::string_view> tokens;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i]))
      ++i;
    size_t start = i;
    while (i < s.size() && !is_space(s[i]))
      ++i;
    if (i > start)
      tokens.push_back(s.substr(start, i - start));
  }
  return tokens;
}

}  // namespace

Result<Version> Version::parse(std::string_view text) {
  if (text.size() > kMaxVersionTextLength) {
    return Error(ErrorCode::kInvalidArgument, "version is " + std::to_string(text.size()) +
                                                  " characters long; the limit is " +
                                                  std::to_string(kMaxVersionTextLength));
  }
  auto fail = [&](const std::string& reason) {
    return Error(ErrorCode::kInvalidArgument,
                 quote(text) + " is not a semantic version: " + reason);
  };
  // "v1.2.3" is common in git tags; say exactly what is wrong with it.
  if (!text.empty() && (text[0] == 'v' || text[0] == 'V') && parse(text.substr(1)).ok()) {
    return fail("a leading \"v\" is not allowed");
  }
  Pieces pieces = split_pieces(text);
  std::vector<std::string_view> parts = split(pieces.core, '.');
  if (parts.size() != 3) {
    return Error(ErrorCode::kInvalidArgument,
                 quote(text) + " is not a semantic version (expected MAJOR.MINOR.PATCH)");
  }
  Version v;
  uint64_t* fields[] = {&v.major, &v.minor, &v.patch};
  for (size_t i = 0; i < 3; ++i) {
    if (auto problem = parse_number(parts[i], kComponentNames[i], fields[i]))
      return fail(*problem);
  }
  if (auto problem = parse_tail(pieces, &v))
    return fail(*problem);
  return v;
}

std::string Version::to_string() const {
  std::string out =
      std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  for (size_t i = 0; i < prerelease.size(); ++i) {
    out += i == 0 ? '-' : '.';
    out += prerelease[i];
  }
  if (!build.empty())
    out += "+" + build;
  return out;
}

std::strong_ordering operator<=>(const Version& a, const Version& b) {
  if (auto c = a.major <=> b.major; std::is_neq(c))
    return c;
  if (auto c = a.minor <=> b.minor; std::is_neq(c))
    return c;
  if (auto c = a.patch <=> b.patch; std::is_neq(c))
    return c;
  // Spec 11.3: a prerelease sorts below the release it precedes.
  if (a.prerelease.empty() || b.prerelease.empty()) {
    return a.prerelease.empty() <=> b.prerelease.empty();
  }
  size_t n = std::min(a.prerelease.size(), b.prerelease.size());
  for (size_t i = 0; i < n; ++i) {
    if (auto c = compare_identifier(a.prerelease[i], b.prerelease[i]); std::is_neq(c))
      return c;
  }
  return a.prerelease.size() <=> b.prerelease.size();
}

Result<VersionRange> VersionRange::parse(std::string_view text) {
  if (text.size() > kMaxVersionTextLength) {
    return Error(ErrorCode::kInvalidArgument, "version range is " + std::to_string(text.size()) +
                                                  " characters long; the limit is " +
                                                  std::to_string(kMaxVersionTextLength));
  }
  auto fail = [&](const std::string& reason) {
    return Error(ErrorCode::kInvalidArgument,
                 "invalid version range " + quote(text) + ": " + reason);
  };

  VersionRange range;
  range.text_ = std::string(text);

  // Splitting on "||" first is safe: '|' cannot occur inside a version.
  std::vector<std::string_view> alternatives;
  for (size_t start = 0;;) {
    size_t bar = text.find("||", start);
    alternatives.push_back(
        trim(text.substr(start, bar == std::string_view::npos ? bar : bar - start)));
    if (bar == std::string_view::npos)
      break;
    start = bar + 2;
  }

  for (std::string_view alternative : alternatives) {
    // node-semver reads "1.x ||" as "1.x || *", silently accepting everything;
    // in a permission-bearing manifest that is far more likely a typo.
    if (alternative.empty() && alternatives.size() > 1)
      return fail("empty alternative around \"||\"");

    // Fold "> = 1.2" style spacing ("> 1.2", "^ 1.2") into single tokens.
    std::vector<std::string_view> raw = split_spaces(alternative);
    std::vector<std::string> tokens;
    for (size_t i = 0; i < raw.size(); ++i) {
      std::string_view t = raw[i];
      if (std::all_of(t.begin(), t.end(), is_operator_char)) {
        if (i + 1 >= raw.size() || raw[i + 1] == "-" || is_operator_char(raw[i + 1][0])) {
          return fail("comparator " + quote(t) + " has no version");
        }
        tokens.push_back(std::string(t) + std::string(raw[i + 1]));
        ++i;
      } else {
        tokens.emplace_back(t);
      }
    }

    ComparatorSet set;
    auto add = [&set](Op op, Version v) { set.push_back(Comparator{op, std::move(v)}); };
    // `<0.0.0-0`: 0.0.0-0 is the smallest version there is.
    auto add_never = [&] { add(Op::kLess, make_version(0, 0, 0, {"0"})); };
    auto add_below = [&](std::optional<Version> bound) {
      if (bound)
        add(Op::kLess, std::move(*bound));
    };

    auto parse_bound = [&](const std::string& token, Partial* p) -> Problem {
      if (is_operator_char(token[0])) {
        return "hyphen range bound " + quote(token) + " cannot have an operator";
      }
      if (auto problem = parse_partial(token, p))
        return "version " + quote(token) + ": " + *problem;
      return std::nullopt;
    };

    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string& token = tokens[i];
      if (token == "-")
        return fail("hyphen \"-\" has no lower bound");

      if (i + 1 < tokens.size() && tokens[i + 1] == "-") {
        // Hyphen range: "A - B" means >=A <=B, where a partial B covers
        // everything it names ("1 - 2" includes 2.9.9).
        if (i + 2 >= tokens.size() || tokens[i + 2] == "-") {
          return fail("hyphen range " + quote(token + " -") + " has no upper bound");
        }
        if (i + 3 < tokens.size() && tokens[i + 3] == "-") {
          return fail("hyphen ranges cannot be chained (" + quote(tokens[i + 2] + " -") + ")");
        }
        Partial from, to;
        if (auto problem = parse_bound(token, &from))
          return fail(*problem);
        if (auto problem = parse_bound(tokens[i + 2], &to))
          return fail(*problem);
        if (from.given > 0)
          add(Op::kGreaterEqual, from.version);
        if (to.given == 3) {
          add(Op::kLessEqual, to.version);
        } else if (to.given > 0) {
          add_below(partial_ceiling(to));
        }
        i += 2;
        continue;
      }

      size_t op_len = 0;
      while (op_len < token.size() && is_operator_char(token[op_len]))
        ++op_len;
      std::string_view op = std::string_view(token).substr(0, op_len);
      std::string_view rest = std::string_view(token).substr(op_len);
      if (!op.empty() && op != "=" && op != "<" && op != "<=" && op != ">" && op != ">=" &&
          op != "^" && op != "~" && op != "~>") {
        return fail("comparator " + quote(token) + " has unknown operator " + quote(op));
      }
      if (rest.empty())
        return fail("comparator " + quote(token) + " has no version");
      Partial p;
      if (auto problem = parse_partial(rest, &p)) {
        return fail("comparator " + quote(token) + ": " + *problem);
      }
      const Version& floor = p.version;

      // A wildcard compares like the whole span it covers: ">1.2" is past all
      // of 1.2.x, "<=1.2" includes all of it, "<1.2" stops before 1.2.0-0.
      if (op.empty() || op == "=") {
        if (p.given == 3) {
          add(Op::kEqual, floor);
        } else if (p.given > 0) {
          add(Op::kGreaterEqual, floor);
          add_below(partial_ceiling(p));
        }
      } else if (op == ">=") {
        if (p.given > 0)
          add(Op::kGreaterEqual, floor);
      } else if (op == ">") {
        if (p.given == 3) {
          add(Op::kGreater, floor);
        } else {
          // ">*", or a ceiling past uint64's end, leaves nothing above.
          std::optional<Version> ceiling = p.given == 0 ? std::nullopt : partial_ceiling(p);
          if (ceiling) {
            // Without the -0: ">=2.0.0-0" would let 2.0.0 prereleases in
            // through the prerelease rule in set_contains.
            ceiling->prerelease.clear();
            add(Op::kGreaterEqual, std::move(*ceiling));
          } else {
            add_never();
          }
        }
      } else if (op == "<") {
        if (p.given == 0) {
          add_never();
        } else if (p.given == 3) {
          add(Op::kLess, floor);
        } else {
          add(Op::kLess, make_version(floor.major, floor.minor, floor.patch, {"0"}));
        }
      } else if (op == "<=") {
        if (p.given == 3) {
          add(Op::kLessEqual, floor);
        } else if (p.given > 0) {
          add_below(partial_ceiling(p));
        }
      } else if (op == "^") {
        // Caret allows changes that do not touch the leftmost nonzero
        // component, treating an omitted component as a wildcard: ^0.0 is
        // <0.1.0, but ^0.0.3 is <0.0.4.
        if (p.given > 0) {
          add(Op::kGreaterEqual, floor);
          if (floor.major > 0 || p.given == 1) {
            add_below(next_major(floor));
          } else if (floor.minor > 0 || p.given == 2) {
            add_below(next_minor(floor));
          } else {
            add_below(next_patch(floor));
          }
        }
      } else {  // "~" or "~>": patch-level changes if a minor is given, else minor-level
        if (p.given > 0) {
          add(Op::kGreaterEqual, floor);
          add_below(p.given == 1 ? next_major(floor) : next_minor(floor));
        }
      }
    }
    range.sets_.push_back(std::move(set));
  }
  return range;
}

bool VersionRange::contains(const Version& v) const {
  return std::any_of(sets_.begin(), sets_.end(),
                     [&](const ComparatorSet& set) { return set_contains(set, v); });
}

bool VersionRange::set_contains(const ComparatorSet& set, const Version& v) {
  for (const Comparator& c : set) {
    auto order = v <=> c.version;
    bool ok = false;
    switch (c.op) {
      case Op::kEqual:
        ok = std::is_eq(order);
        break;
      case Op::kLess:
        ok = std::is_lt(order);
        break;
      case Op::kLessEqual:
        ok = std::is_lteq(order);
        break;
      case Op::kGreater:
        ok = std::is_gt(order);
        break;
      case Op::kGreaterEqual:
        ok = std::is_gteq(order);
        break;
    }
    if (!ok)
      return false;
  }
  if (v.prerelease.empty())
    return true;
  // node-semver's prerelease rule: a prerelease is unstable, so a range only
  // admits one if the author opted in for that exact release, by writing a
  // comparator in the same AND-set with the same MAJOR.MINOR.PATCH and a
  // prerelease. ">=1.2.3-beta <2" admits 1.2.3-rc.1 but not 1.5.0-beta; "*"
  // and "^1.0.0" admit no prereleases at all. The synthetic `<X.Y.Z-0` upper
  // bounds carry a prerelease too, but they reject every X.Y.Z prerelease
  // themselves, so they never widen this.
  return std::any_of(set.begin(), set.end(), [&](const Comparator& c) {
    return !c.version.prerelease.empty() && c.version.major == v.major &&
           c.version.minor == v.minor && c.version.patch == v.patch;
  });
}

}  // namespace outlet
