// Errors are values across module boundaries (STYLE.md, "From LLVM and Abseil").
// An Error carries a machine-readable code, a human message, and zero or more
// details that each name a JSON path and the rule it broke, so that a caller can
// report every problem in one pass instead of the first one.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace outlet {

enum class ErrorCode {
  kInvalidArgument,     // malformed input: a manifest, payload, config, request
  kNotFound,            // an id, event, file or key that does not exist
  kAlreadyExists,       // a duplicate id or registration
  kPermissionDenied,    // a host function or route the caller was not granted
  kFailedPrecondition,  // the operation is not valid in the current state
  kResourceExhausted,   // a limit was hit: memory, size, queue, depth
  kDeadlineExceeded,    // a call ran past its timeout
  kPluginError,         // the plugin's own code failed (threw, trapped, returned garbage)
  kUnavailable,         // an I/O or environment failure that may pass
  kInternal,            // a bug in Outlet
};

const char* error_code_name(ErrorCode code);

// One problem at one place: `path` is a JSON path such as `permissions[2]` or
// `config.properties.color` ("" for the whole document); `rule` says what was violated.
struct ErrorDetail {
  std::string path;
  std::string rule;

  bool operator==(const ErrorDetail&) const = default;
};

class Error {
 public:
  Error(ErrorCode code, std::string message, std::vector<ErrorDetail> details = {})
      : code_(code), message_(std::move(message)), details_(std::move(details)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::vector<ErrorDetail>& details() const { return details_; }

  // The message followed by one "  path: rule" line per detail.
  std::string to_string() const;

 private:
  ErrorCode code_;
  std::string message_;
  std::vector<ErrorDetail> details_;
};

// A value or an Error. Deliberately small: `ok()`, `value()`, `error()`, and
// `operator*`/`operator->`; reading the wrong side is a programmer error (assert).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : state_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<T>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(state_));
  }
  const Error& error() const {
    assert(!ok());
    return std::get<Error>(state_);
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Error> state_;
};

// Result<void>: success carries nothing.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error)
      : error_(std::move(error)), failed_(true) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(failed_);
    return error_;
  }

 private:
  Error error_{ErrorCode::kInternal, ""};
  bool failed_ = false;
};

inline Status ok_status() {
  return {};
}

}  // namespace outlet
