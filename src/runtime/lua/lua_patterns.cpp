// The Lua 5.4 pattern language (manual §6.4.1), written for the sandbox: the
// matcher backtracks like the stock one, but every step is metered, so a
// pathological pattern stops at the call's deadline instead of running for hours.
//
// These functions run inside Lua and may raise (longjmp): nothing in their
// frames may have a destructor.
#include <cctype>
#include <cstring>

#include "runtime/lua/lua_bounded.h"
#include "runtime/lua/lua_guard.h"

namespace outlet::lua {
namespace {

constexpr int kMaxCaptures = 32;
constexpr int kMaxMatchDepth = 200;  // recursion of the matcher, as in stock Lua
constexpr ptrdiff_t kUnclosed = -1;
constexpr ptrdiff_t kPosition = -2;

bool is_special(char c) {
  return std::strchr("^$*+?.([%-", c) != nullptr && c != '\0';
}

bool has_specials(const char* pattern, size_t length) {
  for (size_t i = 0; i < length; ++i) {
    if (is_special(pattern[i]))
      return true;
  }
  return false;
}

bool class_matches(unsigned char c, unsigned char class_letter) {
  bool result;
  switch (std::tolower(class_letter)) {
    case 'a':
      result = std::isalpha(c);
      break;
    case 'c':
      result = std::iscntrl(c);
      break;
    case 'd':
      result = std::isdigit(c);
      break;
    case 'g':
      result = std::isgraph(c);
      break;
    case 'l':
      result = std::islower(c);
      break;
    case 'p':
      result = std::ispunct(c);
      break;
    case 's':
      result = std::isspace(c);
      break;
    case 'u':
      result = std::isupper(c);
      break;
    case 'w':
      result = std::isalnum(c);
      break;
    case 'x':
      result = std::isxdigit(c);
      break;
    case 'z':
      result = (c == 0);
      break;  // deprecated in 5.2, still in the 5.4 matcher
    default:
      return class_letter == c;  // an escaped literal, e.g. %.
  }
  return std::isupper(class_letter) ? !result : result;
}

// 1-based, negative from the end; clamps as string.find's init does.
size_t start_offset(lua_Integer position, size_t length) {
  if (position > 0)
    return static_cast<size_t>(position) - 1;
  if (position == 0 || position < -static_cast<lua_Integer>(length))
    return 0;
  return length - static_cast<size_t>(-position);
}

struct Capture {
  const char* start;
  ptrdiff_t length;
};

class Matcher {
 public:
  Matcher(lua_State* L, const char* source, size_t source_length, const char* pattern,
          size_t pattern_length)
      : L_(L),
        meter_(L),
        source_(source),
        source_end_(source + source_length),
        pattern_end_(pattern + pattern_length) {}

  void reset() {
    level_ = 0;
    depth_ = kMaxMatchDepth;
  }
  const char* source_end() const { return source_end_; }

  // The end of the match of `p` at `s`, or null.
  const char* match(const char* s, const char* p) {
    if (depth_-- == 0)
      luaL_error(L_, "pattern too complex");
    while (true) {
      meter_.add(1);
      if (p == pattern_end_)
        break;
      switch (*p) {
        case '(':
          if (p + 1 < pattern_end_ && p[1] == ')')
            s = start_capture(s, p + 2, kPosition);
          else
            s = start_capture(s, p + 1, kUnclosed);
          goto done;
        case ')':
          s = end_capture(s, p + 1);
          goto done;
        case '$':
          if (p + 1 == pattern_end_) {
            s = (s == source_end_) ? s : nullptr;
            goto done;
          }
          break;
        case '%':
          if (p + 1 < pattern_end_) {
            if (p[1] == 'b') {
              s = match_balance(s, p + 2);
              if (s == nullptr)
                goto done;
              p += 4;
              continue;
            }
            if (p[1] == 'f') {
              p += 2;
              if (p == pattern_end_ || *p != '[')
                luaL_error(L_, "missing '[' after '%%f' in pattern");
              const char* set_end = class_end(p);
              meter_.add(static_cast<size_t>(set_end - p));  // a set costs its length
              unsigned char before = (s == source_) ? '\0' : static_cast<unsigned char>(s[-1]);
              unsigned char at = (s < source_end_) ? static_cast<unsigned char>(*s) : '\0';
              if (!set_matches(before, p, set_end - 1) && set_matches(at, p, set_end - 1)) {
                p = set_end;
                continue;
              }
              s = nullptr;
              goto done;
            }
            if (std::isdigit(static_cast<unsigned char>(p[1]))) {
              s = match_capture(s, static_cast<unsigned char>(p[1]));
              if (s == nullptr)
                goto done;
              p += 2;
              continue;
            }
          }
          break;
        default:
          break;
      }
      // A single character class, maybe followed by a quantifier. Reading and
      // matching a set costs its length, so a long set is metered as such.
      const char* item_end = class_end(p);
      meter_.add(static_cast<size_t>(item_end - p));
      char quantifier = item_end < pattern_end_ ? *item_end : '\0';
      if (!single_matches(s, p, item_end)) {
        if (quantifier == '*' || quantifier == '?' || quantifier == '-') {
          p = item_end + 1;
          continue;
        }
        s = nullptr;
        goto done;
      }
      switch (quantifier) {
        case '?': {
          const char* result = match(s + 1, item_end + 1);
          if (result != nullptr) {
            s = result;
            goto done;
          }
          p = item_end + 1;
          continue;
        }
        case '+':
          s = max_expand(s + 1, p, item_end);
          goto done;
        case '*':
          s = max_expand(s, p, item_end);
          goto done;
        case '-':
          s = min_expand(s, p, item_end);
          goto done;
        default:
          ++s;
          p = item_end;
          continue;
      }
    }
  done:
    ++depth_;
    return s;
  }

