#include "core/owncast_manifest.h"

#include <cctype>
#include <map>
#include <set>

#include "outlet/manifest.h"

namespace outlet {
namespace {

// Owncast permission → the Outlet permissions that give the same functions.
// chat.filter has no Outlet counterpart: any Outlet plugin may filter.
const std::map<std::string, std::vector<std::string>, std::less<>>& permission_map() {
  static const std::map<std::string, std::vector<std::string>, std::less<>> kMap = {
      {"chat.send", {"chat.send", "chat.system"}},
      {"chat.filter", {}},
      {"chat.moderate", {"chat.moderate"}},
      {"storage.kv", {"storage.kv"}},
      {"events.emit", {"events.emit"}},
      {"network.fetch", {"network.fetch"}},
      {"http.serve", {"http.serve"}},
      {"http.sse", {"http.sse"}},
  };
  return kMap;
}

// Fields that describe UI in Owncast's web app; they need Outlet's server.
const std::set<std::string, std::less<>>& ui_fields() {
  static const std::set<std::string, std::less<>> kFields = {"actions", "styles", "scripts",
                                                             "extraPageContent", "tabs"};
  return kFields;
}

// Owncast derives a missing slug from the name: letters and digits lowercased,
// every other run of characters one "-", no "-" at either end.
std::string slug_from(const std::string& name) {
  std::string slug;
  bool dash = false;
  for (unsigned char c : name) {
    if (std::isalnum(c) != 0 && c < 0x80) {
      if (dash && !slug.empty())
        slug += '-';
      dash = false;
      slug += static_cast<char>(std::tolower(c));
    } else {
      dash = true;
    }
  }
  return slug;
}

bool is_owncast_slug(const std::string& slug) {
  if (slug.empty() || slug.size() > 64 || slug[0] < 'a' || slug[0] > 'z')
    return false;
  for (char c : slug) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
      return false;
  }
  return true;
}

}  // namespace

Result<Json> translate_owncast_manifest(const Json& document, const std::string& entrypoint,
                                        std::vector<ErrorDetail>& notes) {
  std::vector<ErrorDetail> problems;
  if (!document.is_object()) {
    return Error(ErrorCode::kInvalidArgument, "plugin.manifest.json must be a JSON object",
                 {{"", "must be an object"}});
  }
  auto string_field = [&](const char* name, bool required) -> std::string {
    auto it = document.find(name);
    if (it == document.end()) {
      if (required)
        problems.push_back({name, "is required"});
      return "";
    }
    if (!it->is_string() || (required && it->get<std::string>().empty())) {
      problems.push_back({name, required ? "must be a non-empty string" : "must be a string"});
      return "";
    }
    return it->get<std::string>();
  };
  Json manifest = Json::object();
  if (auto api = document.find("api"); api == document.end() || *api != "1")
    problems.push_back({"api", "must be \"1\" (the plugin SDK's manifest version)"});
  std::string name = string_field("name", true);
  std::string slug = string_field("slug", false);
  if (slug.empty() && !name.empty())
    slug = slug_from(name);
  if (!slug.empty() && !is_owncast_slug(slug)) {
    problems.push_back({"slug", "\"" + slug + "\" must match ^[a-z][a-z0-9-]{0,63}$"});
  } else if (!slug.empty() && !is_valid_plugin_id(slug)) {
    problems.push_back({"slug", "\"" + slug +
                                    "\" is too short for an Outlet plugin id (3 to 128 "
                                    "characters, not ending in \"-\")"});
  }
  std::string version = string_field("version", true);
  std::string description = string_field("description", false);
  manifest["id"] = slug;
  manifest["name"] = name;
  manifest["version"] = version;
  if (!description.empty())
    manifest["description"] = description;
  manifest["kind"] = "bot-module";
  manifest["runtime"] = "js";
  manifest["entrypoint"] = entrypoint;

  // Owncast sends console output to the host's log unasked; Outlet's "log"
  // permission does that.
  std::vector<std::string> permissions = {"log"};
  if (auto list = document.find("permissions"); list != document.end()) {
    if (!list->is_array()) {
      problems.push_back({"permissions", "must be an array of permission names"});
    } else {
      for (size_t i = 0; i < list->size(); ++i) {
        std::string path = "permissions[" + std::to_string(i) + "]";
        const Json& item = (*list)[i];
        if (!item.is_string()) {
          problems.push_back({path, "must be a string"});
          continue;
        }
        auto mapped = permission_map().find(item.get<std::string>());
        if (mapped == permission_map().end()) {
          notes.push_back({path, "\"" + item.get<std::string>() +
                                     "\" has no Outlet counterpart yet; the owncast.* functions "
                                     "it unlocks throw \"permission not granted\""});
          continue;
        }
        for (const std::string& permission : mapped->second) {
          if (std::find(permissions.begin(), permissions.end(), permission) == permissions.end())
            permissions.push_back(permission);
        }
      }
    }
  }
  manifest["permissions"] = permissions;

  if (auto network = document.find("network"); network != document.end()) {
    if (!network->is_object()) {
      problems.push_back({"network", "must be an object"});
    } else {
      manifest["network"] = *network;  // allowedHosts: the same globs and rules
    }
  }

  if (auto admin = document.find("admin"); admin != document.end()) {
    if (!admin->is_object()) {
      problems.push_back({"admin", "must be an object: {\"pages\": [{title, path, icon?}]}"});
    } else {
      manifest["admin"] = *admin;  // pages: the same fields and rules
    }
  }

  // Owncast's settings: {key: {type, default?, description?}} → a JSON Schema.
  if (auto config = document.find("config"); config != document.end()) {
    if (!config->is_object()) {
      problems.push_back({"config", "must be an object of setting name -> {type, default?}"});
    } else {
      Json properties = Json::object();
      for (const auto& [key, setting] : config->items()) {
        std::string path = "config." + key;
        if (!setting.is_object() || !setting.contains("type") || !setting["type"].is_string()) {
          problems.push_back({path, "must be {\"type\": ..., \"default\"?, \"description\"?}"});
          continue;
        }
        Json property = {{"type", setting["type"]}};
        for (const char* field : {"default", "description"}) {
          if (setting.contains(field))
            property[field] = setting[field];
        }
        properties[key] = property;
      }
      manifest["config"] = {{"type", "object"}, {"properties", properties}};
    }
  }

  for (const auto& [key, value] : document.items()) {
    static const std::set<std::string, std::less<>> kKnown = {
        "api",    "name",          "slug",    "version",     "description", "bot",
        "config", "subscriptions", "network", "permissions", "admin"};
    if (ui_fields().count(key) != 0) {
      notes.push_back({key, "is not supported yet: it needs Outlet's server (issue #5)"});
    } else if (key == "bot") {
      notes.push_back({"bot", "is not used: Outlet's chat domain posts as its own bot user"});
    } else if (kKnown.count(key) == 0) {
      notes.push_back({key, "is not a field of plugin.manifest.json; ignored"});
    }
    // "subscriptions" is ignored as Owncast ignores it: the handlers decide.
  }
  if (!problems.empty()) {
    std::string first = problems.front().path + ": " + problems.front().rule;
    return Error(ErrorCode::kInvalidArgument, "plugin.manifest.json is invalid: " + first,
                 std::move(problems));
  }
  return manifest;
}

}  // namespace outlet
