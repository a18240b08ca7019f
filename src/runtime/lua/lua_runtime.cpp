#include "runtime/lua/lua_runtime.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>

#include "core/suggest.h"
#include "core/text.h"
#include "outlet/discovery.h"
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

const char* const kGroupTables[] = {"on", "notify", "filter", "collect", "dispatch", "request"};

bool is_group_table(std::string_view key) {
  return std::find(std::begin(kGroupTables), std::end(kGroupTables), key) != std::end(kGroupTables);
}

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
      if (lua_type(L, value) == LUA_TTABLE && is_group_table(lua_tostring(L, key))) {
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
  lua_Integer entry = 0;
  const Json* payload = nullptr;
  const std::vector<std::string>* arguments = nullptr;
};

int call_handler(lua_State* L) {
  const auto* request = static_cast<const CallRequest*>(lua_touserdata(L, 1));
  lua_settop(L, 0);
  LuaGuard& guard = lua::guard_of(L);
  lua_getfield(L, LUA_REGISTRYINDEX, kHandlersKey);
  lua_rawgeti(L, 1, request->entry);
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

struct HandlerEntry {
  Subscription subscription;
  lua_Integer entry = 0;  // index in registry[kHandlersKey]
  std::vector<std::string> arguments;
  std::string label;  // how the plugin named it, for messages
};

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

  std::vector<Subscription> subscriptions() const override {
    std::vector<Subscription> list;
    for (const HandlerEntry& handler : handlers_)
      list.push_back(handler.subscription);
    return list;
  }

  Result<Json> call(const CallContext& context, const Json& payload) override {
    if (L_ == nullptr)
      return Error(ErrorCode::kFailedPrecondition, "the plugin is not loaded: " + broken_reason_);
    const HandlerEntry* handler = find_handler(context.kind, context.event);
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
  const HandlerEntry* find_handler(HookKind kind, std::string_view event) const {
    for (const HandlerEntry& handler : handlers_) {
      if (handler.subscription.kind == kind && handler.subscription.event == event)
        return &handler;
    }
    return nullptr;
  }

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

  Status derive_handlers() {
    std::map<std::string, std::shared_ptr<const EventSpec>, std::less<>> by_name, by_handler;
    std::vector<std::string> typed_names;
    for (const auto& event : events_) {
      by_name[event->name] = event;
      std::string handler = typed_handler_name(*event);
      by_handler[handler] = event;
      for (HookKind kind : event->kinds)
        typed_names.push_back((kind == HookKind::kFilter ? "filter_" : "on_") + handler);
    }
    std::vector<ErrorDetail> problems;
    std::optional<int> filter_priority;
    handlers_.clear();
    auto string_at = [&](int index) -> std::string {
      size_t length = 0;
      const char* text = lua_tolstring(L_, index, &length);  // strings only: no conversion
      return std::string(text, length);
    };
    auto add_handler = [&](HookKind kind, const std::string& event, lua_Integer entry,
                           std::string label) {
      for (const HandlerEntry& existing : handlers_) {
        if (existing.subscription.kind == kind && existing.subscription.event == event) {
          problems.push_back({label, "a second " + std::string(hook_kind_name(kind)) +
                                         " handler for \"" + event + "\" (the first is " +
                                         existing.label + ")"});
          return;
        }
      }
      HandlerEntry handler;
      handler.subscription = {kind, event, 100};
      handler.entry = entry;
      handler.label = std::move(label);
      if (auto spec = by_name.find(event); spec != by_name.end())
        handler.arguments = spec->second->handler_arguments;
      handlers_.push_back(std::move(handler));
    };
    auto untyped_kind = [&](const std::string& event, const std::string& label) {
      auto spec = by_name.find(event);
      if (spec == by_name.end())
        return std::optional<HookKind>(HookKind::kNotify);
      std::optional<HookKind> kind = primary_handler_kind(*spec->second);
      if (!kind && spec->second->kinds == std::set<HookKind>{HookKind::kFilter}) {
        problems.push_back({label, "\"" + event +
                                       "\" is delivered only to filters; name the "
                                       "handler filter_" +
                                       typed_handler_name(*spec->second) +
                                       " or put it in the filter = {...} table"});
      } else if (!kind) {
        problems.push_back({label, "\"" + event +
                                       "\" is delivered in more than one way; name the kind "
                                       "with a collect = {...}, dispatch = {...} or request = "
                                       "{...} table"});
      }
      return kind;
    };

    lua_getfield(L_, LUA_REGISTRYINDEX, kHandlersKey);
    int list = lua_gettop(L_);
    lua_Integer count = static_cast<lua_Integer>(lua_rawlen(L_, list));
    for (lua_Integer i = 1; i <= count; ++i) {
      lua_rawgeti(L_, list, i);
      lua_rawgeti(L_, -1, 1);
      lua_rawgeti(L_, -2, 2);
      lua_rawgeti(L_, -3, 3);
      std::string key = string_at(-3);
      int event_type = lua_type(L_, -2);
      int value_type = lua_type(L_, -1);
      const char* value_type_name = lua_typename(L_, value_type);
      if (event_type != LUA_TNIL) {
        // An entry of a group table: on = { ["event.name"] = function ... }.
        if (event_type != LUA_TSTRING) {
          problems.push_back({key, "keys must be event names (got a " +
                                       std::string(lua_typename(L_, event_type)) + ")"});
        } else {
          std::string event = string_at(-2);
          std::string label = key + "[\"" + event + "\"]";
          if (value_type != LUA_TFUNCTION) {
            problems.push_back(
                {label, "must be a function (got a " + std::string(value_type_name) + ")"});
          } else {
            std::optional<HookKind> kind =
                key == "on" ? untyped_kind(event, label) : parse_hook_kind(key);
            if (kind)
              add_handler(*kind, event, i, label);
          }
        }
      } else if (is_group_table(key)) {
        if (value_type != LUA_TTABLE) {
          problems.push_back({key, "must be a table of event name -> handler (got a " +
                                       std::string(value_type_name) + ")"});
        }
      } else if (key == "filter_priority" || key == "filterPriority") {
        if (!lua_isinteger(L_, -1)) {
          problems.push_back(
              {key, "must be an integer (got a " + std::string(value_type_name) + ")"});
        } else {
          filter_priority =
              static_cast<int>(std::clamp<lua_Integer>(lua_tointeger(L_, -1), -1000000, 1000000));
        }
      } else if (key.rfind("on_", 0) == 0 || key.rfind("filter_", 0) == 0) {
        bool is_filter = key.rfind("filter_", 0) == 0;
        std::string handler = key.substr(is_filter ? 7 : 3);
        auto spec = by_handler.find(handler);
        if (spec == by_handler.end()) {
          if (value_type == LUA_TFUNCTION && warnings_ != nullptr) {
            warnings_->add("load", key + " is not a handler: no event of this host is named \"" +
                                       handler + "\"" + did_you_mean(key, typed_names));
          }
        } else if (value_type != LUA_TFUNCTION) {
          problems.push_back(
              {key, "must be a function (got a " + std::string(value_type_name) + ")"});
        } else {
          const std::string& event = spec->second->name;
          std::optional<HookKind> kind =
              is_filter ? std::optional<HookKind>(HookKind::kFilter) : untyped_kind(event, key);
          if (kind)
            add_handler(*kind, event, i, key);
        }
      }
      lua_settop(L_, list);
    }
    lua_settop(L_, 0);
    if (!problems.empty()) {
      return Error(ErrorCode::kInvalidArgument, "the plugin's handlers are invalid",
                   std::move(problems));
    }
    for (HandlerEntry& handler : handlers_) {
      if (handler.subscription.kind == HookKind::kFilter && filter_priority)
        handler.subscription.priority = *filter_priority;
    }
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
  std::vector<HandlerEntry> handlers_;
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
