// Bot triggers (seeds/001), all plugins' at once, compiled into one matcher: a hash
// map for commands, one Aho–Corasick automaton for every keyword, one RE2::Set for
// every pattern. A message costs a few passes over its text, however many triggers
// there are; no pattern can backtrack (RE2 is linear time).
//
// Order (seeds/001): moderate triggers are gates and come first, every one of them;
// then the first match among commands, else keywords, else patterns, where "first"
// is registration order: plugins in load order, each plugin's triggers as listed.
// Event and timer triggers are looked up by event name and listed for scheduling.
#pragma once

#include <re2/set.h>

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dispatch/literal_set.h"
#include "outlet/manifest.h"
#include "outlet/result.h"

namespace outlet {

struct TriggerRef {
  std::shared_ptr<const Manifest> manifest;  // keeps `spec` alive
  const TriggerSpec* spec = nullptr;
  size_t index = 0;  // in manifest->triggers
  uint32_t order = 0;

  const std::string& plugin_id() const { return manifest->id; }
};

// Points into the matcher, which must outlive it (no reference counting per message).
struct TriggerMatch {
  std::span<const TriggerRef> moderate;  // every moderate trigger, in order
  const TriggerRef* first = nullptr;     // the first command, keyword or pattern that matched
  std::string command_word;              // for a command: the word as typed (lower case)
  std::string command_arguments;         // for a command: the text after the word, trimmed
};

class TriggerMatcher {
 public:
  // Compiles every trigger of `plugins`, given in load order. A pattern that RE2
  // refuses (manifests are validated, so this is a second line) is an error naming
  // the plugin and trigger.
  static Result<std::unique_ptr<TriggerMatcher>> build(
      const std::vector<std::shared_ptr<const Manifest>>& plugins);

  TriggerMatch match_message(std::string_view text) const;
  std::vector<TriggerRef> match_event(std::string_view event) const;
  const std::vector<TriggerRef>& timers() const { return timers_; }
  const std::vector<TriggerRef>& all() const { return all_; }  // in order
  size_t size() const { return all_.size(); }

 private:
  TriggerMatcher() = default;
  const TriggerRef* match_command(std::string_view text, TriggerMatch& out) const;

  std::vector<TriggerRef> all_;  // by order
  std::vector<TriggerRef> moderate_;
  std::vector<std::string> prefixes_;                   // distinct command prefixes
  std::unordered_map<std::string, uint32_t> commands_;  // prefix '\0' word → order
  LiteralSet keywords_;                                 // literal → order
  std::unique_ptr<RE2::Set> patterns_;                  // index → pattern_orders_
  std::vector<uint32_t> pattern_orders_;
  std::unordered_map<std::string, std::vector<uint32_t>> events_;
  std::vector<TriggerRef> timers_;
};

}  // namespace outlet
