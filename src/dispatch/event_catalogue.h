// The host's event catalogue (DESIGN.md principle 2: the host defines the domain):
// each event's name, the hook kinds it may be delivered through, and its payload schema.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "outlet/event.h"
#include "outlet/result.h"

namespace outlet {

// Thread-safe; declarations happen at start-up and when plugins load.
class EventCatalogue {
 public:
  Status declare(EventSpec spec);
  // Removes events a plugin declared (when it unloads).
  void remove_declared_by(const std::string& plugin_id);
  std::shared_ptr<const EventSpec> find(std::string_view name) const;
  std::vector<std::shared_ptr<const EventSpec>> all() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const EventSpec>, std::less<>> events_;  // guarded
};

}  // namespace outlet
