#include "runtime/spidermonkey/wasm_runtime.h"

// GCC 12 reports JS::Rooted linking itself into the context's root list (and
// unlinking in its destructor, which GCC does not follow) as a dangling pointer.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif

#include <js/Array.h>
#include <js/ArrayBuffer.h>
#include <js/BigInt.h>
#include <js/CallAndConstruct.h>
#include <js/Conversions.h>
#include <js/Exception.h>
#include <js/GlobalObject.h>
#include <js/Object.h>
#include <js/PropertyAndElement.h>
#include <js/WasmModule.h>
#include <js/experimental/TypedData.h>
#include <jsapi.h>
#include <jsfriendapi.h>
#include <sys/random.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <list>
#include <map>
#include <optional>
#include <set>

#include "core/json_text.h"
#include "core/text.h"
#include "outlet/discovery.h"
#include "runtime/handler_derivation.h"
#include "runtime/spidermonkey/js_values.h"
#include "runtime/spidermonkey/wasm_kernel/kernel_layout.h"
#include "runtime/spidermonkey/wasm_module.h"

namespace outlet {

// Compiled modules by content: one compilation serves every instance of a file,
// on any engine thread (a JS::WasmModule may be shared across threads).
class CompiledModuleCache {
 public:
  explicit CompiledModuleCache(size_t capacity) : capacity_(capacity) {}

  RefPtr<JS::WasmModule> find(const std::string& bytes) {
    std::lock_guard lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->bytes == bytes) {
        entries_.splice(entries_.begin(), entries_, it);  // most recently used first
        return it->module;
      }
    }
    return nullptr;
  }

  void add(const std::string& bytes, RefPtr<JS::WasmModule> module) {
    std::lock_guard lock(mutex_);
    entries_.push_front({bytes, std::move(module)});
    while (entries_.size() > capacity_)
      entries_.pop_back();
  }

 private:
  struct Entry {
    std::string bytes;
    RefPtr<JS::WasmModule> module;
  };
  size_t capacity_;
  std::mutex mutex_;
  std::list<Entry> entries_;
};

namespace {

namespace fs = std::filesystem;
using js::CallLimits;
using js::EngineThread;
using wasm::ExternalKind;
using wasm::FunctionType;
using wasm::ValueType;

constexpr unsigned char kKernelModule[] = {
#include "wasm_kernel.inc"
};

constexpr const char* kKernelModuleName = "extism:host/env";
constexpr const char* kUserModuleName = "extism:host/user";
constexpr const char* kWasiModuleName = "wasi_snapshot_preview1";

// A native's own data: which host function, log level or WASI call it is, and
// the plugin instance it serves (every wasm plugin on a thread shares one realm).
constexpr size_t kNativeDataSlot = 0;
constexpr size_t kNativeInstanceSlot = 1;

// Extism's log levels, as get_log_level reports them.
enum class ExtismLogLevel : int32_t { kTrace = 0, kDebug = 1, kInfo = 2, kWarn = 3, kError = 4 };
constexpr int32_t kLoggingOff = 0x7fffffff;

// WASI errno values the capability-free WASI returns.
constexpr int32_t kWasiSuccess = 0, kWasiBadFd = 8, kWasiInvalid = 28, kWasiNoSys = 52,
                  kWasiSpipe = 70, kWasiFault = 21;

// "li:l" → (i64, i32) -> i64.
FunctionType signature(std::string_view spec) {
  FunctionType type;
  auto* list = &type.params;
  for (char c : spec) {
    if (c == ':') {
      list = &type.results;
      continue;
    }
    list->push_back(c == 'l' ? ValueType::kI64 : ValueType::kI32);
  }
  return type;
}

// The kernel's functions (wasm_kernel/kernel.c), linked wasm to wasm.
const std::map<std::string, std::string, std::less<>>& kernel_signatures() {
  static const std::map<std::string, std::string, std::less<>> kSignatures = {
      {"alloc", "l:l"},          {"free", "l:"},        {"length", "l:l"},
      {"length_unsafe", "l:l"},  {"load_u8", "l:i"},    {"load_u64", "l:l"},
      {"store_u8", "li:"},       {"store_u64", "ll:"},  {"input_length", ":l"},
      {"input_offset", ":l"},    {"input_set", "ll:"},  {"input_load_u8", "l:i"},
      {"input_load_u64", "l:l"}, {"output_set", "ll:"}, {"output_offset", ":l"},
      {"output_length", ":l"},   {"error_set", "l:"},   {"error_get", ":l"},
      {"memory_bytes", ":l"},    {"reset", ":"},
  };
  return kSignatures;
}

// extism:host/env functions the host itself implements.
enum class EnvFunction {
  kConfigGet,
  kVarGet,
  kVarSet,
  kHttpRequest,
  kHttpStatusCode,
  kHttpHeaders,
  kLogTrace,
  kLogDebug,
  kLogInfo,
  kLogWarn,
  kLogError,
  kGetLogLevel,
};
struct EnvSpec {
  EnvFunction function;
  const char* signature;
};
const std::map<std::string, EnvSpec, std::less<>>& env_functions() {
  static const std::map<std::string, EnvSpec, std::less<>> kFunctions = {
      {"config_get", {EnvFunction::kConfigGet, "l:l"}},
      {"var_get", {EnvFunction::kVarGet, "l:l"}},
      {"var_set", {EnvFunction::kVarSet, "ll:"}},
      {"http_request", {EnvFunction::kHttpRequest, "ll:l"}},
      {"http_status_code", {EnvFunction::kHttpStatusCode, ":i"}},
      {"http_headers", {EnvFunction::kHttpHeaders, ":l"}},
      {"log_trace", {EnvFunction::kLogTrace, "l:"}},
      {"log_debug", {EnvFunction::kLogDebug, "l:"}},
      {"log_info", {EnvFunction::kLogInfo, "l:"}},
      {"log_warn", {EnvFunction::kLogWarn, "l:"}},
      {"log_error", {EnvFunction::kLogError, "l:"}},
      {"get_log_level", {EnvFunction::kGetLogLevel, ":i"}},
  };
  return kFunctions;
}

enum class WasiFunction {
  kArgsGet,
  kArgsSizesGet,
  kEnvironGet,
  kEnvironSizesGet,
  kClockResGet,
  kClockTimeGet,
  kFdWrite,
  kFdRead,
  kFdClose,
  kFdSeek,
  kFdFdstatGet,
  kFdPrestatGet,
  kFdPrestatDirName,
  kProcExit,
  kRandomGet,
  kSchedYield,
  kUnsupported,  // any other call: "not supported" (ENOSYS)
};
struct WasiSpec {
  WasiFunction function;
  const char* signature;
};
const std::map<std::string, WasiSpec, std::less<>>& wasi_functions() {
  static const std::map<std::string, WasiSpec, std::less<>> kFunctions = {
      {"args_get", {WasiFunction::kArgsGet, "ii:i"}},
      {"args_sizes_get", {WasiFunction::kArgsSizesGet, "ii:i"}},
      {"environ_get", {WasiFunction::kEnvironGet, "ii:i"}},
      {"environ_sizes_get", {WasiFunction::kEnvironSizesGet, "ii:i"}},
      {"clock_res_get", {WasiFunction::kClockResGet, "ii:i"}},
      {"clock_time_get", {WasiFunction::kClockTimeGet, "ili:i"}},
      {"fd_write", {WasiFunction::kFdWrite, "iiii:i"}},
      {"fd_read", {WasiFunction::kFdRead, "iiii:i"}},
      {"fd_close", {WasiFunction::kFdClose, "i:i"}},
      {"fd_seek", {WasiFunction::kFdSeek, "ilii:i"}},
      {"fd_fdstat_get", {WasiFunction::kFdFdstatGet, "ii:i"}},
      {"fd_prestat_get", {WasiFunction::kFdPrestatGet, "ii:i"}},
      {"fd_prestat_dir_name", {WasiFunction::kFdPrestatDirName, "iii:i"}},
      {"proc_exit", {WasiFunction::kProcExit, "i:"}},
      {"random_get", {WasiFunction::kRandomGet, "ii:i"}},
      {"sched_yield", {WasiFunction::kSchedYield, ":i"}},
  };
  return kFunctions;
}

// The generic handler exports (seeds/003's wire protocol): they take the
// envelope {"event", "payload"}; `register` says which events they get.
const std::map<std::string, HookKind, std::less<>>& envelope_exports() {
  static const std::map<std::string, HookKind, std::less<>> kExports = {
      {"on_event", HookKind::kNotify},    {"on_filter", HookKind::kFilter},
      {"on_collect", HookKind::kCollect}, {"on_dispatch", HookKind::kDispatch},
      {"on_request", HookKind::kRequest},
  };
  return kExports;
}

std::string envelope_export_for(HookKind kind) {
  for (const auto& [name, k] : envelope_exports()) {
    if (k == kind)
      return name;
  }
  return "";
}

// Exports that are never handlers.
bool is_reserved_export(std::string_view name) {
  return name == "register" || name == "_initialize" || name == "_start" ||
         name == "__wasm_call_ctors" || name == "hs_init" || envelope_exports().count(name) != 0;
}

std::string to_utf8(JSContext* cx, JS::HandleValue value) {
  JSString* string = JS::ToString(cx, value);
  std::string text;
  if (string == nullptr || !js::string_to_utf8(cx, string, text)) {
    JS_ClearPendingException(cx);
    return "(an error that cannot be shown)";
  }
  return text;
}

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

bool throw_error(JSContext* cx, const std::string& message) {
  JS_ReportErrorUTF8(cx, "%s", message.c_str());
  return false;
}

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

bool view_memory(JSContext* cx, JS::HandleObject memory, MemoryView& view) {
  JS::RootedValue buffer(cx);
  if (!memory || !JS_GetProperty(cx, memory, "buffer", &buffer) || !buffer.isObject())
    return false;
  bool shared = false;
  JS::GetArrayBufferLengthAndData(&buffer.toObject(), &view.size, &shared, &view.data);
  return view.data != nullptr || view.size == 0;
}

// The bytes of a live kernel block, else nothing. The plugin can write anywhere
// in kernel memory, so the header is checked like any other input.
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

class WasmInstance;

WasmInstance* instance_of(const JS::CallArgs& args) {
  JS::Value slot = ::js::GetFunctionNativeReserved(&args.callee(), kNativeInstanceSlot);
  return slot.isUndefined() ? nullptr : static_cast<WasmInstance*>(slot.toPrivate());
}

bool host_function_native(JSContext* cx, unsigned argc, JS::Value* vp);
bool call_by_name_native(JSContext* cx, unsigned argc, JS::Value* vp);
bool has_native(JSContext* cx, unsigned argc, JS::Value* vp);
bool env_native(JSContext* cx, unsigned argc, JS::Value* vp);
bool wasi_native(JSContext* cx, unsigned argc, JS::Value* vp);

// C++ exceptions must never unwind through SpiderMonkey's frames.
template <JSNative Native>
bool guarded(JSContext* cx, unsigned argc, JS::Value* vp) {
  try {
    return Native(cx, argc, vp);
  } catch (const std::bad_alloc&) {
    JS_ReportErrorASCII(cx, "the host ran out of memory for this call");
  } catch (const std::exception& e) {
    JS_ReportErrorUTF8(cx, "the host failed: %s", e.what());
  }
  return false;
}

// The plugin's objects in its thread's wasm realm; created and destroyed on
// that thread.
struct Realm {
  explicit Realm(JSContext* cx)
      : global(cx),
        kernel_memory(cx),
        kernel_begin_call(cx),
        kernel_alloc(cx),
        plugin_memory(cx),
        exports(cx) {}
  JS::PersistentRootedObject global;  // the thread's wasm global, shared
  JS::PersistentRootedObject kernel_memory;
  JS::PersistentRootedValue kernel_begin_call;
  JS::PersistentRootedValue kernel_alloc;
  JS::PersistentRootedObject plugin_memory;  // null when the module exports none
  JS::PersistentRootedObject exports;
};

// How one handler is reached: its export, and whether it takes the envelope.
struct HandlerExport {
  std::string name;
  bool envelope = false;
};

class WasmInstance : public PluginInstance {
 public:
  WasmInstance(const InstanceSpec& spec, const WasmRuntimeOptions& options,
               std::shared_ptr<js::Engine> engine, std::shared_ptr<CompiledModuleCache> modules)
      : manifest_(spec.manifest),
        host_(spec.host),
        warnings_(spec.warnings),
        events_(spec.events),
        options_(options),
        entrypoint_(spec.entrypoint_path),
        engine_(std::move(engine)),
        modules_(std::move(modules)),
        thread_(&engine_->assign()) {
    memory_limit_ = options.max_memory_bytes;
    if (manifest_ && manifest_->limits.memory_bytes)
      memory_limit_ = std::min<size_t>(memory_limit_, *manifest_->limits.memory_bytes);
  }

