#include "outlet/registry.h"

#include <algorithm>

#include "core/suggest.h"

namespace outlet {

PluginMetadata metadata_of(const Manifest& manifest) {
  PluginMetadata metadata;
  metadata.id = manifest.id;
  metadata.name = manifest.name;
  metadata.description = manifest.description;
  metadata.version = manifest.version_text;
  metadata.kind = manifest.kind;
  for (const Author& author : manifest.authors)
    metadata.authors.push_back(author.name);
  metadata.icon = manifest.icon;
  metadata.category = manifest.category;
  metadata.runtime = manifest.runtime;
  return metadata;
}

Status KindRegistry::add(PluginKindSpec spec) {
  if (spec.id.empty() || spec.group.empty()) {
    return Error(ErrorCode::kInvalidArgument, "a plugin kind needs an id and a group name");
  }
  for (const PluginKindSpec& existing : kinds_) {
    if (existing.id == spec.id || existing.group == spec.group) {
      return Error(ErrorCode::kAlreadyExists, "plugin kind \"" + spec.id + "\" (group \"" +
                                                  spec.group + "\") clashes with kind \"" +
                                                  existing.id + "\"");
    }
  }
  kinds_.push_back(std::move(spec));
  return {};
}

const PluginKindSpec* KindRegistry::find(std::string_view id) const {
  for (const PluginKindSpec& kind : kinds_) {
    if (kind.id == id)
      return &kind;
  }
  return nullptr;
}

std::vector<std::string> KindRegistry::ids() const {
  std::vector<std::string> ids;
  for (const PluginKindSpec& kind : kinds_)
    ids.push_back(kind.id);
  return ids;
}

Status KindRegistry::validate(const Manifest& manifest) const {
  const PluginKindSpec* kind = find(manifest.kind);
  if (kind == nullptr) {
    return Error(
        ErrorCode::kInvalidArgument, "plugin \"" + manifest.id + "\" has an unknown kind",
        {{"kind", "unknown kind \"" + manifest.kind + "\"" + did_you_mean(manifest.kind, ids())}});
  }
  if (!kind->validate)
    return {};
  std::vector<ErrorDetail> problems = kind->validate(manifest);
  if (problems.empty())
    return {};
  return Error(
      ErrorCode::kInvalidArgument,
      "plugin \"" + manifest.id + "\" does not meet the rules of kind \"" + kind->id + "\"",
      std::move(problems));
}

Status PluginRegistry::add(std::shared_ptr<const Manifest> manifest, PluginSource source) {
  if (auto existing = plugins_.find(manifest->id); existing != plugins_.end()) {
    return Error(ErrorCode::kAlreadyExists,
                 "duplicate plugin id \"" + manifest->id + "\": found in " + source.location +
                     " and already registered from " + existing->second.source.location);
  }
  if (!kinds_.all().empty()) {
    if (Status valid = kinds_.validate(*manifest); !valid.ok())
      return valid;
  }
  std::string id = manifest->id;
  plugins_.emplace(std::move(id), RegisteredPlugin{std::move(manifest), std::move(source)});
  return {};
}

Status PluginRegistry::remove(std::string_view id) {
  auto it = plugins_.find(id);
  if (it == plugins_.end()) {
    return Error(ErrorCode::kNotFound, "no plugin \"" + std::string(id) + "\" is registered");
  }
  plugins_.erase(it);
  return {};
}

const RegisteredPlugin* PluginRegistry::find(std::string_view id) const {
  auto it = plugins_.find(id);
  return it == plugins_.end() ? nullptr : &it->second;
}

std::vector<const RegisteredPlugin*> PluginRegistry::all() const {
  std::vector<const RegisteredPlugin*> list;
  list.reserve(plugins_.size());
  for (const auto& [id, plugin] : plugins_)
    list.push_back(&plugin);
  return list;
}

std::map<std::string, std::vector<PluginMetadata>> PluginRegistry::by_group() const {
  std::map<std::string, std::vector<PluginMetadata>> groups;
  for (const PluginKindSpec& kind : kinds_.all())
    groups[kind.group];
  for (const auto& [id, plugin] : plugins_) {
    const PluginKindSpec* kind = kinds_.find(plugin.manifest->kind);
    groups[kind ? kind->group : plugin.manifest->kind].push_back(metadata_of(*plugin.manifest));
  }
  return groups;
}

}  // namespace outlet
