#include "outlet/discovery.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/json_text.h"
#include "core/owncast_manifest.h"

namespace outlet {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxManifestBytes = 1 << 20;
constexpr size_t kMaxPluginFolders = 10000;

bool is_inside(const fs::path& root, const fs::path& candidate) {
  auto root_it = root.begin();
  auto it = candidate.begin();
  for (; root_it != root.end(); ++root_it, ++it) {
    if (it == candidate.end() || *it != *root_it)
      return false;
  }
  return true;
}

}  // namespace

Result<std::string> read_file_capped(const std::string& path, size_t max_bytes) {
  // O_NONBLOCK: a FIFO or device planted under a plugin's name must not hang the
  // host; only regular files are read.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return Error(ErrorCode::kNotFound, "cannot read " + path + ": " + std::strerror(errno));
  }
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return Error(ErrorCode::kInvalidArgument, path + " is not a regular file");
  }
  if (static_cast<uint64_t>(info.st_size) > max_bytes) {
    ::close(fd);
    return Error(ErrorCode::kResourceExhausted,
                 path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::string content;
  content.resize(static_cast<size_t>(info.st_size) + 1);
  size_t filled = 0;
  for (;;) {
    ssize_t n = ::read(fd, content.data() + filled, content.size() - filled);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    filled += static_cast<size_t>(n);
    if (filled == content.size()) {
      if (filled > max_bytes)
        break;  // grew while we read it
      content.resize(std::min(content.size() * 2, max_bytes + 1));
    }
  }
  ::close(fd);
  if (filled > max_bytes) {
    return Error(ErrorCode::kResourceExhausted,
                 path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  content.resize(filled);
  return content;
}

Result<std::string> resolve_inside(const std::string& root, const std::string& relative,
                                   const std::string& field) {
  std::error_code ec;
  fs::path real_root = fs::canonical(root, ec);
  if (ec) {
    return Error(ErrorCode::kNotFound, "plugin root " + root + " cannot be resolved",
                 {{"", ec.message()}});
  }
  fs::path target = real_root / relative;
  fs::path real_target = fs::canonical(target, ec);
  if (ec) {
    return Error(ErrorCode::kNotFound, field + " \"" + relative + "\" does not exist",
                 {{field, "file not found under the plugin root"}});
  }
  if (!is_inside(real_root, real_target)) {
    return Error(ErrorCode::kPermissionDenied,
                 field + " \"" + relative + "\" escapes the plugin root",
                 {{field, "resolves to " + real_target.string() + ", outside " +
                              real_root.string() + " (symlinks are followed)"}});
  }
  if (!fs::is_regular_file(real_target, ec)) {
    return Error(ErrorCode::kInvalidArgument, field + " \"" + relative + "\" is not a file",
                 {{field, "must name a regular file"}});
  }
  return real_target.string();
}

namespace {

// An Owncast plugin project (seeds/003): plugin.manifest.json and src/plugin.js.
Result<DiscoveredPlugin> read_owncast_project(const fs::path& root,
                                              const ManifestVocabulary& vocabulary) {
  auto inside = resolve_inside(root.string(), kOwncastManifestFile, kOwncastManifestFile);
  if (!inside.ok())
    return inside.error();
  auto text = read_file_capped(*inside, kMaxManifestBytes);
  if (!text.ok())
    return text.error();
  auto document = parse_json_text(*text, kOwncastManifestFile);
  if (!document.ok())
    return document.error();
  std::error_code ec;
  std::string entrypoint =
      fs::exists(root / "src" / "plugin.js", ec) ? "src/plugin.js" : "plugin.js";
  std::vector<ErrorDetail> notes;
  auto translated = translate_owncast_manifest(*document, entrypoint, notes);
  if (!translated.ok())
    return translated.error();
  auto parsed = parse_manifest(*translated, vocabulary);
  if (!parsed.ok()) {
    return Error(
        ErrorCode::kInvalidArgument,
        "plugin.manifest.json, read as an Outlet manifest, is invalid: " + parsed.error().message(),
        parsed.error().details());
  }
  parsed->manifest.emits_undeclared_events = true;  // as Owncast plugins do
  for (ErrorDetail& note : notes)
    parsed->warnings.push_back({"plugin.manifest.json: " + note.path, std::move(note.rule)});
  auto resolved = resolve_inside(root.string(), entrypoint, "entrypoint");
  if (!resolved.ok()) {
    return Error(ErrorCode::kNotFound,
                 "an Owncast plugin project needs its script in src/plugin.js: " +
                     resolved.error().message());
  }
  return DiscoveredPlugin{root.string(), (root / kOwncastManifestFile).string(),
                          std::move(resolved).value(), std::move(parsed).value()};
}

}  // namespace

Result<DiscoveredPlugin> read_plugin_folder(const std::string& folder,
                                            const ManifestVocabulary& vocabulary) {
  std::error_code ec;
  fs::path root = fs::canonical(folder, ec);
  if (ec)
    return Error(ErrorCode::kNotFound, folder + ": " + ec.message());
  fs::path manifest_path = root / "plugin.json";
  if (!fs::exists(manifest_path, ec)) {
    if (fs::exists(root / kOwncastManifestFile, ec))
      return read_owncast_project(root, vocabulary);
    return Error(ErrorCode::kNotFound, folder + " has no plugin.json");
  }
  // The manifest, like the entrypoint, must really live in the plugin's folder.
  auto inside = resolve_inside(root.string(), "plugin.json", "plugin.json");
  if (!inside.ok())
    return inside.error();
  auto text = read_file_capped(*inside, kMaxManifestBytes);
  if (!text.ok())
    return text.error();
  auto parsed = parse_manifest_text(*text, vocabulary);
  if (!parsed.ok())
    return parsed.error();
  auto entrypoint = resolve_inside(root.string(), parsed->manifest.entrypoint, "entrypoint");
  if (!entrypoint.ok())
    return entrypoint.error();
  return DiscoveredPlugin{root.string(), manifest_path.string(), std::move(entrypoint).value(),
                          std::move(parsed).value()};
}

Result<DiscoveryReport> discover_plugins(const std::string& plugins_dir,
                                         const ManifestVocabulary& vocabulary) {
  std::error_code ec;
  fs::directory_iterator it(plugins_dir, ec);
  if (ec) {
    return Error(ErrorCode::kNotFound,
                 "cannot read plugins directory " + plugins_dir + ": " + ec.message());
  }
  std::vector<fs::path> folders;
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec)
      break;
    const fs::path& path = it->path();
    if (path.filename().string().front() == '.')
      continue;
    if (!it->is_directory(ec))
      continue;
    folders.push_back(path);
    if (folders.size() > kMaxPluginFolders)
      break;
  }
  std::sort(folders.begin(), folders.end());
  DiscoveryReport report;
  if (folders.size() > kMaxPluginFolders) {
    folders.resize(kMaxPluginFolders);
    report.problems.push_back({plugins_dir, Error(ErrorCode::kResourceExhausted,
                                                  "more than " + std::to_string(kMaxPluginFolders) +
                                                      " plugin folders; the rest were not read")});
  }
  for (const fs::path& folder : folders) {
    auto plugin = read_plugin_folder(folder.string(), vocabulary);
    if (plugin.ok()) {
      report.plugins.push_back(std::move(plugin).value());
    } else {
      report.problems.push_back({folder.string(), plugin.error()});
    }
  }
  return report;
}

}  // namespace outlet
