// An event the host (or a plugin) declares: its name, the hook kinds it may be
// delivered through, and its payload schema.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

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

  // The name SDKs give this event's typed handlers: "chat_message" gives Lua
  // `on_chat_message` / `filter_chat_message` and JS `onChatMessage` /
  // `filterChatMessage`. Empty: the event name with '.', ':' and '-' as '_'.
  std::string handler_name;
  // When set, the payload object's fields are passed to handlers as these
  // positional arguments (seeds/004's `on_key(key, state)`); otherwise the
  // payload is the one argument.
  std::vector<std::string> handler_arguments;
};

// `handler_name`, or the name derived from the event's name.
std::string typed_handler_name(const EventSpec& event);

// The kind an untyped subscription (`on_<name>`, `on = {...}`) means for this
// event: notify when the event is delivered that way, else its one kind other
// than filter. Null when that is ambiguous (the SDK then needs an explicit table).
std::optional<HookKind> primary_handler_kind(const EventSpec& event);

}  // namespace outlet
