// A JSON Schema draft-07 validator for plugin manifests, config and payloads.
//
// Compiling once and validating many times is the intended use: compile() does
// all the schema-side work (keyword checks, RE2 compilation, `$ref` resolution),
// so validate() only walks the instance. A compiled schema is immutable and
// cheap to copy, and may be shared between threads.
//
// Outlet-specific choices:
//  - `pattern`, `patternProperties` and `format: "regex"` use RE2, so matching
//    is linear-time whatever a plugin author writes; ECMA features RE2 lacks
//    (lookaround, backreferences) are rejected at compile time.
//  - `format: "color"` means `#RRGGBB` and is always enforced, as are the common
//    formats listed in json_schema.cpp; unknown formats are ignored.
//  - `$ref` resolves within the document (JSON pointers and `$id`s) and to the
//    draft-07 meta-schema; other remote references are compile errors, because
//    a plugin's schema must be self-contained.
//  - Nesting deeper than kMaxJsonSchemaDepth, in a schema or an instance, is
//    reported rather than followed, so hostile input cannot overflow the stack.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "outlet/json.h"
#include "outlet/result.h"

namespace outlet {

// The deepest JSON nesting compile() accepts in a schema document and
// validate() descends into in an instance.
inline constexpr int kMaxJsonSchemaDepth = 128;
// validate() stops collecting after this many issues.
inline constexpr int kMaxSchemaIssues = 100;
// The most `$ref`s followed at one instance location before giving up on a cycle.
inline constexpr int kMaxSchemaRefHops = 64;

// One violation: `path` locates the offending value in the instance
// (`color`, `items[2].name`, "" for the root); `rule` says what it broke.
struct SchemaIssue {
  std::string path;
  std::string rule;

  bool operator==(const SchemaIssue&) const = default;
};

// Issues as ErrorDetails, for callers that report them in an Error. `root` names
// the validated document in each path ("config" gives "config.mode"; "" leaves
// paths as they are).
std::vector<ErrorDetail> to_error_details(const std::vector<SchemaIssue>& issues,
                                          std::string_view root = "");

class JsonSchema {
 public:
  // The schema `true`: accepts everything and has no defaults.
  JsonSchema() = default;

  // Compiles a schema document. Rejects a schema that is itself malformed
  // (wrong keyword types, a `pattern` RE2 cannot compile, an unresolvable
  // `$ref`) with one ErrorDetail per problem, whose path is the schema location
  // (e.g. `properties.color.pattern`).
  static Result<JsonSchema> compile(const Json& schema);

  // Every violation, in a stable order, capped at kMaxSchemaIssues. Empty = valid.
  std::vector<SchemaIssue> validate(const Json& instance) const;
  // Faster than validate(): stops at the first violation.
  bool is_valid(const Json& instance) const;

  // A copy of `instance` with `default` values filled in for absent properties,
  // recursively through `properties`. An absent property is created only when
  // its own schema declares a default (which then gets its subproperties'
  // defaults filled in too). Does not validate.
  Json apply_defaults(const Json& instance) const;

 private:
  struct Impl;

  explicit JsonSchema(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

  std::shared_ptr<const Impl> impl_;
};

}  // namespace outlet
