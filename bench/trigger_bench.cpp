// Trigger matching (issue #5, targets in issue #7): one 100-byte chat message against
// 10, 1,000 and 10,000 triggers (a third each commands, keywords and patterns), through
// Outlet's TriggerMatcher and through the naive loop a bot worker would write (each
// trigger in turn; patterns with std::regex_search), in the same run. The message
// matches nothing, the worst case: every trigger has to be ruled out.
#include <benchmark/benchmark.h>

#include <regex>
#include <string>
#include <vector>

#include "dispatch/trigger_matcher.h"

namespace {

using outlet::Manifest;
using outlet::TriggerSpec;
using outlet::TriggerType;

const std::string kMessage =
    "hey everyone, how is the stream going today? I just got here, missed the start lol 1234";

std::shared_ptr<const Manifest> triggers(int count) {
  auto manifest = std::make_shared<Manifest>();
  manifest->id = "bench";
  for (int i = 0; i < count; ++i) {
    TriggerSpec spec;
    const std::string n = std::to_string(i);
    switch (i % 3) {
      case 0:
        spec.type = TriggerType::kCommand;
        spec.command = "cmd" + n;
        break;
      case 1:
        spec.type = TriggerType::kKeyword;
        spec.keywords = {"keyword" + n + "x"};
        break;
      default:
        spec.type = TriggerType::kPattern;
        spec.pattern = "pat" + n + "[0-9]+z";
        break;
    }
    manifest->triggers.push_back(std::move(spec));
  }
  return manifest;
}

// What a naive worker does: every trigger in order, first match wins.
struct NaiveMatcher {
  struct Compiled {
    const TriggerSpec* spec;
    std::regex regex;
  };
  explicit NaiveMatcher(const Manifest& manifest) {
    for (const TriggerSpec& spec : manifest.triggers) {
      compiled.push_back(
          {&spec, spec.type == TriggerType::kPattern ? std::regex(spec.pattern) : std::regex()});
    }
  }
  const TriggerSpec* match(const std::string& text) const {
    std::string lower = text;
    for (char& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const Compiled& c : compiled) {
      switch (c.spec->type) {
        case TriggerType::kCommand: {
          const std::string word = c.spec->prefix + c.spec->command;
          if (lower.compare(0, word.size(), word) == 0 &&
              (lower.size() == word.size() || lower[word.size()] == ' '))
            return c.spec;
          break;
        }
        case TriggerType::kKeyword:
          for (const std::string& k : c.spec->keywords) {
            if (lower.find(k) != std::string::npos)
              return c.spec;
          }
          break;
        case TriggerType::kPattern:
          if (std::regex_search(text, c.regex))
            return c.spec;
          break;
        default:
          break;
      }
    }
    return nullptr;
  }
  std::vector<Compiled> compiled;
};

void naive(benchmark::State& state, int count) {
  auto manifest = triggers(count);
  NaiveMatcher matcher(*manifest);
  for (auto _ : state)
    benchmark::DoNotOptimize(matcher.match(kMessage));
}

void matcher(benchmark::State& state, int count) {
  auto built = outlet::TriggerMatcher::build({triggers(count)});
  if (!built.ok()) {
    state.SkipWithError(built.error().message().c_str());
    return;
  }
  for (auto _ : state)
    benchmark::DoNotOptimize((*built)->match_message(kMessage).first);
}

// Registered in pairs, so each baseline sits right before the run it is the ratio for.
const bool registered = [] {
  for (int count : {10, 1000, 10000}) {
    const std::string n = std::to_string(count);
    benchmark::RegisterBenchmark(("BM_Baseline_NaiveTriggerLoop/" + n).c_str(), naive, count);
    benchmark::RegisterBenchmark(("BM_Host_TriggerMatcher/" + n).c_str(), matcher, count);
  }
  return true;
}();

}  // namespace
