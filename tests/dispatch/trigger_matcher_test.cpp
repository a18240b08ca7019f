#include "dispatch/trigger_matcher.h"

#include <gtest/gtest.h>

#include <random>

#include "dispatch/literal_set.h"

namespace outlet {
namespace {

std::shared_ptr<const Manifest> plugin(const std::string& id, std::vector<TriggerSpec> triggers) {
  auto manifest = std::make_shared<Manifest>();
  manifest->id = id;
  manifest->triggers = std::move(triggers);
  return manifest;
}

TriggerSpec command(std::string word, std::vector<std::string> aliases = {},
                    std::string prefix = "!") {
  TriggerSpec spec;
  spec.type = TriggerType::kCommand;
  spec.command = std::move(word);
  spec.aliases = std::move(aliases);
  spec.prefix = std::move(prefix);
  return spec;
}

TriggerSpec keyword(std::vector<std::string> words) {
  TriggerSpec spec;
  spec.type = TriggerType::kKeyword;
  spec.keywords = std::move(words);
  return spec;
}

TriggerSpec pattern(std::string regex) {
  TriggerSpec spec;
  spec.type = TriggerType::kPattern;
  spec.pattern = std::move(regex);
  return spec;
}

TriggerSpec of_type(TriggerType type, std::string event = "") {
  TriggerSpec spec;
  spec.type = type;
  spec.event = std::move(event);
  return spec;
}

std::string matched(const TriggerMatch& match) {
  if (match.first == nullptr)
    return "";
  return match.first->plugin_id() + "#" + std::to_string(match.first->index);
}

TEST(LiteralSetTest, FindsTheSmallestIdAmongOverlappingLiteralsCaseInsensitively) {
  LiteralSet set;
  set.add("he", 5);
  set.add("she", 3);
  set.add("hers", 1);
  set.add("", 0);  // ignored
  set.build();
  EXPECT_EQ(set.first_match("USHERS"), 1u);
  EXPECT_EQ(set.first_match("ushe"), 3u);
  EXPECT_EQ(set.first_match("ahe"), 5u);
  EXPECT_EQ(set.first_match("nothing"), UINT32_MAX);
  EXPECT_EQ(set.first_match(""), UINT32_MAX);
}

TEST(LiteralSetTest, AgreesWithANaiveSearchOnRandomInput) {
  std::mt19937 random(7);
  auto word = [&](size_t max) {
    std::string w;
    const size_t length = 1 + random() % max;
    for (size_t i = 0; i < length; ++i)
      w += static_cast<char>("abcAB\xc3\xa9"[random() % 7]);
    return w;
  };
  for (int round = 0; round < 50; ++round) {
    LiteralSet set;
    std::vector<std::string> literals;
    for (uint32_t i = 0; i < 20; ++i) {
      literals.push_back(word(4));
      set.add(literals.back(), i);
    }
    set.build();
    for (int probe = 0; probe < 20; ++probe) {
      const std::string text = word(30);
      std::string folded = text;
      for (char& c : folded)
        c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      uint32_t expected = UINT32_MAX;
      for (uint32_t i = 0; i < literals.size(); ++i) {
        std::string literal = literals[i];
        for (char& c : literal)
          c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        if (folded.find(literal) != std::string::npos)
          expected = std::min(expected, i);
      }
      EXPECT_EQ(set.first_match(text), expected) << text;
    }
  }
}

TEST(TriggerMatcherTest, CommandsBeatKeywordsWhichBeatPatterns) {
  auto matcher = TriggerMatcher::build(
      {plugin("a", {pattern("hel+o"), keyword({"hello"})}), plugin("b", {command("hello")})});
  ASSERT_TRUE(matcher.ok());
  EXPECT_EQ(matched((*matcher)->match_message("!hello there")), "b#0");
  EXPECT_EQ(matched((*matcher)->match_message("well hello")), "a#1");
  EXPECT_EQ(matched((*matcher)->match_message("helllo")), "a#0");
  EXPECT_EQ(matched((*matcher)->match_message("bye")), "");
}

TEST(TriggerMatcherTest, WithinATypeRegistrationOrderWins) {
  auto matcher = TriggerMatcher::build({plugin("first", {keyword({"spam"}), pattern("b+")}),
                                        plugin("second", {keyword({"sp"}), pattern("a+")})});
  ASSERT_TRUE(matcher.ok());
  EXPECT_EQ(matched((*matcher)->match_message("spam")), "first#0");
  EXPECT_EQ(matched((*matcher)->match_message("sp")), "second#0");
  EXPECT_EQ(matched((*matcher)->match_message("aaa bbb")), "first#1");
}

TEST(TriggerMatcherTest, CommandsMatchTheirWordAliasesAndPrefixWithArguments) {
  auto matcher = TriggerMatcher::build({plugin(
      "bot", {command("so", {"shoutout"}), command("help", {}, "?"), command("x", {}, "!!")})});
  ASSERT_TRUE(matcher.ok());
  TriggerMatch match = (*matcher)->match_message("!SO   @ann   ");
  EXPECT_EQ(matched(match), "bot#0");
  EXPECT_EQ(match.command_word, "so");
  EXPECT_EQ(match.command_arguments, "@ann");
  EXPECT_EQ(matched((*matcher)->match_message("!shoutout")), "bot#0");
  EXPECT_EQ(matched((*matcher)->match_message("?help")), "bot#1");
  EXPECT_EQ(matched((*matcher)->match_message("!!x")), "bot#2");
  EXPECT_EQ(matched((*matcher)->match_message("!sox")), "") << "the whole word";
  EXPECT_EQ(matched((*matcher)->match_message(" !so")), "") << "a command starts the message";
  EXPECT_EQ(matched((*matcher)->match_message("!")), "");
}

TEST(TriggerMatcherTest, ModerateTriggersAreAllGatesAndEventsAndTimersAreListed) {
  auto matcher = TriggerMatcher::build(
      {plugin("mod", {of_type(TriggerType::kModerate), of_type(TriggerType::kEvent, "raid")}),
       plugin("mod2", {of_type(TriggerType::kModerate), of_type(TriggerType::kTimer)})});
  ASSERT_TRUE(matcher.ok());
  TriggerMatch match = (*matcher)->match_message("anything");
  ASSERT_EQ(match.moderate.size(), 2u);
  EXPECT_EQ(match.moderate[0].plugin_id(), "mod");
  EXPECT_EQ(match.moderate[1].plugin_id(), "mod2");
  EXPECT_EQ(match.first, nullptr);
  ASSERT_EQ((*matcher)->match_event("raid").size(), 1u);
  EXPECT_TRUE((*matcher)->match_event("follow").empty());
  EXPECT_EQ((*matcher)->timers().size(), 1u);
  EXPECT_EQ((*matcher)->size(), 4u);
}

TEST(TriggerMatcherTest, PathologicalPatternsStayLinear) {
  // (a+)+$ is the classic catastrophic backtracking case; RE2 does not backtrack.
  auto matcher = TriggerMatcher::build({plugin("p", {pattern("(a+)+$"), pattern("(x|xx)+y")})});
  ASSERT_TRUE(matcher.ok());
  EXPECT_EQ(matched((*matcher)->match_message(std::string(100000, 'a') + "!")), "");
  EXPECT_EQ(matched((*matcher)->match_message(std::string(100000, 'x'))), "");
}

TEST(TriggerMatcherTest, AnInvalidPatternNamesPluginAndTrigger) {
  auto matcher = TriggerMatcher::build({plugin("broken", {keyword({"k"}), pattern("(unclosed")})});
  ASSERT_FALSE(matcher.ok());
  EXPECT_NE(matcher.error().message().find("\"broken\""), std::string::npos);
  EXPECT_EQ(matcher.error().details()[0].path, "triggers[1].pattern");
}

}  // namespace
}  // namespace outlet
