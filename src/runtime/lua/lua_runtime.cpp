#include "runtime/lua/lua_runtime.h"

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "core/text.h"
#include "outlet/discovery.h"
#include "runtime/handler_derivation.h"
#include "runtime/lua/lua_guard.h"
#include "runtime/lua/lua_sdk.h"
#include "runtime/lua/sandbox_policy.h"

namespace outlet {
namespace {

using lua::AbortKind;
using lua::LuaGuard;

// The registry slot of the table listing the plugin's handler candidates.
constexpr const char* kHandlersKey = "outlet.handlers";
// How long finalizers may run when a state is collected or closed by the host.
constexpr auto kHousekeepingTime = std::chrono::milliseconds(50);

// --- Trampolines: everything that may raise runs under lua_pcall ---

int setup_state(lua_State* L) {
  LuaGuard& guard = lua::guard_of(L);
  lua::install_sandbox(L);
  guard.refs = lua::create_value_refs(L);
  lua::install_sdk(L);
  return 0;
}

// Flattens the plugin's table (argument 1, or the global `plugin` rs-pug
// plugins set) into registry[kHandlersKey] = { {key, event|nil, value}, ... }:
// one entry per string key, plus one per entry of the group tables (on = {...}).
int list_handlers(lua_State* L) {
  if (lua_type(L, 1) != LUA_TTABLE) {
    lua_pushglobaltable(L);
    lua_pushliteral(L, "plugin");
    lua_rawget(L, -2);
    lua_replace(L, 1);
    lua_settop(L, 1);
  }
  if (lua_type(L, 1) != LUA_TTABLE) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_newtable(L);
  int list = lua_gettop(L);
  lua_Integer count = 0;
  auto add = [&](int key, int event, int value) {
    lua_createtable(L, 3, 0);
    lua_pushvalue(L, key);
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, event);
    lua_rawseti(L, -2, 2);
    lua_pushvalue(L, value);
    lua_rawseti(L, -2, 3);
    lua_rawseti(L, list, ++count);
  };
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    int key = lua_gettop(L) - 1, value = lua_gettop(L);
    if (lua_type(L, key) == LUA_TSTRING) {
      lua_pushnil(L);
      add(key, lua_gettop(L), value);
      lua_pop(L, 1);
      if (lua_type(L, value) == LUA_TTABLE && is_handler_group(lua_tostring(L, key))) {
        lua_pushnil(L);
        while (lua_next(L, value) != 0) {
          add(key, lua_gettop(L) - 1, lua_gettop(L));
          lua_pop(L, 1);
        }
      }
    }
    lua_pop(L, 1);
  }
  lua_pushvalue(L, list);
  lua_setfield(L, LUA_REGISTRYINDEX, kHandlersKey);
  lua_pushboolean(L, 1);
  return 1;
}

struct CallRequest {
  size_t entry = 0;
  const Json* payload = nullptr;
  const std::vector<std::string>* arguments = nullptr;
};

int call_handler(lua_State* L) {
  const auto* request = static_cast<const CallRequest*>(lua_touserdata(L, 1));
  lua_settop(L, 0);
  LuaGuard& guard = lua::guard_of(L);
  lua_getfield(L, LUA_REGISTRYINDEX, kHandlersKey);
  lua_rawgeti(L, 1, static_cast<lua_Integer>(request->entry));
  lua_rawgeti(L, 2, 3);
  int count = 1;
  if (request->arguments->empty()) {
    lua::push_json(L, guard.refs, *request->payload);
  } else {
    // The payload's fields as positional arguments (seeds/004's on_key(key, state)).
    count = static_cast<int>(request->arguments->size());
    luaL_checkstack(L, count, "too many handler arguments");
    for (const std::string& name : *request->arguments) {
      auto field =
          request->payload->is_object() ? request->payload->find(name) : request->payload->end();
      if (field == request->payload->end())
        lua_pushnil(L);
      else
        lua::push_json(L, guard.refs, *field);
    }
  }
  lua_call(L, count, 1);
  return 1;
}

