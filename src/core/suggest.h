// "Did you mean" hints for misspelled names in manifests, configs and CLI input.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace outlet {

// The closest candidate within a small edit distance (≤ 2, or a third of the
// word's length for long words), or "" when nothing is close enough.
std::string closest_match(std::string_view word, const std::vector<std::string>& candidates);

// ` (did you mean "x"?)` or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace outlet
