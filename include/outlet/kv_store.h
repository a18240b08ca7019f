// The plugin key-value store: one interface, an in-memory backend for tests and
// ephemeral hosts, and a SQLite backend for everything that must outlive the process.
// An embedding application may supply its own backend by implementing KvStore.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outlet/json.h"
#include "outlet/result.h"

namespace outlet {

// Namespaces isolate plugins (and later tenants): the host builds the namespace
// string, e.g. "default/word-filter"; a backend never lets a key of one namespace be
// read through another.
struct KvEntry {
  std::string key;
  Json value;
};

class KvStore {
 public:
  virtual ~KvStore() = default;

  virtual Result<std::optional<Json>> get(std::string_view ns, std::string_view key) = 0;
  virtual Status set(std::string_view ns, std::string_view key, const Json& value) = 0;
  virtual Result<bool> remove(std::string_view ns, std::string_view key) = 0;  // true if it existed
  // Keys in byte order starting with `prefix`, at most `limit` entries (limit 0 = no limit).
  virtual Result<std::vector<KvEntry>> list(std::string_view ns, std::string_view prefix,
                                            size_t limit) = 0;
  // Removes every key of a namespace (uninstall --purge). Returns count removed.
  virtual Result<size_t> clear(std::string_view ns) = 0;
  // Total bytes (key + serialized value) stored in a namespace, for per-plugin quotas.
  virtual Result<uint64_t> size_bytes(std::string_view ns) = 0;
};

std::unique_ptr<KvStore> make_memory_kv_store();

// Opens (creating if needed) a SQLite database file in WAL mode.
Result<std::unique_ptr<KvStore>> open_sqlite_kv_store(const std::string& path);

// Limits every backend enforces. They are public, and the checks below inline, so that
// a plugin sees the same rules and messages whichever backend the host runs, including
// one the embedding application wrote.
inline constexpr size_t kKvMaxKeyBytes = 1024;
inline constexpr size_t kKvMaxValueBytes = size_t{1} << 20;  // serialized JSON text

namespace kv_detail {

// Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF, so that keys
// survive any runtime's string type and sort the same everywhere as bytes.
inline bool is_valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    uint32_t code_point = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
      code_point = lead & 0x1Fu;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      code_point = lead & 0x0Fu;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      code_point = lead & 0x07u;
    } else {
      return false;
    }
    if (text.size() - i < length) {
      return false;
    }
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0u) != 0x80u) {
        return false;
      }
      code_point = (code_point << 6) | (next & 0x3Fu);
    }
    if ((length == 3 && code_point < 0x800) ||
        (length == 4 && (code_point < 0x10000 || code_point > 0x10FFFF)) ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

}  // namespace kv_detail

// `op` prefixes the message ("kv.set") so a plugin author sees which call was refused.
inline Status check_kv_key(std::string_view op, std::string_view key) {
  const std::string prefix = std::string(op) + ": ";
  if (key.empty()) {
    return Error(ErrorCode::kInvalidArgument, prefix + "key must not be empty",
                 {{"key", "must not be empty"}});
  }
  if (key.size() > kKvMaxKeyBytes) {
    return Error(ErrorCode::kInvalidArgument,
                 prefix + "key is " + std::to_string(key.size()) + " bytes; keys are limited to " +
                     std::to_string(kKvMaxKeyBytes) + " bytes",
                 {{"key", "at most " + std::to_string(kKvMaxKeyBytes) + " bytes"}});
  }
  if (!kv_detail::is_valid_utf8(key)) {
    return Error(ErrorCode::kInvalidArgument, prefix + "key is not valid UTF-8",
                 {{"key", "must be valid UTF-8"}});
  }
  return ok_status();
}

// The stored form of a value. Backends keep this text rather than the Json tree so that
// every backend answers with exactly what a round trip through JSON text gives (integers
// stay integers, floats round-trip exactly, as nlohmann prints the shortest exact form).
inline Result<std::string> serialize_kv_value(std::string_view op, const Json& value) {
  const std::string prefix = std::string(op) + ": ";
  std::string text;
  try {
    text = value.dump();
  } catch (const Json::type_error&) {
    // nlohmann's strict mode throws on a string that is not UTF-8; such text would not
    // parse back, so it is the caller's malformed input, not our failure.
    return Error(ErrorCode::kInvalidArgument,
                 prefix + "value contains a string that is not valid UTF-8",
                 {{"value", "strings must be valid UTF-8"}});
  }
  if (text.size() > kKvMaxValueBytes) {
    return Error(ErrorCode::kResourceExhausted,
                 prefix + "value is " + std::to_string(text.size()) +
                     " bytes serialized; values are limited to " +
                     std::to_string(kKvMaxValueBytes) + " bytes (1 MiB)",
                 {{"value", "at most 1 MiB serialized"}});
  }
  return text;
}

}  // namespace outlet
