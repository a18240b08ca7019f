#include "hostapi/args.h"

namespace outlet {

Status HostArgs::expect_count(size_t min, size_t max,
                              std::initializer_list<const char*> names) const {
  size_t count = args_.is_array() ? args_.size() : 0;
  if (count >= min && count <= max)
    return {};
  std::string expected =
      min == max ? std::to_string(min) : std::to_string(min) + " to " + std::to_string(max);
  if (count < min && count < names.size()) {
    return invalid(
        count, names.begin()[count],
        "is missing (expected " + expected + " argument(s), got " + std::to_string(count) + ")");
  }
  return Error(ErrorCode::kInvalidArgument,
               function_ + ": expected " + expected + " argument(s), got " + std::to_string(count));
}

const Json& HostArgs::at(size_t index) const {
  static const Json kNull;
  return has(index) ? args_[index] : kNull;
}

Error HostArgs::invalid(size_t index, const char* name, const std::string& rule) const {
  return Error(ErrorCode::kInvalidArgument,
               function_ + ": argument " + std::to_string(index + 1) + " (" + name + ") " + rule);
}

Result<std::string> HostArgs::string_at(size_t index, const char* name, size_t max_bytes) const {
  const Json& value = at(index);
  if (!value.is_string())
    return invalid(index, name, "must be a string");
  const std::string& text = value.get_ref<const std::string&>();
  if (text.size() > max_bytes) {
    return invalid(index, name, "must be at most " + std::to_string(max_bytes) + " bytes");
  }
  return text;
}

}  // namespace outlet
