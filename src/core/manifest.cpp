#include "outlet/manifest.h"

#include <re2/re2.h>

#include <algorithm>

#include "core/glob.h"
#include "core/json_schema.h"
#include "core/json_text.h"
#include "core/semver.h"
#include "core/suggest.h"

namespace outlet {
namespace {

constexpr size_t kMaxStringField = 4096;
constexpr size_t kMaxListLength = 256;
constexpr uint64_t kMaxEventPayloadBytes = 16ull * 1024 * 1024;

const std::vector<std::string> kKnownFields = {
    "$schema",       "id",      "name",          "description", "version",  "apiVersion",
    "kind",          "runtime", "entrypoint",    "permissions", "network",  "events",
    "triggers",      "config",  "relationships", "load",        "limits",   "compatibility",
    "authors",       "license", "homepage",      "icon",        "category", "kindData",
    "subscriptions", "admin",
};

std::string json_type_name(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return "integer";
    case Json::value_t::number_float:
      return "number";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "object";
    default:
      return "binary";
  }
}

std::string in_quotes(std::string_view text) {
  return "\"" + std::string(text) + "\"";
}

std::string join_path(const std::string& base, std::string_view key) {
  return base.empty() ? std::string(key) : base + "." + std::string(key);
}
std::string index_path(const std::string& base, size_t index) {
  return base + "[" + std::to_string(index) + "]";
}

// Reads typed fields out of a JSON object and records what is wrong with each,
// so one pass reports every problem in the document.
class FieldReader {
 public:
  void error(std::string path, std::string rule) {
    errors.push_back({std::move(path), std::move(rule)});
  }
  void warning(std::string path, std::string rule) {
    warnings.push_back({std::move(path), std::move(rule)});
  }

  bool expect_type(const Json& value, const std::string& path, Json::value_t type,
                   const char* type_name) {
    bool matches = value.type() == type ||
                   (type == Json::value_t::number_integer && value.is_number_integer());
    if (!matches) {
      error(path, std::string("must be ") + type_name + ", got " + json_type_name(value));
    }
    return matches;
  }

  // Returns the string at `object[key]`, "" if absent; records an error if the
  // field is present with the wrong type, or absent and required.
  std::string string_field(const Json& object, const std::string& base, std::string_view key,
                           bool required, size_t max_length = kMaxStringField) {
    std::string path = join_path(base, key);
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
      if (required)
        error(path, "is required");
      return "";
    }
    if (!expect_type(*it, path, Json::value_t::string, "a string"))
      return "";
    const std::string& text = it->get_ref<const std::string&>();
    if (required && text.empty()) {
      error(path, "must not be empty");
      return "";
    }
    if (text.size() > max_length) {
      error(path, "must be at most " + std::to_string(max_length) + " characters");
      return "";
    }
    return text;
  }

  std::vector<std::string> string_list(const Json& object, const std::string& base,
                                       std::string_view key) {
    std::vector<std::string> list;
    std::string path = join_path(base, key);
    auto it = object.find(key);
    if (it == object.end() || it->is_null())
      return list;
    if (!expect_type(*it, path, Json::value_t::array, "an array of strings"))
      return list;
    if (it->size() > kMaxListLength) {
      error(path, "must have at most " + std::to_string(kMaxListLength) + " entries");
      return list;
    }
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& item = (*it)[i];
      if (!item.is_string()) {
        error(index_path(path, i), "must be a string, got " + json_type_name(item));
        continue;
      }
      const std::string& text = item.get_ref<const std::string&>();
      if (text.empty() || text.size() > kMaxStringField) {
        error(index_path(path, i), "must be a non-empty string of at most 4096 characters");
        continue;
      }
      if (std::find(list.begin(), list.end(), text) != list.end()) {
        error(index_path(path, i), "duplicate entry " + in_quotes(text));
        continue;
      }
      list.push_back(text);
    }
    return list;
  }

  std::optional<uint64_t> unsigned_field(const Json& object, const std::string& base,
                                         std::string_view key, uint64_t min, uint64_t max) {
    std::string path = join_path(base, key);
    auto it = object.find(key);
    if (it == object.end() || it->is_null())
      return std::nullopt;
    if (!it->is_number_integer()) {
      error(path, "must be a non-negative integer, got " + json_type_name(*it));
      return std::nullopt;
    }
    if (!it->is_number_unsigned() && it->get<int64_t>() < 0) {
      error(path, "must be a non-negative integer, got " + it->dump());
      return std::nullopt;
    }
    uint64_t value = it->get<uint64_t>();
    if (value < min || value > max) {
      error(path, "must be between " + std::to_string(min) + " and " + std::to_string(max));
      return std::nullopt;
    }
    return value;
  }

  // `object` must be an object if present; returns it or a static empty object.
  const Json& object_field(const Json& object, const std::string& base, std::string_view key) {
    static const Json kEmpty = Json::object();
    auto it = object.find(key);
    if (it == object.end() || it->is_null())
      return kEmpty;
    if (!expect_type(*it, join_path(base, key), Json::value_t::object, "an object"))
      return kEmpty;
    return *it;
  }

  void warn_unknown_fields(const Json& object, const std::string& base,
                           const std::vector<std::string>& known) {
    for (const auto& [key, value] : object.items()) {
      if (std::find(known.begin(), known.end(), key) != known.end())
        continue;
      warning(join_path(base, key),
              "unknown field " + in_quotes(key) + " is ignored" + did_you_mean(key, known));
    }
  }

  void reject_unknown_fields(const Json& object, const std::string& base,
                             const std::vector<std::string>& known) {
    for (const auto& [key, value] : object.items()) {
      if (std::find(known.begin(), known.end(), key) != known.end())
        continue;
      error(join_path(base, key), "unknown field " + in_quotes(key) + did_you_mean(key, known));
    }
  }

  std::vector<ErrorDetail> errors;
  std::vector<ErrorDetail> warnings;
};

