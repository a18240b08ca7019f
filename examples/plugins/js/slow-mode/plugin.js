// Slow Mode (seeds/003 example): a user may send one message per
// intervalSeconds; a message that comes sooner is dropped. The JavaScript twin
// of examples/plugins/lua/slow-mode/plugin.lua.
//
// Time comes from the message's own "timestamp" (ISO 8601, e.g.
// "2024-01-01T00:00:01Z"), not from Date.now(): the message's time is the one
// that matters, and it keeps the scenarios reproducible. A message without a
// readable timestamp cannot be timed, so it passes (fail open, like every
// filter). The time of each user's last accepted message is kept in KV as
// "last:<user id>" = milliseconds since 1970 as a string (e.g. "1704067200000").
const { definePlugin, outlet, filter } = require("outlet");

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

// The stored time of a user's last message (a string or a number), or null.
const storedMillis = (value) => {
  if (typeof value === "string" && value.trim() !== "") value = Number(value);
  return Number.isSafeInteger(value) ? value : null;
};

const hasRole = ({ user }, roles) =>
  Array.isArray(user?.roles) && user.roles.some((role) => roles.includes(role));

module.exports = definePlugin({
  filterChatMessage(message) {
    const config = outlet.config.get();
    if (hasRole(message, config.exemptRoles ?? [])) return filter.pass();
    const now = parseTimestamp(message.timestamp);
    if (now === null) return filter.pass();
    const key = `last:${message.user.id}`;
    const last = storedMillis(outlet.kv.get(key));
    const interval = (config.intervalSeconds ?? 2) * 1000;
    if (last !== null) {
      const elapsed = now - last;
      // An older message arriving late does not move the clock back.
      if (elapsed < 0) return filter.pass();
      if (elapsed < interval) {
        const wait = Math.ceil((interval - elapsed) / 1000);
        return filter.drop(`slow-mode: wait ${wait} more second${wait === 1 ? "" : "s"}`);
      }
    }
    outlet.kv.set(key, String(now));
    return filter.pass();
  },
});
