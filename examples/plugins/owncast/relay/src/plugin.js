const { definePlugin, owncast } = require("@owncast/plugin-sdk");

// A plugin-defined event: the announcer plugin subscribes to the same string.
const ANNOUNCEMENT_BROADCAST = "announcement.broadcast";
const COMMAND = "/announce ";

function speakerName(user) {
  if (typeof user === "string") return user || "someone";
  return (user && user.displayName) || "someone";
}

module.exports = definePlugin({
  onChatMessage(msg) {
    if (typeof msg.body !== "string" || !msg.body.startsWith(COMMAND)) return;
    const text = msg.body.slice(COMMAND.length).trim();
    if (text === "") return;
    owncast.events.emit(ANNOUNCEMENT_BROADCAST, {
      text,
      by: speakerName(msg.user),
      at: msg.timestamp,
    });
  },
});
