#include "runtime/spidermonkey/js_runtime.h"

#include <js/Array.h>
#include <js/CallAndConstruct.h>
#include <js/CompilationAndEvaluation.h>
#include <js/Conversions.h>
#include <js/ErrorReport.h>
#include <js/Exception.h>
#include <js/GlobalObject.h>
#include <js/JSON.h>
#include <js/Object.h>
#include <js/Promise.h>
#include <js/PropertyAndElement.h>
#include <js/SourceText.h>
#include <jsapi.h>
#include <jsfriendapi.h>

#include <filesystem>

#include "core/text.h"
#include "outlet/discovery.h"
#include "runtime/handler_derivation.h"
#include "runtime/spidermonkey/js_natives.h"
#include "runtime/spidermonkey/js_values.h"

namespace outlet {
namespace {

namespace fs = std::filesystem;
using js::CallLimits;
using js::EngineThread;
using js::guarded;
using js::throw_error;
using js::to_utf8;

constexpr const char kPreludeSource[] =
#include "js_prelude.inc"
    ;

// The global's application slots.
enum GlobalSlot : uint32_t { kInstanceSlot = 0, kBuiltinsSlot = 1, kModulesSlot = 2 };
// A host function's index; a require function's module folder.
constexpr size_t kFunctionDataSlot = 0;

const JSClass kGlobalClass = {"global", JSCLASS_GLOBAL_FLAGS, &JS::DefaultGlobalClassOps};

// The pending exception as "file:line:column Name: message" and its stack.
std::string take_exception(JSContext* cx) {
  JS::ExceptionStack stack(cx);
  if (!JS::StealPendingExceptionStack(cx, &stack))
    return "an error was thrown";
  JS::RootedValue exception(cx, stack.exception());
  std::string text;
  if (exception.isObject()) {
    JS::RootedObject error(cx, &exception.toObject());
    JS::RootedValue trace(cx);
    JS::ErrorReportBuilder report(cx);
    if (report.init(cx, stack, JS::ErrorReportBuilder::NoSideEffects) && report.report() &&
        report.report()->filename != nullptr) {
      const JSErrorReport* r = report.report();
      text = std::string(r->filename) + ":" + std::to_string(r->lineno) + ":" +
             std::to_string(r->column) + " " +
             (report.toStringResult() ? report.toStringResult().c_str() : "");
    } else {
      text = to_utf8(cx, exception);
    }
    if (JS_GetProperty(cx, error, "stack", &trace) && trace.isString()) {
      std::string frames = to_utf8(cx, trace);
      while (!frames.empty() && frames.back() == '\n')
        frames.pop_back();
      if (!frames.empty()) {
        text += "\nstack traceback:";
        size_t start = 0;
        while (start < frames.size()) {
          size_t end = frames.find('\n', start);
          if (end == std::string::npos)
            end = frames.size();
          std::string frame = frames.substr(start, end - start);
          if (frame.find("outlet:prelude.js") == std::string::npos)
            text += "\n\t" + frame;
          start = end + 1;
        }
      }
    }
    JS_ClearPendingException(cx);
  } else {
    text = "uncaught " + to_utf8(cx, exception);
  }
  if (text.size() > 4096)
    text.resize(4096);
  return text;
}

class JsInstance;

JsInstance* instance_of(JSContext* cx) {
  JSObject* global = JS::CurrentGlobalOrNull(cx);
  if (global == nullptr)
    return nullptr;
  JS::Value slot = JS::GetReservedSlot(global, kInstanceSlot);
  return slot.isUndefined() ? nullptr : static_cast<JsInstance*>(slot.toPrivate());
}

bool host_function_native(JSContext* cx, unsigned argc, JS::Value* vp);
bool call_by_name_native(JSContext* cx, unsigned argc, JS::Value* vp);
bool has_native(JSContext* cx, unsigned argc, JS::Value* vp);
bool require_native(JSContext* cx, unsigned argc, JS::Value* vp);
bool console_dropped_native(JSContext* cx, unsigned argc, JS::Value* vp);
bool warn_native(JSContext* cx, unsigned argc, JS::Value* vp);

// What lives in the plugin's realm; created and destroyed on its engine thread.
struct Realm {
  explicit Realm(JSContext* cx) : global(cx), plugin(cx), handlers(cx) {}
  JS::PersistentRootedObject global;
  JS::PersistentRootedObject plugin;    // what module.exports held
  JS::PersistentRootedObject handlers;  // entry index → handler function
};

class JsInstance : public PluginInstance {
 public:
  JsInstance(const InstanceSpec& spec, const JsRuntimeOptions& options,
             std::shared_ptr<js::Engine> engine)
      : manifest_(spec.manifest),
        host_(spec.host),
        warnings_(spec.warnings),
        events_(spec.events),
        options_(options),
        root_(spec.root.empty() ? fs::path(spec.entrypoint_path).parent_path().string()
                                : spec.root),
        entrypoint_(spec.entrypoint_path),
        engine_(std::move(engine)),
        thread_(&engine_->assign()) {
    memory_limit_ = options.max_memory_bytes;
    if (manifest_->limits.memory_bytes)
      memory_limit_ = std::min<size_t>(memory_limit_, *manifest_->limits.memory_bytes);
  }

