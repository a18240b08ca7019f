// What a domain gives the scenario runner: its declarations, and the host-function
// calls it recorded, by the names scenario files use in `expect` (e.g. chatSends).
#pragma once

#include <string>
#include <vector>

#include "outlet/host.h"
#include "outlet/json.h"

namespace outlet {

class ScenarioDomain {
 public:
  virtual ~ScenarioDomain() = default;
  // Declares kinds, events, permissions and host functions on a fresh host.
  virtual Status declare(Host& host) = 0;
  // The names this domain records, e.g. {"chatSends", "moderations"}.
  virtual std::vector<std::string> recording_names() const = 0;
  // What was recorded under `name` since the last reset (a JSON array).
  virtual Json recorded(const std::string& name) const = 0;
  virtual void reset() = 0;
  // A payload as another host's scenario files write it (an Owncast plugin
  // project's tests, seeds/003), in this domain's shape; unchanged by default.
  virtual Json owncast_payload(const std::string& event, const Json& payload) const {
    (void)event;
    return payload;
  }
};

}  // namespace outlet