// The message handler of every call: the error with a traceback, or the abort.
int add_traceback(lua_State* L) {
  LuaGuard& guard = lua::guard_of(L);
  if (guard.abort != AbortKind::kNone) {
    lua_pushstring(L, guard.abort_message.c_str());
    return 1;
  }
  const char* message = nullptr;
  if (lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER)
    message = lua_tostring(L, 1);
  else
    message = lua_pushfstring(L, "(an error object of type %s)", luaL_typename(L, 1));
  luaL_traceback(L, L, message, 1);
  return 1;
}

void route_warning(void* ud, const char* message, int to_continue) {
  auto* guard = static_cast<LuaGuard*>(ud);
  if (guard->pending_warning.empty() && !to_continue && message[0] == '@')
    return;  // control messages ("@on", "@off")
  if (guard->pending_warning.size() < 4096)
    guard->pending_warning += message;
  if (to_continue)
    return;
  if (guard->warnings != nullptr)
    guard->warnings->add("warn", guard->pending_warning);
  guard->pending_warning.clear();
}

// Drops the frames that say nothing to an author (the host's own entry points).
std::string clean_traceback(std::string message) {
  for (const char* noise : {"\n\t[C]: in ?", "\n\t(...tail calls...)"}) {
    size_t at;
    while ((at = message.find(noise)) != std::string::npos)
      message.erase(at, std::strlen(noise));
  }
  if (message.size() > 4096)
    message.resize(4096);
  return message;
}

class LuaInstance : public PluginInstance {
 public:
  LuaInstance(const InstanceSpec& spec, const LuaRuntimeOptions& options, std::string source,
              std::string chunk_name)
      : manifest_(spec.manifest),
        host_(spec.host),
        warnings_(spec.warnings),
        events_(spec.events),
        options_(options),
        source_(std::move(source)),
        chunk_name_(std::move(chunk_name)) {
    memory_limit_ = options.max_memory_bytes;
    if (manifest_->limits.memory_bytes)
      memory_limit_ = std::min<size_t>(memory_limit_, *manifest_->limits.memory_bytes);
  }

  ~LuaInstance() override { close_state(); }

  Status load() {
    close_state();
    guard_ = std::make_unique<LuaGuard>();
    guard_->limit_bytes = memory_limit_;
    guard_->host = host_;
    guard_->warnings = warnings_;
    L_ = lua::new_guarded_state(*guard_);
    if (L_ == nullptr) {
      return Error(ErrorCode::kResourceExhausted,
                   "could not create a Lua state within " + describe_bytes(memory_limit_));
    }
    lua_setwarnf(L_, route_warning, guard_.get());
    lua_pushcfunction(L_, setup_state);
    if (lua_pcall(L_, 0, 0, 0) != LUA_OK) {
      return Error(ErrorCode::kResourceExhausted,
                   "could not set up the sandbox within the memory limit of " +
                       describe_bytes(memory_limit_));
    }
    if (Status ran = run_source(); !ran.ok())
      return ran;
    return derive_handlers();
  }

  std::vector<Subscription> subscriptions() const override { return subscriptions_of(handlers_); }

  Result<Json> call(const CallContext& context, const Json& payload) override {
    if (L_ == nullptr)
      return Error(ErrorCode::kFailedPrecondition, "the plugin is not loaded: " + broken_reason_);
    const DerivedHandler* handler = find_handler(handlers_, context.kind, context.event);
    if (handler == nullptr) {
      return Error(ErrorCode::kNotFound, "no " + std::string(hook_kind_name(context.kind)) +
                                             " handler for \"" + std::string(context.event) + "\"");
    }
    guard_->begin(context.deadline, std::string(), &context);
    CallRequest request{handler->entry, &payload, &handler->arguments};
    lua_settop(L_, 0);
    lua_pushcfunction(L_, add_traceback);
    lua_pushcfunction(L_, call_handler);
    lua_pushlightuserdata(L_, &request);
    int status = lua_pcall(L_, 1, 1, 1);
    Result<Json> result = finish(status, handler->label);
    if (L_ != nullptr) {  // null when recovering from a memory abort failed
      lua_settop(L_, 0);
      guard_->end();
    }
    return result;
  }

  uint64_t memory_bytes() const override { return guard_ ? guard_->used_bytes : 0; }

