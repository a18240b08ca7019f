#include "runtime/spidermonkey/wasm_glue.h"

// GCC 12 reports JS::Rooted linking itself into the context's root list (and
// unlinking in its destructor, which GCC does not follow) as a dangling pointer.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif

#include <js/ArrayBuffer.h>
#include <js/BigInt.h>
#include <js/Conversions.h>
#include <js/Exception.h>
#include <js/PropertyAndElement.h>

#include <cctype>

#include "runtime/spidermonkey/js_values.h"
#include "runtime/spidermonkey/wasm_kernel/kernel_layout.h"

namespace outlet::wasm {

// A trap or a host function's error as "RuntimeError: unreachable executed" and
// where it happened.
std::string take_exception(JSContext* cx) {
  JS::RootedValue exception(cx);
  if (!JS_GetPendingException(cx, &exception))
    return "an error was thrown";
  JS_ClearPendingException(cx);
  std::string text;
  if (exception.isObject()) {
    // "Name: message" from the parts: converting the whole error right after a
    // stack overflow can fail where reading its properties does not.
    JS::RootedObject error(cx, &exception.toObject());
    JS::RootedValue name(cx), message(cx);
    if (JS_GetProperty(cx, error, "name", &name) && name.isString() &&
        JS_GetProperty(cx, error, "message", &message) && message.isString())
      text = to_utf8(cx, name) + ": " + to_utf8(cx, message);
    JS_ClearPendingException(cx);
  }
  if (text.empty())
    text = to_utf8(cx, exception);
  if (exception.isObject()) {
    JS::RootedObject error(cx, &exception.toObject());
    JS::RootedValue stack(cx);
    if (JS_GetProperty(cx, error, "stack", &stack) && stack.isString()) {
      std::string frames = to_utf8(cx, stack);
      while (!frames.empty() && frames.back() == '\n')
        frames.pop_back();
      if (!frames.empty()) {
        text += "\nwasm backtrace:";
        size_t start = 0, repeats = 0;
        std::string previous;
        auto flush_repeats = [&] {
          if (repeats > 0)
            text += "\n\t(the frame above " + std::to_string(repeats) + " more times)";
          repeats = 0;
        };
        for (int shown = 0; start < frames.size() && shown < 16;) {
          size_t end = frames.find('\n', start);
          if (end == std::string::npos)
            end = frames.size();
          std::string frame = frames.substr(start, end - start);
          start = end + 1;
          if (frame == previous) {
            ++repeats;
            continue;
          }
          flush_repeats();
          text += "\n\t" + frame;
          previous = std::move(frame);
          ++shown;
        }
        flush_repeats();
      }
    }
  }
  JS_ClearPendingException(cx);
  if (text.size() > 4096)
    text.resize(4096);
  return text;
}

std::string join(const std::vector<std::string>& parts, const char* separator) {
  std::string text;
  for (size_t i = 0; i < parts.size(); ++i)
    text += (i ? separator : "") + parts[i];
  return text;
}

std::string to_upper_ascii(std::string text) {
  for (char& c : text)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

bool view_memory(JSContext* cx, JS::HandleObject memory, MemoryView& view) {
  JS::RootedValue buffer(cx);
  if (!memory || !JS_GetProperty(cx, memory, "buffer", &buffer) || !buffer.isObject())
    return false;
  bool shared = false;
  JS::GetArrayBufferLengthAndData(&buffer.toObject(), &view.size, &shared, &view.data);
  return view.data != nullptr || view.size == 0;
}

std::optional<std::string_view> kernel_block(const MemoryView& view, uint64_t handle) {
  if (handle < OUTLET_KERNEL_HEADER_BYTES || handle % 8 != 0 || !view.contains(handle, 0))
    return std::nullopt;
  uint64_t header = handle - OUTLET_KERNEL_HEADER_BYTES;
  if (view.u32_at(header + OUTLET_KERNEL_HEADER_MAGIC) !=
      (OUTLET_KERNEL_MAGIC_USED ^ static_cast<uint32_t>(handle)))
    return std::nullopt;
  uint64_t length = view.u64_at(header + OUTLET_KERNEL_HEADER_LENGTH);
  if (!view.contains(handle, length))
    return std::nullopt;
  return std::string_view(reinterpret_cast<const char*>(view.data + handle), length);
}

std::optional<uint64_t> to_u64(const JS::Value& value) {
  if (value.isBigInt())
    return JS::ToBigUint64(value.toBigInt());
  if (value.isInt32())
    return static_cast<uint32_t>(value.toInt32());
  if (value.isNumber() && value.toNumber() >= 0)
    return static_cast<uint64_t>(value.toNumber());
  return std::nullopt;
}

bool set_u64(JSContext* cx, JS::MutableHandleValue out, uint64_t value) {
  JS::BigInt* big = JS::NumberToBigInt(cx, value);
  if (big == nullptr)
    return false;
  out.setBigInt(big);
  return true;
}

bool define_named(JSContext* cx, JS::HandleObject object, const std::string& name,
                  JS::HandleValue value) {
  JS::RootedString key(cx, JS_NewStringCopyUTF8N(cx, JS::UTF8Chars(name.data(), name.size())));
  JS::RootedId id(cx);
  return key && JS_StringToId(cx, key, &id) &&
         JS_DefinePropertyById(cx, object, id, value, JSPROP_ENUMERATE);
}

bool get_named(JSContext* cx, JS::HandleObject object, const std::string& name,
               JS::MutableHandleValue out) {
  JS::RootedString key(cx, JS_NewStringCopyUTF8N(cx, JS::UTF8Chars(name.data(), name.size())));
  JS::RootedId id(cx);
  return key && JS_StringToId(cx, key, &id) && JS_GetPropertyById(cx, object, id, out);
}

}  // namespace outlet::wasm
