#include "core/dependencies.h"

#include <algorithm>
#include <functional>
#include <set>
#include <tuple>

#include "core/semver.h"

namespace outlet {
namespace {

using ManifestMap = std::map<std::string, const Manifest*>;

bool version_matches(const Relationship& relationship, const Manifest& target) {
  if (!relationship.version_range || !target.version)
    return true;
  return relationship.version_range->contains(*target.version);
}

std::string describe(const Relationship& relationship) {
  return "\"" + relationship.id + "\"" +
         (relationship.version_range_text.empty() ? "" : " " + relationship.version_range_text);
}

// Blocks plugins whose requirements are missing, mismatched or blocked, repeating
// until nothing changes: blocking one plugin can strand another that requires it.
void block_missing_requirements(const ManifestMap& all,
                                std::map<std::string, std::string>& blocked) {
  bool changed = true;
  while (changed) {
    changed = false;
    for (const auto& [id, manifest] : all) {
      if (blocked.count(id))
        continue;
      std::string reason;
      for (const Relationship& required : manifest->relationships.required) {
        auto target = all.find(required.id);
        if (target == all.end()) {
          reason = "requires " + describe(required) + ", which is not installed or not enabled";
        } else if (!version_matches(required, *target->second)) {
          reason = "requires " + describe(required) + ", but version " +
                   target->second->version_text + " is installed";
        } else if (blocked.count(required.id)) {
          reason = "requires \"" + required.id + "\", which is blocked";
        }
        if (!reason.empty())
          break;
      }
      if (!reason.empty()) {
        blocked[id] = reason;
        changed = true;
      }
    }
  }
}

// Conflicts are judged once every requirement has settled, against the plugins
// that can actually activate, so the outcome does not depend on id order: a
// plugin is never blocked by a conflicting one that is itself blocked. The
// plugin declaring the conflict gives way.
void block_conflicts(const ManifestMap& all, std::map<std::string, std::string>& blocked) {
  std::map<std::string, std::string> conflicting;
  for (const auto& [id, manifest] : all) {
    if (blocked.count(id))
      continue;
    for (const Relationship& conflict : manifest->relationships.conflicts) {
      auto target = all.find(conflict.id);
      if (target == all.end() || blocked.count(conflict.id) ||
          !version_matches(conflict, *target->second)) {
        continue;
      }
      conflicting[id] = "conflicts with " + describe(conflict) + ", which is active (version " +
                        target->second->version_text + ")";
      break;
    }
  }
  blocked.insert(conflicting.begin(), conflicting.end());
}

// Tarjan's strongly connected components; components of more than one node, or
// a node with an edge to itself, are cycles.
std::vector<std::vector<std::string>> find_cycles(
    const std::map<std::string, std::vector<std::string>>& edges) {
  std::map<std::string, int> index, low;
  std::set<std::string> on_stack;
  std::vector<std::string> stack;
  std::vector<std::vector<std::string>> cycles;
  int counter = 0;
  std::function<void(const std::string&)> visit = [&](const std::string& node) {
    index[node] = low[node] = counter++;
    stack.push_back(node);
    on_stack.insert(node);
    auto it = edges.find(node);
    if (it != edges.end()) {
      for (const std::string& next : it->second) {
        if (!index.count(next)) {
          visit(next);
          low[node] = std::min(low[node], low[next]);
        } else if (on_stack.count(next)) {
          low[node] = std::min(low[node], index[next]);
        }
      }
    }
    if (low[node] != index[node])
      return;
    std::vector<std::string> component;
    std::string member;
    do {
      member = stack.back();
      stack.pop_back();
      on_stack.erase(member);
      component.push_back(member);
    } while (member != node);
    bool self_loop = it != edges.end() &&
                     std::find(it->second.begin(), it->second.end(), node) != it->second.end();
    if (component.size() > 1 || self_loop) {
      std::reverse(component.begin(), component.end());
      cycles.push_back(component);
    }
  };
  for (const auto& [node, next] : edges) {
    if (!index.count(node))
      visit(node);
  }
  return cycles;
}

}  // namespace

std::string format_cycle(const std::vector<std::string>& cycle) {
  std::string text;
  for (const std::string& id : cycle)
    text += id + " → ";
  return text + (cycle.empty() ? "" : cycle.front());
}

Resolution resolve_dependencies(const std::vector<const Manifest*>& candidates) {
  Resolution resolution;
  ManifestMap all;
  for (const Manifest* manifest : candidates)
    all[manifest->id] = manifest;

  block_missing_requirements(all, resolution.blocked);

  // Hard edges (dependency → dependent) from requires and optional.
  std::map<std::string, std::vector<std::string>> hard;
  for (const auto& [plugin_id, manifest] : all) {
    const std::string& id = plugin_id;  // a lambda cannot capture a structured binding in clang 14
    hard[id];
    auto add = [&](const std::vector<Relationship>& list) {
      for (const Relationship& r : list) {
        if (all.count(r.id))
          hard[r.id].push_back(id);
      }
    };
    add(manifest->relationships.required);
    add(manifest->relationships.optional);
  }
  for (const auto& cycle : find_cycles(hard)) {
    resolution.cycles.push_back(cycle);
    for (const std::string& id : cycle) {
      resolution.blocked.emplace(id, "dependency cycle: " + format_cycle(cycle));
    }
  }
  block_missing_requirements(all, resolution.blocked);
  block_conflicts(all, resolution.blocked);
  // A plugin blocked by a conflict strands the plugins that require it.
  block_missing_requirements(all, resolution.blocked);

  auto active = [&](const std::string& id) {
    return all.count(id) && !resolution.blocked.count(id);
  };

  // Soft edges from before/after: they order plugins but never block them.
  std::map<std::string, std::vector<std::string>> soft;
  for (const auto& [id, manifest] : all) {
    if (!active(id))
      continue;
    soft[id];
    for (const std::string& later : manifest->relationships.before) {
      if (active(later))
        soft[id].push_back(later);
    }
    for (const std::string& earlier : manifest->relationships.after) {
      if (active(earlier))
        soft[earlier].push_back(id);
    }
  }
  for (const auto& cycle : find_cycles(soft)) {
    resolution.warnings.push_back("before/after cycle ignored: " + format_cycle(cycle));
  }

  std::map<std::string, int> hard_pending, soft_pending;
  for (const auto& [id, manifest] : all) {
    if (!active(id))
      continue;
    hard_pending[id];
    soft_pending[id];
  }
  for (const auto& [from, list] : hard) {
    if (!active(from))
      continue;
    for (const std::string& to : list) {
      if (active(to))
        ++hard_pending[to];
    }
  }
  for (const auto& [from, list] : soft) {
    for (const std::string& to : list)
      ++soft_pending[to];
  }

  // Kahn's algorithm; among the plugins whose dependencies are placed, pick by
  // load priority, then prefer those with no unplaced before/after predecessor,
  // then by id. Soft cycles therefore cannot stall the order. The ready plugins
  // sit in a set by that key (re-keyed when a soft predecessor is placed), so an
  // order costs O((plugins + edges) log plugins), not a scan per placement.
  using Key = std::tuple<int, bool, std::string>;
  auto key_of = [&](const std::string& id) {
    return Key(static_cast<int>(all[id]->load_priority), soft_pending[id] > 0, id);
  };
  std::set<Key> ready;
  for (const auto& [id, pending] : hard_pending) {
    if (pending == 0)
      ready.insert(key_of(id));
  }
  std::set<std::string> placed;
  while (!ready.empty()) {
    std::string id = std::get<2>(*ready.begin());
    ready.erase(ready.begin());
    placed.insert(id);
    resolution.order.push_back(id);
    for (const std::string& next : soft[id]) {
      bool waiting = ready.erase(key_of(next)) > 0;
      --soft_pending[next];
      if (waiting)
        ready.insert(key_of(next));
    }
    for (const std::string& next : hard[id]) {
      auto pending = hard_pending.find(next);
      if (pending == hard_pending.end() || placed.count(next))
        continue;
      if (--pending->second == 0)
        ready.insert(key_of(next));
    }
  }
  // Whatever was never ready is in a requires cycle; those are blocked above.
  return resolution;
}

}  // namespace outlet
