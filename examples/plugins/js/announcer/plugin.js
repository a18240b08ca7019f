// Announcer (seeds/003 example): posts the announcements that other plugins
// (e.g. relay) emit as announcement.broadcast, as system messages. The
// JavaScript twin of examples/plugins/lua/announcer/plugin.lua.
const { definePlugin, outlet } = require("outlet");

const ANNOUNCEMENT = "announcement.broadcast";

module.exports = definePlugin({
  // A plugin-declared event has no typed handler name: it is subscribed to
  // through the `on` table, keyed by the event's name.
  on: {
    [ANNOUNCEMENT](announcement) {
      // The relay's schema requires both fields, but another emitter's may not.
      const by = typeof announcement.by === "string" ? announcement.by : "someone";
      const text = typeof announcement.text === "string" ? announcement.text : "";
      outlet.log.info(`announcement from ${by}`);
      outlet.chat.system(`📣 ${by}: ${text}`);
    },
  },
});
