// The functions a wasm plugin imports that the host implements: its granted
// host functions and `call`/`has` (extism:host/user), the host's part of the
// Extism kernel (config, vars, HTTP, logging: extism:host/env), and WASI
// preview 1 without capabilities. Each native is created for one plugin and
// finds its WasmGuest in its own reserved slot.
#pragma once

#include <jsapi.h>

#include <cstddef>
#include <cstdint>

#include "runtime/spidermonkey/wasm_guest.h"

namespace outlet::wasm {

// A native's reserved slots: which host function, kernel function or WASI
// call it is, and the plugin it serves (wasm plugins on a thread share a realm).
inline constexpr size_t kNativeDataSlot = 0;
inline constexpr size_t kNativeGuestSlot = 1;

// A native for `guest`, told apart by `data` (a host function's index, an
// EnvFunction, a WasiFunction); an undefined value if the engine is out of memory.
JS::Value make_native(JSContext* cx, JSNative function, const char* name, int32_t data,
                      WasmGuest* guest);

bool host_function_native(JSContext* cx, unsigned argc, JS::Value* vp);
bool call_by_name_native(JSContext* cx, unsigned argc, JS::Value* vp);
bool has_native(JSContext* cx, unsigned argc, JS::Value* vp);
bool env_native(JSContext* cx, unsigned argc, JS::Value* vp);
bool wasi_native(JSContext* cx, unsigned argc, JS::Value* vp);

// The guest a native serves.
WasmGuest* guest_of(const JS::CallArgs& args);

}  // namespace outlet::wasm
