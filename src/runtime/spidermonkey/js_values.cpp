#include "runtime/spidermonkey/js_values.h"

#include <js/Array.h>
#include <js/BigInt.h>
#include <js/CallAndConstruct.h>
#include <js/Conversions.h>
#include <js/GCVector.h>
#include <js/PropertyAndElement.h>
#include <js/String.h>

#include <cmath>
#include <vector>

namespace outlet::js {
namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1

bool to_js_at(JSContext* cx, const Json& value, JS::MutableHandleValue out, int depth) {
  if (depth > 128) {
    JS_ReportErrorASCII(cx, "a value from the host is nested deeper than 128 levels");
    return false;
  }
  switch (value.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      out.setNull();
      return true;
    case Json::value_t::boolean:
      out.setBoolean(value.get<bool>());
      return true;
    case Json::value_t::number_integer:
      out.setNumber(static_cast<double>(value.get<int64_t>()));
      return true;
    case Json::value_t::number_unsigned:
      out.setNumber(static_cast<double>(value.get<uint64_t>()));
      return true;
    case Json::value_t::number_float:
      out.setNumber(value.get<double>());
      return true;
    case Json::value_t::string:
    case Json::value_t::binary: {
      const std::string& text = value.is_string() ? value.get_ref<const std::string&>() : "";
      JSString* string = JS_NewStringCopyUTF8N(cx, JS::UTF8Chars(text.data(), text.size()));
      if (string == nullptr)
        return false;
      out.setString(string);
      return true;
    }
    case Json::value_t::array: {
      JS::RootedObject array(cx, JS::NewArrayObject(cx, value.size()));
      if (!array)
        return false;
      JS::RootedValue element(cx);
      uint32_t index = 0;
      for (const Json& item : value) {
        if (!to_js_at(cx, item, &element, depth + 1) ||
            !JS_DefineElement(cx, array, index++, element, JSPROP_ENUMERATE))
          return false;
      }
      out.setObject(*array);
      return true;
    }
    case Json::value_t::object: {
      JS::RootedObject object(cx, JS_NewPlainObject(cx));
      if (!object)
        return false;
      JS::RootedValue field(cx);
      JS::RootedString key(cx);
      JS::RootedId id(cx);
      for (const auto& [name, item] : value.items()) {
        key = JS_NewStringCopyUTF8N(cx, JS::UTF8Chars(name.data(), name.size()));
        if (!key || !JS_StringToId(cx, key, &id) || !to_js_at(cx, item, &field, depth + 1) ||
            !JS_DefinePropertyById(cx, object, id, field, JSPROP_ENUMERATE))
          return false;
      }
      out.setObject(*object);
      return true;
    }
  }
  out.setNull();
  return true;
}

class Reader {
 public:
  Reader(JSContext* cx, const ValueLimits& limits, std::string& problem)
      : cx_(cx), limits_(limits), problem_(problem), path_objects_(cx) {}

