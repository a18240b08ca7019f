#include "core/json_text.h"

namespace outlet {

size_t json_nesting_depth(std::string_view text, size_t limit) {
  size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // skip the escaped character, whatever it is
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest)
        deepest = depth;
      if (deepest > limit)
        return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

Result<Json> parse_json_text(std::string_view text, std::string_view what) {
  if (json_nesting_depth(text, kMaxJsonTextDepth) > kMaxJsonTextDepth) {
    return Error(ErrorCode::kInvalidArgument, std::string(what) + " is not accepted",
                 {{"", "arrays and objects nest deeper than " + std::to_string(kMaxJsonTextDepth) +
                           " levels"}});
  }
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // nlohmann's message carries the line and column; strip its type prefix.
    std::string message = e.what();
    size_t detail = message.find("parse error");
    return Error(ErrorCode::kInvalidArgument, std::string(what) + " is not valid JSON",
                 {{"", detail == std::string::npos ? message : message.substr(detail)}});
  }
}

}  // namespace outlet
