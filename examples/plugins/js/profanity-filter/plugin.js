// Profanity Filter (seeds/003 example): masks profanity in chat messages. The
// JavaScript twin of examples/plugins/lua/profanity-filter/plugin.lua.
//
// Unlike the word filter, which matches configured words exactly, it reads each
// word the way a person would:
//   * leetspeak: "sh1t", "$hit" (4 @ -> a, 3 -> e, 1 -> i, 0 -> o, 5 $ -> s, 7 -> t),
//   * stretched letters: "fuuuuck", "daaamn",
//   * common endings: "damned", "bitches", "crappy", "fucking".
// A mask is as long as the word it hides ("f******" or "*******"). A message with
// at least dropThreshold profanities is dropped instead (0: never).
const { definePlugin, outlet, filter } = require("outlet");

const LEET = { "4": "a", "@": "a", "3": "e", "1": "i", "0": "o", "5": "s", "$": "s", "7": "t" };
const ENDINGS = ["", "s", "es", "ed", "er", "ers", "ing", "in", "y", "ty"];

// "fuuuck" -> "fuck": every run of one character becomes one.
const collapse = (word) => word.replace(/(.)\1+/g, "$1");

// The set of collapsed forms that count as profanity.
const formsOf = (words) =>
  new Set(words.flatMap((word) => ENDINGS.map((ending) => collapse(word + ending))));

const maskOf = (original, style) =>
  style === "full" ? "*".repeat(original.length) : original[0] + "*".repeat(original.length - 1);

// Returns the masked body and how many words were masked.
const censor = (body, config) => {
  const forms = formsOf(config.words ?? []);
  // ASCII lower-casing and the leet map replace one character by one, so
  // positions in `text` are positions in `body` (full Unicode lower-casing could
  // change the length).
  let text = body.replace(/[A-Z]/g, (c) => c.toLowerCase());
  if (config.leetspeak !== false) {
    text = text.replace(/[4@31057$]/g, (c) => LEET[c]);
  }
  let count = 0;
  let masked = "";
  let copied = 0;
  // Words are runs of ASCII letters, digits and "_", as in the twins.
  for (const { 0: word, index } of text.matchAll(/[a-z0-9_]+/g)) {
    if (!forms.has(collapse(word))) continue;
    const after = index + word.length;
    masked += body.slice(copied, index) + maskOf(body.slice(index, after), config.mask);
    copied = after;
    count += 1;
  }
  return { body: masked + body.slice(copied), count };
};

module.exports = definePlugin({
  filterChatMessage(message) {
    const config = outlet.config.get();
    const { body, count } = censor(message.body, config);
    if (count === 0) return filter.pass();
    const threshold = config.dropThreshold ?? 0;
    if (threshold > 0 && count >= threshold) {
      return filter.drop(`profanity-filter: ${count} profanities`);
    }
    return filter.modify({ ...message, body });
  },
});
