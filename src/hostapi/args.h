// Argument checking for host functions: a plugin passes anything, so each
// function names the argument and the rule it broke.
#pragma once

#include <initializer_list>
#include <string>

#include "outlet/json.h"
#include "outlet/result.h"

namespace outlet {

class HostArgs {
 public:
  HostArgs(std::string function, const Json& args) : function_(std::move(function)), args_(args) {}

  // `names` name the positional arguments, so that a missing one is reported by name
  // ("kv.set: argument 2 (value) is missing") rather than only by count.
  Status expect_count(size_t min, size_t max, std::initializer_list<const char*> names = {}) const;
  Result<std::string> string_at(size_t index, const char* name, size_t max_bytes) const;
  const Json& at(size_t index) const;  // null when absent
  bool has(size_t index) const { return args_.is_array() && index < args_.size(); }
  Error invalid(size_t index, const char* name, const std::string& rule) const;

 private:
  std::string function_;
  const Json& args_;
};

}  // namespace outlet
