// SpiderMonkey API glue the wasm runtime's files share: errors as text, wasm
// memories as bytes, kernel blocks, i64 values (BigInts on the JS side) and
// properties named by any UTF-8 string.
#pragma once

#include <js/CallArgs.h>
#include <js/RootingAPI.h>
#include <js/Value.h>
#include <jsapi.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/spidermonkey/js_natives.h"

namespace outlet::wasm {

using js::guarded;
using js::throw_error;
using js::to_utf8;

// The pending exception (a trap, a host function's error) as
// "RuntimeError: unreachable executed" and its wasm backtrace; clears it.
std::string take_exception(JSContext* cx);
std::string join(const std::vector<std::string>& parts, const char* separator);
std::string to_upper_ascii(std::string text);

// A wasm memory's bytes. Read again after anything that may grow it: growing
// detaches the old buffer.
struct MemoryView {
  uint8_t* data = nullptr;
  size_t size = 0;

  bool contains(uint64_t offset, uint64_t length) const {
    return offset <= size && length <= size - offset;
  }
  uint64_t u64_at(uint64_t offset) const {
    uint64_t value = 0;
    std::memcpy(&value, data + offset, 8);
    return value;
  }
  uint32_t u32_at(uint64_t offset) const {
    uint32_t value = 0;
    std::memcpy(&value, data + offset, 4);
    return value;
  }
};

bool view_memory(JSContext* cx, JS::HandleObject memory, MemoryView& view);

// The bytes of a live kernel block, else nothing. The plugin can write anywhere
// in kernel memory, so the header is checked like any other input.
std::optional<std::string_view> kernel_block(const MemoryView& view, uint64_t handle);

std::optional<uint64_t> to_u64(const JS::Value& value);
bool set_u64(JSContext* cx, JS::MutableHandleValue out, uint64_t value);

bool define_named(JSContext* cx, JS::HandleObject object, const std::string& name,
                  JS::HandleValue value);
bool get_named(JSContext* cx, JS::HandleObject object, const std::string& name,
               JS::MutableHandleValue out);

}  // namespace outlet::wasm
