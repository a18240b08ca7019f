// An event the host (or a plugin) declares: its name, the hook kinds it may be
// delivered through, and its payload schema.
#pragma once

#include <memory>
#include <set>
#include <string>

#include "outlet/hook.h"
#include "outlet/json.h"

namespace outlet {

class JsonSchema;

struct EventSpec {
  std::string name;
  std::set<HookKind> kinds;  // e.g. {filter, notify} for chat.message.received
  Json schema;               // null = any payload
  std::string description;
  std::string declared_by = "host";  // or the id of the plugin that declared it

  std::shared_ptr<const JsonSchema> compiled;  // filled in when declared
};

}  // namespace outlet
