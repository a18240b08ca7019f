// The plugin manifest, `plugin.json` (DESIGN.md, "Plugin contract"): the source of
// truth for who a plugin is, what it may reach, and what it subscribes to.
// `parse_manifest` reports every problem at once, each naming its JSON path and rule.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "outlet/hook.h"
#include "outlet/json.h"
#include "outlet/result.h"

namespace outlet {

class JsonSchema;
class VersionRange;
struct Version;

enum class RuntimeKind { kNative, kLua, kJs, kWasm };
std::string_view runtime_kind_name(RuntimeKind kind);

// seeds/002: activation order among plugins activated together.
enum class LoadPriority { kBootstrap = 0, kHigh = 1, kDefault = 2, kLow = 3 };
std::string_view load_priority_name(LoadPriority priority);

struct Relationship {
  std::string id;
  std::string version_range_text;                     // "" = any version
  std::shared_ptr<const VersionRange> version_range;  // null = any version
};

struct Relationships {
  std::vector<Relationship> required;  // `requires` in JSON (a C++ keyword)
  std::vector<Relationship> optional;
  std::vector<Relationship> conflicts;
  std::vector<std::string> before;  // activate before these, when both are present
  std::vector<std::string> after;
};

// seeds/002: a plugin-defined event, validated by the host on every emit.
enum class EventDirection { kServerRelay, kClientToServer, kP2pHint };
enum class EventScope { kServer, kChannel, kUser, kPlugin };

struct PluginEventSpec {
  std::string name;
  EventDirection direction = EventDirection::kServerRelay;
  EventScope scope = EventScope::kPlugin;
  std::shared_ptr<const JsonSchema> schema;  // null = any JSON payload
  uint64_t max_payload_bytes = uint64_t{64} * 1024;
  std::string description;
};

// seeds/001: bot triggers, matched by the host in the order moderate, command,
// keyword, pattern, event; timers fire on their interval.
enum class TriggerType { kModerate, kCommand, kKeyword, kPattern, kEvent, kTimer };
std::string_view trigger_type_name(TriggerType type);

struct TriggerSpec {
  TriggerType type = TriggerType::kModerate;
  std::string id;       // defaults to "<type>-<index>"
  std::string handler;  // handler name; "" = the plugin's generic trigger handler
  std::string command;  // command: the word after the prefix, e.g. "hello" for "!hello"
  std::string prefix = "!";
  std::vector<std::string> aliases;
  uint32_t user_cooldown_seconds = 0;
  uint32_t global_cooldown_seconds = 0;
  std::vector<std::string> keywords;  // keyword
  std::string pattern;                // pattern (RE2 syntax)
  std::string event;                  // event
  uint32_t interval_seconds = 0;      // timer
};

struct Subscription {
  HookKind kind = HookKind::kNotify;
  std::string event;
  int priority = 100;  // filters only: lower runs first, ties by plugin id

  bool operator==(const Subscription& other) const {
    return kind == other.kind && event == other.event;
  }
};

// Per-call limits a manifest may ask for; the host lowers none of its maxima for them.
struct ManifestLimits {
  std::map<HookKind, uint32_t> timeout_ms;  // absent kind = host default
  std::optional<uint64_t> memory_bytes;
};

// A page under /plugins/<id>/ that only an admin may open (seeds/003 `admin.pages`):
// `path` is a glob ('*' matches anything, '/' included), e.g. "/admin/*".
struct AdminPage {
  std::string title;
  std::string path;
  std::string icon;
};

struct Author {
  std::string name;
  std::string email;
  std::string url;
};

struct Manifest {
  std::string id;
  std::string name;
  std::string description;
  std::string version_text;
  std::shared_ptr<const Version> version;
  int api_version = 1;
  std::string kind;
  RuntimeKind runtime = RuntimeKind::kNative;
  std::string entrypoint;
  std::vector<std::string> permissions;
  std::vector<std::string> allowed_hosts;  // network.allowedHosts: host globs
  std::vector<AdminPage> admin_pages;      // admin.pages
  std::vector<PluginEventSpec> events;
  std::vector<TriggerSpec> triggers;
  Json config_schema;  // null when the plugin has no settings
  std::shared_ptr<const JsonSchema> config;
  Relationships relationships;
  LoadPriority load_priority = LoadPriority::kDefault;
  ManifestLimits limits;
  std::string minimum_host_version;  // "" = any
  std::vector<Author> authors;
  std::string license;
  std::string homepage;
  std::string icon;
  std::string category;
  Json kind_data;  // kind-specific metadata, validated by the kind's own validator
  // Owncast plugin projects (seeds/003) emit events they never declare. Set only
  // when such a project is read (there is no plugin.json field): the plugin may
  // emit an event that neither the host nor another plugin declares, unchecked
  // but for its size.
  bool emits_undeclared_events = false;
  // Declared subscriptions; compared with what the plugin's code registers at load.
  std::optional<std::vector<Subscription>> subscriptions;
  Json raw;  // the document as read

  bool has_permission(std::string_view permission) const;
  const PluginEventSpec* find_event(std::string_view name) const;
  // Whether a path under /plugins/<id>/ (e.g. "/admin/api") is one of the admin pages.
  bool is_admin_path(std::string_view path) const;
};

// What the host knows, so a manifest can be checked against it. Empty sets mean
// "do not check" (a tool validating a manifest without a host).
struct ManifestVocabulary {
  std::set<std::string> permissions;
  std::set<std::string> kinds;
  std::string host_version = "0.1.0";
  int api_version = 1;
};

struct ParsedManifest {
  Manifest manifest;
  std::vector<ErrorDetail> warnings;  // e.g. unknown top-level fields
};

// Parses and validates. On failure the Error's details list every problem found.
Result<ParsedManifest> parse_manifest(const Json& document, const ManifestVocabulary& vocabulary);
Result<ParsedManifest> parse_manifest_text(std::string_view text,
                                           const ManifestVocabulary& vocabulary);

// seeds/002 identifier rules.
bool is_valid_plugin_id(std::string_view id);
bool is_valid_event_name(std::string_view name);

}  // namespace outlet
