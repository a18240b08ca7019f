#include "runtime/spidermonkey/wasm_guest.h"

#include <js/CallAndConstruct.h>

#include <algorithm>

#include "core/text.h"
#include "runtime/spidermonkey/wasm_kernel/kernel_layout.h"

namespace outlet::wasm {

const CallContext* WasmGuest::current_call() const {
  js::CallLimits* limits = thread_->current_limits();
  return limits == nullptr ? nullptr : limits->context;
}

bool WasmGuest::has_function(std::string_view name) const {
  const auto& names = host_->function_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

void WasmGuest::warn(const std::string& message) {
  if (warnings_ != nullptr)
    warnings_->add("warn", message);
}

void WasmGuest::warn_once(const std::string& key, const std::string& message) {
  if (warnings_ != nullptr && warned_.insert(key).second)
    warnings_->add("wasm", message);
}

void WasmGuest::log(ExtismLogLevel level, const std::string& message) {
  static const char* const kFunctions[] = {"log.debug", "log.debug", "log.info", "log.warn",
                                           "log.error"};
  const char* function = kFunctions[static_cast<int>(level)];
  const CallContext* context = current_call();
  if (has_function(function) && context != nullptr) {
    // A line the host refuses (it cannot be) is not worth failing the call for.
    (void)host_->invoke(std::string_view(function), Json::array({message}), *context);
    return;
  }
  if (level >= ExtismLogLevel::kWarn) {
    warn(message);
    return;
  }
  warn_once("log", "log output is dropped: the plugin lacks the \"log\" permission");
}

bool WasmGuest::kernel_view(JSContext* cx, MemoryView& view) {
  JS::RootedObject memory(cx, realm->kernel_memory);
  return view_memory(cx, memory, view);
}

bool WasmGuest::plugin_view(JSContext* cx, MemoryView& view) {
  if (!realm->plugin_memory)
    return throw_error(cx, "WASI needs the module to export its memory as \"memory\"");
  JS::RootedObject memory(cx, realm->plugin_memory);
  return view_memory(cx, memory, view);
}

bool WasmGuest::read_block(JSContext* cx, uint64_t handle, const char* what, std::string& out) {
  out.clear();
  if (handle == 0)
    return true;
  MemoryView view;
  if (!kernel_view(cx, view))
    return false;
  auto block = kernel_block(view, handle);
  if (!block)
    return throw_error(cx, std::string(what) + ": invalid handle " + std::to_string(handle) +
                               " (not a live kernel block)");
  out.assign(*block);
  return true;
}

bool WasmGuest::write_block(JSContext* cx, std::string_view bytes, JS::MutableHandleValue out) {
  if (bytes.empty())
    return set_u64(cx, out, 0);
  JS::RootedValue alloc(cx, realm->kernel_alloc), handle_value(cx), length(cx);
  if (!set_u64(cx, &length, bytes.size()))
    return false;
  JS::RootedValueArray<1> arguments(cx);
  arguments[0].set(length);
  if (!JS::Call(cx, JS::UndefinedHandleValue, alloc, arguments, &handle_value))
    return false;
  uint64_t handle = to_u64(handle_value).value_or(0);
  MemoryView view;
  if (handle == 0 || !kernel_view(cx, view) || !view.contains(handle, bytes.size())) {
    return throw_error(cx, "the kernel memory is full: " + std::to_string(bytes.size()) +
                               " bytes do not fit in the plugin's " +
                               describe_bytes(kernel_limit_) + " kernel memory");
  }
  std::memcpy(view.data + handle, bytes.data(), bytes.size());
  out.set(handle_value);
  return true;
}

void WasmGuest::flush_output_lines() {
  for (int fd : {1, 2}) {
    std::string& line = output_line(fd);
    if (!line.empty()) {
      log(fd == 1 ? ExtismLogLevel::kInfo : ExtismLogLevel::kWarn, line);
      line.clear();
    }
  }
}

void WasmGuest::forget_instance_state() {
  vars_.clear();
  stdout_line_.clear();
  stderr_line_.clear();
  exit_code.reset();
}

}  // namespace outlet::wasm
