const { definePlugin, owncast } = require("@owncast/plugin-sdk");

const COMMAND = "!ip";
const LOOKUP_URL = "https://api.ipify.org?format=json";

function lookUpIp() {
  let res;
  try {
    res = owncast.http.fetch(LOOKUP_URL, {
      method: "GET",
      headers: { Accept: "application/json" },
    });
  } catch (err) {
    return "couldn't fetch IP (request failed)";
  }
  if (res.status !== 200) return `couldn't fetch IP (status ${res.status})`;
  let ip = "";
  try {
    const parsed = JSON.parse(res.body);
    ip = parsed && typeof parsed.ip === "string" ? parsed.ip : "";
  } catch (err) {
    ip = "";
  }
  return ip ? `server IP: ${ip}` : "couldn't fetch IP (bad response)";
}

module.exports = definePlugin({
  onChatMessage(msg) {
    if (typeof msg.body !== "string" || msg.body.trim() !== COMMAND) return;
    owncast.chat.send(lookUpIp());
  },
});
