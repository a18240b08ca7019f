// From the handlers a plugin's code defines to the subscriptions it makes
// (seeds/003: "the SDK derives the manifest's subscriptions from which methods are
// present"). Every scripting runtime lists what its plugin object holds and this
// decides, in one place, what each name means: typed names (`on_chat_message`,
// `onChatMessage`), group tables (`on = { ["custom.event"] = fn }`) and the filter
// priority. The spelling differs per language; the rules do not.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outlet/event.h"
#include "outlet/manifest.h"
#include "outlet/result.h"
#include "outlet/warnings.h"

namespace outlet {

// How a language spells handler names.
enum class HandlerSpelling {
  kSnakeCase,  // Lua: on_chat_message, filter_chat_message, filter_priority
  kCamelCase,  // JS:  onChatMessage, filterChatMessage, filterPriority
};

// One entry the plugin object holds: a top-level key, or an entry of a group table
// (`on`, `notify`, `filter`, `collect`, `dispatch`, `request`).
struct HandlerCandidate {
  std::string key;                   // the top-level key ("on_chat_message", "on", ...)
  std::optional<std::string> event;  // set for an entry of a group table
  // When a group table has a key that is not a string: that key's type.
  std::string bad_event_key_type;
  std::string value_type;          // "function", "table", "number", ... in the language's terms
  std::optional<int64_t> integer;  // the value, when it is an integer (for the filter priority)
  size_t entry = 0;                // the runtime's own handle for the value
};

struct DerivedHandler {
  Subscription subscription;
  size_t entry = 0;
  // The payload fields passed as positional arguments (seeds/004's on_key(key, state)).
  std::vector<std::string> arguments;
  std::string label;  // how the plugin named it, for messages
};

bool is_handler_group(std::string_view key);

// The typed handler name of `event` in `spelling`, e.g. "chat_message" → "ChatMessage".
std::string spelled_handler_name(const EventSpec& event, HandlerSpelling spelling);

// Fails naming every bad entry (a non-function handler, a duplicate, an event that
// needs a group table); a name that only looks like a handler is a warning.
Result<std::vector<DerivedHandler>> derive_handlers(
    const std::vector<HandlerCandidate>& candidates,
    const std::vector<std::shared_ptr<const EventSpec>>& events, HandlerSpelling spelling,
    WarningLog* warnings);

// The handler for one hook kind and event, or null.
const DerivedHandler* find_handler(const std::vector<DerivedHandler>& handlers, HookKind kind,
                                   std::string_view event);
std::vector<Subscription> subscriptions_of(const std::vector<DerivedHandler>& handlers);

}  // namespace outlet
