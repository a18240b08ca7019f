// Relay (seeds/003 example): re-emits "!announce <text>" as the plugin event
// announcement.broadcast, which other plugins (e.g. announcer) subscribe to.
// The JavaScript twin of examples/plugins/lua/relay/plugin.lua.
//
// The event is declared in plugin.json (events[]), so the host checks every
// payload against its schema and maxPayloadBytes before anyone receives it.
const { definePlugin, outlet } = require("outlet");

const COMMAND = "!announce ";

const displayName = ({ user }) => {
  if (typeof user?.displayName === "string") return user.displayName;
  if (typeof user?.id === "string") return user.id;
  return "someone";
};

module.exports = definePlugin({
  onChatMessage(message) {
    const { body } = message;
    if (!body.startsWith(COMMAND) || body.length === COMMAND.length) return;
    // The host refuses a payload over the event's maxPayloadBytes (4 KiB). That
    // is the chatter's doing, not a fault of the plugin, and letting the error
    // escape would be a failed call: five in a row auto-disable the plugin. So
    // the refusal becomes a warning (console.warn goes to the plugin's warnings
    // without the log permission).
    try {
      outlet.events.emit("announcement.broadcast", {
        by: displayName(message),
        text: body.slice(COMMAND.length),
      });
    } catch (problem) {
      console.warn(`announcement not relayed: ${problem.message}`);
    }
  },
});
