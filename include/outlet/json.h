// The host's JSON value. Handlers take one JSON value and return one (DESIGN.md,
// "Plugin contract"); every runtime converts directly to and from this type.
#pragma once

#include <nlohmann/json.hpp>

namespace outlet {

using Json = nlohmann::json;

}  // namespace outlet
