#include "dispatch/plugin_instance.h"

namespace outlet {

// No measured time in the text: repeats must de-duplicate in the warning log.
std::string CallContext::timeout_message() const {
  return "ran over the " + std::to_string(timeout_ms) + " ms limit for " +
         std::string(hook_kind_name(kind)) + " hooks";
}

Result<Json> HostFunctionTable::invoke(std::string_view name, const Json& args,
                                       const CallContext& context) {
  const std::vector<std::string>& names = function_names();
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name)
      return invoke(i, args, context);
  }
  return Error(ErrorCode::kPermissionDenied,
               "host function \"" + std::string(name) + "\" is not available to plugin \"" +
                   std::string(context.plugin_id) +
                   "\" (not declared in its permissions, or not granted)");
}

}  // namespace outlet
