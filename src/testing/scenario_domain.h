// What a domain gives the scenario runner: its declarations, and the host-function
// calls it recorded, by the names scenario files use in `expect` (e.g. chatSends).
#pragma once

#include <string>
#include <vector>

#include "outlet/host.h"

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
};

}  // namespace outlet
