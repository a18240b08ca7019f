// Chat Logger (seeds/003 example): writes every chat message, deletion, join,
// part, rename and stream start/stop to the host log (tagged with the plugin id
// by the host), and keeps the last `maxLines` lines in the KV key "transcript"
// (a JSON array of strings), where they survive restarts. The JavaScript twin
// of examples/plugins/lua/chat-logger/plugin.lua.
const { definePlugin, outlet } = require("outlet");

const nameOf = (user) => {
  if (typeof user?.displayName === "string" && user.displayName !== "") return user.displayName;
  if (typeof user?.id === "string") return user.id;
  return "someone";
};

const record = (line) => {
  const config = outlet.config.get();
  if (config.level === "debug") {
    outlet.log.debug(line);
  } else {
    outlet.log.info(line);
  }
  // Anything but an array under "transcript" (edited by hand, say) starts over.
  const stored = outlet.kv.get("transcript");
  const transcript = Array.isArray(stored) ? stored : [];
  transcript.push(line);
  outlet.kv.set("transcript", transcript.slice(-(config.maxLines ?? 100)));
};

const presence = (line) => {
  if (outlet.config.get("presence") !== false) record(line);
};

module.exports = definePlugin({
  onChatMessage(message) {
    const line = `${nameOf(message.user)}: ${message.body}`;
    record(typeof message.timestamp === "string" ? `[${message.timestamp}] ${line}` : line);
  },

  onMessageDeleted(deleted) {
    record(`* message ${deleted.id} was deleted`);
  },

  onUserJoined({ user }) {
    presence(`* ${nameOf(user)} joined`);
  },

  onUserParted({ user }) {
    presence(`* ${nameOf(user)} left`);
  },

  onUserRenamed({ user }) {
    presence(`* ${user.id} is now known as ${nameOf(user)}`);
  },

  onStreamStarted(stream) {
    const titled = typeof stream.title === "string" && stream.title !== "";
    record(titled ? `* stream started: ${stream.title}` : "* stream started");
  },

  onStreamStopped() {
    record("* stream stopped");
  },
});
