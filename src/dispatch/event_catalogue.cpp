#include "dispatch/event_catalogue.h"

#include <algorithm>

#include "core/json_schema.h"
#include "outlet/manifest.h"

namespace outlet {
namespace {

bool is_valid_handler_name(std::string_view name) {
  if (name.empty() || name[0] < 'a' || name[0] > 'z')
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

std::string typed_handler_name(const EventSpec& event) {
  if (!event.handler_name.empty())
    return event.handler_name;
  std::string name = event.name;
  std::replace_if(
      name.begin(), name.end(), [](char c) { return c == '.' || c == ':' || c == '-'; }, '_');
  return name;
}

std::optional<HookKind> primary_handler_kind(const EventSpec& event) {
  if (event.kinds.count(HookKind::kNotify))
    return HookKind::kNotify;
  std::optional<HookKind> only;
  for (HookKind kind : event.kinds) {
    if (kind == HookKind::kFilter)
      continue;
    if (only)
      return std::nullopt;
    only = kind;
  }
  return only;
}

Status EventCatalogue::declare(EventSpec spec) {
  if (!is_valid_event_name(spec.name)) {
    return Error(ErrorCode::kInvalidArgument, "cannot declare event",
                 {{"name", "\"" + spec.name + "\" must match ^[a-z][a-z0-9.:-]{1,126}[a-z0-9]$"}});
  }
  if (spec.kinds.empty()) {
    return Error(ErrorCode::kInvalidArgument, "cannot declare event \"" + spec.name + "\"",
                 {{"kinds", "an event needs at least one hook kind"}});
  }
  if (!spec.schema.is_null()) {
    auto compiled = JsonSchema::compile(spec.schema);
    if (!compiled.ok()) {
      return Error(
          ErrorCode::kInvalidArgument,
          "event \"" + spec.name + "\" has an invalid schema: " + compiled.error().message(),
          compiled.error().details());
    }
    spec.compiled = std::make_shared<const JsonSchema>(std::move(compiled).value());
  }
  if (!spec.handler_name.empty() && !is_valid_handler_name(spec.handler_name)) {
    return Error(ErrorCode::kInvalidArgument, "cannot declare event \"" + spec.name + "\"",
                 {{"handler_name", "\"" + spec.handler_name + "\" must match ^[a-z][a-z0-9_]*$"}});
  }
  std::lock_guard lock(mutex_);
  if (auto existing = events_.find(spec.name); existing != events_.end()) {
    return Error(ErrorCode::kAlreadyExists, "event \"" + spec.name + "\" is already declared by " +
                                                existing->second->declared_by);
  }
  // Two events with one handler name would make `on_<name>` ambiguous.
  std::string handler = typed_handler_name(spec);
  for (const auto& [name, existing] : events_) {
    if (typed_handler_name(*existing) == handler) {
      return Error(
          ErrorCode::kAlreadyExists, "cannot declare event \"" + spec.name + "\"",
          {{"handler_name", "\"" + handler + "\" already names the handlers of \"" + name + "\""}});
    }
  }
  std::string name = spec.name;
  events_.emplace(std::move(name), std::make_shared<const EventSpec>(std::move(spec)));
  return {};
}

void EventCatalogue::remove_declared_by(const std::string& plugin_id) {
  std::lock_guard lock(mutex_);
  std::erase_if(events_, [&](const auto& entry) { return entry.second->declared_by == plugin_id; });
}

std::shared_ptr<const EventSpec> EventCatalogue::find(std::string_view name) const {
  std::lock_guard lock(mutex_);
  auto it = events_.find(name);
  return it == events_.end() ? nullptr : it->second;
}

std::vector<std::shared_ptr<const EventSpec>> EventCatalogue::all() const {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<const EventSpec>> list;
  for (const auto& [name, spec] : events_)
    list.push_back(spec);
  return list;
}

}  // namespace outlet