  ~JsInstance() override {
    thread_->run([&](JSContext*) { close_realm(); });
    engine_->unassign(*thread_);
  }

  Status load() {
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
    Result<Json> result = Json();
    thread_->run([&](JSContext* cx) { result = call_on_thread(cx, context, *handler, payload); });
    return result;
  }

  uint64_t memory_bytes() const override { return memory_bytes_.load(std::memory_order_relaxed); }
  bool enforces_deadline() const override { return true; }

  // --- For the natives (on the engine thread) ---
  HostFunctionTable* host() const { return host_; }
  const CallContext* current_call() const {
    CallLimits* limits = thread_->current_limits();
    return limits == nullptr ? nullptr : limits->context;
  }
  void warn(const std::string& message) {
    if (warnings_ != nullptr)
      warnings_->add("warn", message);
  }
  void console_dropped() {
    if (!console_warned_ && warnings_ != nullptr) {
      console_warned_ = true;
      warnings_->add("console",
                     "console output is dropped: the plugin lacks the \"log\" permission");
    }
  }
  bool require(JSContext* cx, const std::string& from_folder, const std::string& specifier,
               JS::MutableHandleValue out);

 private:
  CallLimits limits_for(SteadyTime deadline, const CallContext* context) {
    CallLimits limits;
    limits.deadline = deadline;
    limits.context = context;
    limits.budget = budget_;
    limits.global = realm_ ? realm_->global.get() : nullptr;
    limits.memory_limit = memory_limit_;
    return limits;
  }

  // Why a JS operation failed: a stop by the watchdog, or the plugin's exception.
  Error failure(JSContext* cx, const CallLimits& limits, const std::string& what,
                const CallContext* context) {
    bool over_budget = limits.out_of_memory || (budget_ != nullptr && budget_->exceeded());
    if (limits.timed_out) {
      std::string message =
          context != nullptr
              ? context->timeout_message()
              : "took longer than " + std::to_string(options_.load_timeout_ms) + " ms to load";
      if (!limits.stopped_at.empty())
        message += " (stopped at " + limits.stopped_at + ")";
      JS_ClearPendingException(cx);
      return Error(ErrorCode::kDeadlineExceeded, message);
    }
    if (over_budget || (JS_IsExceptionPending(cx) && JS_IsThrowingOutOfMemory(cx))) {
      JS_ClearPendingException(cx);
      return Error(ErrorCode::kResourceExhausted,
                   what + "ran out of its " + describe_bytes(memory_limit_) + " memory limit");
    }
    if (!JS_IsExceptionPending(cx))
      return Error(ErrorCode::kPluginError, what + "was stopped by the engine");
    return Error(ErrorCode::kPluginError, what + take_exception(cx));
  }

  Status load_on_thread(JSContext* cx) {
    close_realm();
    modules_loaded_ = 0;  // a reloaded realm loads its files again
    if (budget_ == nullptr)
      budget_ = AllocationBudget::create(memory_limit_);
    JS::RealmOptions options;
    options.creationOptions().setNewCompartmentAndZone();
    realm_ = std::make_unique<Realm>(cx);
    CallLimits limits = limits_for(
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.load_timeout_ms),
        nullptr);
    Status status;
    {
      EngineThread::CallScope scope(*thread_, limits);
      realm_->global =
          JS_NewGlobalObject(cx, &kGlobalClass, nullptr, JS::DontFireOnNewGlobalHook, options);
      if (!realm_->global) {
        status = Error(ErrorCode::kResourceExhausted, "could not create the plugin's realm");
      } else {
        limits.global = realm_->global;
        JSAutoRealm enter(cx, realm_->global);
        status = set_up_realm(cx, limits);
        if (status.ok())
          status = derive(cx, limits);
      }
      ::js::RunJobs(cx);
    }
    if (!status.ok())
      close_realm();
    sample_memory();
    return status;
  }