bool matches_whole(std::string_view text, const RE2& pattern) {
  return RE2::FullMatch(re2::StringPiece(text.data(), text.size()), pattern);
}

// A relative path that stays inside the plugin root lexically. Symlinks are
// checked against the real filesystem at discovery (core/discovery.cpp).
std::string entrypoint_problem(std::string_view path) {
  if (path.find('\0') != std::string_view::npos)
    return "must not contain NUL bytes";
  if (path.find('\\') != std::string_view::npos)
    return "must use forward slashes";
  if (!path.empty() && path.front() == '/')
    return "must be relative to the plugin root";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos)
      end = path.size();
    if (path.substr(start, end - start) == "..")
      return "must not escape the plugin root (\"..\")";
    start = end + 1;
  }
  return "";
}

std::optional<RuntimeKind> runtime_from_extension(std::string_view entrypoint) {
  auto ends_with = [&](std::string_view suffix) {
    return entrypoint.size() >= suffix.size() &&
           entrypoint.substr(entrypoint.size() - suffix.size()) == suffix;
  };
  if (ends_with(".lua"))
    return RuntimeKind::kLua;
  if (ends_with(".js") || ends_with(".cjs") || ends_with(".mjs"))
    return RuntimeKind::kJs;
  if (ends_with(".wasm"))
    return RuntimeKind::kWasm;
  return std::nullopt;
}

// Host globs: letters, digits, '-', '.', and '*' wildcards, optionally a ":port".
bool is_valid_host_glob(std::string_view glob) {
  static const RE2 kHostGlob(R"([A-Za-z0-9*]([A-Za-z0-9*.-]{0,252})(:[0-9]{1,5})?)");
  return matches_whole(glob, kHostGlob);
}

class ManifestParser {
 public:
  explicit ManifestParser(const ManifestVocabulary& vocabulary) : vocabulary_(vocabulary) {}

  Result<ParsedManifest> parse(const Json& document) {
    if (!document.is_object()) {
      return Error(ErrorCode::kInvalidArgument, "plugin.json is invalid",
                   {{"", "must be a JSON object, got " + json_type_name(document)}});
    }
    Manifest& m = parsed_.manifest;
    m.raw = document;
    reader_.warn_unknown_fields(document, "", kKnownFields);

    m.id = reader_.string_field(document, "", "id", true, 128);
    if (!m.id.empty() && !is_valid_plugin_id(m.id)) {
      reader_.error("id", in_quotes(m.id) +
                              " must match ^[a-z0-9][a-z0-9.-]{1,126}[a-z0-9]$ (lowercase "
                              "letters, digits, '.' and '-', 3 to 128 characters)");
    }
    m.name = reader_.string_field(document, "", "name", true, 128);
    m.description = reader_.string_field(document, "", "description", false);
    parse_version(document);
    parse_api_version(document);
    parse_kind(document);
    parse_runtime_and_entrypoint(document);
    parse_permissions(document);
    parse_network(document);
    parse_admin(document);
    parse_events(document);
    parse_triggers(document);
    parse_config(document);
    parse_relationships(document);
    parse_load(document);
    parse_limits(document);
    parse_compatibility(document);
    parse_authors(document);
    m.license = reader_.string_field(document, "", "license", false, 256);
    m.homepage = reader_.string_field(document, "", "homepage", false);
    if (!m.homepage.empty() && m.homepage.rfind("https://", 0) != 0 &&
        m.homepage.rfind("http://", 0) != 0) {
      reader_.error("homepage", "must be an http:// or https:// URL");
    }
    m.icon = reader_.string_field(document, "", "icon", false, 1024);
    m.category = reader_.string_field(document, "", "category", false, 128);
    if (auto it = document.find("kindData"); it != document.end() && !it->is_null()) {
      if (reader_.expect_type(*it, "kindData", Json::value_t::object, "an object")) {
        m.kind_data = *it;
      }
    }
    parse_subscriptions(document);

    parsed_.warnings = std::move(reader_.warnings);
    if (!reader_.errors.empty()) {
      std::string subject = m.id.empty() ? "plugin.json" : "plugin.json of " + in_quotes(m.id);
      size_t count = reader_.errors.size();
      return Error(
          ErrorCode::kInvalidArgument,
          subject + " is invalid: " + std::to_string(count) + (count == 1 ? " error" : " errors"),
          std::move(reader_.errors));
    }
    return std::move(parsed_);
  }

