// Discovery (seeds/002): a plugins directory, one level deep, one `plugin.json`
// per folder. Each folder's problems are collected; none is fatal to the others.
#pragma once

#include <string>
#include <vector>

#include "outlet/manifest.h"
#include "outlet/result.h"

namespace outlet {

struct DiscoveredPlugin {
  std::string root;  // the plugin folder, resolved (realpath)
  std::string manifest_path;
  std::string entrypoint_path;  // resolved, proven inside root
  ParsedManifest parsed;
};

struct DiscoveryProblem {
  std::string folder;
  Error error;
};

struct DiscoveryReport {
  std::vector<DiscoveredPlugin> plugins;
  std::vector<DiscoveryProblem> problems;
};

// Reads one plugin folder.
Result<DiscoveredPlugin> read_plugin_folder(const std::string& folder,
                                            const ManifestVocabulary& vocabulary);

// Scans `plugins_dir` one level deep. Hidden folders (".x") are skipped; a
// missing directory is an error of its own.
Result<DiscoveryReport> discover_plugins(const std::string& plugins_dir,
                                         const ManifestVocabulary& vocabulary);

// Resolves `relative` under `root` and proves the result stays inside root after
// following every symlink. Returns the resolved path.
Result<std::string> resolve_inside(const std::string& root, const std::string& relative,
                                   const std::string& field);

// Reads a whole file, refusing anything larger than `max_bytes`.
Result<std::string> read_file_capped(const std::string& path, size_t max_bytes);

}  // namespace outlet