  bool read(JS::HandleValue value, Json& out, int depth) {
    if (++values_ > limits_.max_values)
      return fail("more than " + std::to_string(limits_.max_values) + " values");
    if (value.isNullOrUndefined()) {
      out = nullptr;
      return true;
    }
    if (value.isBoolean()) {
      out = value.toBoolean();
      return true;
    }
    if (value.isInt32()) {
      out = static_cast<int64_t>(value.toInt32());
      return true;
    }
    if (value.isDouble()) {
      double number = value.toDouble();
      if (!std::isfinite(number))
        return fail(std::string(std::isnan(number) ? "NaN" : "an infinite number") +
                    " cannot be represented in JSON");
      if (number == std::trunc(number) && std::fabs(number) <= kMaxSafeInteger)
        out = static_cast<int64_t>(number);
      else
        out = number;
      return true;
    }
    if (value.isString()) {
      std::string text;
      if (!string_to_utf8(cx_, value.toString(), text))
        return fail("a string with a lone surrogate (not valid Unicode) cannot be sent as UTF-8");
      string_bytes_ += text.size();
      if (string_bytes_ > limits_.max_string_bytes)
        return fail("strings larger than " + std::to_string(limits_.max_string_bytes >> 20) +
                    " MiB in all");
      out = std::move(text);
      return true;
    }
    if (value.isSymbol())
      return fail("a symbol cannot be sent to the host");
    if (value.isBigInt()) {
      int64_t integer = 0;
      if (!JS::BigIntFits(value.toBigInt(), &integer))
        return fail("a BigInt outside the 64-bit integer range");
      out = integer;
      return true;
    }
    if (!value.isObject())
      return fail("a value JSON cannot hold");
    if (depth >= limits_.max_depth)
      return fail("nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    JS::RootedObject object(cx_, &value.toObject());
    if (JS::IsCallable(object))
      return fail("a function cannot be sent to the host");
    for (JSObject* open : path_objects_) {
      if (open == object)
        return fail("a cycle (the value contains itself)");
    }
    if (!path_objects_.append(object))
      return stopped();
    bool ok = read_object(object, out, depth);
    path_objects_.popBack();
    return ok;
  }

  std::string where() const { return path_.empty() ? "the value" : "at " + path_; }

 private:
  bool read_object(JS::HandleObject object, Json& out, int depth) {
    // toJSON (e.g. a Date) speaks for its object, as in JSON.stringify.
    JS::RootedValue to_json(cx_);
    if (!JS_GetProperty(cx_, object, "toJSON", &to_json))
      return stopped();
    if (to_json.isObject() && JS::IsCallable(&to_json.toObject())) {
      JS::RootedValue replaced(cx_);
      if (!JS::Call(cx_, object, to_json, JS::HandleValueArray::empty(), &replaced))
        return stopped();
      if (replaced.isObject() && &replaced.toObject() == object)
        return fail("toJSON returned its own object");
      return read(replaced, out, depth + 1);
    }
    bool is_array = false;
    if (!JS::IsArrayObject(cx_, object, &is_array))
      return stopped();
    if (is_array) {
      uint32_t length = 0;
      if (!JS::GetArrayLength(cx_, object, &length))
        return stopped();
      if (length > limits_.max_values)
        return fail("an array of " + std::to_string(length) + " elements");
      out = Json::array();
      JS::RootedValue element(cx_);
      for (uint32_t i = 0; i < length; ++i) {
        if (!JS_GetElement(cx_, object, i, &element))
          return stopped();
        size_t mark = path_.size();
        path_ += "[" + std::to_string(i) + "]";
        Json item;
        if (!read(element, item, depth + 1))
          return false;
        path_.resize(mark);
        out.push_back(std::move(item));
      }
      return true;
    }
    JS::Rooted<JS::IdVector> ids(cx_, JS::IdVector(cx_));
    if (!JS_Enumerate(cx_, object, &ids))
      return stopped();
    out = Json::object();
    JS::RootedValue key(cx_), field(cx_);
    for (size_t i = 0; i < ids.length(); ++i) {
      if (ids[i].isSymbol())
        continue;  // as JSON.stringify
      if (!JS_IdToValue(cx_, ids[i], &key) || !JS_GetPropertyById(cx_, object, ids[i], &field))
        return stopped();
      if (field.isUndefined())
        continue;  // as JSON.stringify
      std::string name;
      if (key.isString()) {
        if (!string_to_utf8(cx_, key.toString(), name))
          return fail("a property name with a lone surrogate");
      } else {
        JSString* text = JS::ToString(cx_, key);
        if (text == nullptr || !string_to_utf8(cx_, text, name))
          return stopped();
      }
      size_t mark = path_.size();
      path_ += "." + name;
      Json item;
      if (!read(field, item, depth + 1))
        return false;
      path_.resize(mark);
      out[name] = std::move(item);
    }
    return true;
  }

  bool fail(std::string message) {
    problem_ = where() + ": " + std::move(message);
    return false;
  }

  // A JS operation failed: an exception from the plugin's own getter or toJSON,
  // or the script was stopped (no exception: the caller reports the stop).
  bool stopped() {
    if (!JS_IsExceptionPending(cx_)) {
      problem_.clear();
      return false;
    }
    JS::RootedValue exception(cx_);
    JS_GetPendingException(cx_, &exception);
    JS_ClearPendingException(cx_);
    std::string text = "an exception";
    if (JSString* string = JS::ToString(cx_, exception)) {
      std::string converted;
      if (string_to_utf8(cx_, string, converted))
        text = converted;
    }
    JS_ClearPendingException(cx_);
    problem_ = where() + ": reading it threw " + text;
    return false;
  }

  JSContext* cx_;
  const ValueLimits& limits_;
  std::string& problem_;
  std::string path_;
  JS::RootedVector<JSObject*> path_objects_;  // the objects open above this one
  size_t values_ = 0;
  size_t string_bytes_ = 0;
};

void append_utf8(std::string& out, uint32_t code) {
  if (code < 0x80) {
    out += static_cast<char>(code);
  } else if (code < 0x800) {
    out += static_cast<char>(0xC0 | (code >> 6));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else if (code < 0x10000) {
    out += static_cast<char>(0xE0 | (code >> 12));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code >> 18));
    out += static_cast<char>(0x80 | ((code >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code & 0x3F));
  }
}

}  // namespace

bool to_js(JSContext* cx, const Json& value, JS::MutableHandleValue out) {
  return to_js_at(cx, value, out, 0);
}

bool from_js(JSContext* cx, JS::HandleValue value, const ValueLimits& limits, Json& out,
             std::string& problem) {
  Reader reader(cx, limits, problem);
  return reader.read(value, out, 0);
}

bool utf8_to_utf16(std::string_view text, std::u16string& out, size_t& bad_offset) {
  out.clear();
  out.reserve(text.size());
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  size_t size = text.size();
  for (size_t i = 0; i < size;) {
    uint32_t lead = bytes[i];
    size_t length = lead < 0x80           ? 1
                    : (lead >> 5) == 0x6  ? 2
                    : (lead >> 4) == 0xE  ? 3
                    : (lead >> 3) == 0x1E ? 4
                                          : 0;
    if (length == 0 || i + length > size) {
      bad_offset = i;
      return false;
    }
    uint32_t code = length == 1 ? lead : lead & (0x7F >> length);
    for (size_t k = 1; k < length; ++k) {
      if ((bytes[i + k] & 0xC0) != 0x80) {
        bad_offset = i;
        return false;
      }
      code = (code << 6) | (bytes[i + k] & 0x3F);
    }
    static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < kSmallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      bad_offset = i;  // overlong, out of range, or an encoded surrogate
      return false;
    }
    if (code >= 0x10000) {
      code -= 0x10000;
      out += static_cast<char16_t>(0xD800 + (code >> 10));
      out += static_cast<char16_t>(0xDC00 + (code & 0x3FF));
    } else {
      out += static_cast<char16_t>(code);
    }
    i += length;
  }
  return true;
}