  Status set_up_realm(JSContext* cx, CallLimits& limits) {
    JS::RootedObject global(cx, realm_->global);
    JS::SetReservedSlot(global, kInstanceSlot, JS::PrivateValue(this));
    if (!JS::InitRealmStandardClasses(cx))
      return failure(cx, limits, "the realm could not be set up: ", nullptr);
    // WebAssembly belongs to wasm plugins, whose memory the host sizes itself.
    if (!JS_DeleteProperty(cx, global, "WebAssembly"))
      return failure(cx, limits, "the realm could not be set up: ", nullptr);
    JS_FireOnNewGlobalObject(cx, global);

    JS::RootedObject host(cx);
    if (!build_host_namespace(cx, &host))
      return failure(cx, limits, "the host functions could not be set up: ", nullptr);
    JS::RootedObject natives(cx, JS_NewPlainObject(cx));
    if (!natives ||
        !JS_DefineFunction(cx, natives, "consoleDropped", guarded<console_dropped_native>, 0, 0) ||
        !JS_DefineFunction(cx, natives, "warn", guarded<warn_native>, 1, 0))
      return failure(cx, limits, "the SDK could not be set up: ", nullptr);

    JS::CompileOptions compile(cx);
    compile.setFileAndLine("outlet:prelude.js", 1);
    JS::SourceText<mozilla::Utf8Unit> source;
    JS::RootedValue prelude(cx), sdk(cx);
    if (!source.init(cx, kPreludeSource, sizeof(kPreludeSource) - 1,
                     JS::SourceOwnership::Borrowed) ||
        !JS::Evaluate(cx, compile, source, &prelude)) {
      return failure(cx, limits, "the SDK could not be set up: ", nullptr);
    }
    JS::RootedValueArray<2> arguments(cx);
    arguments[0].setObject(*host);
    arguments[1].setObject(*natives);
    if (!JS::Call(cx, JS::UndefinedHandleValue, prelude, arguments, &sdk) || !sdk.isObject())
      return failure(cx, limits, "the SDK could not be set up: ", nullptr);
    JS::RootedObject sdk_object(cx, &sdk.toObject());
    JS::RootedValue console(cx), modules(cx);
    if (!JS_GetProperty(cx, sdk_object, "console", &console) ||
        !JS_GetProperty(cx, sdk_object, "modules", &modules) ||
        !JS_DefineProperty(cx, global, "console", console, 0))
      return failure(cx, limits, "the SDK could not be set up: ", nullptr);
    JS::SetReservedSlot(global, kBuiltinsSlot, modules);
    JSObject* cache = JS_NewPlainObject(cx);
    if (cache == nullptr)
      return failure(cx, limits, "the SDK could not be set up: ", nullptr);
    JS::SetReservedSlot(global, kModulesSlot, JS::ObjectValue(*cache));

    JS::RootedValue exports(cx);
    std::string entry = fs::path(entrypoint_).lexically_relative(root_).generic_string();
    if (entry.empty() || entry.rfind("..", 0) == 0)
      entry = fs::path(entrypoint_).filename().string();
    if (!require(cx, "", "./" + entry, &exports))
      return failure(cx, limits, "the plugin's code failed while loading: ", nullptr);
    if (!exports.isObject() || JS::IsCallable(&exports.toObject())) {
      std::string got = exports.isObject() ? "a function" : JS::InformalValueTypeName(exports);
      return Error(ErrorCode::kInvalidArgument, "the plugin file defines no handlers",
                   {{"entrypoint",
                     "module.exports must be the object definePlugin({...}) returns "
                     "(got " +
                         got + ")"}});
    }
    realm_->plugin = &exports.toObject();
    return {};
  }