  ~WasmInstance() override {
    thread_->run([&](JSContext*) { close_realm(); });
    engine_->unassign(*thread_);
  }

  Status load() {
    auto bytes = read_file_capped(entrypoint_, options_.max_module_bytes);
    if (!bytes.ok())
      return bytes.error();
    auto info = wasm::read_module(*bytes);
    if (!info.ok())
      return info.error();
    info_ = std::move(info).value();
    if (Status checked = check_imports(); !checked.ok())
      return checked;
    uint64_t plugin_pages = memory_limit_ / 4 * 3 / wasm::kWasmPageBytes;
    auto capped = wasm::cap_memories(*bytes, info_, plugin_pages);
    if (!capped.ok())
      return capped.error();
    // Tables come before memories in a module, so the memory rewrite left the
    // table section where info_ says it is.
    auto tables = wasm::cap_tables(*capped, info_, options_.max_table_elements);
    if (!tables.ok())
      return tables.error();
    module_bytes_ = std::move(tables).value();
    Status status;
    thread_->run([&](JSContext* cx) { status = load_on_thread(cx); });
    return status;
  }

  std::vector<Subscription> subscriptions() const override { return subscriptions_of(handlers_); }

  Result<Json> call(const CallContext& context, const Json& payload) override {
    const DerivedHandler* handler = find_handler(handlers_, context.kind, context.event);
    if (handler == nullptr) {
      return Error(ErrorCode::kNotFound, "no " + std::string(hook_kind_name(context.kind)) +
                                             " handler for \"" + std::string(context.event) + "\"");
    }
    // A copy: a call that is stopped reloads the module, which rebuilds the table.
    const HandlerExport target = exports_[handler->entry];
    std::string input = target.envelope
                            ? dump_json(Json{{"event", context.event}, {"payload", payload}})
                            : dump_json(payload);
    Result<std::string> output = std::string();
    thread_->run([&](JSContext* cx) { output = call_on_thread(cx, context, target.name, input); });
    if (!output.ok())
      return output.error();
    if (output->empty() || context.kind == HookKind::kNotify)
      return Json();  // no output: a filter passes, a notification needs none
    auto parsed = parse_json_text(*output, target.name + "'s output");
    if (!parsed.ok()) {
      return Error(ErrorCode::kPluginError,
                   target.name + " set an output that is not JSON: " + parsed.error().message());
    }
    return std::move(parsed).value();
  }

  Result<std::string> call_export(const CallContext& context, std::string_view name,
                                  std::string_view input) override {
    std::string export_name(name);
    const wasm::Export* found = info_.find_export(export_name, ExternalKind::kFunction);
    if (found == nullptr) {
      std::vector<std::string> callable;
      for (const wasm::Export& entry : info_.exports) {
        if (callable_export(entry.name) && entry.name != "_initialize" && entry.name != "register")
          callable.push_back(entry.name);
      }
      return Error(ErrorCode::kNotFound, "the module exports no function \"" + export_name +
                                             "\" (it exports: " + join(callable, ", ") + ")");
    }
    if (Status typed = check_handler_type(export_name); !typed.ok())
      return typed.error();
    Result<std::string> output = std::string();
    std::string bytes(input);
    thread_->run([&](JSContext* cx) { output = call_on_thread(cx, context, export_name, bytes); });
    return output;
  }