 private:
  Result<Json> finish(int status, const std::string& label, bool may_recover = true) {
    if (status == LUA_OK) {
      Json value;
      std::string problem;
      if (!lua::to_json(L_, guard_->refs, -1, guard_->limits, value, problem)) {
        if (guard_->past_deadline() && guard_->call != nullptr) {
          return Error(
              ErrorCode::kDeadlineExceeded,
              guard_->call->timeout_message() + " (converting what " + label + " returned)");
        }
        return Error(ErrorCode::kPluginError,
                     label + " returned a value JSON cannot hold: " + problem);
      }
      return value;
    }
    std::string message = lua_type(L_, -1) == LUA_TSTRING ? lua_tostring(L_, -1) : "";
    AbortKind abort = guard_->abort;
    if (abort == AbortKind::kNone && status == LUA_ERRMEM)
      abort = guard_->refused_for_time ? AbortKind::kTimeout : AbortKind::kMemory;
    if (abort == AbortKind::kTimeout && guard_->abort_message.empty()) {
      guard_->abort_message =
          guard_->call != nullptr ? guard_->call->timeout_message() : guard_->timeout_message;
    }
    if (abort == AbortKind::kTimeout) {
      return Error(ErrorCode::kDeadlineExceeded, guard_->abort_message);
    }
    if (abort == AbortKind::kMemory) {
      std::string text = guard_->abort_message.empty()
                             ? "ran out of its " + describe_bytes(memory_limit_) + " memory limit"
                             : guard_->abort_message;
      if (may_recover)
        recover_memory();
      return Error(ErrorCode::kResourceExhausted, text);
    }
    if (status == LUA_ERRERR)
      message = "error while handling an error: " + message;
    return Error(ErrorCode::kPluginError, clean_traceback(message));
  }

  // After a memory abort the garbage goes; if what the plugin keeps still
  // nearly fills its budget, the state starts over from its file.
  void recover_memory() {
    lua_settop(L_, 0);
    guard_->deadline = std::chrono::steady_clock::now() + kHousekeepingTime;
    lua_gc(L_, LUA_GCCOLLECT);
    if (guard_->used_bytes <= memory_limit_ / 4 * 3)
      return;
    if (Status reloaded = load(); !reloaded.ok()) {
      broken_reason_ =
          "it ran out of memory and could not be loaded again: " + reloaded.error().message();
      close_state();
      if (warnings_ != nullptr)
        warnings_->add("memory", broken_reason_);
    } else if (warnings_ != nullptr) {
      warnings_->add("memory",
                     "the plugin's state was discarded and loaded again after it "
                     "ran out of memory (its in-memory variables start over)");
    }
  }