  // Pushes the captures (or the whole match when there are none and `whole`).
  int push_captures(const char* s, const char* e, bool whole) {
    int count = (level_ == 0 && whole) ? 1 : level_;
    luaL_checkstack(L_, count, "too many captures");
    for (int i = 0; i < count; ++i)
      push_capture(i, s, e);
    return count;
  }

  void push_capture(int index, const char* s, const char* e) {
    if (index >= level_) {
      if (index != 0)
        luaL_error(L_, "invalid capture index %%%d", index + 1);
      lua_pushlstring(L_, s, static_cast<size_t>(e - s));
      return;
    }
    const Capture& capture = captures_[index];
    if (capture.length == kUnclosed)
      luaL_error(L_, "unfinished capture");
    if (capture.length == kPosition)
      lua_pushinteger(L_, capture.start - source_ + 1);
    else
      lua_pushlstring(L_, capture.start, static_cast<size_t>(capture.length));
  }

  int level() const { return level_; }
  WorkMeter& meter() { return meter_; }

 private:
  // The end of the single character class at p.
  const char* class_end(const char* p) {
    char c = *p++;
    if (c == '%') {
      if (p == pattern_end_)
        luaL_error(L_, "malformed pattern (ends with '%%')");
      return p + 1;
    }
    if (c == '[') {
      if (p < pattern_end_ && *p == '^')
        ++p;
      do {  // the first character of a set may be ']'
        if (p == pattern_end_)
          luaL_error(L_, "malformed pattern (missing ']')");
        char member = *p++;
        if (member == '%') {
          if (p == pattern_end_)
            luaL_error(L_, "malformed pattern (missing ']')");
          ++p;
        }
      } while (p == pattern_end_ || *p != ']');
      return p + 1;
    }
    return p;
  }

  // p points at '[', close at the set's closing ']'.
  static bool set_matches(unsigned char c, const char* p, const char* close) {
    bool negate = false;
    ++p;
    if (*p == '^') {
      negate = true;
      ++p;
    }
    for (; p < close; ++p) {
      if (*p == '%') {
        ++p;
        if (class_matches(c, static_cast<unsigned char>(*p)))
          return !negate;
      } else if (p + 2 < close && p[1] == '-') {
        if (static_cast<unsigned char>(p[0]) <= c && c <= static_cast<unsigned char>(p[2]))
          return !negate;
        p += 2;
      } else if (static_cast<unsigned char>(*p) == c) {
        return !negate;
      }
    }
    return negate;
  }

  bool single_matches(const char* s, const char* p, const char* item_end) const {
    if (s >= source_end_)
      return false;
    auto c = static_cast<unsigned char>(*s);
    switch (*p) {
      case '.':
        return true;
      case '%':
        return class_matches(c, static_cast<unsigned char>(p[1]));
      case '[':
        return set_matches(c, p, item_end - 1);
      default:
        return static_cast<unsigned char>(*p) == c;
    }
  }

  const char* max_expand(const char* s, const char* p, const char* item_end) {
    auto item_length = static_cast<size_t>(item_end - p);
    ptrdiff_t count = 0;
    while (single_matches(s + count, p, item_end)) {
      ++count;
      meter_.add(item_length);
    }
    // Longest first, giving back one character at a time.
    for (; count >= 0; --count) {
      const char* result = match(s + count, item_end + 1);
      if (result != nullptr)
        return result;
    }
    return nullptr;
  }

  const char* min_expand(const char* s, const char* p, const char* item_end) {
    auto item_length = static_cast<size_t>(item_end - p);
    while (true) {
      const char* result = match(s, item_end + 1);
      if (result != nullptr)
        return result;
      meter_.add(item_length);
      if (!single_matches(s, p, item_end))
        return nullptr;
      ++s;
    }
  }

