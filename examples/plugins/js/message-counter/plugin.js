// Message Counter (seeds/003 example): keeps "count:<user id>" and "total" in
// the plugin's KV namespace, so counts survive reloads and restarts; "!count"
// reports yours. The JavaScript twin of examples/plugins/lua/message-counter/plugin.lua.
const { definePlugin, outlet } = require("outlet");

// Adds one to an integer key; a missing or non-integer value counts as 0, so a
// hand-edited key starts over instead of breaking the counter.
const increment = (key) => {
  const current = outlet.kv.get(key);
  const next = (Number.isInteger(current) ? current : 0) + 1;
  outlet.kv.set(key, next);
  return next;
};

const displayName = ({ user }) => {
  if (typeof user?.displayName === "string") return user.displayName;
  if (typeof user?.id === "string") return user.id;
  return "someone";
};

module.exports = definePlugin({
  onChatMessage(message) {
    const userId = typeof message.user?.id === "string" ? message.user.id : "anonymous";
    const mine = increment(`count:${userId}`);
    const total = increment("total");
    if (message.body !== "!count") return;
    // The host refuses a reply too long for a chat line (a display name of
    // thousands of characters). Letting that error escape would be a failed
    // call, and five in a row auto-disable the plugin, so it becomes a warning
    // (console.warn goes to the plugin's warnings without the log permission).
    try {
      outlet.chat.send(`${displayName(message)} has sent ${mine} messages (${total} in all)`);
    } catch (problem) {
      console.warn(`count not sent: ${problem.message}`);
    }
  },
});
