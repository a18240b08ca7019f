// Globs for host names (network.allowedHosts), canned URLs in scenario tests and
// admin page paths: '*' matches any run of characters ('/' and '.' included), '?'
// any one character.
#pragma once

#include <string_view>

namespace outlet {

bool glob_matches(std::string_view text, std::string_view glob, bool ignore_case = false);

}  // namespace outlet
