#include "http/serve_config.h"

#include <algorithm>
#include <array>
#include <charconv>

#include "core/json_text.h"
#include "core/suggest.h"
#include "outlet/discovery.h"

namespace outlet::http {
namespace {

constexpr size_t kMaxConfigBytes = 1 << 20;

constexpr std::array<ServeSetting, 12> kSettings = {{
    {"listen", "OUTLET_LISTEN", SettingType::kListen, "127.0.0.1:8080",
     "address:port to serve HTTP on (port 0: any free port)"},
    {"data_dir", "OUTLET_DATA_DIR", SettingType::kString, "outlet-data",
     "where settings, tokens and plugin data are stored (created if missing)"},
    {"plugins_dir", "OUTLET_PLUGINS_DIR", SettingType::kString, "<data_dir>/plugins",
     "the folder plugins are discovered in"},
    {"tenant", "OUTLET_TENANT", SettingType::kString, "default",
     "the tenant plugins are installed for"},
    {"io_threads", "OUTLET_IO_THREADS", SettingType::kCount, "2", "HTTP I/O threads", 1, 64},
    {"worker_threads", "OUTLET_WORKER_THREADS", SettingType::kCount, "2",
     "threads that deliver notifications to plugins", 1, 64},
    {"max_body_bytes", "OUTLET_MAX_BODY_BYTES", SettingType::kCount, "1048576",
     "largest request body accepted (413 beyond)", 1024, uint64_t{1} << 30},
    {"max_connections", "OUTLET_MAX_CONNECTIONS", SettingType::kCount, "1024",
     "open connections beyond which new ones are closed", 1, 1000000},
    {"strike_limit", "OUTLET_STRIKE_LIMIT", SettingType::kCount, "5",
     "consecutive failures that disable a plugin", 1, 1000},
    {"shutdown_grace_ms", "OUTLET_SHUTDOWN_GRACE_MS", SettingType::kCount, "10000",
     "how long SIGINT/SIGTERM waits for requests in flight", 0, 600000},
    {"wasm_wasi", "OUTLET_WASM_WASI", SettingType::kBool, "true",
     "offer capability-free WASI to wasm plugins"},
    {"config", "OUTLET_CONFIG", SettingType::kString, "",
     "a JSON file with any of these settings (flags and environment win)"},
}};

struct Listen {
  std::string address;
  uint16_t port;
};

// "host:port" or "[v6]:port"; the rule is named in the error.
std::optional<Listen> parse_listen(std::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return std::nullopt;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string_view port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    return std::nullopt;
  return Listen{std::string(host), static_cast<uint16_t>(port)};
}

class Builder {
 public:
  // A value as text (flags and environment); `where` says which, for errors.
  void set_text(const ServeSetting& setting, const std::string& text, const std::string& where) {
    switch (setting.type) {
      case SettingType::kString:
      case SettingType::kListen:
        return apply(setting, Json(text), where);
      case SettingType::kBool:
        if (text == "true" || text == "1" || text == "yes")
          return apply(setting, Json(true), where);
        if (text == "false" || text == "0" || text == "no")
          return apply(setting, Json(false), where);
        return bad(setting, where, "must be true or false");
      case SettingType::kCount: {
        uint64_t number = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
        if (ec != std::errc() || end != text.data() + text.size() || text.empty())
          return bad(setting, where, "must be a whole number");
        return apply(setting, Json(number), where);
      }
    }
  }

