// What every native the host defines for plugin code (JS host functions, wasm
// imports) shares: C++ exceptions turned into JS errors before they could unwind
// through SpiderMonkey's frames, and errors reported and read as text.
#pragma once

#include <jsapi.h>

#include <exception>
#include <new>
#include <string>

namespace outlet::js {

// A native wrapped so that a C++ exception becomes a JS error. (A block the
// memory budget refuses makes operator new throw std::bad_alloc in host code
// called from a plugin.)
template <JSNative Native>
bool guarded(JSContext* cx, unsigned argc, JS::Value* vp) {
  try {
    return Native(cx, argc, vp);
  } catch (const std::bad_alloc&) {
    JS_ReportErrorASCII(cx, "the host ran out of memory for this call (the plugin's memory limit)");
  } catch (const std::exception& e) {
    JS_ReportErrorUTF8(cx, "the host failed: %s", e.what());
  }
  return false;
}

// Reports `message` as a JS error and returns false, as a native does.
bool throw_error(JSContext* cx, const std::string& message);

// A value as text (String(value)); clears what converting it threw.
std::string to_utf8(JSContext* cx, JS::HandleValue value);

}  // namespace outlet::js
