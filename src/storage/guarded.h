// Store backends call into code that may throw (allocation, mutexes, SQLite
// wrappers); errors are values at module boundaries, so exceptions stop here.
#pragma once

#include <exception>
#include <new>
#include <string>
#include <string_view>

#include "outlet/result.h"

namespace outlet {

template <typename F>
auto guarded(std::string_view operation, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::kResourceExhausted, std::string(operation) + ": out of memory");
  } catch (const std::exception& e) {
    return Error(ErrorCode::kInternal, std::string(operation) + ": " + e.what());
  }
}

}  // namespace outlet
