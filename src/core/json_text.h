// Parsing JSON text from a file or a request, with an error that says where.
#pragma once

#include <string_view>

#include "outlet/json.h"
#include "outlet/result.h"

namespace outlet {

// `what` names the document in the message, e.g. "plugin.json".
Result<Json> parse_json_text(std::string_view text, std::string_view what);

}  // namespace outlet