  uint64_t memory_bytes() const override { return memory_bytes_.load(std::memory_order_relaxed); }

  // --- For the natives (on the engine thread) ---
  HostFunctionTable* host() const { return host_; }
  const CallContext* current_call() const {
    CallLimits* limits = thread_->current_limits();
    return limits == nullptr ? nullptr : limits->context;
  }
  void warn_once(const std::string& key, const std::string& message) {
    if (warnings_ != nullptr && warned_.insert(key).second)
      warnings_->add("wasm", message);
  }
  void warn(const std::string& message) {
    if (warnings_ != nullptr)
      warnings_->add("warn", message);
  }

  bool kernel_view(JSContext* cx, MemoryView& view) {
    JS::RootedObject memory(cx, realm_->kernel_memory);
    return view_memory(cx, memory, view);
  }
  bool plugin_view(JSContext* cx, MemoryView& view) {
    if (!realm_->plugin_memory)
      return throw_error(cx, "WASI needs the module to export its memory as \"memory\"");
    JS::RootedObject memory(cx, realm_->plugin_memory);
    return view_memory(cx, memory, view);
  }

  // A block's bytes, for a handle the plugin passed (0 = empty).
  bool read_block(JSContext* cx, uint64_t handle, const char* what, std::string& out) {
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

  // A new kernel block holding `bytes` (0 for none), as the plugin's result.
  bool write_block(JSContext* cx, std::string_view bytes, JS::MutableHandleValue out) {
    if (bytes.empty())
      return set_u64(cx, out, 0);
    JS::RootedValue alloc(cx, realm_->kernel_alloc), handle_value(cx), length(cx);
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
                                 describe_bytes(kernel_limit()) + " kernel memory");
    }
    std::memcpy(view.data + handle, bytes.data(), bytes.size());
    out.set(handle_value);
    return true;
  }

  // --- Extism's host-side state ---
  std::map<std::string, std::string>& vars() { return vars_; }
  size_t max_var_bytes() const { return options_.max_var_bytes; }
  int32_t& http_status() { return http_status_; }
  std::string& http_headers() { return http_headers_; }
  std::string& output_line(int fd) { return fd == 1 ? stdout_line_ : stderr_line_; }
  void exit_with(int32_t code) { exit_code_ = code; }
  void log(ExtismLogLevel level, const std::string& message);
  bool has_function(std::string_view name) const {
    const auto& names = host_->function_names();
    return std::find(names.begin(), names.end(), name) != names.end();
  }

 private:
  uint64_t kernel_limit() const { return memory_limit_ / 4; }

  Status check_imports() {
    std::vector<ErrorDetail> problems;
    const auto& names = host_->function_names();
    for (const wasm::Import& import : info_.imports) {
      std::string label = import.module + "." + import.name;
      if (import.kind != ExternalKind::kFunction) {
        problems.push_back({label, "imports a " + std::string(external_kind_name(import.kind)) +
                                       "; a plugin may import only functions"});
        continue;
      }
      const FunctionType& type = *info_.function_type(import);
      auto expect = [&](const FunctionType& wanted) {
        if (!(type == wanted)) {
          problems.push_back({label, "has the type " + wasm::describe(type) + "; Outlet's is " +
                                         wasm::describe(wanted)});
        }
      };
      if (import.module == kKernelModuleName) {
        if (auto kernel = kernel_signatures().find(import.name);
            kernel != kernel_signatures().end())
          expect(signature(kernel->second));
        else if (auto env = env_functions().find(import.name); env != env_functions().end())
          expect(signature(env->second.signature));
        else
          problems.push_back({label, "is not a function of the Extism kernel"});
      } else if (import.module == kUserModuleName) {
        if (import.name == "call") {
          expect(signature("ll:l"));
        } else if (import.name == "has") {
          expect(signature("l:i"));
        } else if (!user_function_index(import.name)) {
          problems.push_back(
              {label,
               "is not a host function granted to this plugin (declare the permission "
               "that unlocks it and have the operator approve it; granted: " +
                   (names.empty() ? std::string("none") : join(names, ", ")) + ")"});
        } else {
          bool handles = type.results.size() <= 1 && type.params.size() <= 16;
          for (ValueType v : type.params)
            handles = handles && v == ValueType::kI64;
          for (ValueType v : type.results)
            handles = handles && v == ValueType::kI64;
          if (!handles) {
            problems.push_back({label, "has the type " + wasm::describe(type) +
                                           "; a host function takes i64 handles (at most 16) "
                                           "and returns at most one i64 handle"});
          }
        }
      } else if (import.module == kWasiModuleName) {
        if (!options_.wasi) {
          problems.push_back({label, "is a WASI function and WASI is off (outlet call: --wasi)"});
        } else if (auto wasi = wasi_functions().find(import.name); wasi != wasi_functions().end()) {
          expect(signature(wasi->second.signature));
        } else if (type.results != std::vector<ValueType>{ValueType::kI32}) {
          problems.push_back({label, "is a WASI function Outlet does not provide"});
        }
      } else {
        problems.push_back({label,
                            "comes from a module Outlet does not provide (there are "
                            "extism:host/env, extism:host/user and "
                            "wasi_snapshot_preview1)"});
      }
    }
    if (problems.empty())
      return {};
    std::string message =
        "the wasm module's imports cannot be satisfied: " + problems.front().path + " " +
        problems.front().rule;
    if (problems.size() > 1)
      message += " (and " + std::to_string(problems.size() - 1) + " more)";
    return Error(ErrorCode::kPermissionDenied, std::move(message), std::move(problems));
  }

