#include "runtime/spidermonkey/wasm_runtime.h"

// GCC 12 reports JS::Rooted linking itself into the context's root list (and
// unlinking in its destructor, which GCC does not follow) as a dangling pointer.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif

#include <js/ArrayBuffer.h>
#include <js/CallAndConstruct.h>
#include <js/Exception.h>
#include <js/GlobalObject.h>
#include <js/Object.h>
#include <js/PropertyAndElement.h>
#include <js/WasmModule.h>
#include <js/experimental/TypedData.h>
#include <jsapi.h>
#include <jsfriendapi.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <list>
#include <optional>
#include <set>

#include "core/json_text.h"
#include "core/text.h"
#include "outlet/discovery.h"
#include "runtime/handler_derivation.h"
#include "runtime/spidermonkey/wasm_abi.h"
#include "runtime/spidermonkey/wasm_guest.h"
#include "runtime/spidermonkey/wasm_kernel/kernel_layout.h"
#include "runtime/spidermonkey/wasm_module.h"
#include "runtime/spidermonkey/wasm_natives.h"

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
using wasm::define_named;
using wasm::env_functions;
using wasm::envelope_export_for;
using wasm::envelope_exports;
using wasm::EnvFunction;
using wasm::ExternalKind;
using wasm::FunctionType;
using wasm::get_named;
using wasm::is_reserved_export;
using wasm::join;
using wasm::kernel_block;
using wasm::kernel_signatures;
using wasm::kKernelModuleName;
using wasm::kUserModuleName;
using wasm::kWasiModuleName;
using wasm::MemoryView;
using wasm::set_u64;
using wasm::signature;
using wasm::take_exception;
using wasm::throw_error;
using wasm::to_u64;
using wasm::ValueType;
using wasm::wasi_functions;
using wasm::WasiFunction;