  const char* start_capture(const char* s, const char* p, ptrdiff_t what) {
    if (level_ >= kMaxCaptures)
      luaL_error(L_, "too many captures");
    captures_[level_] = {s, what};
    ++level_;
    const char* result = match(s, p);
    if (result == nullptr)
      --level_;
    return result;
  }

  const char* end_capture(const char* s, const char* p) {
    int open = -1;
    for (int i = level_ - 1; i >= 0; --i) {
      if (captures_[i].length == kUnclosed) {
        open = i;
        break;
      }
    }
    if (open < 0)
      luaL_error(L_, "invalid pattern capture");
    captures_[open].length = s - captures_[open].start;
    const char* result = match(s, p);
    if (result == nullptr)
      captures_[open].length = kUnclosed;
    return result;
  }

  const char* match_balance(const char* s, const char* p) {
    if (p + 1 >= pattern_end_)
      luaL_error(L_, "malformed pattern (missing arguments to '%%b')");
    if (s >= source_end_ || *s != *p)
      return nullptr;
    char open = p[0], close = p[1];
    int depth = 1;
    while (++s < source_end_) {
      meter_.add(1);
      if (*s == close) {
        if (--depth == 0)
          return s + 1;
      } else if (*s == open) {
        ++depth;
      }
    }
    return nullptr;
  }

  const char* match_capture(const char* s, unsigned char digit) {
    int index = digit - '1';
    if (index < 0 || index >= level_ || captures_[index].length == kUnclosed)
      luaL_error(L_, "invalid capture index %%%d", index + 1);
    auto length = static_cast<size_t>(captures_[index].length);
    meter_.add(length);
    if (static_cast<size_t>(source_end_ - s) >= length &&
        std::memcmp(captures_[index].start, s, length) == 0) {
      return s + length;
    }
    return nullptr;
  }

