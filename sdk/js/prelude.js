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

  return {
    console,
    modules: { outlet: sdk, "@outlet/sdk": sdk, "@owncast/plugin-sdk": owncastSdk(host) },
  };

  // The Owncast plugin SDK (seeds/003; github owncast/plugin-sdk) as its plugins
  // expect it, so an Owncast plugin project runs unmodified: its handler names,
  // its owncast.* functions (KV of strings; "permission '...' not granted" when
  // absent), its constants. docs/owncast-compat.md says what maps where.
  function owncastSdk(host) {
    const Events = freeze({
      ChatMessageReceived: "chat.message.received",
      ChatUserJoined: "chat.user.joined",
      ChatUserParted: "chat.user.parted",
      ChatUserRenamed: "chat.user.renamed",
      ChatMessageModerated: "chat.message.moderated",
      StreamStarted: "stream.started",
      StreamStopped: "stream.stopped",
      StreamTitleChanged: "stream.title.changed",
      SseConnect: "sse.connect",
      SseDisconnect: "sse.disconnect",
      FediverseFollow: "fediverse.follow",
      FediverseLike: "fediverse.like",
      FediverseRepost: "fediverse.repost",
      FediverseMention: "fediverse.mention",
      FediverseReply: "fediverse.reply",
    });
    const Permissions = freeze({
      ChatSend: "chat.send",
      ChatHistory: "chat.history",
      ChatModerate: "chat.moderate",
      ChatFilter: "chat.filter",
      StorageKV: "storage.kv",
      StorageUpload: "storage.upload",
      StorageFS: "storage.fs",
      EventsEmit: "events.emit",
      NetworkFetch: "network.fetch",
      HttpServe: "http.serve",
      ServerRead: "server.read",
      NotificationsSend: "notifications.send",
      UsersRead: "users.read",
      UsersModerate: "users.moderate",
      FediversePost: "fediverse.post",
      HttpSSE: "http.sse",
      VideoConfigRead: "videoconfig.read",
      VideoConfigWrite: "videoconfig.write",
      UiModify: "ui.modify",
    });
    const FilterAction = freeze({ Pass: "pass", Modify: "modify", Drop: "drop" });

    // Owncast handlers whose Outlet twin has another name or payload: each goes
    // into the `on` table under the event's name. The user events carry the
    // user itself in Owncast and {user} in Outlet's chat domain.
    const user = (payload) =>
      payload !== null && typeof payload === "object" && "user" in payload ? payload.user : payload;
    const renamed = {
      onChatUserJoined: [Events.ChatUserJoined, user],
      onChatUserParted: [Events.ChatUserParted, user],
      onChatUserRenamed: [Events.ChatUserRenamed, null],
      onMessageModerated: [Events.ChatMessageModerated, null],
      onSseConnect: [Events.SseConnect, null],
      onSseDisconnect: [Events.SseDisconnect, null],
      onFediverseFollow: [Events.FediverseFollow, null],
      onFediverseLike: [Events.FediverseLike, null],
      onFediverseRepost: [Events.FediverseRepost, null],
      onFediverseMention: [Events.FediverseMention, null],
      onFediverseReply: [Events.FediverseReply, null],
    };
    // Handlers with the same name in both SDKs, and the event each covers.
    const shared = {
      onChatMessage: Events.ChatMessageReceived,
      onStreamStarted: Events.StreamStarted,
      onStreamStopped: Events.StreamStopped,
      onStreamTitleChanged: Events.StreamTitleChanged,
    };

    function defineOwncastPlugin(def) {
      if (def === null || typeof def !== "object") {
        const got = def === null ? "null" : typeof def;
        throw new TypeError("definePlugin(def): expects an object of handlers, got " + got);
      }
      const plugin = {};
      const on = {};
      const covered = new Set();
      for (const key of Object.keys(def)) {
        const value = def[key];
        if (key === "on") continue;
        const twin = renamed[key];
        if (twin === undefined) {
          plugin[key] = value;
          if (shared[key] !== undefined && typeof value === "function") covered.add(shared[key]);
          continue;
        }
        if (typeof value !== "function") {
          throw new TypeError(`definePlugin: ${key} must be a function (got ${typeof value})`);
        }
        const [event, adapt] = twin;
        on[event] = adapt === null ? value : function (payload) {
          return value.call(this, adapt(payload));
        };
        covered.add(event);
      }
      // As in Owncast, a typed handler wins over on[event] for the same event.
      const custom = def.on;
      if (custom !== undefined && custom !== null && typeof custom === "object") {
        for (const event of Object.keys(custom)) {
          if (!covered.has(event)) on[event] = custom[event];
        }
      } else if (custom !== undefined) {
        plugin.on = custom; // not an object: let Outlet name the mistake
      }
      if (Object.keys(on).length > 0) plugin.on = on;
      return plugin;
    }

    function denied(permission) {
      return function () {
        throw new Error(`permission '${permission}' not granted`);
      };
    }
    // A granted Outlet function, or one that says which permission is missing.
    function granted(permission, group, name) {
      const f = host[group] && host[group][name];
      return typeof f === "function" ? f : denied(permission);
    }
    function unsupported(permission, what) {
      return function () {
        throw new Error(
          `permission '${permission}' not granted (Outlet has no counterpart of ${what} yet)`
        );
      };
    }
    const kvGet = granted("storage.kv", "kv", "get");
    const kvSet = granted("storage.kv", "kv", "set");
    const moderate = granted("chat.moderate", "chat", "moderate");
    const owncast = freeze({
      chat: freeze({
        send: granted("chat.send", "chat", "send"),
        sendAction: granted("chat.send", "chat", "sendAction"),
        system: granted("chat.send", "chat", "system"),
        sendTo: unsupported("chat.send", "chat.sendTo"),
        history: unsupported("chat.history", "chat.history"),
        clients: unsupported("chat.history", "chat.clients"),
        deleteMessage: (id) => moderate({ action: "delete", messageId: String(id) }),
        kick: unsupported("chat.moderate", "chat.kick"),
      }),
      // Owncast's KV holds strings.
      kv: freeze({
        get(key) {
          const value = kvGet(key);
          if (value === null || value === undefined) return null;
          return typeof value === "string" ? value : stringify(value);
        },
        set(key, value) {
          kvSet(key, String(value));
        },
      }),
      events: freeze({ emit: granted("events.emit", "events", "emit") }),
      http: freeze({ fetch: granted("network.fetch", "http", "fetch") }),
      users: freeze({
        list: unsupported("users.read", "users.list"),
        get: unsupported("users.read", "users.get"),
        setEnabled: unsupported("users.moderate", "users.setEnabled"),
        banIP: unsupported("users.moderate", "users.banIP"),
      }),
      storage: freeze({ upload: unsupported("storage.upload", "storage.upload") }),
      fediverse: freeze({ post: unsupported("fediverse.post", "fediverse.post") }),
      notifications: freeze({
        discord: unsupported("notifications.send", "notifications.discord"),
        browserPush: unsupported("notifications.send", "notifications.browserPush"),
        fediverse: unsupported("notifications.send", "notifications.fediverse"),
      }),
      sse: freeze({ send: granted("http.sse", "sse", "send") }),
    });
    return freeze({
      definePlugin: defineOwncastPlugin,
      filter,
      owncast,
      FilterAction,
      Events,
      Permissions,
    });
  }
});