  // A granted host function by its Outlet name ("kv.get") or with dots as
  // underscores ("kv_get", for languages whose identifiers have no dots).
  std::optional<size_t> user_function_index(std::string_view name) const {
    const auto& names = host_->function_names();
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name)
        return i;
    }
    std::optional<size_t> found;
    for (size_t i = 0; i < names.size(); ++i) {
      std::string alias = names[i];
      std::replace(alias.begin(), alias.end(), '.', '_');
      if (alias == name) {
        if (found)
          return std::nullopt;  // ambiguous: only the exact name will do
        found = i;
      }
    }
    return found;
  }

  CallLimits limits_for(SteadyTime deadline, const CallContext* context) {
    CallLimits limits;
    limits.deadline = deadline;
    limits.context = context;
    // The memory limit holds through the capped memories; the realm's zone is
    // shared with other wasm plugins, so its GC heap is no measure of this one.
    limits.memory_limit = memory_limit_;
    return limits;
  }

  // Why a call into the module failed: a stop by the watchdog, proc_exit, a
  // trap, or a host function's error.
  Error failure(JSContext* cx, const CallLimits& limits, const std::string& what,
                const CallContext* context) {
    if (limits.timed_out) {
      std::string message =
          context != nullptr
              ? context->timeout_message()
              : "took longer than " + std::to_string(options_.load_timeout_ms) + " ms to load";
      JS_ClearPendingException(cx);
      return Error(ErrorCode::kDeadlineExceeded, message);
    }
    if (limits.out_of_memory || (JS_IsExceptionPending(cx) && JS_IsThrowingOutOfMemory(cx))) {
      JS_ClearPendingException(cx);
      return Error(ErrorCode::kResourceExhausted,
                   what + "ran out of its " + describe_bytes(memory_limit_) + " memory limit");
    }
    if (exit_code_) {
      int32_t code = *exit_code_;
      JS_ClearPendingException(cx);
      return Error(ErrorCode::kPluginError, what + "exited with code " + std::to_string(code));
    }
    if (!JS_IsExceptionPending(cx))
      return Error(ErrorCode::kPluginError, what + "was stopped by the engine");
    std::string message = take_exception(cx);
    if (size_t line_end = message.find('\n'); message.find("too much recursion") < line_end)
      message.insert(std::min(line_end, message.size()), " (the plugin's stack overflowed)");
    return Error(ErrorCode::kPluginError, what + message);
  }

  Status load_on_thread(JSContext* cx) {
    close_realm();
    realm_ = std::make_unique<Realm>(cx);
    CallLimits limits = limits_for(
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.load_timeout_ms),
        nullptr);
    Status status;
    {
      EngineThread::CallScope scope(*thread_, limits);
      realm_->global = thread_->wasm_global();
      if (!realm_->global) {
        status = Error(ErrorCode::kResourceExhausted, "could not create the plugin's realm");
      } else {
        JSAutoRealm enter(cx, realm_->global);
        status = instantiate(cx, limits);
        if (status.ok())
          status = derive(cx, limits);
      }
    }
    if (!status.ok())
      close_realm();
    sample_memory(cx);
    return status;
  }

  // new WebAssembly.Module(bytes), or the cached compilation of the same bytes.
  bool module_object(JSContext* cx, const std::string& bytes, JS::MutableHandleObject out) {
    if (RefPtr<JS::WasmModule> cached = modules_->find(bytes)) {
      out.set(cached->createObject(cx));
      return out != nullptr;
    }
    JS::RootedObject global(cx, JS::CurrentGlobalOrNull(cx));
    JS::RootedValue wasm_namespace(cx), constructor(cx);
    if (!JS_GetProperty(cx, global, "WebAssembly", &wasm_namespace) || !wasm_namespace.isObject())
      return throw_error(cx, "the engine has no WebAssembly support");
    JS::RootedObject namespace_object(cx, &wasm_namespace.toObject());
    if (!JS_GetProperty(cx, namespace_object, "Module", &constructor))
      return false;
    JS::RootedObject array(cx, JS_NewUint8Array(cx, bytes.size()));
    if (!array)
      return false;
    {
      JS::AutoCheckCannotGC nogc;
      bool shared = false;
      std::memcpy(JS_GetUint8ArrayData(array, &shared, nogc), bytes.data(), bytes.size());
    }
    JS::RootedValueArray<1> arguments(cx);
    arguments[0].setObject(*array);
    if (!JS::Construct(cx, constructor, arguments, out))
      return false;
    modules_->add(bytes, JS::GetWasmModule(out));
    return true;
  }

  bool new_instance(JSContext* cx, JS::HandleObject module, JS::HandleObject imports,
                    JS::MutableHandleObject exports) {
    JS::RootedObject global(cx, JS::CurrentGlobalOrNull(cx));
    JS::RootedValue wasm_namespace(cx), constructor(cx), exports_value(cx);
    if (!JS_GetProperty(cx, global, "WebAssembly", &wasm_namespace) || !wasm_namespace.isObject())
      return throw_error(cx, "the engine has no WebAssembly support");
    JS::RootedObject namespace_object(cx, &wasm_namespace.toObject());
    if (!JS_GetProperty(cx, namespace_object, "Instance", &constructor))
      return false;
    JS::RootedValueArray<2> arguments(cx);
    arguments[0].setObject(*module);
    arguments[1].setObject(*imports);
    JS::RootedObject instance(cx);
    if (!JS::Construct(cx, constructor, arguments, &instance) ||
        !JS_GetProperty(cx, instance, "exports", &exports_value) || !exports_value.isObject())
      return false;
    exports.set(&exports_value.toObject());
    return true;
  }

  Status instantiate(JSContext* cx, CallLimits& limits) {
    // The kernel, with its memory capped at a quarter of the plugin's limit.
    std::string kernel_source(reinterpret_cast<const char*>(kKernelModule), sizeof(kKernelModule));
    auto kernel_info = wasm::read_module(kernel_source);
    if (!kernel_info.ok())
      return Error(ErrorCode::kInternal, "the kernel module: " + kernel_info.error().message());
    auto kernel_bytes = wasm::cap_memories(
        kernel_source, *kernel_info, std::max<uint64_t>(2, kernel_limit() / wasm::kWasmPageBytes));
    if (!kernel_bytes.ok())
      return kernel_bytes.error();
    JS::RootedObject kernel_module(cx), kernel_exports(cx), no_imports(cx, JS_NewPlainObject(cx));
    if (!no_imports || !module_object(cx, *kernel_bytes, &kernel_module) ||
        !new_instance(cx, kernel_module, no_imports, &kernel_exports))
      return failure(cx, limits, "the kernel could not be set up: ", nullptr);
    JS::RootedValue value(cx);
    if (!JS_GetProperty(cx, kernel_exports, "memory", &value) || !value.isObject())
      return failure(cx, limits, "the kernel could not be set up: ", nullptr);
    realm_->kernel_memory = &value.toObject();
    if (!JS_GetProperty(cx, kernel_exports, "outlet_begin_call", &realm_->kernel_begin_call) ||
        !JS_GetProperty(cx, kernel_exports, "alloc", &realm_->kernel_alloc) ||
        !JS_GetProperty(cx, kernel_exports, "outlet_state_address", &value))
      return failure(cx, limits, "the kernel could not be set up: ", nullptr);
    JS::RootedValue state(cx);
    if (!JS::Call(cx, JS::UndefinedHandleValue, value, JS::HandleValueArray::empty(), &state) ||
        !state.isInt32())
      return failure(cx, limits, "the kernel could not be set up: ", nullptr);
    state_address_ = static_cast<uint32_t>(state.toInt32());

    // The plugin's imports: exactly what check_imports accepted.
    JS::RootedObject imports(cx, JS_NewPlainObject(cx));
    JS::RootedObject env(cx, JS_NewPlainObject(cx)), user(cx, JS_NewPlainObject(cx)),
        wasi(cx, JS_NewPlainObject(cx));
    if (!imports || !env || !user || !wasi)
      return failure(cx, limits, "", nullptr);
    for (const wasm::Import& import : info_.imports) {
      JS::RootedValue function(cx);
      JS::RootedObject target(cx);
      if (import.module == kKernelModuleName) {
        target = env;
        if (kernel_signatures().count(import.name) != 0) {
          if (!get_named(cx, kernel_exports, import.name, &function))
            return failure(cx, limits, "", nullptr);
        } else {
          function = native(cx, guarded<env_native>, import.name,
                            static_cast<int32_t>(env_functions().at(import.name).function));
        }
      } else if (import.module == kUserModuleName) {
        target = user;
        if (import.name == "call") {
          function = native(cx, guarded<call_by_name_native>, import.name, 0);
        } else if (import.name == "has") {
          function = native(cx, guarded<has_native>, import.name, 0);
        } else {
          size_t index = *user_function_index(import.name);
          function =
              native(cx, guarded<host_function_native>, import.name, static_cast<int32_t>(index));
        }
      } else {
        target = wasi;
        auto known = wasi_functions().find(import.name);
        WasiFunction which =
            known == wasi_functions().end() ? WasiFunction::kUnsupported : known->second.function;
        function = native(cx, guarded<wasi_native>, import.name, static_cast<int32_t>(which));
      }
      if (function.isUndefined() || !define_named(cx, target, import.name, function))
        return failure(cx, limits, "", nullptr);
    }
    JS::RootedValue env_value(cx, JS::ObjectValue(*env)), user_value(cx, JS::ObjectValue(*user)),
        wasi_value(cx, JS::ObjectValue(*wasi));
    if (!define_named(cx, imports, kKernelModuleName, env_value) ||
        !define_named(cx, imports, kUserModuleName, user_value) ||
        !define_named(cx, imports, kWasiModuleName, wasi_value))
      return failure(cx, limits, "", nullptr);

    JS::RootedObject plugin_module(cx), exports(cx);
    if (!module_object(cx, module_bytes_, &plugin_module))
      return failure(cx, limits, "the wasm module does not compile: ", nullptr);
    if (!new_instance(cx, plugin_module, imports, &exports))
      return failure(cx, limits, "the wasm module could not be instantiated: ", nullptr);
    realm_->exports = exports;
    if (info_.find_export("memory", ExternalKind::kMemory) != nullptr) {
      if (!JS_GetProperty(cx, exports, "memory", &value) || !value.isObject())
        return failure(cx, limits, "", nullptr);
      realm_->plugin_memory = &value.toObject();
    }
    // Reactors initialize once (WASI's rule; Extism does the same).
    for (const char* init : {"_initialize", "__wasm_call_ctors"}) {
      if (callable_export(init)) {
        if (Status ran = run_export(cx, limits, init, nullptr); !ran.ok())
          return ran;
        break;
      }
    }
    return {};
  }

  // An export Outlet may call: a function taking nothing, returning i32 or nothing.
  bool callable_export(std::string_view name) const {
    const wasm::Export* found = info_.find_export(name, ExternalKind::kFunction);
    return found != nullptr && is_handler_type(info_.export_type(*found));
  }
  static bool is_handler_type(const FunctionType* type) {
    return type != nullptr && type->params.empty() &&
           (type->results.empty() || type->results == std::vector<ValueType>{ValueType::kI32});
  }
  Status check_handler_type(const std::string& name) const {
    const wasm::Export* found = info_.find_export(name, ExternalKind::kFunction);
    if (found == nullptr || is_handler_type(info_.export_type(*found)))
      return {};
    const FunctionType* type = info_.export_type(*found);
    return Error(ErrorCode::kInvalidArgument, "the export " + name + " cannot be a handler",
                 {{name, "has the type " + (type ? wasm::describe(*type) : std::string("?")) +
                             "; a handler takes nothing and returns an i32 (0 = success) or "
                             "nothing"}});
  }

  JS::Value native(JSContext* cx, JSNative function, const std::string& name, int32_t data) {
    JSFunction* created = ::js::NewFunctionWithReserved(cx, function, 0, 0, name.c_str());
    if (created == nullptr)
      return JS::UndefinedValue();
    JSObject* object = JS_GetFunctionObject(created);
    ::js::SetFunctionNativeReserved(object, kNativeDataSlot, JS::Int32Value(data));
    ::js::SetFunctionNativeReserved(object, kNativeInstanceSlot, JS::PrivateValue(this));
    return JS::ObjectValue(*object);
  }

  // Runs an export outside a hook (load time): its output and error as for a call.
  Status run_export(JSContext* cx, CallLimits& limits, const std::string& name,
                    std::string* output) {
    Result<std::string> result = invoke(cx, limits, name, "", nullptr);
    if (!result.ok())
      return result.error();
    if (output != nullptr)
      *output = std::move(result).value();
    return {};
  }

  // The handlers: typed exports (on_chat_message, filter_chat_message, ...) by
  // the shared rules, plus what `register` routes to the envelope exports.
  Status derive(JSContext* cx, CallLimits& limits) {
    std::vector<HandlerCandidate> candidates;
    for (const wasm::Export& entry : info_.exports) {
      if (entry.kind != ExternalKind::kFunction || is_reserved_export(entry.name))
        continue;
      HandlerCandidate candidate;
      candidate.key = entry.name;
      if (const FunctionType* type = info_.export_type(entry); !is_handler_type(type)) {
        candidate.value_type = "function typed " + (type ? wasm::describe(*type) : "?") +
                               "; a handler is () -> i32 or () -> ()";
      }
      if (candidate.value_type.empty())
        candidate.value_type = "function";
      candidate.entry = exports_.size();
      exports_.push_back({entry.name, false});
      candidates.push_back(std::move(candidate));
    }
    auto derived = derive_handlers(candidates, events_, HandlerSpelling::kSnakeCase, warnings_);
    if (!derived.ok())
      return derived.error();
    handlers_ = std::move(derived).value();
    for (const char* name :
         {"register", "on_event", "on_filter", "on_collect", "on_dispatch", "on_request"}) {
      if (Status typed = check_handler_type(name); !typed.ok())
        return typed;
    }
    if (!callable_export("register")) {
      for (const auto& [name, kind] : envelope_exports()) {
        if (callable_export(name)) {
          warn_once("no-register", name +
                                       " is exported but there is no register export to say "
                                       "which events it handles, so it gets none");
        }
      }
      return {};
    }
    std::string output;
    if (Status ran = run_export(cx, limits, "register", &output); !ran.ok())
      return ran;
    return apply_registration(output);
  }

  Status apply_registration(const std::string& output) {
    auto parsed = parse_json_text(output, "register's output");
    if (!parsed.ok() || !parsed->is_object()) {
      return Error(ErrorCode::kInvalidArgument,
                   "register's output must be a JSON object (see docs/wasm-abi.md)",
                   {{"register", parsed.ok() ? "got " + std::string(parsed->type_name())
                                             : parsed.error().message()}});
    }
    const Json& registration = *parsed;
    std::vector<ErrorDetail> problems;
    for (const auto& [key, value] : registration.items()) {
      if (key != "id" && key != "version" && key != "permissions" && key != "subscriptions")
        problems.push_back({"register." + key,
                            "unknown field (expected id, version, "
                            "permissions, subscriptions)"});
    }
    // seeds/003: what the code says about itself must agree with the manifest.
    if (auto id = registration.find("id"); id != registration.end() && *id != manifest_->id) {
      problems.push_back({"register.id", "is " + dump_json(*id) + " but plugin.json says \"" +
                                             manifest_->id + "\""});
    }
    if (auto version = registration.find("version");
        version != registration.end() && *version != manifest_->version_text) {
      problems.push_back({"register.version", "is " + dump_json(*version) +
                                                  " but plugin.json says \"" +
                                                  manifest_->version_text + "\""});
    }
    if (auto permissions = registration.find("permissions"); permissions != registration.end()) {
      std::set<std::string> said,
          declared(manifest_->permissions.begin(), manifest_->permissions.end());
      bool strings = permissions->is_array();
      for (const Json& p : strings ? *permissions : Json::array()) {
        strings = strings && p.is_string();
        if (p.is_string())
          said.insert(p.get<std::string>());
      }
      if (!strings) {
        problems.push_back({"register.permissions", "must be an array of strings"});
      } else if (said != declared) {
        problems.push_back(
            {"register.permissions",
             "are [" + join(std::vector<std::string>(said.begin(), said.end()), ", ") +
                 "] but plugin.json declares [" + join(manifest_->permissions, ", ") + "]"});
      }
    }
    if (auto subscriptions = registration.find("subscriptions");
        subscriptions != registration.end()) {
      if (!subscriptions->is_object()) {
        problems.push_back({"register.subscriptions",
                            "must be an object of hook kind -> events, as in plugin.json"});
      } else {
        for (const auto& [kind_name, list] : subscriptions->items())
          add_registered(kind_name, list, problems);
      }
    }
    if (!problems.empty())
      return Error(ErrorCode::kInvalidArgument, "register's output is invalid", problems);
    return {};
  }

  void add_registered(const std::string& kind_name, const Json& list,
                      std::vector<ErrorDetail>& problems) {
    std::string path = "register.subscriptions." + kind_name;
    auto kind = parse_hook_kind(kind_name);
    if (!kind) {
      problems.push_back(
          {path, "unknown hook kind (expected notify, filter, collect, dispatch or request)"});
      return;
    }
    if (!list.is_array()) {
      problems.push_back({path, "must be an array of event names or {event, priority}"});
      return;
    }
    std::string target = envelope_export_for(*kind);
    for (size_t i = 0; i < list.size(); ++i) {
      std::string item_path = path + "[" + std::to_string(i) + "]";
      const Json& item = list[i];
      Subscription subscription;
      subscription.kind = *kind;
      if (item.is_string()) {
        subscription.event = item.get<std::string>();
      } else if (item.is_object() && item.contains("event") && item["event"].is_string()) {
        subscription.event = item["event"].get<std::string>();
        if (auto priority = item.find("priority"); priority != item.end()) {
          if (!priority->is_number_integer() || std::abs(priority->get<int64_t>()) > 1000000) {
            problems.push_back(
                {item_path + ".priority", "must be an integer between -1000000 and 1000000"});
            continue;
          }
          subscription.priority = priority->get<int>();
        }
      } else {
        problems.push_back({item_path, "must be an event name or {\"event\", \"priority\"}"});
        continue;
      }
      if (!is_valid_event_name(subscription.event)) {
        problems.push_back({item_path, "\"" + subscription.event + "\" is not a valid event name"});
        continue;
      }
      if (!callable_export(target)) {
        problems.push_back({item_path, "needs the export " + target + ", which the module lacks"});
        continue;
      }
      if (const DerivedHandler* existing = find_handler(handlers_, *kind, subscription.event)) {
        problems.push_back({item_path, "a second " + kind_name + " handler for \"" +
                                           subscription.event + "\" (the first is " +
                                           existing->label + ")"});
        continue;
      }
      DerivedHandler handler;
      handler.subscription = subscription;
      handler.entry = exports_.size();
      handler.label = target + "[\"" + subscription.event + "\"]";
      exports_.push_back({target, true});
      handlers_.push_back(std::move(handler));
    }
  }

  Result<std::string> call_on_thread(JSContext* cx, const CallContext& context,
                                     const std::string& name, const std::string& input) {
    if (!realm_)
      return Error(ErrorCode::kFailedPrecondition, "the plugin is not loaded: " + broken_reason_);
    CallLimits limits = limits_for(context.deadline, &context);
    Result<std::string> result = std::string();
    {
      EngineThread::CallScope scope(*thread_, limits);
      JSAutoRealm enter(cx, realm_->global);
      result = invoke(cx, limits, name, input, &context);
    }
    sample_memory(cx);
    if (!result.ok() && (result.error().code() == ErrorCode::kResourceExhausted ||
                         result.error().code() == ErrorCode::kDeadlineExceeded)) {
      recover(cx, result.error());
    }
    return result;
  }

  // One call of an export: the input into the kernel, the export run, the
  // output (or the error the plugin set) out of it.
  Result<std::string> invoke(JSContext* cx, CallLimits& limits, const std::string& name,
                             const std::string& input, const CallContext* context) {
    exit_code_.reset();
    std::string label = name + " ";
    JS::RootedValue begin(cx, realm_->kernel_begin_call), handle_value(cx), length(cx);
    JS::RootedValueArray<1> arguments(cx);
    if (!set_u64(cx, &length, input.size()))
      return failure(cx, limits, label, context);
    arguments[0].set(length);
    if (!JS::Call(cx, JS::UndefinedHandleValue, begin, arguments, &handle_value))
      return failure(cx, limits, label, context);
    uint64_t handle = to_u64(handle_value).value_or(0);
    MemoryView view;
    if (!input.empty()) {
      if (handle == 0 || !kernel_view(cx, view) || !view.contains(handle, input.size())) {
        return Error(ErrorCode::kResourceExhausted,
                     "the input (" + describe_bytes(input.size()) + ") does not fit in the " +
                         "plugin's " + describe_bytes(kernel_limit()) + " kernel memory");
      }
      std::memcpy(view.data + handle, input.data(), input.size());
    }
    JS::RootedValue function(cx), returned(cx);
    JS::RootedObject exports(cx, realm_->exports);
    if (!get_named(cx, exports, name, &function))
      return failure(cx, limits, label, context);
    bool ran =
        JS::Call(cx, JS::UndefinedHandleValue, function, JS::HandleValueArray::empty(), &returned);
    flush_output_lines();
    if (!ran && !(exit_code_ && *exit_code_ == 0 && !limits.timed_out))
      return failure(cx, limits, label, context);
    if (limits.timed_out || limits.out_of_memory)
      return failure(cx, limits, label, context);
    int32_t code = returned.isInt32() ? returned.toInt32() : 0;

    if (!kernel_view(cx, view) || !view.contains(state_address_, OUTLET_KERNEL_STATE_BYTES))
      return Error(ErrorCode::kPluginError, label + "left the kernel memory unreadable");
    // As in Extism: an error the plugin set fails the call whatever it returned,
    // provided it names a non-empty block.
    uint64_t error_handle = view.u64_at(state_address_ + OUTLET_KERNEL_STATE_ERROR);
    if (error_handle != 0) {
      auto message = kernel_block(view, error_handle);
      if (message && !message->empty()) {
        std::string text = truncate_utf8(std::string(*message), 4096);
        return Error(ErrorCode::kPluginError, label + "failed: " + text);
      }
    }
    if (code != 0) {
      return Error(ErrorCode::kPluginError,
                   label + "returned the non-zero code " + std::to_string(code));
    }
    uint64_t offset = view.u64_at(state_address_ + OUTLET_KERNEL_STATE_OUTPUT_OFFSET);
    uint64_t output_length = view.u64_at(state_address_ + OUTLET_KERNEL_STATE_OUTPUT_LENGTH);
    if (output_length == 0)
      return std::string();
    if (output_length > options_.max_output_bytes) {
      return Error(ErrorCode::kResourceExhausted,
                   label + "set an output of " + describe_bytes(output_length) +
                       ", more than the " + describe_bytes(options_.max_output_bytes) + " allowed");
    }
    if (!view.contains(offset, output_length))
      return Error(ErrorCode::kPluginError, label + "set an output outside the kernel memory");
    return std::string(reinterpret_cast<const char*>(view.data + offset), output_length);
  }

  // A module stopped mid-call may have left its memory in any state (a lock
  // held, a half-built structure): start it over from its file.
  void recover(JSContext* cx, const Error& why) {
    if (Status reloaded = load_on_thread(cx); !reloaded.ok()) {
      broken_reason_ = "it was stopped (" + why.message() +
                       ") and could not be loaded again: " + reloaded.error().message();
      if (warnings_ != nullptr)
        warnings_->add("wasm", broken_reason_);
    } else if (warnings_ != nullptr) {
      warnings_->add("wasm",
                     "the plugin's instance was discarded and instantiated again after it was "
                     "stopped (" +
                         why.message() + "); its memory and vars start over");
    }
  }

  void flush_output_lines() {
    for (int fd : {1, 2}) {
      std::string& line = output_line(fd);
      if (!line.empty()) {
        log(fd == 1 ? ExtismLogLevel::kInfo : ExtismLogLevel::kWarn, line);
        line.clear();
      }
    }
  }

  void sample_memory(JSContext* cx) {
    uint64_t used = 0;
    if (realm_ && realm_->global) {
      JSAutoRealm enter(cx, realm_->global);
      MemoryView view;
      if (realm_->kernel_memory && kernel_view(cx, view))
        used += view.size;
      JS::RootedObject memory(cx, realm_->plugin_memory);
      if (memory && view_memory(cx, memory, view))
        used += view.size;
      JS_ClearPendingException(cx);
    }
    memory_bytes_.store(used, std::memory_order_relaxed);
  }

  // The instances become garbage; their natives still name this object, but
  // nothing calls into them again.
  void close_realm() {
    realm_.reset();
    exports_.clear();
    handlers_.clear();
    vars_.clear();
  }

  std::shared_ptr<const Manifest> manifest_;
  HostFunctionTable* host_;
  WarningLog* warnings_;
  std::vector<std::shared_ptr<const EventSpec>> events_;
  WasmRuntimeOptions options_;
  std::string entrypoint_;
  std::shared_ptr<js::Engine> engine_;
  std::shared_ptr<CompiledModuleCache> modules_;
  EngineThread* thread_;
  size_t memory_limit_ = 0;
  wasm::ModuleInfo info_;
  std::string module_bytes_;  // with its memories capped
  std::unique_ptr<Realm> realm_;
  uint32_t state_address_ = 0;
  std::vector<HandlerExport> exports_;  // DerivedHandler::entry → export
  std::vector<DerivedHandler> handlers_;
  std::map<std::string, std::string> vars_;
  int32_t http_status_ = 0;
  std::string http_headers_;
  std::string stdout_line_, stderr_line_;
  std::optional<int32_t> exit_code_;
  std::set<std::string> warned_;
  std::string broken_reason_;
  std::atomic<uint64_t> memory_bytes_{0};
};

