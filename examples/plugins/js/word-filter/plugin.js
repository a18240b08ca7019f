// Word Filter (seeds/001 built-in): masks blocked words (case-insensitive, whole
// words only) or drops the message, depending on config. The JavaScript twin of
// examples/plugins/lua/word-filter/plugin.lua.
const { definePlugin, outlet, filter } = require("outlet");

// ASCII only, like the native and Lua twins: full Unicode case mapping can
// change a string's length ("İ" lower-cases to two code units), and the search
// relies on positions in the lower-cased text being positions in the original.
const asciiLower = (text) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

// Letters, digits and "_" make up words (ASCII, as in the twins).
const isWordChar = (c) => /^[A-Za-z0-9_]$/.test(c);

// Replaces each whole-word, case-insensitive occurrence of `word` in `body`.
// Returns the new body and how many occurrences were replaced.
const maskWord = (body, word, replacement) => {
  let haystack = asciiLower(body);
  const needle = asciiLower(word);
  let count = 0;
  let from = 0;
  for (;;) {
    const first = haystack.indexOf(needle, from);
    if (first === -1) break;
    const end = first + needle.length;
    const startsWord = first === 0 || !isWordChar(haystack[first - 1]);
    const endsWord = end === haystack.length || !isWordChar(haystack[end]);
    if (startsWord && endsWord) {
      body = body.slice(0, first) + replacement + body.slice(end);
      haystack = haystack.slice(0, first) + replacement + haystack.slice(end);
      // Search on after the replacement, so a replacement that contains the
      // word cannot be masked again.
      from = first + replacement.length;
      count += 1;
    } else {
      from = end;
    }
  }
  return { body, count };
};

module.exports = definePlugin({
  filterChatMessage(message) {
    const config = outlet.config.get();
    const replacement = config.replacement ?? "***";
    let body = message.body;
    let hits = 0;
    for (const word of config.words ?? []) {
      if (word === "") continue;
      const masked = maskWord(body, word, replacement);
      body = masked.body;
      hits += masked.count;
    }
    if (hits === 0) return filter.pass();
    if (config.mode === "drop") return filter.drop("word-filter: message contains a blocked word");
    return filter.modify({ ...message, body });
  },
});