 private:
  void parse_version(const Json& document) {
    Manifest& m = parsed_.manifest;
    m.version_text = reader_.string_field(document, "", "version", true, 256);
    if (m.version_text.empty())
      return;
    auto version = Version::parse(m.version_text);
    if (!version.ok()) {
      reader_.error("version", version.error().message());
      return;
    }
    m.version = std::make_shared<const Version>(std::move(version).value());
  }

  void parse_api_version(const Json& document) {
    auto it = document.find("apiVersion");
    if (it == document.end() || it->is_null())
      return;
    int api = 0;
    if (it->is_number_integer()) {
      api = it->get<int>();
    } else if (it->is_string()) {
      const std::string& text = it->get_ref<const std::string&>();
      if (text.size() <= 3 && !text.empty() &&
          std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        api = std::stoi(text);
      }
    }
    if (api < 1) {
      reader_.error("apiVersion", "must be a positive integer such as 1");
      return;
    }
    if (api > vocabulary_.api_version) {
      reader_.error("apiVersion", "plugin needs API version " + std::to_string(api) +
                                      ", this host provides " +
                                      std::to_string(vocabulary_.api_version));
      return;
    }
    parsed_.manifest.api_version = api;
  }

  void parse_kind(const Json& document) {
    Manifest& m = parsed_.manifest;
    m.kind = reader_.string_field(document, "", "kind", true, 128);
    if (m.kind.empty() || vocabulary_.kinds.empty() || vocabulary_.kinds.count(m.kind))
      return;
    std::vector<std::string> kinds(vocabulary_.kinds.begin(), vocabulary_.kinds.end());
    std::string list;
    for (const std::string& kind : kinds)
      list += (list.empty() ? "" : ", ") + kind;
    reader_.error("kind", "unknown kind " + in_quotes(m.kind) + did_you_mean(m.kind, kinds) +
                              "; this host knows: " + list);
  }

  void parse_runtime_and_entrypoint(const Json& document) {
    Manifest& m = parsed_.manifest;
    m.entrypoint = reader_.string_field(document, "", "entrypoint", true, 1024);
    if (!m.entrypoint.empty()) {
      std::string problem = entrypoint_problem(m.entrypoint);
      if (!problem.empty())
        reader_.error("entrypoint", in_quotes(m.entrypoint) + " " + problem);
    }
    std::string runtime = reader_.string_field(document, "", "runtime", false, 32);
    static const std::vector<std::string> kRuntimes = {"native", "lua", "js", "wasm"};
    if (!runtime.empty()) {
      auto it = std::find(kRuntimes.begin(), kRuntimes.end(), runtime);
      if (it == kRuntimes.end()) {
        reader_.error("runtime", "unknown runtime " + in_quotes(runtime) +
                                     did_you_mean(runtime, kRuntimes) +
                                     " (expected native, lua, js or wasm)");
        return;
      }
      m.runtime = static_cast<RuntimeKind>(it - kRuntimes.begin());
      return;
    }
    if (m.entrypoint.empty())
      return;
    auto derived = runtime_from_extension(m.entrypoint);
    if (!derived) {
      reader_.error("runtime",
                    "is required when the entrypoint's extension is not .lua, .js or .wasm");
      return;
    }
    m.runtime = *derived;
  }

  void parse_permissions(const Json& document) {
    Manifest& m = parsed_.manifest;
    m.permissions = reader_.string_list(document, "", "permissions");
    // Only a present array yields entries; `document["permissions"]` below needs the key.
    if (vocabulary_.permissions.empty() || m.permissions.empty())
      return;
    std::vector<std::string> known(vocabulary_.permissions.begin(), vocabulary_.permissions.end());
    const Json& list = document["permissions"];
    for (size_t i = 0; i < m.permissions.size(); ++i) {
      const std::string& permission = m.permissions[i];
      if (vocabulary_.permissions.count(permission))
        continue;
      // Index into the original array so the path points at the right entry.
      size_t index = i;
      for (size_t j = 0; j < list.size(); ++j) {
        if (list[j].is_string() && list[j].get_ref<const std::string&>() == permission) {
          index = j;
          break;
        }
      }
      reader_.error(
          index_path("permissions", index),
          "unknown permission " + in_quotes(permission) + did_you_mean(permission, known));
    }
  }