void WasmInstance::log(ExtismLogLevel level, const std::string& message) {
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

// --- extism:host/user ---

bool invoke_host(JSContext* cx, WasmInstance& instance, size_t index, const JS::CallArgs& args) {
  const std::string& name = instance.host()->function_names()[index];
  const CallContext* context = instance.current_call();
  if (context == nullptr) {
    return throw_error(cx, name +
                               ": host functions cannot be called while the plugin loads; "
                               "call them from a handler");
  }
  Json arguments = Json::array();
  std::string text;
  size_t given = 0;  // arguments up to the last non-zero handle; 0 handles after it are absent
  for (unsigned i = 0; i < args.length(); ++i) {
    auto handle = to_u64(args[i]);
    if (!handle)
      return throw_error(cx, name + ": argument " + std::to_string(i + 1) + " is not a handle");
    if (!instance.read_block(cx, *handle, name.c_str(), text))
      return false;
    if (*handle == 0) {
      arguments.push_back(nullptr);
      continue;
    }
    given = i + 1;
    auto parsed = parse_json_text(text, "argument " + std::to_string(i + 1));
    if (!parsed.ok()) {
      return throw_error(cx, name + ": argument " + std::to_string(i + 1) +
                                 " is not JSON: " + parsed.error().message());
    }
    arguments.push_back(std::move(parsed).value());
  }
  while (arguments.size() > given)
    arguments.erase(arguments.size() - 1);  // trailing absent arguments, as in JS
  Result<Json> result = instance.host()->invoke(index, arguments, *context);
  if (!js::interrupt_check(cx))
    return false;
  if (!result.ok()) {
    const std::string& message = result.error().message();
    return throw_error(cx, message.rfind(name + ":", 0) == 0 ? message : name + ": " + message);
  }
  // Always a block, "null" included: PDKs that parse results as JSON (Rust's
  // Json<T>) read a 0 handle as empty bytes, which is not JSON.
  return instance.write_block(cx, dump_json(*result), args.rval());
}

bool host_function_native(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  WasmInstance* instance = instance_of(args);
  if (instance == nullptr)
    return throw_error(cx, "the plugin is unloaded");
  auto index = static_cast<size_t>(
      ::js::GetFunctionNativeReserved(&args.callee(), kNativeDataSlot).toInt32());
  return invoke_host(cx, *instance, index, args);
}

// call(name, args): any granted host function by name; the outcome as
// {"ok": true, "value": ...} or {"ok": false, "error": "..."}, never a trap, so
// a plugin can handle a refusal.
bool call_by_name_native(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  WasmInstance* instance = instance_of(args);
  if (instance == nullptr)
    return throw_error(cx, "the plugin is unloaded");
  std::string name, arguments_text;
  if (!instance->read_block(cx, to_u64(args.get(0)).value_or(1), "call(name)", name) ||
      !instance->read_block(cx, to_u64(args.get(1)).value_or(1), "call(args)", arguments_text))
    return false;
  auto answer = [&](const Json& envelope) {
    return instance->write_block(cx, dump_json(envelope), args.rval());
  };
  const CallContext* context = instance->current_call();
  if (context == nullptr) {
    return answer(
        {{"ok", false}, {"error", "host functions cannot be called while the plugin loads"}});
  }
  Json arguments = Json::array();
  if (!arguments_text.empty()) {
    auto parsed = parse_json_text(arguments_text, "args");
    if (!parsed.ok() || !parsed->is_array()) {
      return answer(
          {{"ok", false}, {"error", "call(" + name + "): args must be a JSON array of arguments"}});
    }
    arguments = std::move(parsed).value();
  }
  const auto& names = instance->host()->function_names();
  auto found = std::find(names.begin(), names.end(), name);
  if (found == names.end()) {
    return answer({{"ok", false},
                   {"error", "host function \"" + name +
                                 "\" is not available to this plugin (not declared in its "
                                 "permissions, or not granted)"}});
  }
  Result<Json> result =
      instance->host()->invoke(static_cast<size_t>(found - names.begin()), arguments, *context);
  if (!js::interrupt_check(cx))
    return false;
  if (!result.ok()) {
    const std::string& message = result.error().message();
    return answer({{"ok", false},
                   {"error", message.rfind(name + ":", 0) == 0 ? message : name + ": " + message}});
  }
  return answer({{"ok", true}, {"value", *result}});
}

bool has_native(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  WasmInstance* instance = instance_of(args);
  std::string name;
  if (instance == nullptr ||
      !instance->read_block(cx, to_u64(args.get(0)).value_or(1), "has", name))
    return false;
  args.rval().setInt32(instance->has_function(name) ? 1 : 0);
  return true;
}

// --- extism:host/env, the host's part ---

constexpr size_t kVarEntryOverhead = 48;  // Extism's accounting per var

bool env_native(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  WasmInstance* instance = instance_of(args);
  if (instance == nullptr)
    return throw_error(cx, "the plugin is unloaded");
  auto which = static_cast<EnvFunction>(
      ::js::GetFunctionNativeReserved(&args.callee(), kNativeDataSlot).toInt32());
  auto handle = [&](unsigned i) { return to_u64(args.get(i)).value_or(1); };
  std::string key, value;
  switch (which) {
    case EnvFunction::kConfigGet: {
      if (!instance->read_block(cx, handle(0), "config_get", key))
        return false;
      const CallContext* context = instance->current_call();
      if (!instance->has_function("config.get") || context == nullptr) {
        if (context != nullptr) {
          instance->warn_once("config",
                              "config_get: the plugin lacks the \"config.read\" "
                              "permission, so it sees no config");
        }
        return set_u64(cx, args.rval(), 0);
      }
      Result<Json> result =
          instance->host()->invoke(std::string_view("config.get"), Json::array({key}), *context);
      if (!result.ok())
        return throw_error(cx, "config_get: " + result.error().message());
      if (result->is_null())
        return set_u64(cx, args.rval(), 0);
      // Extism's config holds strings; other JSON values arrive as JSON text.
      return instance->write_block(
          cx, result->is_string() ? result->get<std::string>() : dump_json(*result), args.rval());
    }
    case EnvFunction::kVarGet: {
      if (!instance->read_block(cx, handle(0), "var_get", key))
        return false;
      auto found = instance->vars().find(key);
      if (found == instance->vars().end())
        return set_u64(cx, args.rval(), 0);
      return instance->write_block(cx, found->second, args.rval());
    }
    case EnvFunction::kVarSet: {
      uint64_t value_handle = handle(1);
      if (!instance->read_block(cx, handle(0), "var_set", key) ||
          !instance->read_block(cx, value_handle, "var_set", value))
        return false;
      auto& vars = instance->vars();
      if (value_handle == 0) {
        vars.erase(key);
        args.rval().setUndefined();
        return true;
      }
      size_t total = key.size() + value.size() + kVarEntryOverhead;
      for (const auto& [k, v] : vars) {
        if (k != key)
          total += k.size() + v.size() + kVarEntryOverhead;
      }
      if (total > instance->max_var_bytes()) {
        return throw_error(cx, "var_set: the plugin's vars would hold " + describe_bytes(total) +
                                   ", more than the " + describe_bytes(instance->max_var_bytes()) +
                                   " allowed");
      }
      vars[key] = std::move(value);
      args.rval().setUndefined();
      return true;
    }
    case EnvFunction::kHttpRequest: {
      std::string request_text, body;
      uint64_t body_handle = handle(1);
      if (!instance->read_block(cx, handle(0), "http_request", request_text) ||
          !instance->read_block(cx, body_handle, "http_request", body))
        return false;
      instance->http_status() = 0;
      instance->http_headers().clear();
      const CallContext* context = instance->current_call();
      if (!instance->has_function("http.fetch") || context == nullptr) {
        return throw_error(cx,
                           "http_request: the plugin lacks the \"network.fetch\" permission "
                           "(or the host offers no HTTP client)");
      }
      auto request = parse_json_text(request_text, "the request");
      if (!request.ok() || !request->is_object() || !request->contains("url") ||
          !(*request)["url"].is_string()) {
        return throw_error(cx,
                           "http_request: the request must be a JSON object with a \"url\" "
                           "string (and optionally \"method\" and \"headers\")");
      }
      Json options = Json::object();
      for (const auto& [field, v] : request->items()) {
        if (field == "method" && (v.is_string() || v.is_null())) {
          if (v.is_string())
            options["method"] = to_upper_ascii(v.get<std::string>());
        } else if (field == "headers" && v.is_object()) {
          options["headers"] = v;
        } else if (field != "url") {
          return throw_error(cx, "http_request: request field \"" + field +
                                     "\" is unknown or has the wrong type (url: string, method: "
                                     "string, headers: object of strings)");
        }
      }
      if (body_handle != 0)
        options["body"] = body;
      Result<Json> response = instance->host()->invoke(
          std::string_view("http.fetch"), Json::array({(*request)["url"], options}), *context);
      if (!js::interrupt_check(cx))
        return false;
      if (!response.ok())
        return throw_error(cx, "http_request: " + response.error().message());
      instance->http_status() = response->value("status", 0);
      instance->http_headers() = dump_json(response->value("headers", Json::object()));
      Json response_body = response->value("body", Json(""));
      return instance->write_block(
          cx,
          response_body.is_string() ? response_body.get<std::string>() : dump_json(response_body),
          args.rval());
    }
    case EnvFunction::kHttpStatusCode:
      args.rval().setInt32(instance->http_status());
      return true;
    case EnvFunction::kHttpHeaders:
      if (instance->http_headers().empty())
        return set_u64(cx, args.rval(), 0);
      return instance->write_block(cx, instance->http_headers(), args.rval());
    case EnvFunction::kLogTrace:
    case EnvFunction::kLogDebug:
    case EnvFunction::kLogInfo:
    case EnvFunction::kLogWarn:
    case EnvFunction::kLogError: {
      if (!instance->read_block(cx, handle(0), "log", value))
        return false;
      auto level = static_cast<ExtismLogLevel>(static_cast<int>(which) -
                                               static_cast<int>(EnvFunction::kLogTrace));
      instance->log(level, value);
      args.rval().setUndefined();
      return true;
    }
    case EnvFunction::kGetLogLevel:
      // Without the "log" permission only warnings and errors go anywhere (to
      // the plugin's warnings), so PDKs can skip formatting the rest.
      args.rval().setInt32(instance->has_function("log.info")
                               ? static_cast<int32_t>(ExtismLogLevel::kTrace)
                               : static_cast<int32_t>(ExtismLogLevel::kWarn));
      return true;
  }
  return throw_error(cx, "unknown kernel function");
}

// --- WASI preview 1, without capabilities ---

int64_t now_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool wasi_native(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  WasmInstance* instance = instance_of(args);
  if (instance == nullptr)
    return throw_error(cx, "the plugin is unloaded");
  auto which = static_cast<WasiFunction>(
      ::js::GetFunctionNativeReserved(&args.callee(), kNativeDataSlot).toInt32());
  auto i32 = [&](unsigned i) -> uint32_t {
    const JS::Value& v = args.get(i);
    return v.isInt32() ? static_cast<uint32_t>(v.toInt32()) : 0;
  };
  auto give = [&](int32_t errno_value) {
    args.rval().setInt32(errno_value);
    return true;
  };
  if (which == WasiFunction::kUnsupported)
    return give(kWasiNoSys);
  if (which == WasiFunction::kSchedYield)
    return give(kWasiSuccess);
  if (which == WasiFunction::kProcExit) {
    // Ends the call at once (no exception the module could catch).
    instance->exit_with(static_cast<int32_t>(i32(0)));
    return false;
  }
  MemoryView memory;
  if (!instance->plugin_view(cx, memory))
    return false;
  auto store32 = [&](uint32_t at, uint32_t value) {
    if (!memory.contains(at, 4))
      return false;
    std::memcpy(memory.data + at, &value, 4);
    return true;
  };
  auto store64 = [&](uint32_t at, uint64_t value) {
    if (!memory.contains(at, 8))
      return false;
    std::memcpy(memory.data + at, &value, 8);
    return true;
  };
  switch (which) {
    case WasiFunction::kArgsSizesGet:
    case WasiFunction::kEnvironSizesGet:
      return give(store32(i32(0), 0) && store32(i32(1), 0) ? kWasiSuccess : kWasiFault);
    case WasiFunction::kArgsGet:
    case WasiFunction::kEnvironGet:
      return give(kWasiSuccess);
    case WasiFunction::kClockResGet:
      return give(i32(0) > 3 ? kWasiInvalid : store64(i32(1), 1000) ? kWasiSuccess : kWasiFault);
    case WasiFunction::kClockTimeGet: {
      uint32_t id = i32(0);
      if (id > 3)
        return give(kWasiInvalid);
      clockid_t clock = id == 0 ? CLOCK_REALTIME : CLOCK_MONOTONIC;
      return give(store64(i32(2), static_cast<uint64_t>(now_ns(clock))) ? kWasiSuccess
                                                                        : kWasiFault);
    }
    case WasiFunction::kRandomGet: {
      uint32_t at = i32(0), length = i32(1);
      if (!memory.contains(at, length))
        return give(kWasiFault);
      for (uint32_t done = 0; done < length;) {
        ssize_t got = getrandom(memory.data + at + done, length - done, 0);
        if (got <= 0)
          return give(kWasiInvalid);
        done += static_cast<uint32_t>(got);
      }
      return give(kWasiSuccess);
    }
    case WasiFunction::kFdWrite: {
      uint32_t fd = i32(0), iovs = i32(1), count = i32(2), written_at = i32(3);
      if (fd != 1 && fd != 2)
        return give(kWasiBadFd);
      uint64_t written = 0;
      for (uint32_t i = 0; i < count; ++i) {
        uint64_t entry = static_cast<uint64_t>(iovs) + uint64_t{8} * i;
        if (!memory.contains(entry, 8))
          return give(kWasiFault);
        uint32_t base = memory.u32_at(entry), length = memory.u32_at(entry + 4);
        if (!memory.contains(base, length))
          return give(kWasiFault);
        std::string& line = instance->output_line(static_cast<int>(fd));
        for (uint32_t j = 0; j < length; ++j) {
          char c = static_cast<char>(memory.data[base + j]);
          if (c == '\n') {
            instance->log(fd == 1 ? ExtismLogLevel::kInfo : ExtismLogLevel::kWarn, line);
            line.clear();
          } else if (line.size() < 4096) {
            line += c;
          }
        }
        written += length;
        // Logging may have run host code; the memory cannot have moved (no wasm
        // ran), but read the view again rather than rely on that.
        if (!instance->plugin_view(cx, memory))
          return false;
      }
      return give(store32(written_at, static_cast<uint32_t>(written)) ? kWasiSuccess : kWasiFault);
    }
    case WasiFunction::kFdRead: {
      if (i32(0) != 0)
        return give(kWasiBadFd);
      return give(store32(i32(3), 0) ? kWasiSuccess : kWasiFault);  // stdin is empty
    }
    case WasiFunction::kFdClose:
      return give(i32(0) <= 2 ? kWasiSuccess : kWasiBadFd);
    case WasiFunction::kFdSeek:
      return give(i32(0) <= 2 ? kWasiSpipe : kWasiBadFd);
    case WasiFunction::kFdFdstatGet: {
      uint32_t fd = i32(0), at = i32(1);
      if (fd > 2)
        return give(kWasiBadFd);
      if (!memory.contains(at, 24))
        return give(kWasiFault);
      std::memset(memory.data + at, 0, 24);
      memory.data[at] = 2;                     // character device
      uint64_t rights = fd == 0 ? 0x2 : 0x40;  // fd_read / fd_write
      std::memcpy(memory.data + at + 8, &rights, 8);
      return give(kWasiSuccess);
    }
    case WasiFunction::kFdPrestatGet:
    case WasiFunction::kFdPrestatDirName:
      return give(kWasiBadFd);  // no directories are open: libc stops looking
    default:
      return give(kWasiNoSys);
  }
}

}  // namespace

WasmRuntime::WasmRuntime(WasmRuntimeOptions options, std::shared_ptr<js::EngineProvider> engines)
    : options_(options),
      engines_(engines ? std::move(engines) : std::make_shared<js::EngineProvider>()),
      modules_(std::make_shared<CompiledModuleCache>(options.compiled_module_cache_entries)) {}

WasmRuntime::~WasmRuntime() = default;

Result<std::unique_ptr<PluginInstance>> WasmRuntime::instantiate(const InstanceSpec& spec) {
  auto instance = std::make_unique<WasmInstance>(spec, options_, engines_->get(), modules_);
  if (Status loaded = instance->load(); !loaded.ok())
    return loaded.error();
  return std::unique_ptr<PluginInstance>(std::move(instance));
}

}  // namespace outlet
