// Dependency resolution (seeds/002 relationships): which plugins can activate
// together, and in which order.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "outlet/manifest.h"

namespace outlet {

struct Resolution {
  // Activation order: dependencies first, then load.priority, then before/after,
  // then id. Only plugins that are not blocked appear here.
  std::vector<std::string> order;
  // Plugin id → why it cannot activate (missing or mismatched dependency,
  // conflict, cycle, or a dependency that is itself blocked).
  std::map<std::string, std::string> blocked;
  // Every dependency cycle, each as the ids along it ("a → b → a" when printed).
  std::vector<std::vector<std::string>> cycles;
  // Problems that do not block, e.g. a before/after cycle that fell back to id order.
  std::vector<std::string> warnings;
};

// `candidates` are the plugins that want to activate together (ids unique).
Resolution resolve_dependencies(const std::vector<const Manifest*>& candidates);

std::string format_cycle(const std::vector<std::string>& cycle);

}  // namespace outlet
