const { definePlugin, filter } = require("@owncast/plugin-sdk");

const WAIT_MS = 2000;

// user key -> time (ms) of that user's last message that got through. Kept in
// memory on purpose: a restart forgets it, which is fine for a soft limit.
const lastAccepted = new Map();

function userKey(user) {
  if (typeof user === "string") return user;
  return (user && (user.id || user.displayName)) || "";
}

function userName(user) {
  if (typeof user === "string") return user || "someone";
  return (user && (user.displayName || user.id)) || "someone";
}

module.exports = definePlugin({
  filterChatMessage(msg) {
    // The message's own timestamp is the clock: the sandbox's Date.now() is
    // not a trustworthy wall clock.
    const now = Date.parse(msg.timestamp);
    const key = userKey(msg.user);
    if (Number.isNaN(now) || key === "") return filter.pass();

    const last = lastAccepted.get(key);
    if (last !== undefined && now - last < WAIT_MS) {
      // A dropped message does not restart the wait.
      return filter.drop(
        `slow-mode: ${userName(msg.user)} must wait ${WAIT_MS}ms between messages`,
      );
    }
    lastAccepted.set(key, now);
    return filter.pass();
  },
});