  void parse_admin(const Json& document) {
    const Json& admin = reader_.object_field(document, "", "admin");
    reader_.reject_unknown_fields(admin, "admin", {"pages"});
    auto it = admin.find("pages");
    if (it == admin.end() || it->is_null())
      return;
    if (!reader_.expect_type(*it, "admin.pages", Json::value_t::array, "an array"))
      return;
    if (it->size() > kMaxListLength) {
      reader_.error("admin.pages",
                    "must have at most " + std::to_string(kMaxListLength) + " entries");
      return;
    }
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& item = (*it)[i];
      const std::string path = index_path("admin.pages", i);
      if (!reader_.expect_type(item, path, Json::value_t::object, "an object"))
        continue;
      reader_.reject_unknown_fields(item, path, {"title", "path", "icon"});
      AdminPage page;
      page.title = reader_.string_field(item, path, "title", true, 128);
      page.path = reader_.string_field(item, path, "path", true, 256);
      page.icon = reader_.string_field(item, path, "icon", false, 64);
      if (!page.path.empty() &&
          (page.path.front() != '/' || page.path.find("..") != std::string::npos ||
           page.path.find('\\') != std::string::npos)) {
        reader_.error(join_path(path, "path"),
                      "must start with '/' and contain no \"..\" or backslash, e.g. \"/admin/*\"");
        continue;
      }
      if (!page.path.empty())
        parsed_.manifest.admin_pages.push_back(std::move(page));
    }
  }

  void parse_network(const Json& document) {
    Manifest& m = parsed_.manifest;
    const Json& network = reader_.object_field(document, "", "network");
    reader_.reject_unknown_fields(network, "network", {"allowedHosts"});
    m.allowed_hosts = reader_.string_list(network, "network", "allowedHosts");
    if (!m.allowed_hosts.empty()) {
      // string_list skips bad entries, so index into the original array for the path.
      const Json& list = network["allowedHosts"];
      for (size_t j = 0; j < list.size(); ++j) {
        if (!list[j].is_string())
          continue;
        const std::string& glob = list[j].get_ref<const std::string&>();
        bool listed = std::find(m.allowed_hosts.begin(), m.allowed_hosts.end(), glob) !=
                      m.allowed_hosts.end();
        if (listed && !is_valid_host_glob(glob)) {
          reader_.error(index_path("network.allowedHosts", j),
                        in_quotes(glob) +
                            " is not a host glob (letters, digits, '.', '-', '*', optional :port)");
        }
      }
    }
    // seeds/003: fetching needs both the permission and an explicit allowlist.
    bool fetch = m.has_permission("network.fetch");
    if (fetch && m.allowed_hosts.empty()) {
      reader_.error("network.allowedHosts",
                    "is required when permission \"network.fetch\" is declared (write \"*\" "
                    "explicitly to allow every host)");
    }
    if (!fetch && !m.allowed_hosts.empty()) {
      reader_.warning("network.allowedHosts", "has no effect without permission \"network.fetch\"");
    }
  }

  std::shared_ptr<const JsonSchema> compile_schema(const Json& schema, const std::string& path) {
    auto compiled = JsonSchema::compile(schema);
    if (!compiled.ok()) {
      if (compiled.error().details().empty()) {
        reader_.error(path, compiled.error().message());
      }
      for (const ErrorDetail& detail : compiled.error().details()) {
        reader_.error(detail.path.empty() ? path : path + "." + detail.path, detail.rule);
      }
      return nullptr;
    }
    return std::make_shared<const JsonSchema>(std::move(compiled).value());
  }

  void parse_events(const Json& document) {
    auto it = document.find("events");
    if (it == document.end() || it->is_null())
      return;
    if (!reader_.expect_type(*it, "events", Json::value_t::array, "an array"))
      return;
    static const std::vector<std::string> kFields = {"name",   "direction",       "scope",
                                                     "schema", "maxPayloadBytes", "description"};
    static const std::vector<std::string> kDirections = {"serverRelay", "clientToServer",
                                                         "p2pHint"};
    static const std::vector<std::string> kScopes = {"server", "channel", "user", "plugin"};
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& item = (*it)[i];
      std::string path = index_path("events", i);
      if (!reader_.expect_type(item, path, Json::value_t::object, "an object"))
        continue;
      reader_.reject_unknown_fields(item, path, kFields);
      PluginEventSpec spec;
      spec.name = reader_.string_field(item, path, "name", true, 128);
      if (!spec.name.empty() && !is_valid_event_name(spec.name)) {
        reader_.error(join_path(path, "name"),
                      in_quotes(spec.name) + " must match ^[a-z][a-z0-9.:-]{1,126}[a-z0-9]$");
      }
      for (const PluginEventSpec& other : parsed_.manifest.events) {
        if (!spec.name.empty() && other.name == spec.name) {
          reader_.error(join_path(path, "name"), "duplicate event " + in_quotes(spec.name));
        }
      }
      std::string direction = reader_.string_field(item, path, "direction", false, 32);
      if (!direction.empty()) {
        auto d = std::find(kDirections.begin(), kDirections.end(), direction);
        if (d == kDirections.end()) {
          reader_.error(join_path(path, "direction"),
                        "unknown direction " + in_quotes(direction) +
                            did_you_mean(direction, kDirections) +
                            " (expected serverRelay, clientToServer or p2pHint)");
        } else {
          spec.direction = static_cast<EventDirection>(d - kDirections.begin());
        }
      }
      std::string scope = reader_.string_field(item, path, "scope", false, 32);
      if (!scope.empty()) {
        auto s = std::find(kScopes.begin(), kScopes.end(), scope);
        if (s == kScopes.end()) {
          reader_.error(join_path(path, "scope"),
                        "unknown scope " + in_quotes(scope) + did_you_mean(scope, kScopes) +
                            " (expected server, channel, user or plugin)");
        } else {
          spec.scope = static_cast<EventScope>(s - kScopes.begin());
        }
      }
      if (auto schema = item.find("schema"); schema != item.end() && !schema->is_null()) {
        spec.schema = compile_schema(*schema, join_path(path, "schema"));
      }
      if (auto max =
              reader_.unsigned_field(item, path, "maxPayloadBytes", 1, kMaxEventPayloadBytes)) {
        spec.max_payload_bytes = *max;
      }
      spec.description = reader_.string_field(item, path, "description", false);
      parsed_.manifest.events.push_back(std::move(spec));
    }
  }

  void parse_triggers(const Json& document) {
    auto it = document.find("triggers");
    if (it == document.end() || it->is_null())
      return;
    if (!reader_.expect_type(*it, "triggers", Json::value_t::array, "an array"))
      return;
    static const std::vector<std::string> kTypes = {"moderate", "command", "keyword",
                                                    "pattern",  "event",   "timer"};
    static const std::vector<std::string> kFields = {
        "type",     "id",       "handler", "command", "prefix",   "aliases",
        "cooldown", "keywords", "pattern", "event",   "interval", "description"};
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& item = (*it)[i];
      std::string path = index_path("triggers", i);
      if (!reader_.expect_type(item, path, Json::value_t::object, "an object"))
        continue;
      reader_.reject_unknown_fields(item, path, kFields);
      TriggerSpec trigger;
      std::string type = reader_.string_field(item, path, "type", true, 32);
      auto t = std::find(kTypes.begin(), kTypes.end(), type);
      if (!type.empty() && t == kTypes.end()) {
        reader_.error(join_path(path, "type"),
                      "unknown trigger type " + in_quotes(type) + did_you_mean(type, kTypes) +
                          " (expected moderate, command, keyword, pattern, event or timer)");
        continue;
      }
      if (type.empty())
        continue;
      trigger.type = static_cast<TriggerType>(t - kTypes.begin());
      trigger.id = reader_.string_field(item, path, "id", false, 128);
      if (trigger.id.empty())
        trigger.id = type + "-" + std::to_string(i);
      trigger.handler = reader_.string_field(item, path, "handler", false, 128);
      switch (trigger.type) {
        case TriggerType::kModerate:
          break;
        case TriggerType::kCommand:
          parse_command_trigger(item, path, trigger);
          break;
        case TriggerType::kKeyword:
          trigger.keywords = reader_.string_list(item, path, "keywords");
          if (trigger.keywords.empty()) {
            reader_.error(join_path(path, "keywords"),
                          "a keyword trigger needs at least one keyword");
          }
          break;
        case TriggerType::kPattern: {
          trigger.pattern = reader_.string_field(item, path, "pattern", true, 1024);
          if (trigger.pattern.empty())
            break;
          RE2::Options options;
          options.set_log_errors(false);
          RE2 compiled(trigger.pattern, options);
          if (!compiled.ok()) {
            reader_.error(join_path(path, "pattern"),
                          "is not a valid RE2 pattern: " + compiled.error());
          }
          break;
        }
        case TriggerType::kEvent:
          trigger.event = reader_.string_field(item, path, "event", true, 128);
          break;
        case TriggerType::kTimer:
          if (auto interval =
                  reader_.unsigned_field(item, path, "interval", 1, uint64_t{7} * 24 * 3600)) {
            trigger.interval_seconds = static_cast<uint32_t>(*interval);
          } else if (!item.contains("interval")) {
            reader_.error(join_path(path, "interval"), "is required for a timer trigger");
          }
          break;
      }
      parsed_.manifest.triggers.push_back(std::move(trigger));
    }
  }

  void parse_command_trigger(const Json& item, const std::string& path, TriggerSpec& trigger) {
    trigger.command = reader_.string_field(item, path, "command", true, 64);
    if (item.contains("prefix"))
      trigger.prefix = reader_.string_field(item, path, "prefix", false, 8);
    static const RE2 kCommandWord(R"([^\s]{1,64})");
    if (!trigger.command.empty() && !matches_whole(trigger.command, kCommandWord)) {
      reader_.error(join_path(path, "command"), "must be one word without spaces");
    }
    trigger.aliases = reader_.string_list(item, path, "aliases");
    const Json& cooldown = reader_.object_field(item, path, "cooldown");
    std::string cooldown_path = join_path(path, "cooldown");
    reader_.reject_unknown_fields(cooldown, cooldown_path, {"user", "global"});
    if (auto user = reader_.unsigned_field(cooldown, cooldown_path, "user", 0, 86400)) {
      trigger.user_cooldown_seconds = static_cast<uint32_t>(*user);
    }
    if (auto global = reader_.unsigned_field(cooldown, cooldown_path, "global", 0, 86400)) {
      trigger.global_cooldown_seconds = static_cast<uint32_t>(*global);
    }
  }

  void parse_config(const Json& document) {
    auto it = document.find("config");
    if (it == document.end() || it->is_null())
      return;
    if (!reader_.expect_type(*it, "config", Json::value_t::object, "an object (a JSON Schema)")) {
      return;
    }
    auto type = it->find("type");
    if (type == it->end() || *type != "object") {
      reader_.error("config.type", "a config schema must be {\"type\": \"object\", ...}");
      return;
    }
    Manifest& m = parsed_.manifest;
    m.config_schema = *it;
    m.config = compile_schema(*it, "config");
  }

  std::vector<Relationship> relationship_list(const Json& relationships, std::string_view key) {
    std::vector<Relationship> list;
    std::string path = join_path("relationships", key);
    auto it = relationships.find(key);
    if (it == relationships.end() || it->is_null())
      return list;
    if (!reader_.expect_type(*it, path, Json::value_t::array, "an array"))
      return list;
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& item = (*it)[i];
      std::string item_path = index_path(path, i);
      Relationship relationship;
      if (item.is_string()) {
        relationship.id = item.get<std::string>();
      } else if (item.is_object()) {
        reader_.reject_unknown_fields(item, item_path, {"id", "versionRange"});
        relationship.id = reader_.string_field(item, item_path, "id", true, 128);
        relationship.version_range_text =
            reader_.string_field(item, item_path, "versionRange", false, 256);
      } else {
        reader_.error(item_path, "must be a plugin id or {\"id\", \"versionRange\"}, got " +
                                     json_type_name(item));
        continue;
      }
      if (!relationship.id.empty() && !is_valid_plugin_id(relationship.id)) {
        reader_.error(item_path, in_quotes(relationship.id) + " is not a valid plugin id");
        continue;
      }
      if (!relationship.version_range_text.empty()) {
        auto range = VersionRange::parse(relationship.version_range_text);
        if (!range.ok()) {
          reader_.error(join_path(item_path, "versionRange"), range.error().message());
          continue;
        }
        relationship.version_range = std::make_shared<const VersionRange>(std::move(range).value());
      }
      if (relationship.id == parsed_.manifest.id) {
        reader_.error(item_path, "a plugin cannot name itself");
        continue;
      }
      list.push_back(std::move(relationship));
    }
    return list;
  }

  void parse_relationships(const Json& document) {
    const Json& relationships = reader_.object_field(document, "", "relationships");
    reader_.reject_unknown_fields(relationships, "relationships",
                                  {"requires", "optional", "conflicts", "before", "after"});
    Relationships& r = parsed_.manifest.relationships;
    r.required = relationship_list(relationships, "requires");
    r.optional = relationship_list(relationships, "optional");
    r.conflicts = relationship_list(relationships, "conflicts");
    for (const Relationship& relationship : relationship_list(relationships, "before")) {
      r.before.push_back(relationship.id);
    }
    for (const Relationship& relationship : relationship_list(relationships, "after")) {
      r.after.push_back(relationship.id);
    }
    for (const Relationship& required : r.required) {
      for (const Relationship& conflict : r.conflicts) {
        if (required.id == conflict.id) {
          reader_.error("relationships",
                        in_quotes(required.id) + " is both required and conflicting");
        }
      }
    }
  }

  void parse_load(const Json& document) {
    const Json& load = reader_.object_field(document, "", "load");
    reader_.reject_unknown_fields(load, "load", {"priority"});
    std::string priority = reader_.string_field(load, "load", "priority", false, 32);
    if (priority.empty())
      return;
    static const std::vector<std::string> kPriorities = {"bootstrap", "high", "default", "low"};
    auto it = std::find(kPriorities.begin(), kPriorities.end(), priority);
    if (it == kPriorities.end()) {
      reader_.error("load.priority", "unknown priority " + in_quotes(priority) +
                                         did_you_mean(priority, kPriorities) +
                                         " (expected bootstrap, high, default or low)");
      return;
    }
    parsed_.manifest.load_priority = static_cast<LoadPriority>(it - kPriorities.begin());
  }

  void parse_limits(const Json& document) {
    const Json& limits = reader_.object_field(document, "", "limits");
    reader_.reject_unknown_fields(limits, "limits", {"timeoutMs", "memoryBytes"});
    ManifestLimits& out = parsed_.manifest.limits;
    constexpr uint64_t kMaxTimeout = uint64_t{10} * 60 * 1000;
    if (auto it = limits.find("timeoutMs"); it != limits.end() && !it->is_null()) {
      if (it->is_object()) {
        for (const auto& [key, value] : it->items()) {
          auto kind = parse_hook_kind(key);
          if (!kind) {
            reader_.error("limits.timeoutMs." + key,
                          "unknown hook kind " + in_quotes(key) +
                              " (expected notify, filter, collect, dispatch or request)");
            continue;
          }
          if (auto ms = reader_.unsigned_field(*it, "limits.timeoutMs", key, 1, kMaxTimeout)) {
            out.timeout_ms[*kind] = static_cast<uint32_t>(*ms);
          }
        }
      } else if (auto ms = reader_.unsigned_field(limits, "limits", "timeoutMs", 1, kMaxTimeout)) {
        for (HookKind kind : kAllHookKinds)
          out.timeout_ms[kind] = static_cast<uint32_t>(*ms);
      }
    }
    if (auto bytes =
            reader_.unsigned_field(limits, "limits", "memoryBytes", 1 << 20, uint64_t{1} << 40)) {
      out.memory_bytes = *bytes;
    }
  }

  void parse_compatibility(const Json& document) {
    const Json& compatibility = reader_.object_field(document, "", "compatibility");
    reader_.reject_unknown_fields(compatibility, "compatibility", {"minimumHostVersion"});
    std::string minimum =
        reader_.string_field(compatibility, "compatibility", "minimumHostVersion", false, 256);
    if (minimum.empty())
      return;
    auto required = Version::parse(minimum);
    if (!required.ok()) {
      reader_.error("compatibility.minimumHostVersion", required.error().message());
      return;
    }
    parsed_.manifest.minimum_host_version = minimum;
    auto host = Version::parse(vocabulary_.host_version);
    if (host.ok() && *host < *required) {
      reader_.error(
          "compatibility.minimumHostVersion",
          "plugin needs Outlet " + minimum + " or newer; this host is " + vocabulary_.host_version);
    }
  }

  void parse_authors(const Json& document) {
    auto it = document.find("authors");
    if (it == document.end() || it->is_null())
      return;
    if (!reader_.expect_type(*it, "authors", Json::value_t::array, "an array"))
      return;
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& item = (*it)[i];
      std::string path = index_path("authors", i);
      Author author;
      if (item.is_string()) {
        author.name = item.get<std::string>();
      } else if (item.is_object()) {
        reader_.reject_unknown_fields(item, path, {"name", "email", "url"});
        author.name = reader_.string_field(item, path, "name", true, 256);
        author.email = reader_.string_field(item, path, "email", false, 256);
        author.url = reader_.string_field(item, path, "url", false, 1024);
      } else {
        reader_.error(path, "must be a name or {\"name\", \"email\", \"url\"}");
        continue;
      }
      parsed_.manifest.authors.push_back(std::move(author));
    }
  }

  void parse_subscriptions(const Json& document) {
    const Json& subscriptions = reader_.object_field(document, "", "subscriptions");
    if (!document.contains("subscriptions"))
      return;
    std::vector<Subscription> list;
    for (const auto& [key, value] : subscriptions.items()) {
      std::string path = join_path("subscriptions", key);
      auto kind = parse_hook_kind(key);
      if (!kind) {
        reader_.error(path, "unknown hook kind " + in_quotes(key) +
                                " (expected notify, filter, collect, dispatch or request)");
        continue;
      }
      if (!reader_.expect_type(value, path, Json::value_t::array, "an array"))
        continue;
      for (size_t i = 0; i < value.size(); ++i) {
        const Json& item = value[i];
        std::string item_path = index_path(path, i);
        Subscription subscription;
        subscription.kind = *kind;
        if (item.is_string()) {
          subscription.event = item.get<std::string>();
        } else if (item.is_object()) {
          reader_.reject_unknown_fields(item, item_path, {"event", "priority"});
          subscription.event = reader_.string_field(item, item_path, "event", true, 128);
          if (auto priority = item.find("priority"); priority != item.end()) {
            if (!priority->is_number_integer() || priority->get<int64_t>() < -1000000 ||
                priority->get<int64_t>() > 1000000) {
              reader_.error(join_path(item_path, "priority"),
                            "must be an integer between -1000000 and 1000000");
            } else {
              subscription.priority = priority->get<int>();
            }
          }
        } else {
          reader_.error(item_path, "must be an event name or {\"event\", \"priority\"}");
          continue;
        }
        if (!is_valid_event_name(subscription.event)) {
          reader_.error(item_path, in_quotes(subscription.event) + " is not a valid event name");
          continue;
        }
        if (std::find(list.begin(), list.end(), subscription) != list.end()) {
          reader_.error(item_path, "duplicate subscription " + in_quotes(subscription.event));
          continue;
        }
        list.push_back(std::move(subscription));
      }
    }
    parsed_.manifest.subscriptions = std::move(list);
  }

  const ManifestVocabulary& vocabulary_;
  FieldReader reader_;
  ParsedManifest parsed_;
};

}  // namespace

