#include "dispatch/event_catalogue.h"

#include "core/json_schema.h"
#include "outlet/manifest.h"

namespace outlet {

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
  std::lock_guard lock(mutex_);
  if (auto existing = events_.find(spec.name); existing != events_.end()) {
    return Error(ErrorCode::kAlreadyExists, "event \"" + spec.name + "\" is already declared by " +
                                                existing->second->declared_by);
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
