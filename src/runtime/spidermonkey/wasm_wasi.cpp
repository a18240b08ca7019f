// WASI preview 1 without capabilities (docs/wasm-abi.md, "WASI"): no files,
// sockets, arguments or environment; stdout and stderr go to the plugin's log;
// clocks and random work; proc_exit ends the call.
#include <jsfriendapi.h>
#include <sys/random.h>

#include <cstring>
#include <ctime>

#include "runtime/spidermonkey/wasm_natives.h"

namespace outlet::wasm {

static int64_t now_ns(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool wasi_native(JSContext* cx, unsigned argc, JS::Value* vp) {
  JS::CallArgs args = JS::CallArgsFromVp(argc, vp);
  WasmGuest* instance = guest_of(args);
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

}  // namespace outlet::wasm