  void apply(const ServeSetting& setting, const Json& value, const std::string& where) {
    const std::string name = setting.name;
    switch (setting.type) {
      case SettingType::kString:
        if (!value.is_string() || value.get<std::string>().empty())
          return bad(setting, where, "must be a non-empty string");
        if (name == "data_dir")
          config_.data_dir = value.get<std::string>();
        else if (name == "plugins_dir")
          config_.plugins_dir = value.get<std::string>();
        else if (name == "tenant")
          config_.tenant = value.get<std::string>();
        return;
      case SettingType::kListen: {
        auto listen = value.is_string() ? parse_listen(value.get<std::string>()) : std::nullopt;
        if (!listen)
          return bad(setting, where, "must be \"address:port\", e.g. \"127.0.0.1:8080\"");
        config_.listen_address = listen->address;
        config_.listen_port = listen->port;
        return;
      }
      case SettingType::kBool:
        if (!value.is_boolean())
          return bad(setting, where, "must be true or false");
        config_.wasm_wasi = value.get<bool>();
        return;
      case SettingType::kCount: {
        if (!value.is_number_unsigned() &&
            !(value.is_number_integer() && value.get<int64_t>() >= 0))
          return bad(setting, where, "must be a whole number");
        const uint64_t number = value.get<uint64_t>();
        if (number < setting.min || number > setting.max) {
          return bad(setting, where,
                     "must be between " + std::to_string(setting.min) + " and " +
                         std::to_string(setting.max));
        }
        if (name == "io_threads")
          config_.io_threads = number;
        else if (name == "worker_threads")
          config_.worker_threads = number;
        else if (name == "max_body_bytes")
          config_.max_body_bytes = number;
        else if (name == "max_connections")
          config_.max_connections = number;
        else if (name == "strike_limit")
          config_.strike_limit = static_cast<uint32_t>(number);
        else if (name == "shutdown_grace_ms")
          config_.shutdown_grace = std::chrono::milliseconds(number);
        return;
      }
    }
  }

  void bad(const ServeSetting& setting, const std::string& where, const std::string& rule) {
    problems_.push_back({std::string(setting.name) + " (" + where + ")", rule});
  }
  void problem(std::string path, std::string rule) {
    problems_.push_back({std::move(path), std::move(rule)});
  }

  Result<ServeConfig> finish() {
    if (!problems_.empty())
      return Error(ErrorCode::kInvalidArgument, "invalid server configuration", problems_);
    if (config_.plugins_dir.empty())
      config_.plugins_dir = config_.data_dir + "/plugins";
    return config_;
  }

 private:
  ServeConfig config_;
  std::vector<ErrorDetail> problems_;
};

const ServeSetting* find_setting(std::string_view name) {
  for (const ServeSetting& setting : kSettings) {
    if (name == setting.name)
      return &setting;
  }
  return nullptr;
}

}  // namespace

std::span<const ServeSetting> serve_settings() {
  return kSettings;
}

std::string setting_flag(const ServeSetting& setting) {
  std::string flag = std::string("--") + setting.name;
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

Result<ServeConfig> load_serve_config(const ServeConfigSources& sources) {
  Builder builder;
  std::string file = sources.file;
  if (auto it = sources.flags.find("config"); it != sources.flags.end())
    file = it->second;
  else if (auto env = sources.env.find("OUTLET_CONFIG"); env != sources.env.end() && file.empty())
    file = env->second;

  if (!file.empty()) {
    if (file.ends_with(".toml")) {
      return Error(ErrorCode::kInvalidArgument, "unsupported configuration file " + file,
                   {{"config", "must be a JSON file (TOML is not read)"}});
    }
    auto text = read_file_capped(file, kMaxConfigBytes);
    if (!text.ok())
      return Error(text.error().code(),
                   "cannot read configuration file " + file + ": " + text.error().message());
    auto document = parse_json_text(*text, "configuration file " + file);
    if (!document.ok())
      return document.error();
    if (!document->is_object()) {
      return Error(ErrorCode::kInvalidArgument, "invalid server configuration",
                   {{file, "must be a JSON object of settings"}});
    }
    std::vector<std::string> names;
    names.reserve(kSettings.size());
    for (const ServeSetting& setting : kSettings)
      names.emplace_back(setting.name);
    for (const auto& [key, value] : document->items()) {
      const ServeSetting* setting = find_setting(key);
      if (setting == nullptr || key == "config") {
        builder.problem(key + " (" + file + ")", "unknown setting" + did_you_mean(key, names));
        continue;
      }
      builder.apply(*setting, value, file);
    }
  }
  for (const ServeSetting& setting : kSettings) {
    if (std::string_view(setting.name) == "config")
      continue;
    if (auto it = sources.env.find(setting.env); it != sources.env.end())
      builder.set_text(setting, it->second, "environment " + std::string(setting.env));
  }
  for (const auto& [name, value] : sources.flags) {
    const ServeSetting* setting = find_setting(name);
    if (setting == nullptr) {
      builder.problem(name, "unknown setting");
      continue;
    }
    if (name != "config")
      builder.set_text(*setting, value, setting_flag(*setting));
  }
  return builder.finish();
}

}  // namespace outlet::http