  // outlet.kv.get, outlet.chat.send, ...: only the granted functions exist.
  bool build_host_namespace(JSContext* cx, JS::MutableHandleObject out) {
    out.set(JS_NewPlainObject(cx));
    if (!out)
      return false;
    const std::vector<std::string>& names = host_->function_names();
    for (size_t index = 0; index < names.size(); ++index) {
      JS::RootedObject parent(cx, out);
      std::string_view name = names[index];
      size_t start = 0;
      for (size_t dot; (dot = name.find('.', start)) != std::string_view::npos; start = dot + 1) {
        std::string part(name.substr(start, dot - start));
        JS::RootedValue child(cx);
        if (!JS_GetProperty(cx, parent, part.c_str(), &child))
          return false;
        if (!child.isObject()) {
          JSObject* created = JS_NewPlainObject(cx);
          if (created == nullptr)
            return false;
          child.setObject(*created);
          if (!JS_DefineProperty(cx, parent, part.c_str(), child, JSPROP_ENUMERATE))
            return false;
        }
        parent = &child.toObject();
      }
      std::string leaf(name.substr(start));
      JSFunction* function =
          ::js::NewFunctionWithReserved(cx, guarded<host_function_native>, 0, 0, leaf.c_str());
      if (function == nullptr)
        return false;
      JS::RootedObject function_object(cx, JS_GetFunctionObject(function));
      ::js::SetFunctionNativeReserved(function_object, kFunctionDataSlot,
                                      JS::Int32Value(static_cast<int32_t>(index)));
      if (!JS_DefineProperty(cx, parent, leaf.c_str(), function_object, JSPROP_ENUMERATE))
        return false;
    }
    if (!JS_DefineFunction(cx, out, "call", guarded<call_by_name_native>, 1, 0) ||
        !JS_DefineFunction(cx, out, "has", guarded<has_native>, 1, 0))
      return false;
    return deep_freeze(cx, out);
  }

  static bool deep_freeze(JSContext* cx, JS::HandleObject object) {
    JS::Rooted<JS::IdVector> ids(cx, JS::IdVector(cx));
    if (!JS_Enumerate(cx, object, &ids))
      return false;
    JS::RootedValue value(cx);
    for (size_t i = 0; i < ids.length(); ++i) {
      if (!JS_GetPropertyById(cx, object, ids[i], &value))
        return false;
      if (value.isObject() && !JS::IsCallable(&value.toObject())) {
        JS::RootedObject child(cx, &value.toObject());
        if (!deep_freeze(cx, child))
          return false;
      }
    }
    return JS_FreezeObject(cx, object);
  }

  // Lists the exported object's handlers and lets the shared rules decide.
  Status derive(JSContext* cx, CallLimits& limits) {
    JS::RootedObject plugin(cx, realm_->plugin);
    realm_->handlers = JS::NewArrayObject(cx, 0);
    if (!realm_->handlers)
      return failure(cx, limits, "", nullptr);
    JS::RootedObject handlers(cx, realm_->handlers);
    std::vector<HandlerCandidate> candidates;
    uint32_t next_entry = 0;
    auto describe = [&](JS::HandleValue value, HandlerCandidate& candidate) {
      if (value.isObject() && JS::IsCallable(&value.toObject())) {
        candidate.value_type = "function";
      } else if (value.isObject()) {
        candidate.value_type = "object";
      } else if (value.isNull()) {
        candidate.value_type = "null";
      } else if (value.isNumber()) {
        candidate.value_type = "number";
        double number = value.toNumber();
        if (number == std::trunc(number) && std::fabs(number) < 1e15)
          candidate.integer = static_cast<int64_t>(number);
      } else {
        candidate.value_type = JS::InformalValueTypeName(value);
      }
    };
    auto store = [&](JS::HandleValue value, HandlerCandidate& candidate) {
      candidate.entry = next_entry;
      return JS_DefineElement(cx, handlers, next_entry++, value, JSPROP_ENUMERATE);
    };

    JS::Rooted<JS::IdVector> ids(cx, JS::IdVector(cx));
    if (!JS_Enumerate(cx, plugin, &ids))
      return failure(cx, limits, "the plugin object could not be read: ", nullptr);
    JS::RootedValue key(cx), value(cx), group_key(cx), group_value(cx);
    for (size_t i = 0; i < ids.length(); ++i) {
      if (!ids[i].isString())
        continue;
      if (!JS_IdToValue(cx, ids[i], &key) || !JS_GetPropertyById(cx, plugin, ids[i], &value))
        return failure(cx, limits, "the plugin object could not be read: ", nullptr);
      HandlerCandidate candidate;
      candidate.key = to_utf8(cx, key);
      describe(value, candidate);
      if (!store(value, candidate))
        return failure(cx, limits, "", nullptr);
      bool group = is_handler_group(candidate.key) && candidate.value_type == "object";
      candidates.push_back(std::move(candidate));
      if (!group)
        continue;
      JS::RootedObject table(cx, &value.toObject());
      JS::Rooted<JS::IdVector> entries(cx, JS::IdVector(cx));
      if (!JS_Enumerate(cx, table, &entries))
        return failure(cx, limits, "the plugin object could not be read: ", nullptr);
      for (size_t j = 0; j < entries.length(); ++j) {
        HandlerCandidate entry;
        entry.key = candidates.back().key;
        if (!entries[j].isString()) {
          entry.bad_event_key_type = "symbol";
        } else {
          if (!JS_IdToValue(cx, entries[j], &group_key))
            return failure(cx, limits, "", nullptr);
          entry.event = to_utf8(cx, group_key);
        }
        if (!JS_GetPropertyById(cx, table, entries[j], &group_value))
          return failure(cx, limits, "the plugin object could not be read: ", nullptr);
        describe(group_value, entry);
        if (!store(group_value, entry))
          return failure(cx, limits, "", nullptr);
        candidates.push_back(std::move(entry));
      }
    }
    auto derived = derive_handlers(candidates, events_, HandlerSpelling::kCamelCase, warnings_);
    if (!derived.ok())
      return derived.error();
    handlers_ = std::move(derived).value();
    return {};
  }

