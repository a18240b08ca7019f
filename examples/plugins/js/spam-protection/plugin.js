// Spam Protection (seeds/001 built-in): a moderation filter that stops
//   * overlong messages (maxLength characters),
//   * shouting (more than maxCapsPercent of the letters are capitals),
//   * character floods (one character more than maxRepeatedChars times in a row),
//   * copy-paste (the same message more than maxDuplicates times in a row).
// A caught message is dropped; with action "timeout" the user is also timed out
// through chat.moderate. Users with an exempt role are never checked. The
// JavaScript twin of examples/plugins/lua/spam-protection/plugin.lua.
//
// Each user's last message lives in the plugin's cache, with a time to live of
// duplicateWindowSeconds, so a repeat counts only if it comes soon after.
const { definePlugin, outlet, filter } = require("outlet");

const REASONS = {
  length: "message too long",
  caps: "too many capital letters",
  flood: "too many repeated characters",
  duplicate: "same message repeated",
};

// Letters, capitals and spaces are ASCII ones, as in the Lua twin, so that both
// judge a message alike.
const SPACE = /^[ \t\n\v\f\r]$/;

const hasRole = ({ user }, roles) =>
  Array.isArray(user?.roles) && user.roles.some((role) => roles.includes(role));

const displayName = ({ user }) =>
  typeof user.displayName === "string" ? user.displayName : user.id;

const count = (text, pattern) => text.match(pattern)?.length ?? 0;

// Length in characters (code points), not UTF-16 units: "🔥" is one.
const charLength = (text) => [...text].length;

const isShouting = (body, maxPercent, minLetters) => {
  const letters = count(body, /[A-Za-z]/g);
  return letters >= minLetters && count(body, /[A-Z]/g) * 100 > letters * maxPercent;
};

// The longest run of one character (spaces aside), counted in characters.
const longestRun = (body) => {
  let longest = 0;
  let run = 0;
  let previous;
  for (const char of body) {
    run = char === previous && !SPACE.test(char) ? run + 1 : 1;
    previous = char;
    longest = Math.max(longest, run);
  }
  return longest;
};

// How many times in a row this user has now sent this message.
const countRepeats = (userId, body, window) => {
  const text = body
    .replace(/[A-Z]/g, (c) => c.toLowerCase())
    .replace(/[ \t\n\v\f\r]+/g, " ")
    .replace(/^ | $/g, "");
  const key = `last:${userId}`;
  const last = outlet.cache.get(key); // null when absent or expired
  const repeats = last?.text === text ? last.count + 1 : 1;
  outlet.cache.set(key, { text, count: repeats }, window);
  return repeats;
};

// Which rule the message breaks, or null.
const check = (message, config) => {
  const { body } = message;
  // Counted before the other rules, so a message dropped for another reason
  // still counts as a repeat.
  const repeats = countRepeats(message.user.id, body, config.duplicateWindowSeconds ?? 60);
  const maxLength = config.maxLength ?? 400;
  if (maxLength > 0 && charLength(body) > maxLength) return "length";
  if (isShouting(body, config.maxCapsPercent ?? 70, config.capsMinLetters ?? 10)) return "caps";
  const maxRun = config.maxRepeatedChars ?? 10;
  if (maxRun > 0 && longestRun(body) > maxRun) return "flood";
  const maxDuplicates = config.maxDuplicates ?? 2;
  if (maxDuplicates > 0 && repeats > maxDuplicates) return "duplicate";
  return null;
};

module.exports = definePlugin({
  filterChatMessage(message) {
    const config = outlet.config.get();
    if (hasRole(message, config.exemptRoles ?? [])) return filter.pass();
    const rule = check(message, config);
    if (rule === null) return filter.pass();
    const reason = `spam-protection: ${REASONS[rule]}`;
    // The timeout and the warning are extras: if the chat refuses one (say, a
    // display name too long for a chat line), the message is still dropped. An
    // error escaping here would fail the filter, and a failed filter lets the
    // message through. (The Lua twin records the refusal with warn(), which
    // JavaScript plugins do not have.)
    try {
      if (config.action === "timeout") {
        const seconds = config.timeoutSeconds ?? 60;
        outlet.chat.moderate({
          action: "timeout",
          userId: message.user.id,
          durationSeconds: seconds,
          reason,
        });
        if (config.warn !== false) {
          const name = displayName(message);
          outlet.chat.send(`@${name} was timed out for ${seconds}s: ${REASONS[rule]}`);
        }
      } else if (config.warn !== false) {
        outlet.chat.send(`@${displayName(message)}, please don't spam: ${REASONS[rule]}`);
      }
    } catch (problem) {
      // Refused: drop the message all the same, and say why.
      console.warn(`spam-protection: ${problem.message}`);
    }
    return filter.drop(reason);
  },
});
