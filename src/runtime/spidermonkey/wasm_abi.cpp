#include "runtime/spidermonkey/wasm_abi.h"

namespace outlet::wasm {

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

}  // namespace outlet::wasm
