#include "dispatch/trigger_matcher.h"

#include <algorithm>
#include <cctype>

namespace outlet {
namespace {

// Enough for thousands of patterns to share one DFA; past it RE2 reports an error
// rather than using more memory, and the message matches no pattern.
constexpr int64_t kPatternSetMemory = int64_t{64} << 20;

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

std::string command_key(std::string_view prefix, std::string_view word) {
  std::string key(prefix);
  key += '\0';
  key += lower_ascii(word);
  return key;
}

}  // namespace

Result<std::unique_ptr<TriggerMatcher>> TriggerMatcher::build(
    const std::vector<std::shared_ptr<const Manifest>>& plugins) {
  std::unique_ptr<TriggerMatcher> matcher(new TriggerMatcher());
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kPatternSetMemory);
  matcher->patterns_ = std::make_unique<RE2::Set>(options, RE2::UNANCHORED);
  for (const auto& manifest : plugins) {
    for (size_t i = 0; i < manifest->triggers.size(); ++i) {
      const TriggerSpec& spec = manifest->triggers[i];
      const auto order = static_cast<uint32_t>(matcher->all_.size());
      TriggerRef ref{manifest, &spec, i, order};
      matcher->all_.push_back(ref);
      switch (spec.type) {
        case TriggerType::kModerate:
          matcher->moderate_.push_back(ref);
          break;
        case TriggerType::kCommand: {
          if (std::find(matcher->prefixes_.begin(), matcher->prefixes_.end(), spec.prefix) ==
              matcher->prefixes_.end()) {
            matcher->prefixes_.push_back(spec.prefix);
          }
          // The first registration of a word keeps it: later ones are shadowed.
          matcher->commands_.emplace(command_key(spec.prefix, spec.command), order);
          for (const std::string& alias : spec.aliases)
            matcher->commands_.emplace(command_key(spec.prefix, alias), order);
          break;
        }
        case TriggerType::kKeyword:
          for (const std::string& keyword : spec.keywords)
            matcher->keywords_.add(keyword, order);
          break;
        case TriggerType::kPattern: {
          std::string error;
          if (matcher->patterns_->Add(spec.pattern, &error) < 0) {
            return Error(ErrorCode::kInvalidArgument,
                         "trigger pattern of \"" + manifest->id + "\" does not compile",
                         {{"triggers[" + std::to_string(i) + "].pattern", error}});
          }
          matcher->pattern_orders_.push_back(order);
          break;
        }
        case TriggerType::kEvent:
          matcher->events_[spec.event].push_back(order);
          break;
        case TriggerType::kTimer:
          matcher->timers_.push_back(ref);
          break;
      }
    }
  }
  // Longer prefixes first, so "!!" is tried before "!".
  std::sort(matcher->prefixes_.begin(), matcher->prefixes_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  matcher->keywords_.build();
  if (!matcher->pattern_orders_.empty() && !matcher->patterns_->Compile()) {
    return Error(ErrorCode::kResourceExhausted, "the trigger patterns do not fit in one matcher",
                 {{"triggers", std::to_string(matcher->pattern_orders_.size()) +
                                   " patterns need more than 64 MiB"}});
  }
  return matcher;
}

const TriggerRef* TriggerMatcher::match_command(std::string_view text, TriggerMatch& out) const {
  for (const std::string& prefix : prefixes_) {
    if (text.size() <= prefix.size() || text.compare(0, prefix.size(), prefix) != 0)
      continue;
    std::string_view rest = text.substr(prefix.size());
    size_t end = 0;
    while (end < rest.size() && !is_space(rest[end]))
      ++end;
    auto it = commands_.find(command_key(prefix, rest.substr(0, end)));
    if (it == commands_.end())
      continue;
    out.command_word = lower_ascii(rest.substr(0, end));
    std::string_view arguments = rest.substr(end);
    while (!arguments.empty() && is_space(arguments.front()))
      arguments.remove_prefix(1);
    while (!arguments.empty() && is_space(arguments.back()))
      arguments.remove_suffix(1);
    out.command_arguments = std::string(arguments);
    return &all_[it->second];
  }
  return nullptr;
}

TriggerMatch TriggerMatcher::match_message(std::string_view text) const {
  TriggerMatch match;
  match.moderate = moderate_;
  match.first = match_command(text, match);
  if (match.first != nullptr)
    return match;
  if (const uint32_t keyword = keywords_.first_match(text); keyword != UINT32_MAX) {
    match.first = &all_[keyword];
    return match;
  }
  if (!pattern_orders_.empty()) {
    std::vector<int> hits;
    if (patterns_->Match(re2::StringPiece(text.data(), text.size()), &hits) && !hits.empty()) {
      uint32_t best = UINT32_MAX;
      for (int hit : hits)
        best = std::min(best, pattern_orders_[static_cast<size_t>(hit)]);
      match.first = &all_[best];
    }
  }
  return match;
}

std::vector<TriggerRef> TriggerMatcher::match_event(std::string_view event) const {
  std::vector<TriggerRef> out;
  auto it = events_.find(std::string(event));
  if (it != events_.end()) {
    for (uint32_t order : it->second)
      out.push_back(all_[order]);
  }
  return out;
}

}  // namespace outlet
