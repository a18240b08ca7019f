#include "outlet/hook.h"

namespace outlet {

std::string_view hook_kind_name(HookKind kind) {
  switch (kind) {
    case HookKind::kNotify:
      return "notify";
    case HookKind::kFilter:
      return "filter";
    case HookKind::kCollect:
      return "collect";
    case HookKind::kDispatch:
      return "dispatch";
    case HookKind::kRequest:
      return "request";
  }
  return "unknown";
}

std::optional<HookKind> parse_hook_kind(std::string_view name) {
  for (HookKind kind : kAllHookKinds) {
    if (hook_kind_name(kind) == name)
      return kind;
  }
  return std::nullopt;
}

}  // namespace outlet
