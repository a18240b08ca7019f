// Parsing JSON text from a file, a request or a plugin, with an error that says
// where. Every document Outlet reads from outside goes through here.
#pragma once

#include <cstddef>
#include <string_view>

#include "outlet/json.h"
#include "outlet/result.h"

namespace outlet {

// nlohmann parses any depth iteratively, but copying and comparing values recurse:
// 400,000 nested arrays parse fine and then overflow the stack. No document Outlet
// reads needs more than this.
inline constexpr size_t kMaxJsonTextDepth = 128;

// `what` names the document in the message, e.g. "plugin.json".
Result<Json> parse_json_text(std::string_view text, std::string_view what);

// The deepest nesting of arrays and objects in `text`, counting brackets outside
// strings; stops counting once past `limit`.
size_t json_nesting_depth(std::string_view text, size_t limit);

}  // namespace outlet
