// The names and types of the ABI wasm plugins speak (docs/wasm-abi.md): the
// modules Outlet provides imports from, each function's signature there, and
// the exports that are handlers. Plain data, shared by the import check, the
// natives and the docs' tables.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "outlet/hook.h"
#include "runtime/spidermonkey/wasm_module.h"

namespace outlet::wasm {

inline constexpr const char* kKernelModuleName = "extism:host/env";
inline constexpr const char* kUserModuleName = "extism:host/user";
inline constexpr const char* kWasiModuleName = "wasi_snapshot_preview1";

// Extism's log levels, as get_log_level reports them.
enum class ExtismLogLevel : int32_t { kTrace = 0, kDebug = 1, kInfo = 2, kWarn = 3, kError = 4 };

// WASI errno values the capability-free WASI returns.
inline constexpr int32_t kWasiSuccess = 0, kWasiBadFd = 8, kWasiInvalid = 28, kWasiNoSys = 52,
                         kWasiSpipe = 70, kWasiFault = 21;

// "li:l" → (i64, i32) -> i64.
FunctionType signature(std::string_view spec);

// The kernel's functions (wasm_kernel/kernel.c), linked wasm to wasm: name → signature.
const std::map<std::string, std::string, std::less<>>& kernel_signatures();

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
const std::map<std::string, EnvSpec, std::less<>>& env_functions();
const std::map<std::string, WasiSpec, std::less<>>& wasi_functions();

// The generic handler exports (seeds/003's wire protocol): they take the
// envelope {"event", "payload"}; `register` says which events they get.
const std::map<std::string, HookKind, std::less<>>& envelope_exports();
std::string envelope_export_for(HookKind kind);

// Exports that are never handlers.
bool is_reserved_export(std::string_view name);

}  // namespace outlet::wasm
