#include "runtime/spidermonkey/js_natives.h"

#include <js/Conversions.h>

#include "runtime/spidermonkey/js_values.h"

namespace outlet::js {

bool throw_error(JSContext* cx, const std::string& message) {
  JS_ReportErrorUTF8(cx, "%s", message.c_str());
  return false;
}

std::string to_utf8(JSContext* cx, JS::HandleValue value) {
  JSString* string = JS::ToString(cx, value);
  std::string text;
  if (string == nullptr || !string_to_utf8(cx, string, text)) {
    JS_ClearPendingException(cx);
    return "(an error that cannot be shown)";
  }
  return text;
}

}  // namespace outlet::js
