const { definePlugin, owncast } = require("@owncast/plugin-sdk");

function userId(user) {
  if (typeof user === "string") return user;
  return (user && user.id) || "";
}

function userName(user) {
  if (typeof user === "string") return user || "someone";
  return (user && (user.displayName || user.id)) || "someone";
}

module.exports = definePlugin({
  onChatMessage(msg) {
    // Our own total is a bot message too: counting bots would answer forever.
    if (msg.user && msg.user.isBot) return;
    const id = userId(msg.user);
    if (id === "") return;

    // The KV holds strings; anything unreadable counts as no messages yet.
    const key = `count:${id}`;
    const stored = parseInt(owncast.kv.get(key) || "0", 10);
    const count = (Number.isFinite(stored) && stored > 0 ? stored : 0) + 1;
    owncast.kv.set(key, String(count));
    owncast.chat.send(`${userName(msg.user)} has sent ${count} message(s) total`);
  },
});
