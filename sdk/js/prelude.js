// The SDK every JavaScript plugin gets from require("outlet"): definePlugin,
// filter verdicts and the host functions its operator granted. Outlet runs this
// file first in each plugin's own realm (compiled into the host), with `host`, the
// namespace of granted functions, and `natives`, two helpers of the host's.
// Nothing here is trusted by the host: it only reads the plugin object and
// converts every answer itself.
(function (host, natives) {
  "use strict";
  const freeze = Object.freeze;
  const stringify = JSON.stringify;

  const filter = freeze({
    pass() {
      return { action: "pass" };
    },
    modify(payload) {
      if (payload === undefined) {
        throw new TypeError("filter.modify(payload): the payload is missing");
      }
      return { action: "modify", payload };
    },
    drop(reason) {
      return { action: "drop", reason: reason === undefined ? "" : String(reason) };
    },
  });

  function definePlugin(handlers) {
    if (handlers === null || typeof handlers !== "object") {
      const got = handlers === null ? "null" : typeof handlers;
      throw new TypeError("definePlugin(handlers): expects an object of handlers, got " + got);
    }
    return handlers;
  }

  // console.* as a Node user expects, into the plugin's log (permission "log").
  function format(values) {
    return values
      .map((value) => {
        if (typeof value === "string") return value;
        if (value instanceof Error) {
          const stack = typeof value.stack === "string" ? value.stack.trimEnd() : "";
          return stack ? `${value}\n${stack}` : String(value);
        }
        if (typeof value === "object" && value !== null) {
          try {
            return stringify(value);
          } catch (e) {
            return String(value);
          }
        }
        return String(value);
      })
      .join(" ");
  }
  const log = host.log;
  function writer(level) {
    const write = log && log[level];
    if (typeof write !== "function") {
      // Without "log", warnings and errors still reach the operator as the
      // plugin's warnings (as Lua's warn() does); the rest is dropped.
      if (level === "warn" || level === "error") {
        return (...values) => natives.warn(format(values));
      }
      return (...values) => natives.consoleDropped();
    }
    return (...values) => {
      write(format(values));
    };
  }
  const console = freeze({
    log: writer("info"),
    info: writer("info"),
    debug: log && typeof log.debug === "function" ? writer("debug") : writer("info"),
    warn: writer("warn"),
    error: writer("error"),
  });

  const sdk = freeze({ definePlugin, filter, outlet: host });
  // The Owncast plugin SDK's module (seeds/003): the same names; owncast.* are
  // Outlet's host functions under the names that SDK uses.
  const owncast = freeze({ definePlugin, filter, owncast: host });

  return {
    console,
    modules: { outlet: sdk, "@outlet/sdk": sdk, "@owncast/plugin-sdk": owncast },
  };
});
