// Semantic versions and npm-style version ranges, used to match a plugin's
// declared host requirement (and its dependencies' versions) against what is
// installed. Range syntax follows node-semver because that is what plugin
// authors already write in package.json.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "outlet/result.h"

namespace outlet {

// Manifests are untrusted; longer inputs are rejected before any parsing work.
inline constexpr std::size_t kMaxVersionTextLength = 256;

// SemVer 2.0.0. Numeric identifiers (core and prerelease) must fit in
// uint64_t; the spec allows arbitrary size, but nobody needs more and a fixed
// width keeps comparison and range arithmetic simple and overflow-free.
struct Version {
  uint64_t major = 0;
  uint64_t minor = 0;
  uint64_t patch = 0;
  std::vector<std::string> prerelease;  // dot-separated identifiers, "" -> empty
  std::string build;                    // without the '+'; never affects ordering

  // Strict: no leading 'v', no leading zeros in numeric identifiers, no
  // surrounding whitespace. Errors are kInvalidArgument and name the problem.
  static Result<Version> parse(std::string_view text);

  std::string to_string() const;

  // SemVer precedence (spec section 11). Build metadata is ignored, so two
  // versions that differ only in build compare equal; == follows suit so that
  // == and <=> never disagree.
  friend std::strong_ordering operator<=>(const Version& a, const Version& b);
  friend bool operator==(const Version& a, const Version& b) {
    return (a <=> b) == std::strong_ordering::equal;
  }
};

// A node-semver range such as "^1.2.3", ">=1.4 <3 || 4.x" or "1.2 - 2".
class VersionRange {
 public:
  static Result<VersionRange> parse(std::string_view text);

  bool contains(const Version& v) const;

  // The text as given to parse(), for messages.
  const std::string& text() const { return text_; }

 private:
  enum class Op { kEqual, kLess, kLessEqual, kGreater, kGreaterEqual };
  struct Comparator {
    Op op;
    Version version;
  };
  // OR of ANDs. An empty AND-set matches every release.
  using ComparatorSet = std::vector<Comparator>;

  static bool set_contains(const ComparatorSet& set, const Version& v);

  std::string text_;
  std::vector<ComparatorSet> sets_;
};

}  // namespace outlet
