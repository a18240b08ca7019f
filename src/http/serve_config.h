// `outlet serve`'s settings: one table (kServeSettings) names each setting, its
// environment variable, flag, type, default and meaning; a JSON file, then the
// environment, then flags set them, later winning. Every bad value is reported at
// once, naming the setting, where it came from, and the rule.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "outlet/result.h"

namespace outlet::http {

struct ServeConfig {
  std::string listen_address = "127.0.0.1";
  uint16_t listen_port = 8080;
  std::string data_dir = "outlet-data";
  std::string plugins_dir;  // "" = <data_dir>/plugins
  std::string tenant = "default";
  size_t io_threads = 2;
  size_t worker_threads = 2;
  size_t max_body_bytes = 1 << 20;
  size_t max_connections = 1024;
  uint32_t strike_limit = 5;
  std::chrono::milliseconds shutdown_grace{10000};
  bool wasm_wasi = true;
};

enum class SettingType { kString, kListen, kCount, kBool };

struct ServeSetting {
  const char* name;  // in the file; the flag is --name with '_' as '-'
  const char* env;
  SettingType type;
  const char* default_text;
  const char* description;
  uint64_t min = 0;
  uint64_t max = 0;
};

std::span<const ServeSetting> serve_settings();

struct ServeConfigSources {
  std::string file;                          // "" = none
  std::map<std::string, std::string> env;    // the process environment, or a test's
  std::map<std::string, std::string> flags;  // setting name → value given on the command line
};

Result<ServeConfig> load_serve_config(const ServeConfigSources& sources);

// The flag a setting is set by, e.g. "--data-dir".
std::string setting_flag(const ServeSetting& setting);

}  // namespace outlet::http
