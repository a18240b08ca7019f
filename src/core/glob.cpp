#include "core/glob.h"

#include <cctype>

namespace outlet {
namespace {

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

}  // namespace

// A single backtrack point: linear in practice and never exponential, whatever
// the glob.
bool glob_matches(std::string_view text, std::string_view glob, bool ignore_case) {
  auto same = [ignore_case](char a, char b) { return ignore_case ? lower(a) == lower(b) : a == b; };
  size_t t = 0, p = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < glob.size() && glob[p] == '*') {
      star = p++;
      resume = t;
    } else if (p < glob.size() && (glob[p] == '?' || same(glob[p], text[t]))) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < glob.size() && glob[p] == '*')
    ++p;
  return p == glob.size();
}

}  // namespace outlet
