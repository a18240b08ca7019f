// Word Filter: masks blocked words (case-insensitive, whole words) or drops the
// message, depending on config.
#include <cctype>

#include "native_examples.h"

namespace outlet::examples {
namespace {

std::string lower(std::string text) {
  for (char& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// Replaces each whole-word, case-insensitive occurrence of `word`; returns how many.
int mask_word(std::string& body, const std::string& word, const std::string& replacement) {
  std::string haystack = lower(body);
  std::string needle = lower(word);
  int count = 0;
  size_t at = 0;
  while ((at = haystack.find(needle, at)) != std::string::npos) {
    size_t end = at + needle.size();
    bool starts_word = at == 0 || !is_word_char(haystack[at - 1]);
    bool ends_word = end == haystack.size() || !is_word_char(haystack[end]);
    if (!starts_word || !ends_word) {
      at = end;
      continue;
    }
    body.replace(at, needle.size(), replacement);
    haystack.replace(at, needle.size(), replacement);
    at += replacement.size();
    ++count;
  }
  return count;
}

}  // namespace

std::unique_ptr<NativePlugin> make_word_filter() {
  auto plugin = std::make_unique<NativePlugin>();
  plugin->filter(
      "chat.message.received",
      [](const Json& message, PluginContext& context) -> Result<Json> {
        auto config = context.config();
        if (!config.ok())
          return config.error();
        std::string body = message.value("body", "");
        int hits = 0;
        for (const Json& word : config->value("words", Json::array())) {
          hits += mask_word(body, word.get<std::string>(), config->value("replacement", "***"));
        }
        if (hits == 0)
          return filter_pass();
        if (config->value("mode", "mask") == "drop") {
          return filter_drop("word-filter: message contains a blocked word");
        }
        Json modified = message;
        modified["body"] = body;
        return filter_modify(std::move(modified));
      },
      50);
  return plugin;
}

}  // namespace outlet::examples