  Result<Json> call_on_thread(JSContext* cx, const CallContext& context,
                              const DerivedHandler& handler, const Json& payload) {
    if (!realm_)
      return Error(ErrorCode::kFailedPrecondition, "the plugin is not loaded: " + broken_reason_);
    CallLimits limits = limits_for(js::deadline_on_thread(context), &context);
    Result<Json> result = Json();
    {
      EngineThread::CallScope scope(*thread_, limits);
      JSAutoRealm enter(cx, realm_->global);
      result = invoke(cx, limits, context, handler, payload);
      ::js::RunJobs(cx);  // what the handler queued runs within its call
      if (result.ok() && (limits.timed_out || limits.out_of_memory))
        result = failure(cx, limits, handler.label + " ", &context);
    }
    sample_memory();
    if (!result.ok() && result.error().code() == ErrorCode::kResourceExhausted) {
      recover_memory(cx);
    } else if (memory_bytes_.load() > memory_limit_ / 2 &&
               memory_bytes_.load() > memory_after_collection_ + memory_limit_ / 8) {
      // Garbage counts against the budget until it is collected: collect it now
      // rather than in the middle of the next call (not after every call of a
      // plugin that simply keeps much: only when it grew since the last time).
      JS_GC(cx);
      sample_memory();
      memory_after_collection_ = memory_bytes_.load();
    }
    return result;
  }

  Result<Json> invoke(JSContext* cx, CallLimits& limits, const CallContext& context,
                      const DerivedHandler& handler, const Json& payload) {
    JS::RootedValueVector arguments(cx);
    JS::RootedValue argument(cx);
    if (handler.arguments.empty()) {
      if (!js::to_js(cx, payload, &argument) || !arguments.append(argument))
        return failure(cx, limits, "", &context);
    } else {
      for (const std::string& name : handler.arguments) {
        auto field = payload.is_object() ? payload.find(name) : payload.end();
        argument.setUndefined();
        if (field != payload.end() && !js::to_js(cx, *field, &argument))
          return failure(cx, limits, "", &context);
        if (!arguments.append(argument))
          return failure(cx, limits, "", &context);
      }
    }
    JS::RootedObject handlers(cx, realm_->handlers);
    JS::RootedValue function(cx), returned(cx);
    JS::RootedValue self(cx, JS::ObjectValue(*realm_->plugin));
    if (!JS_GetElement(cx, handlers, static_cast<uint32_t>(handler.entry), &function) ||
        !JS::Call(cx, self, function, arguments, &returned)) {
      return failure(cx, limits, "", &context);
    }
    if (returned.isObject() && JS::IsPromiseObject(JS::RootedObject(cx, &returned.toObject()))) {
      // An async handler: its host calls are synchronous, so once the job queue
      // is drained the promise has settled or never will.
      JS::RootedObject promise(cx, &returned.toObject());
      ::js::RunJobs(cx);
      if (limits.timed_out || limits.out_of_memory)
        return failure(cx, limits, "", &context);
      switch (JS::GetPromiseState(promise)) {
        case JS::PromiseState::Fulfilled:
          returned = JS::GetPromiseResult(promise);
          break;
        case JS::PromiseState::Rejected:
          returned = JS::GetPromiseResult(promise);
          JS_SetPendingException(cx, returned);
          JS::SetSettledPromiseIsHandled(cx, promise);
          return failure(cx, limits, "", &context);
        case JS::PromiseState::Pending:
          return Error(ErrorCode::kPluginError,
                       handler.label +
                           " returned a promise that never settled (host functions are "
                           "synchronous; nothing else can resolve it)");
      }
    }
    if (context.kind == HookKind::kFilter && !JS::ToBoolean(returned))
      return Json();  // a falsy verdict passes (seeds/003)
    Json value;
    std::string problem;
    if (!js::from_js(cx, returned, js::ValueLimits{}, value, problem)) {
      if (problem.empty())
        return failure(cx, limits, "", &context);
      return Error(ErrorCode::kPluginError,
                   handler.label + " returned a value JSON cannot hold: " + problem);
    }
    return value;
  }

