// The five hook kinds (DESIGN.md, "Hook kinds"): how the host delivers one event
// to the plugins subscribed to it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace outlet {

enum class HookKind {
  kNotify,    // fan-out, parallel across plugins, return ignored
  kFilter,    // sequential by priority: pass, modify(payload) or drop(reason); fails open
  kCollect,   // every subscriber answers; results returned in load order for the host to merge
  kDispatch,  // an input offered to subscribers; results merged by declared rules
  kRequest,   // one plugin's handler answers
};

inline constexpr HookKind kAllHookKinds[] = {HookKind::kNotify, HookKind::kFilter,
                                             HookKind::kCollect, HookKind::kDispatch,
                                             HookKind::kRequest};

std::string_view hook_kind_name(HookKind kind);
std::optional<HookKind> parse_hook_kind(std::string_view name);

}  // namespace outlet