  lua_State* L_;
  WorkMeter meter_;
  const char* source_;
  const char* source_end_;
  const char* pattern_end_;
  int level_ = 0;
  int depth_ = kMaxMatchDepth;
  Capture captures_[kMaxCaptures];
};

// A plain substring search, metered: its worst case is |haystack| * |needle|.
const char* plain_search(lua_State* L, const char* haystack, size_t haystack_length,
                         const char* needle, size_t needle_length) {
  if (needle_length == 0)
    return haystack;
  if (needle_length > haystack_length)
    return nullptr;
  WorkMeter meter(L);
  const char* last = haystack + (haystack_length - needle_length);
  const char* at = haystack;
  while (at <= last) {
    const void* first = std::memchr(at, needle[0], static_cast<size_t>(last - at) + 1);
    if (first == nullptr)
      return nullptr;
    at = static_cast<const char*>(first);
    meter.add(needle_length);
    if (std::memcmp(at + 1, needle + 1, needle_length - 1) == 0)
      return at;
    ++at;
  }
  return nullptr;
}

int find_or_match(lua_State* L, bool find) {
  size_t source_length = 0, pattern_length = 0;
  const char* source = luaL_checklstring(L, 1, &source_length);
  const char* pattern = luaL_checklstring(L, 2, &pattern_length);
  size_t init = start_offset(luaL_optinteger(L, 3, 1), source_length);
  if (init > source_length) {
    luaL_pushfail(L);
    return 1;
  }
  if (find && (lua_toboolean(L, 4) || !has_specials(pattern, pattern_length))) {
    const char* found =
        plain_search(L, source + init, source_length - init, pattern, pattern_length);
    if (found != nullptr) {
      lua_pushinteger(L, found - source + 1);
      lua_pushinteger(L, (found - source) + static_cast<lua_Integer>(pattern_length));
      return 2;
    }
    luaL_pushfail(L);
    return 1;
  }
  bool anchored = pattern_length > 0 && *pattern == '^';
  if (anchored) {
    ++pattern;
    --pattern_length;
  }
  Matcher matcher(L, source, source_length, pattern, pattern_length);
  const char* at = source + init;
  do {
    matcher.reset();
    const char* end = matcher.match(at, pattern);
    if (end != nullptr) {
      if (find) {
        lua_pushinteger(L, at - source + 1);
        lua_pushinteger(L, end - source);
        return matcher.push_captures(nullptr, nullptr, false) + 2;
      }
      return matcher.push_captures(at, end, true);
    }
  } while (at++ < matcher.source_end() && !anchored);
  luaL_pushfail(L);
  return 1;
}

struct GmatchState {
  size_t position;
  size_t last_match;  // SIZE_MAX: none yet
};

int gmatch_step(lua_State* L) {
  size_t source_length = 0, pattern_length = 0;
  const char* source = lua_tolstring(L, lua_upvalueindex(1), &source_length);
  const char* pattern = lua_tolstring(L, lua_upvalueindex(2), &pattern_length);
  auto* state = static_cast<GmatchState*>(lua_touserdata(L, lua_upvalueindex(3)));
  Matcher matcher(L, source, source_length, pattern, pattern_length);
  for (size_t at = state->position; at <= source_length; ++at) {
    matcher.reset();
    const char* end = matcher.match(source + at, pattern);
    if (end != nullptr && static_cast<size_t>(end - source) != state->last_match) {
      state->position = state->last_match = static_cast<size_t>(end - source);
      return matcher.push_captures(source + at, end, true);
    }
  }
  state->position = source_length + 1;
  return 0;
}

void add_replacement(lua_State* L, Matcher& matcher, luaL_Buffer& buffer, const char* s,
                     const char* e) {
  switch (lua_type(L, 3)) {
    case LUA_TFUNCTION: {
      lua_pushvalue(L, 3);
      int count = matcher.push_captures(s, e, true);
      lua_call(L, count, 1);
      break;
    }
    case LUA_TTABLE:
      matcher.push_capture(0, s, e);
      lua_gettable(L, 3);
      break;
    default: {  // a string (or number) with %0-%9 and %%
      size_t length = 0;
      const char* replacement = lua_tolstring(L, 3, &length);
      matcher.meter().add(length);
      for (size_t i = 0; i < length; ++i) {
        if (replacement[i] != '%') {
          luaL_addchar(&buffer, replacement[i]);
          continue;
        }
        ++i;
        if (i < length && replacement[i] == '%') {
          luaL_addchar(&buffer, '%');
        } else if (i < length && std::isdigit(static_cast<unsigned char>(replacement[i]))) {
          if (replacement[i] == '0')
            luaL_addlstring(&buffer, s, static_cast<size_t>(e - s));
          else {
            matcher.push_capture(replacement[i] - '1', s, e);
            luaL_tolstring(L, -1, nullptr);
            lua_remove(L, -2);
            luaL_addvalue(&buffer);
          }
        } else {
          luaL_error(L, "invalid use of '%%' in replacement string");
        }
      }
      return;
    }
  }
  if (!lua_toboolean(L, -1)) {  // nil or false: keep the original text
    lua_pop(L, 1);
    luaL_addlstring(&buffer, s, static_cast<size_t>(e - s));
  } else if (!lua_isstring(L, -1)) {
    luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
  } else {
    luaL_addvalue(&buffer);
  }
}

}  // namespace

int bounded_find(lua_State* L) {
  return find_or_match(L, true);
}

int bounded_match(lua_State* L) {
  return find_or_match(L, false);
}

int bounded_gmatch(lua_State* L) {
  size_t source_length = 0;
  luaL_checklstring(L, 1, &source_length);
  luaL_checkstring(L, 2);
  size_t init = start_offset(luaL_optinteger(L, 3, 1), source_length);
  lua_settop(L, 2);
  auto* state = static_cast<GmatchState*>(lua_newuserdatauv(L, sizeof(GmatchState), 0));
  state->position = init > source_length ? source_length + 1 : init;
  state->last_match = static_cast<size_t>(-1);
  lua_pushcclosure(L, gmatch_step, 3);
  return 1;
}

int bounded_gsub(lua_State* L) {
  size_t source_length = 0, pattern_length = 0;
  const char* source = luaL_checklstring(L, 1, &source_length);
  const char* pattern = luaL_checklstring(L, 2, &pattern_length);
  int replacement_type = lua_type(L, 3);
  lua_Integer max_replacements = luaL_optinteger(L, 4, static_cast<lua_Integer>(source_length) + 1);
  luaL_argexpected(L,
                   replacement_type == LUA_TNUMBER || replacement_type == LUA_TSTRING ||
                       replacement_type == LUA_TFUNCTION || replacement_type == LUA_TTABLE,
                   3, "string/function/table");
  bool anchored = pattern_length > 0 && *pattern == '^';
  if (anchored) {
    ++pattern;
    --pattern_length;
  }
  luaL_Buffer buffer;
  luaL_buffinit(L, &buffer);
  Matcher matcher(L, source, source_length, pattern, pattern_length);
  const char* at = source;
  const char* last_match = nullptr;
  lua_Integer replaced = 0;
  while (replaced < max_replacements) {
    matcher.reset();
    const char* end = matcher.match(at, pattern);
    if (end != nullptr && end != last_match) {
      ++replaced;
      add_replacement(L, matcher, buffer, at, end);
      at = last_match = end;
    } else if (at < matcher.source_end()) {
      luaL_addchar(&buffer, *at++);
    } else {
      break;
    }
    if (anchored)
      break;
  }
  luaL_addlstring(&buffer, at, static_cast<size_t>(matcher.source_end() - at));
  luaL_pushresult(&buffer);
  lua_pushinteger(L, replaced);
  return 2;
}

}  // namespace outlet::lua
