// Echo Bot (seeds/003 example): repeats what follows "!echo ". The JavaScript
// twin of examples/plugins/lua/echo-bot/plugin.lua.
//
// The command is matched here, on every chat message, so that it works in any
// host; under `outlet serve` a `command` trigger and an `onChatTrigger` handler
// would do the same.
const { definePlugin, outlet } = require("outlet");

const COMMAND = "!echo ";

const displayName = ({ user }) => {
  if (typeof user?.displayName === "string") return user.displayName;
  if (typeof user?.id === "string") return user.id;
  return "someone";
};

module.exports = definePlugin({
  onChatMessage(message) {
    const { body } = message;
    if (!body.startsWith(COMMAND) || body.length === COMMAND.length) return;
    // A chat line holds at most 4096 bytes, so the host refuses a longer echo.
    // That is the chatter's doing, not a fault of the plugin, and letting the
    // error escape would count as a failed call: five in a row auto-disable the
    // plugin. So the refusal becomes a warning (console.warn goes to the
    // plugin's warnings when it may not write to the log).
    try {
      outlet.chat.send(`${displayName(message)} said: ${body.slice(COMMAND.length)}`);
    } catch (problem) {
      console.warn(`echo not sent: ${problem.message}`);
    }
  },
});
