const { definePlugin, filter } = require("@owncast/plugin-sdk");

const WORDS = ["damn", "hell", "crap"];

// Whole words only ("hello" and "scrap" are fine), any letter case.
const PATTERN = new RegExp(`\\b(?:${WORDS.join("|")})\\b`, "gi");

module.exports = definePlugin({
  // Run early, so later filters and every notification see the clean text.
  filterPriority: 10,

  filterChatMessage(msg) {
    if (typeof msg.body !== "string") return filter.pass();
    const body = msg.body.replace(PATTERN, (word) => "*".repeat(word.length));
    if (body === msg.body) return filter.pass();
    return filter.modify({ ...msg, body });
  },
});