bool string_to_utf8(JSContext* cx, JSString* string, std::string& out) {
  JS::RootedString rooted(cx, string);
  JSLinearString* linear = JS_EnsureLinearString(cx, rooted);
  if (linear == nullptr)
    return false;
  size_t length = JS::GetLinearStringLength(linear);
  out.clear();
  out.reserve(length);
  JS::AutoCheckCannotGC nogc;
  if (JS::LinearStringHasLatin1Chars(linear)) {
    const JS::Latin1Char* chars = JS::GetLatin1LinearStringChars(nogc, linear);
    for (size_t i = 0; i < length; ++i)
      append_utf8(out, chars[i]);
    return true;
  }
  const char16_t* chars = JS::GetTwoByteLinearStringChars(nogc, linear);
  for (size_t i = 0; i < length; ++i) {
    uint32_t unit = chars[i];
    if (unit >= 0xD800 && unit <= 0xDBFF && i + 1 < length && chars[i + 1] >= 0xDC00 &&
        chars[i + 1] <= 0xDFFF) {
      append_utf8(out, 0x10000 + ((unit - 0xD800) << 10) + (chars[i + 1] - 0xDC00));
      ++i;
    } else if (unit >= 0xD800 && unit <= 0xDFFF) {
      return false;
    } else {
      append_utf8(out, unit);
    }
  }
  return true;
}

}  // namespace outlet::js