constexpr unsigned char kKernelModule[] = {
#include "wasm_kernel.inc"
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
        thread_(&engine_->assign()),
        memory_limit_(memory_limit_for(*spec.manifest, options)),
        guest_(spec.host, spec.warnings, thread_, memory_limit_ / 4, options.max_var_bytes) {}

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
  bool enforces_deadline() const override { return true; }

 private:
  static size_t memory_limit_for(const Manifest& manifest, const WasmRuntimeOptions& options) {
    size_t limit = options.max_memory_bytes;
    if (manifest.limits.memory_bytes)
      limit = std::min<size_t>(limit, *manifest.limits.memory_bytes);
    return limit;
  }
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
    if (guest_.exit_code) {
      int32_t code = *guest_.exit_code;
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
    guest_.realm = std::make_unique<wasm::WasmRealm>(cx);
    CallLimits limits = limits_for(
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.load_timeout_ms),
        nullptr);
    Status status;
    {
      EngineThread::CallScope scope(*thread_, limits);
      guest_.realm->global = thread_->wasm_global();
      if (!guest_.realm->global) {
        status = Error(ErrorCode::kResourceExhausted, "could not create the plugin's realm");
      } else {
        JSAutoRealm enter(cx, guest_.realm->global);
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
    guest_.realm->kernel_memory = &value.toObject();
    if (!JS_GetProperty(cx, kernel_exports, "outlet_begin_call",
                        &guest_.realm->kernel_begin_call) ||
        !JS_GetProperty(cx, kernel_exports, "alloc", &guest_.realm->kernel_alloc) ||
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
          function = native(cx, wasm::guarded<wasm::env_native>, import.name,
                            static_cast<int32_t>(env_functions().at(import.name).function));
        }
      } else if (import.module == kUserModuleName) {
        target = user;
        if (import.name == "call") {
          function = native(cx, wasm::guarded<wasm::call_by_name_native>, import.name, 0);
        } else if (import.name == "has") {
          function = native(cx, wasm::guarded<wasm::has_native>, import.name, 0);
        } else {
          size_t index = *user_function_index(import.name);
          function = native(cx, wasm::guarded<wasm::host_function_native>, import.name,
                            static_cast<int32_t>(index));
        }
      } else {
        target = wasi;
        auto known = wasi_functions().find(import.name);
        WasiFunction which =
            known == wasi_functions().end() ? WasiFunction::kUnsupported : known->second.function;
        function =
            native(cx, wasm::guarded<wasm::wasi_native>, import.name, static_cast<int32_t>(which));
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
    guest_.realm->exports = exports;
    if (info_.find_export("memory", ExternalKind::kMemory) != nullptr) {
      if (!JS_GetProperty(cx, exports, "memory", &value) || !value.isObject())
        return failure(cx, limits, "", nullptr);
      guest_.realm->plugin_memory = &value.toObject();
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
    return wasm::make_native(cx, function, name.c_str(), data, &guest_);
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
          guest_.warn_once("no-register", name +
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
    if (!guest_.realm)
      return Error(ErrorCode::kFailedPrecondition, "the plugin is not loaded: " + broken_reason_);
    CallLimits limits = limits_for(js::deadline_on_thread(context), &context);
    Result<std::string> result = std::string();
    {
      EngineThread::CallScope scope(*thread_, limits);
      JSAutoRealm enter(cx, guest_.realm->global);
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
    guest_.exit_code.reset();
    std::string label = name + " ";
    JS::RootedValue begin(cx, guest_.realm->kernel_begin_call), handle_value(cx), length(cx);
    JS::RootedValueArray<1> arguments(cx);
    if (!set_u64(cx, &length, input.size()))
      return failure(cx, limits, label, context);
    arguments[0].set(length);
    if (!JS::Call(cx, JS::UndefinedHandleValue, begin, arguments, &handle_value))
      return failure(cx, limits, label, context);
    uint64_t handle = to_u64(handle_value).value_or(0);
    MemoryView view;
    if (!input.empty()) {
      if (handle == 0 || !guest_.kernel_view(cx, view) || !view.contains(handle, input.size())) {
        return Error(ErrorCode::kResourceExhausted,
                     "the input (" + describe_bytes(input.size()) + ") does not fit in the " +
                         "plugin's " + describe_bytes(kernel_limit()) + " kernel memory");
      }
      std::memcpy(view.data + handle, input.data(), input.size());
    }
    JS::RootedValue function(cx), returned(cx);
    JS::RootedObject exports(cx, guest_.realm->exports);
    if (!get_named(cx, exports, name, &function))
      return failure(cx, limits, label, context);
    bool ran =
        JS::Call(cx, JS::UndefinedHandleValue, function, JS::HandleValueArray::empty(), &returned);
    guest_.flush_output_lines();
    if (!ran && !(guest_.exit_code && *guest_.exit_code == 0 && !limits.timed_out))
      return failure(cx, limits, label, context);
    if (limits.timed_out || limits.out_of_memory)
      return failure(cx, limits, label, context);
    int32_t code = returned.isInt32() ? returned.toInt32() : 0;

    if (!guest_.kernel_view(cx, view) || !view.contains(state_address_, OUTLET_KERNEL_STATE_BYTES))
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

  void sample_memory(JSContext* cx) {
    uint64_t used = 0;
    if (guest_.realm && guest_.realm->global) {
      JSAutoRealm enter(cx, guest_.realm->global);
      MemoryView view;
      if (guest_.realm->kernel_memory && guest_.kernel_view(cx, view))
        used += view.size;
      JS::RootedObject memory(cx, guest_.realm->plugin_memory);
      if (memory && view_memory(cx, memory, view))
        used += view.size;
      JS_ClearPendingException(cx);
    }
    memory_bytes_.store(used, std::memory_order_relaxed);
  }

  // The instances become garbage; their natives still name this object, but
  // nothing calls into them again.
  void close_realm() {
    guest_.realm.reset();
    exports_.clear();
    handlers_.clear();
    guest_.forget_instance_state();
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
  size_t memory_limit_;
  wasm::WasmGuest guest_;  // what the natives see; after thread_ and memory_limit_
  wasm::ModuleInfo info_;
  std::string module_bytes_;  // with its memories capped
  uint32_t state_address_ = 0;
  std::vector<HandlerExport> exports_;  // DerivedHandler::entry → export
  std::vector<DerivedHandler> handlers_;
  std::string broken_reason_;
  std::atomic<uint64_t> memory_bytes_{0};
};

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