  // After a memory stop the garbage goes; if what the plugin keeps still nearly
  // fills its budget, the realm starts over from its files.
  void recover_memory(JSContext* cx) {
    JS_GC(cx);
    sample_memory();
    if (memory_bytes_.load() <= memory_limit_ / 4 * 3)
      return;
    if (Status reloaded = load_on_thread(cx); !reloaded.ok()) {
      broken_reason_ =
          "it ran out of memory and could not be loaded again: " + reloaded.error().message();
      if (warnings_ != nullptr)
        warnings_->add("memory", broken_reason_);
    } else if (warnings_ != nullptr) {
      warnings_->add("memory",
                     "the plugin's realm was discarded and loaded again after it ran out of "
                     "memory (its in-memory variables start over)");
    }
  }

  void sample_memory() {
    uint64_t used =
        budget_ != nullptr ? static_cast<uint64_t>(std::max<int64_t>(0, budget_->used_bytes())) : 0;
    if (realm_ && realm_->global)
      used += ::js::GetGCHeapUsageForObjectZone(realm_->global);
    memory_bytes_.store(used, std::memory_order_relaxed);
  }

  void close_realm() {
    if (realm_ && realm_->global)
      JS::SetReservedSlot(realm_->global, kInstanceSlot, JS::UndefinedValue());
    realm_.reset();
    if (budget_ != nullptr) {
      budget_->release_owner();
      budget_ = nullptr;
    }
  }

  friend bool require_native(JSContext*, unsigned, JS::Value*);