std::string_view runtime_kind_name(RuntimeKind kind) {
  switch (kind) {
    case RuntimeKind::kNative:
      return "native";
    case RuntimeKind::kLua:
      return "lua";
    case RuntimeKind::kJs:
      return "js";
    case RuntimeKind::kWasm:
      return "wasm";
  }
  return "unknown";
}

std::string_view load_priority_name(LoadPriority priority) {
  switch (priority) {
    case LoadPriority::kBootstrap:
      return "bootstrap";
    case LoadPriority::kHigh:
      return "high";
    case LoadPriority::kDefault:
      return "default";
    case LoadPriority::kLow:
      return "low";
  }
  return "default";
}

std::string_view trigger_type_name(TriggerType type) {
  switch (type) {
    case TriggerType::kModerate:
      return "moderate";
    case TriggerType::kCommand:
      return "command";
    case TriggerType::kKeyword:
      return "keyword";
    case TriggerType::kPattern:
      return "pattern";
    case TriggerType::kEvent:
      return "event";
    case TriggerType::kTimer:
      return "timer";
  }
  return "unknown";
}

bool Manifest::has_permission(std::string_view permission) const {
  return std::find(permissions.begin(), permissions.end(), permission) != permissions.end();
}

const PluginEventSpec* Manifest::find_event(std::string_view event_name) const {
  for (const PluginEventSpec& spec : events) {
    if (spec.name == event_name)
      return &spec;
  }
  return nullptr;
}

