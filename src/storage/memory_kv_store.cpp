// In-memory KvStore: for tests and hosts that need no persistence. It enforces the same
// limits and returns the same values as the SQLite backend, so tests written against it
// hold for production.
#include <exception>
#include <map>
#include <mutex>
#include <new>

#include "outlet/kv_store.h"
#include "storage/guarded.h"

namespace outlet {
namespace {

std::optional<Json> parse_stored(std::string_view text) {
  Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return std::nullopt;
  }
  return value;
}

class MemoryKvStore final : public KvStore {
 public:
  Result<std::optional<Json>> get(std::string_view ns, std::string_view key) override {
    return guarded("kv.get", [&]() -> Result<std::optional<Json>> {
      if (Status s = check_kv_key("kv.get", key); !s.ok()) {
        return s.error();
      }
      std::lock_guard lock(mu_);
      const Namespace* space = find(ns);
      if (space == nullptr) {
        return std::optional<Json>();
      }
      auto it = space->entries.find(key);
      if (it == space->entries.end()) {
        return std::optional<Json>();
      }
      std::optional<Json> value = parse_stored(it->second);
      if (!value) {
        return Error(ErrorCode::kInternal, "kv.get: stored value is not valid JSON");
      }
      return value;
    });
  }

  Status set(std::string_view ns, std::string_view key, const Json& value) override {
    return guarded("kv.set", [&]() -> Status {
      if (Status s = check_kv_key("kv.set", key); !s.ok()) {
        return s;
      }
      // Serialize before taking the lock: it is the expensive part and touches no shared state.
      Result<std::string> text = serialize_kv_value("kv.set", value);
      if (!text.ok()) {
        return text.error();
      }
      std::lock_guard lock(mu_);
      auto space_it = spaces_.find(ns);
      if (space_it == spaces_.end()) {
        space_it = spaces_.emplace(std::string(ns), Namespace{}).first;
      }
      Namespace& space = space_it->second;
      auto it = space.entries.find(key);
      if (it == space.entries.end()) {
        space.bytes += key.size() + text->size();
        space.entries.emplace(std::string(key), std::move(*text));
      } else {
        space.bytes = space.bytes - it->second.size() + text->size();
        it->second = std::move(*text);
      }
      return ok_status();
    });
  }

  Result<bool> remove(std::string_view ns, std::string_view key) override {
    return guarded("kv.remove", [&]() -> Result<bool> {
      if (Status s = check_kv_key("kv.remove", key); !s.ok()) {
        return s.error();
      }
      std::lock_guard lock(mu_);
      auto space_it = spaces_.find(ns);
      if (space_it == spaces_.end()) {
        return false;
      }
      Namespace& space = space_it->second;
      auto it = space.entries.find(key);
      if (it == space.entries.end()) {
        return false;
      }
      space.bytes -= it->first.size() + it->second.size();
      space.entries.erase(it);
      // Drop empty namespaces so plugins that come and go do not leak map nodes.
      if (space.entries.empty()) {
        spaces_.erase(space_it);
      }
      return true;
    });
  }

  Result<std::vector<KvEntry>> list(std::string_view ns, std::string_view prefix,
                                    size_t limit) override {
    return guarded("kv.list", [&]() -> Result<std::vector<KvEntry>> {
      std::vector<KvEntry> out;
      std::lock_guard lock(mu_);
      const Namespace* space = find(ns);
      if (space == nullptr) {
        return out;
      }
      for (auto it = space->entries.lower_bound(prefix);
           it != space->entries.end() && it->first.starts_with(prefix); ++it) {
        if (limit != 0 && out.size() == limit) {
          break;
        }
        std::optional<Json> value = parse_stored(it->second);
        if (!value) {
          return Error(ErrorCode::kInternal, "kv.list: stored value is not valid JSON");
        }
        out.push_back(KvEntry{it->first, std::move(*value)});
      }
      return out;
    });
  }

  Result<size_t> clear(std::string_view ns) override {
    return guarded("kv.clear", [&]() -> Result<size_t> {
      std::lock_guard lock(mu_);
      auto space_it = spaces_.find(ns);
      if (space_it == spaces_.end()) {
        return size_t{0};
      }
      const size_t count = space_it->second.entries.size();
      spaces_.erase(space_it);
      return count;
    });
  }

  Result<uint64_t> size_bytes(std::string_view ns) override {
    return guarded("kv.size_bytes", [&]() -> Result<uint64_t> {
      std::lock_guard lock(mu_);
      const Namespace* space = find(ns);
      return space == nullptr ? uint64_t{0} : space->bytes;
    });
  }

 private:
  struct Namespace {
    // Serialized JSON text, see serialize_kv_value. std::less<> allows lookups by
    // string_view without building a std::string per call.
    std::map<std::string, std::string, std::less<>> entries;
    // Kept as a running total so quota checks on every write stay O(1).
    uint64_t bytes = 0;
  };

  const Namespace* find(std::string_view ns) const {
    auto it = spaces_.find(ns);
    return it == spaces_.end() ? nullptr : &it->second;
  }

  std::mutex mu_;
  std::map<std::string, Namespace, std::less<>> spaces_;
};

}  // namespace

std::unique_ptr<KvStore> make_memory_kv_store() {
  return std::make_unique<MemoryKvStore>();
}

}  // namespace outlet
