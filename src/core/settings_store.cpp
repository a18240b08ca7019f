#include "core/settings_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/json_text.h"
#include "core/text.h"
#include "outlet/discovery.h"

namespace outlet {
namespace {

constexpr size_t kMaxSettingsBytes = 64 << 20;
constexpr int kFormatVersion = 1;

Json to_json(const PluginSettings& s) {
  Json j = {{"enabled", s.enabled},
            {"approvedPermissions", s.approved_permissions},
            {"approvedVersion", s.approved_version},
            {"config", s.config},
            {"secrets", s.secrets}};
  if (!s.disabled_reason.empty())
    j["disabledReason"] = s.disabled_reason;
  return j;
}

Result<PluginSettings> from_json(const Json& j, const std::string& id) {
  try {
    PluginSettings s;
    s.enabled = j.value("enabled", false);
    s.approved_permissions = j.value("approvedPermissions", std::vector<std::string>{});
    s.approved_version = j.value("approvedVersion", std::string());
    s.config = j.value("config", Json());
    s.secrets = j.value("secrets", std::map<std::string, std::string>{});
    s.disabled_reason = j.value("disabledReason", std::string());
    return s;
  } catch (const Json::exception& e) {
    return Error(ErrorCode::kInvalidArgument, "settings file is corrupt",
                 {{"plugins." + id, e.what()}});
  }
}

Status errno_error(const std::string& what, const std::string& path) {
  return Error(ErrorCode::kUnavailable, what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Status write_file_atomically(const std::string& path, const std::string& content) {
  std::string temp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return errno_error("cannot create", temp);
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      Status failure = errno_error("cannot write", temp);
      ::close(fd);
      ::unlink(temp.c_str());
      return failure;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status failure = errno_error("cannot fsync", temp);
    ::close(fd);
    ::unlink(temp.c_str());
    return failure;
  }
  ::close(fd);
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    Status failure = errno_error("cannot rename into", path);
    ::unlink(temp.c_str());
    return failure;
  }
  // The rename is durable only once the directory entry is.
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return {};
}

Result<std::unique_ptr<SettingsStore>> SettingsStore::open(const std::string& path) {
  std::unique_ptr<SettingsStore> store(new SettingsStore(path));
  if (path.empty())
    return store;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return store;
  auto text = read_file_capped(path, kMaxSettingsBytes);
  if (!text.ok())
    return text.error();
  auto parsed = parse_json_text(*text, "settings file " + path);
  if (!parsed.ok()) {
    return Error(
        ErrorCode::kInvalidArgument,
        parsed.error().message() + " (" + parsed.error().details()[0].rule + "); fix or remove it");
  }
  const Json& document = *parsed;
  if (!document.is_object()) {
    return Error(ErrorCode::kInvalidArgument,
                 "settings file " + path + " is corrupt (not a JSON object); fix or remove it");
  }
  const Json version = document.value("version", Json(0));
  if (!version.is_number_integer() || version.get<int64_t>() != kFormatVersion) {
    return Error(ErrorCode::kInvalidArgument,
                 "settings file " + path + " has unsupported version " + dump_short(version));
  }
  const Json& plugins = document.value("plugins", Json::object());
  if (!plugins.is_object()) {
    return Error(ErrorCode::kInvalidArgument, "settings file " + path + " is corrupt",
                 {{"plugins", "must be an object"}});
  }
  for (const auto& [id, value] : plugins.items()) {
    auto settings = from_json(value, id);
    if (!settings.ok())
      return settings.error();
    store->plugins_[id] = std::move(settings).value();
  }
  return store;
}

PluginSettings SettingsStore::get(const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = plugins_.find(id);
  return it == plugins_.end() ? PluginSettings{} : it->second;
}

std::vector<std::string> SettingsStore::ids() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> ids;
  for (const auto& [id, settings] : plugins_)
    ids.push_back(id);
  return ids;
}

Status SettingsStore::persist(const std::map<std::string, PluginSettings>& plugins) const {
  if (path_.empty())
    return {};
  Json document = {{"version", kFormatVersion}, {"plugins", Json::object()}};
  for (const auto& [id, settings] : plugins)
    document["plugins"][id] = to_json(settings);
  return write_file_atomically(path_, dump_json(document, 2) + "\n");
}

Status SettingsStore::update(const std::string& id,
                             const std::function<void(PluginSettings&)>& change) {
  std::lock_guard lock(mutex_);
  std::map<std::string, PluginSettings> next = plugins_;
  change(next[id]);
  if (Status written = persist(next); !written.ok())
    return written;
  plugins_ = std::move(next);
  return {};
}

Status SettingsStore::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  std::map<std::string, PluginSettings> next = plugins_;
  next.erase(id);
  if (Status written = persist(next); !written.ok())
    return written;
  plugins_ = std::move(next);
  return {};
}

std::vector<std::string> SettingsStore::missing_grants(const Manifest& manifest) const {
  PluginSettings settings = get(manifest.id);
  std::vector<std::string> missing;
  for (const std::string& permission : manifest.permissions) {
    if (std::find(settings.approved_permissions.begin(), settings.approved_permissions.end(),
                  permission) == settings.approved_permissions.end()) {
      missing.push_back(permission);
    }
  }
  return missing;
}

std::vector<std::string> SettingsStore::effective_grants(const Manifest& manifest) const {
  PluginSettings settings = get(manifest.id);
  std::vector<std::string> granted;
  for (const std::string& permission : manifest.permissions) {
    if (std::find(settings.approved_permissions.begin(), settings.approved_permissions.end(),
                  permission) != settings.approved_permissions.end()) {
      granted.push_back(permission);
    }
  }
  return granted;
}

}  // namespace outlet