bool Manifest::is_admin_path(std::string_view path) const {
  for (const AdminPage& page : admin_pages) {
    if (glob_matches(path, page.path))
      return true;
    // "/admin" names a page and the folder it is served from: everything beneath it
    // is gated too. Failing closed: an API an admin page calls is never left public.
    std::string_view base = page.path;
    while (!base.empty() && base.back() == '/')
      base.remove_suffix(1);
    if (base.find_first_of("*?") == std::string_view::npos && path.size() > base.size() &&
        path.substr(0, base.size()) == base && path[base.size()] == '/') {
      return true;
    }
  }
  return false;
}

bool is_valid_plugin_id(std::string_view id) {
  static const RE2 kPattern("[a-z0-9][a-z0-9.-]{1,126}[a-z0-9]");
  return matches_whole(id, kPattern);
}

bool is_valid_event_name(std::string_view name) {
  static const RE2 kPattern("[a-z][a-z0-9.:-]{1,126}[a-z0-9]");
  return matches_whole(name, kPattern);
}

Result<ParsedManifest> parse_manifest(const Json& document, const ManifestVocabulary& vocabulary) {
  return ManifestParser(vocabulary).parse(document);
}

Result<ParsedManifest> parse_manifest_text(std::string_view text,
                                           const ManifestVocabulary& vocabulary) {
  // A manifest is a small document; a huge one is an attack or a mistake.
  constexpr size_t kMaxManifestBytes = 1 << 20;
  if (text.size() > kMaxManifestBytes) {
    return Error(ErrorCode::kResourceExhausted, "plugin.json is invalid",
                 {{"", "must be at most 1 MiB, got " + std::to_string(text.size()) + " bytes"}});
  }
  auto document = parse_json_text(text, "plugin.json");
  if (!document.ok())
    return document.error();
  return parse_manifest(*document, vocabulary);
}

}  // namespace outlet
