// Timed Messages (seeds/001 built-in): posts a rotating list of messages to
// chat, like the "timers" of stream bots. The JavaScript twin of
// examples/plugins/lua/timed-messages/plugin.lua.
//
// Only `outlet serve` fires timer triggers (an embedding host may have no clock-
// driven events), so the timer runs on chat activity, which is also when a
// timed message is worth posting: a message is posted once `everyMessages` chat
// messages came in since the last post AND at least `intervalSeconds` passed
// since then, measured with the messages' own "timestamp" (ISO 8601) rather
// than Date.now(), so that replayed and tested chat behaves as it did live.
// Messages without a readable timestamp do not hold the timer back. A quiet
// chat gets no timed messages, by design.
//
// State lives in KV, so it survives reloads: "sinceLastPost" (chat messages
// counted), "next" (1-based index of the next message, as in the Lua twin),
// "lastPostAt" (ms since 1970 of the message that triggered the last post).
const { definePlugin, outlet } = require("outlet");

// Date.parse is not used: which formats it accepts beyond the strict ISO one
// (and whether a time without a zone is local or UTC) is left to the engine.
const TIMESTAMP =
  /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d+))?(?:Z|([+-])(\d\d):?(\d\d))?$/i;

// "YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM]" -> milliseconds since 1970 (UTC),
// or null. A time without a zone is taken as UTC.
const parseTimestamp = (text) => {
  const match = typeof text === "string" ? TIMESTAMP.exec(text) : null;
  if (match === null) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
    return null;
  }
  const millis = match[7] === undefined ? 0 : Number(`${match[7]}00`.slice(0, 3));
  let offset = 0;
  if (match[8] !== undefined) {
    offset = (Number(match[9]) * 60 + Number(match[10])) * 60000;
    if (match[8] === "-") offset = -offset;
  }
  // setUTCFullYear rather than Date.UTC, which reads years 0-99 as 1900-1999.
  // Out-of-range days and a leap second roll over, as in the twins.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return date.getTime() - offset;
};

// A KV key holding an integer, or null (absent, or edited into something else).
const kvInteger = (key) => {
  const value = outlet.kv.get(key);
  return Number.isInteger(value) ? value : null;
};

const isBot = ({ user }) => Array.isArray(user?.roles) && user.roles.includes("bot");

// Posts the next message of the rotation and starts a new round.
const postNext = (config, now) => {
  const messages = config.messages ?? [];
  if (messages.length === 0) return;
  // The stored index may be from a longer list, or edited: wrap it into range.
  const length = messages.length;
  const index = ((((kvInteger("next") ?? 1) - 1) % length) + length) % length;
  outlet.chat.send(messages[index]);
  outlet.kv.set("next", ((index + 1) % length) + 1);
  outlet.kv.set("sinceLastPost", 0);
  if (now !== null) outlet.kv.set("lastPostAt", now);
};

module.exports = definePlugin({
  onChatMessage(message) {
    // Our own posts (and other bots') do not count as chat.
    if (isBot(message)) return;
    const config = outlet.config.get();
    const count = (kvInteger("sinceLastPost") ?? 0) + 1;
    if (count < (config.everyMessages ?? 20)) {
      outlet.kv.set("sinceLastPost", count);
      return;
    }
    const now = parseTimestamp(message.timestamp);
    const last = kvInteger("lastPostAt");
    const interval = (config.intervalSeconds ?? 300) * 1000;
    if (now !== null && last !== null && now - last < interval) {
      outlet.kv.set("sinceLastPost", count);
      return;
    }
    postNext(config, now);
  },

  // A new stream starts a new round (the payload's "timestamp", if any, times
  // an opening post).
  onStreamStarted(stream) {
    const config = outlet.config.get();
    outlet.kv.delete("lastPostAt");
    outlet.kv.set("sinceLastPost", 0);
    if (config.postOnStreamStart) postNext(config, parseTimestamp(stream.timestamp));
  },
});