  Status run_source() {
    int status = luaL_loadbufferx(L_, source_.data(), source_.size(), chunk_name_.c_str(), "t");
    if (status == LUA_ERRSYNTAX) {
      // rs-pug accepts a file that is a bare table expression.
      std::string first_error = lua_tostring(L_, -1);
      lua_pop(L_, 1);
      std::string wrapped = "return " + source_;
      status = luaL_loadbufferx(L_, wrapped.data(), wrapped.size(), chunk_name_.c_str(), "t");
      if (status != LUA_OK) {
        lua_pop(L_, 1);
        return Error(ErrorCode::kInvalidArgument, "the plugin's code does not compile",
                     {{"entrypoint", first_error}});
      }
    } else if (status != LUA_OK) {
      std::string message = lua_type(L_, -1) == LUA_TSTRING ? lua_tostring(L_, -1) : "";
      return Error(ErrorCode::kInvalidArgument, "the plugin's code cannot be loaded",
                   {{"entrypoint", message}});
    }
    guard_->begin(
        std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.load_timeout_ms),
        "took longer than " + std::to_string(options_.load_timeout_ms) + " ms to load", nullptr);
    lua_pushcfunction(L_, add_traceback);
    lua_insert(L_, -2);
    status = lua_pcall(L_, 0, 1, 1);
    if (status != LUA_OK) {
      Error failed = finish(status, "the plugin file", false).error();
      guard_->end();
      lua_settop(L_, 0);
      return Error(failed.code(), "the plugin's code failed while loading: " + failed.message());
    }
    guard_->end();
    // The returned table (or nil for a global `plugin`) stays at the top.
    lua_pushcfunction(L_, list_handlers);
    lua_insert(L_, -2);
    lua_remove(L_, 1);  // the traceback handler
    if (lua_pcall(L_, 1, 1, 0) != LUA_OK) {
      lua_settop(L_, 0);
      return Error(ErrorCode::kResourceExhausted, "ran out of memory while loading");
    }
    bool found = lua_toboolean(L_, -1);
    lua_settop(L_, 0);
    if (!found) {
      return Error(ErrorCode::kInvalidArgument, "the plugin file defines no handlers",
                   {{"entrypoint",
                     "must return a table of handlers (e.g. `return { on_chat_message = "
                     "function(message) ... end }`) or set a global `plugin` table"}});
    }
    return {};
  }

  // Lists what the plugin's table holds and lets the shared rules decide.
  Status derive_handlers() {
    std::vector<HandlerCandidate> candidates;
    auto string_at = [&](int index) -> std::string {
      size_t length = 0;
      const char* text = lua_tolstring(L_, index, &length);  // strings only: no conversion
      return std::string(text, length);
    };
    lua_getfield(L_, LUA_REGISTRYINDEX, kHandlersKey);
    int list = lua_gettop(L_);
    lua_Integer count = static_cast<lua_Integer>(lua_rawlen(L_, list));
    for (lua_Integer i = 1; i <= count; ++i) {
      lua_rawgeti(L_, list, i);
      lua_rawgeti(L_, -1, 1);
      lua_rawgeti(L_, -2, 2);
      lua_rawgeti(L_, -3, 3);
      HandlerCandidate candidate;
      candidate.key = string_at(-3);
      int event_type = lua_type(L_, -2);
      if (event_type == LUA_TSTRING)
        candidate.event = string_at(-2);
      else if (event_type != LUA_TNIL)
        candidate.bad_event_key_type = lua_typename(L_, event_type);
      candidate.value_type = lua_typename(L_, lua_type(L_, -1));
      if (lua_isinteger(L_, -1))
        candidate.integer = lua_tointeger(L_, -1);
      candidate.entry = static_cast<size_t>(i);
      candidates.push_back(std::move(candidate));
      lua_settop(L_, list);
    }
    lua_settop(L_, 0);
    auto derived =
        outlet::derive_handlers(candidates, events_, HandlerSpelling::kSnakeCase, warnings_);
    if (!derived.ok())
      return derived.error();
    handlers_ = std::move(derived).value();
    return {};
  }

  void close_state() {
    if (L_ == nullptr)
      return;
    // Finalizers get a moment, not forever: the hook stops them at once.
    guard_->deadline = std::chrono::steady_clock::now() + kHousekeepingTime;
    guard_->abort = AbortKind::kTimeout;
    guard_->abort_message = "the plugin is being unloaded";
    lua_close(L_);
    L_ = nullptr;
  }

  std::shared_ptr<const Manifest> manifest_;
  HostFunctionTable* host_;
  WarningLog* warnings_;
  std::vector<std::shared_ptr<const EventSpec>> events_;
  LuaRuntimeOptions options_;
  std::string source_;
  std::string chunk_name_;
  size_t memory_limit_ = 0;
  std::unique_ptr<LuaGuard> guard_;
  lua_State* L_ = nullptr;
  std::vector<DerivedHandler> handlers_;
  std::string broken_reason_;
};

}  // namespace

Result<std::unique_ptr<PluginInstance>> LuaRuntime::instantiate(const InstanceSpec& spec) {
  auto source = read_file_capped(spec.entrypoint_path, options_.max_source_bytes);
  if (!source.ok())
    return source.error();
  std::string name = std::filesystem::path(spec.entrypoint_path).filename().string();
  if (!spec.root.empty()) {
    std::error_code ignored;
    std::string relative =
        std::filesystem::path(spec.entrypoint_path).lexically_relative(spec.root).string();
    if (!relative.empty() && relative.rfind("..", 0) != 0)
      name = relative;
  }
  auto instance =
      std::make_unique<LuaInstance>(spec, options_, std::move(source).value(), "@" + name);
  if (Status loaded = instance->load(); !loaded.ok())
    return loaded.error();
  return std::unique_ptr<PluginInstance>(std::move(instance));
}

}  // namespace outlet