  std::shared_ptr<const Manifest> manifest_;
  HostFunctionTable* host_;
  WarningLog* warnings_;
  std::vector<std::shared_ptr<const EventSpec>> events_;
  JsRuntimeOptions options_;
  std::string root_;
  std::string entrypoint_;
  std::shared_ptr<js::Engine> engine_;
  EngineThread* thread_;
  size_t memory_limit_ = 0;
  AllocationBudget* budget_ = nullptr;
  std::unique_ptr<Realm> realm_;
  std::vector<DerivedHandler> handlers_;
  std::string broken_reason_;
  std::atomic<uint64_t> memory_bytes_{0};
  uint64_t memory_after_collection_ = 0;
  size_t modules_loaded_ = 0;
  bool console_warned_ = false;
};

// --- CommonJS ---

bool JsInstance::require(JSContext* cx, const std::string& from_folder,
                         const std::string& specifier, JS::MutableHandleValue out) {
  JS::RootedObject global(cx, JS::CurrentGlobalOrNull(cx));
  bool relative = specifier.rfind("./", 0) == 0 || specifier.rfind("../", 0) == 0;
  if (!relative) {
    JS::RootedObject builtins(cx, &JS::GetReservedSlot(global, kBuiltinsSlot).toObject());
    bool found = false;
    if (!JS_HasProperty(cx, builtins, specifier.c_str(), &found))
      return false;
    if (found)
      return JS_GetProperty(cx, builtins, specifier.c_str(), out);
    return throw_error(cx, "Cannot find module '" + specifier +
                               "': a plugin may require its own files (\"./file\") and "
                               "\"outlet\"; bundle npm packages into the plugin");
  }
  // Resolve inside the plugin folder; links may not lead out of it.
  fs::path wanted = (fs::path(from_folder) / specifier).lexically_normal();
  if (wanted.empty() || wanted.begin()->string() == "..") {
    return throw_error(cx,
                       "Cannot find module '" + specifier + "': it is outside the plugin's folder");
  }
  std::error_code ignored;
  fs::path root = fs::weakly_canonical(root_, ignored);
  std::string resolved;
  for (const std::string& candidate : {wanted.string(), wanted.string() + ".js",
                                       wanted.string() + ".json", (wanted / "index.js").string()}) {
    fs::path full = fs::weakly_canonical(root / candidate, ignored);
    if (ignored || !fs::is_regular_file(full, ignored))
      continue;
    std::string inside = full.lexically_relative(root).generic_string();
    if (inside.empty() || inside.rfind("..", 0) == 0) {
      return throw_error(
          cx, "Cannot find module '" + specifier + "': it resolves outside the plugin's folder");
    }
    resolved = inside;
    break;
  }
  if (resolved.empty())
    return throw_error(cx, "Cannot find module '" + specifier + "' (from " +
                               (from_folder.empty() ? "the plugin's folder" : from_folder) + ")");

  JS::RootedObject cache(cx, &JS::GetReservedSlot(global, kModulesSlot).toObject());
  JS::RootedValue cached(cx);
  if (!JS_GetProperty(cx, cache, resolved.c_str(), &cached))
    return false;
  if (cached.isObject()) {  // loaded, or loading (a cycle gets the partial exports)
    JS::RootedObject module(cx, &cached.toObject());
    return JS_GetProperty(cx, module, "exports", out);
  }
  if (++modules_loaded_ > options_.max_modules) {
    return throw_error(
        cx, "a plugin may load at most " + std::to_string(options_.max_modules) + " modules");
  }
  auto source = read_file_capped((root / resolved).string(), options_.max_source_bytes);
  if (!source.ok())
    return throw_error(cx, "Cannot load module '" + resolved + "': " + source.error().message());

  JS::RootedObject module(cx, JS_NewPlainObject(cx));
  JS::RootedObject exports(cx, JS_NewPlainObject(cx));
  if (!module || !exports || !JS_DefineProperty(cx, module, "exports", exports, JSPROP_ENUMERATE) ||
      !JS_DefineProperty(cx, cache, resolved.c_str(), module, JSPROP_ENUMERATE))
    return false;
  if (resolved.size() > 5 && resolved.compare(resolved.size() - 5, 5, ".json") == 0) {
    JS::RootedString text(cx,
                          JS_NewStringCopyUTF8N(cx, JS::UTF8Chars(source->data(), source->size())));
    JS::RootedValue parsed(cx);
    if (!text || !JS_ParseJSON(cx, text, &parsed) || !JS_SetProperty(cx, module, "exports", parsed))
      return false;
    out.set(parsed);
    return true;
  }
  // SpiderMonkey 102 reads a UTF-8 function body as Latin-1; a UTF-16 body is
  // read right. It compiles "function module(<parameters>\n) {\n<body>", so the
  // body starts one line after the line given here.
  std::u16string utf16;
  size_t bad_offset = 0;
  if (!js::utf8_to_utf16(*source, utf16, bad_offset)) {
    return throw_error(
        cx, resolved + " is not valid UTF-8 (at byte " + std::to_string(bad_offset) + ")");
  }
  JS::CompileOptions compile(cx);
  compile.setFileAndLine(resolved.c_str(), 0);
  JS::SourceText<char16_t> text;
  if (!text.init(cx, utf16.data(), utf16.size(), JS::SourceOwnership::Borrowed))
    return false;
  static const char* const kParameters[] = {"exports", "require", "module", "__filename",
                                            "__dirname"};
  JS::RootedObjectVector scope(cx);
  JS::RootedFunction wrapper(
      cx, JS::CompileFunction(cx, scope, compile, "module", 5, kParameters, text));
  if (!wrapper)
    return false;
  std::string folder = fs::path(resolved).parent_path().generic_string();
  JSFunction* local_require =
      ::js::NewFunctionWithReserved(cx, guarded<require_native>, 1, 0, "require");
  if (local_require == nullptr)
    return false;
  JS::RootedObject require_object(cx, JS_GetFunctionObject(local_require));
  JS::RootedString folder_string(cx, JS_NewStringCopyN(cx, folder.data(), folder.size()));
  JS::RootedString file_string(cx, JS_NewStringCopyN(cx, resolved.data(), resolved.size()));
  if (!folder_string || !file_string)
    return false;
  ::js::SetFunctionNativeReserved(require_object, kFunctionDataSlot,
                                  JS::StringValue(folder_string));
  JS::RootedValueArray<5> arguments(cx);
  arguments[0].setObject(*exports);
  arguments[1].setObject(*require_object);
  arguments[2].setObject(*module);
  arguments[3].setString(file_string);
  arguments[4].setString(folder_string);
  // As in Node, a module's top-level `this` is its exports object.
  JS::RootedValue ignored_result(cx);
  if (!JS::Call(cx, exports, wrapper, arguments, &ignored_result))
    return false;
  return JS_GetProperty(cx, module, "exports", out);
}

// --- Natives ---

bool require_native(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  JsInstance* instance = instance_of(cx);
  if (instance == nullptr)
    return throw_error(cx, "require: the plugin is unloaded");
  if (!args.get(0).isString())
    return throw_error(cx, "require(name): name must be a string");
  JS::RootedValue folder_value(cx,
                               ::js::GetFunctionNativeReserved(&args.callee(), kFunctionDataSlot));
  std::string specifier, folder;
  if (!js::string_to_utf8(cx, args[0].toString(), specifier) ||
      !js::string_to_utf8(cx, folder_value.toString(), folder))
    return throw_error(cx, "require(name): name is not valid Unicode");
  return instance->require(cx, folder, specifier, args.rval());
}

bool invoke_host(JSContext* cx, const JS::CallArgs& args, size_t index, unsigned first) {
  JsInstance* instance = instance_of(cx);
  if (instance == nullptr)
    return throw_error(cx, "the plugin is unloaded");
  const std::string& name = instance->host()->function_names()[index];
  const CallContext* context = instance->current_call();
  if (context == nullptr) {
    return throw_error(cx, "outlet." + name +
                               ": host functions cannot be called while the plugin loads; call "
                               "them from a handler");
  }
  Json arguments = Json::array();
  for (unsigned i = first; i < args.length(); ++i) {
    Json argument;
    std::string problem;
    if (!js::from_js(cx, args[i], js::ValueLimits{}, argument, problem)) {
      if (problem.empty())
        return false;
      return throw_error(
          cx, "outlet." + name + ": argument " + std::to_string(i - first + 1) + " " + problem);
    }
    arguments.push_back(std::move(argument));
  }
  // Trailing undefined arguments are absent ones, as in a JS signature.
  while (!arguments.empty() && arguments.back().is_null() &&
         args[first + arguments.size() - 1].isUndefined())
    arguments.erase(arguments.size() - 1);
  Result<Json> result = instance->host()->invoke(index, arguments, *context);
  if (!js::interrupt_check(cx))
    return false;
  if (!result.ok()) {
    const std::string& message = result.error().message();
    bool named = message.rfind(name + ":", 0) == 0;
    return throw_error(cx, "outlet." + (named ? message : name + ": " + message));
  }
  return js::to_js(cx, *result, args.rval());
}

bool host_function_native(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  size_t index = static_cast<size_t>(
      ::js::GetFunctionNativeReserved(&args.callee(), kFunctionDataSlot).toInt32());
  return invoke_host(cx, args, index, 0);
}

// outlet.call("kv.get", key): a host function by name (for generic code and tests).
bool call_by_name_native(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  JsInstance* instance = instance_of(cx);
  std::string name;
  if (instance == nullptr || !args.get(0).isString() ||
      !js::string_to_utf8(cx, args[0].toString(), name))
    return throw_error(cx, "outlet.call(name, ...args): name must be a string");
  const std::vector<std::string>& names = instance->host()->function_names();
  auto found = std::find(names.begin(), names.end(), name);
  if (found == names.end()) {
    return throw_error(cx, "host function \"" + name +
                               "\" is not available to this plugin (not declared in its "
                               "permissions, or not granted)");
  }
  return invoke_host(cx, args, static_cast<size_t>(found - names.begin()), 1);
}

bool has_native(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  JsInstance* instance = instance_of(cx);
  std::string name;
  bool has = false;
  if (instance != nullptr && args.get(0).isString() &&
      js::string_to_utf8(cx, args[0].toString(), name)) {
    const std::vector<std::string>& names = instance->host()->function_names();
    has = std::find(names.begin(), names.end(), name) != names.end();
  }
  args.rval().setBoolean(has);
  return true;
}

bool console_dropped_native(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  if (JsInstance* instance = instance_of(cx))
    instance->console_dropped();
  args.rval().setUndefined();
  return true;
}

// console.warn/error without the "log" permission: the plugin's warnings.
bool warn_native(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  std::string message;
  if (JsInstance* instance = instance_of(cx); instance != nullptr && args.get(0).isString() &&
                                              js::string_to_utf8(cx, args[0].toString(), message))
    instance->warn(message);
  args.rval().setUndefined();
  return true;
}

}  // namespace

Result<std::unique_ptr<PluginInstance>> JsRuntime::instantiate(const InstanceSpec& spec) {
  auto instance = std::make_unique<JsInstance>(spec, options_, engines_->get());
  if (Status loaded = instance->load(); !loaded.ok())
    return loaded.error();
  return std::unique_ptr<PluginInstance>(std::move(instance));
}

}  // namespace outlet
