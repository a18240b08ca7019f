// Plugin kinds and the registry (seeds/000): the host registers kinds, each with
// its own validator; every plugin, built-in or third-party, registers the same way.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "outlet/manifest.h"
#include "outlet/result.h"

namespace outlet {

struct PluginKindSpec {
  std::string id;     // the manifest's `kind`, e.g. "bot-module"
  std::string group;  // the key plugins of this kind are listed under, e.g. "bot_modules"
  std::string description;
  // Kind-specific rules (e.g. a widget needs a config schema with defaults). Each
  // problem names its manifest path.
  std::function<std::vector<ErrorDetail>(const Manifest&)> validate;
};

struct PluginMetadata {
  std::string id;
  std::string name;
  std::string description;
  std::string version;
  std::string kind;
  std::vector<std::string> authors;
  std::string icon;
  std::string category;
  RuntimeKind runtime = RuntimeKind::kNative;
};

PluginMetadata metadata_of(const Manifest& manifest);

class KindRegistry {
 public:
  Status add(PluginKindSpec spec);
  const PluginKindSpec* find(std::string_view id) const;
  std::vector<std::string> ids() const;
  const std::vector<PluginKindSpec>& all() const { return kinds_; }

  // Runs the kind's validator; an unknown kind is an error naming `kind`.
  Status validate(const Manifest& manifest) const;

 private:
  std::vector<PluginKindSpec> kinds_;
};

// Where a plugin came from, so a duplicate id can name both places.
struct PluginSource {
  std::string location;  // a folder, a package file, or "built-in"
  std::string root;      // plugin root folder ("" for built-ins)
  std::string entrypoint_path;
};

struct RegisteredPlugin {
  std::shared_ptr<const Manifest> manifest;
  PluginSource source;
};

class PluginRegistry {
 public:
  explicit PluginRegistry(const KindRegistry& kinds) : kinds_(kinds) {}

  Status add(std::shared_ptr<const Manifest> manifest, PluginSource source);
  Status remove(std::string_view id);
  const RegisteredPlugin* find(std::string_view id) const;
  std::vector<const RegisteredPlugin*> all() const;
  // Grouped by the kind's group name; every registered kind appears, even if empty.
  std::map<std::string, std::vector<PluginMetadata>> by_group() const;
  size_t size() const { return plugins_.size(); }

 private:
  const KindRegistry& kinds_;
  std::map<std::string, RegisteredPlugin, std::less<>> plugins_;
};

}  // namespace outlet
