const { definePlugin, owncast } = require("@owncast/plugin-sdk");

const ANNOUNCEMENT_BROADCAST = "announcement.broadcast";

// owncast.chat.system renders its body as HTML, and the announcement text
// comes from a chat user: escape it.
const HTML_ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

module.exports = definePlugin({
  // Receiving a plugin event needs no permission; posting it needs chat.send.
  on: {
    [ANNOUNCEMENT_BROADCAST](payload) {
      const text = payload && typeof payload.text === "string" ? payload.text.trim() : "";
      if (text === "") return;
      const by = typeof payload.by === "string" && payload.by ? payload.by : "someone";
      owncast.chat.system(`📣 ${escapeHtml(text)} (from ${escapeHtml(by)})`);
    },
  },
});
