const { definePlugin, owncast } = require("@owncast/plugin-sdk");

// The SDK's typings call msg.user a string (the display name) while join and
// part events carry a whole user record; accept either, so the bot works
// whichever shape the host sends.
function speakerName(user) {
  if (typeof user === "string") return user || "someone";
  if (user && typeof user.displayName === "string" && user.displayName) {
    return user.displayName;
  }
  return "someone";
}

module.exports = definePlugin({
  onChatMessage(msg) {
    // Never answer a bot (ourselves included): two echo bots would loop forever.
    if (msg.user && msg.user.isBot) return;
    owncast.chat.send(`${speakerName(msg.user)} said: ${msg.body}`);
  },
});
