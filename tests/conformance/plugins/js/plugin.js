// The conformance plugin in JavaScript: the same behaviours as the native one
// (tests/conformance/plugins/native/conformance.cpp), chosen by the message body.
const { definePlugin, outlet, filter } = require("outlet");

module.exports = definePlugin({
  filterChatMessage(message) {
    const body = message.body;
    if (body.startsWith("drop:")) {
      return filter.drop(body.slice(5));
    } else if (body === "upper") {
      message.body = body.toUpperCase();
      return filter.modify(message);
    } else if (body === "throw") {
      throw new Error("conformance: asked to fail");
    } else if (body === "loop") {
      for (;;) {}
    } else if (body === "garbage") {
      return 42;
    }
    return filter.pass();
  },

  onChatMessage(message) {
    outlet.kv.set("last", message.body);
    if (message.body === "emit") {
      outlet.events.emit("conformance.echoed", { body: message.body });
    }
  },

  on: {
    "conformance.echoed"(payload) {
      outlet.kv.set("echoed", payload.body);
    },
  },

  request: {
    "chat.trigger"(payload) {
      if (payload.call) {
        // Probe a host function by name: report whether it exists for this plugin.
        try {
          return { ok: true, value: outlet.call(payload.call, ...(payload.args || [])) };
        } catch (error) {
          return { ok: false, error: String(error.message) };
        }
      }
      return { action: "send_message", message: `${outlet.config.get("greeting")} ${payload.body}` };
    },
  },

  collect: {
    "conformance.panels"(state) {
      return [{ title: "Conformance", items: [{ type: "text", text: state.text || "" }] }];
    },
  },

  dispatch: {
    "conformance.key"(key) {
      if (key.key !== "char:c") return null;
      return { consume: true, flash: "conformance" };
    },
  },
});
