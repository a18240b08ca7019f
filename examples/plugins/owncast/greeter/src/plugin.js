const { definePlugin, owncast } = require("@owncast/plugin-sdk");

module.exports = definePlugin({
  // Join and part events hand over the user record itself.
  onChatUserJoined(user) {
    if (!user || user.isBot) return;
    owncast.chat.send(user.displayName ? `Welcome, ${user.displayName}!` : "Welcome!");
  },

  onChatUserParted(user) {
    if (!user || !user.id) return;
    owncast.kv.set("last-parted", user.id);
  },

  onStreamStarted(info) {
    const title = info && typeof info.title === "string" ? info.title.trim() : "";
    owncast.chat.sendAction(title ? `waves: we're live with "${title}"` : "waves: we're live");
  },
});
