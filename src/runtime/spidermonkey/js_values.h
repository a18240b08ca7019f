// JSON ↔ JavaScript values, directly (no JSON text in between). Integers stay
// integers (a JS number that is integral and within ±2^53 becomes a JSON integer),
// `undefined` properties are skipped as JSON.stringify skips them, and anything
// JSON cannot hold (functions, symbols, NaN, cycles, lone surrogates) is an error
// naming where it was found.
#pragma once

#include <jsapi.h>

#include <string>
#include <string_view>

#include "outlet/json.h"

namespace outlet::js {

struct ValueLimits {
  int max_depth = 128;
  size_t max_values = 1'000'000;
  size_t max_string_bytes = size_t{16} << 20;  // all strings of one value together
};

// False with a pending exception (or an uncatchable stop) on failure.
bool to_js(JSContext* cx, const Json& value, JS::MutableHandleValue out);

// False with `problem` set ("at .user.name: a function cannot be sent to the
// host"); when the script was stopped (timeout, memory) `problem` is empty.
bool from_js(JSContext* cx, JS::HandleValue value, const ValueLimits& limits, Json& out,
             std::string& problem);

// UTF-8 source text as UTF-16; false (with the byte offset of the first bad
// sequence in `bad_offset`) when it is not valid UTF-8.
bool utf8_to_utf16(std::string_view text, std::u16string& out, size_t& bad_offset);

// A JS string as UTF-8; false for a lone surrogate.
bool string_to_utf8(JSContext* cx, JSString* string, std::string& out);

}  // namespace outlet::js
