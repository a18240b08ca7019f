#include "dispatch/plugin_instance.h"

namespace outlet {

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
