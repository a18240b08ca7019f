// The Outlet JavaScript SDK: TypeScript declarations for editors.
//
// Outlet never loads this file. It describes what a JavaScript plugin sees at run time (the
// module that sdk/js/prelude.js builds and `require("outlet")` returns, the `outlet` object of
// host functions that src/runtime/spidermonkey/js_runtime.cpp fills in, and the handlers it
// looks for), so that an editor completes and type-checks plugin code. It stands alone: it
// declares the CommonJS globals (`require`, `module`, `exports`, `__filename`, `__dirname`) and
// `console`, so do not add @types/node (a plugin has no Node APIs). sdk/js/README.md shows the
// jsconfig.json that uses it; docs/authoring-js.md is the guide.
//
//     // @ts-check
//     const { definePlugin, outlet, filter } = require("outlet");
//
//     module.exports = definePlugin({
//       filterChatMessage(message) {          // message: ChatMessage
//         if (message.body.includes("spam")) return filter.drop("spam");
//       },
//     });
//
// Host functions exist only when the plugin's manifest declares their permission and an
// operator approved it. The namespaces below are declared present, so that `outlet.kv.get(...)`
// needs no `!`; at run time an ungranted one is `undefined` (reading `outlet.kv.get` without
// "storage.kv" throws a TypeError). Test with `outlet.has("kv.get")` when a permission is
// optional. The `chat` functions and the chat payloads belong to the chat domain of the
// reference host; another application declares its own events and functions.

// ---------------------------------------------------------------------------------------------
// The CommonJS module scope (each plugin file is wrapped as Node wraps a CommonJS module)
// ---------------------------------------------------------------------------------------------

/**
 * Loads a module. A plugin may require:
 * - its own files, by a relative path (`"./words"`, `"../lib/util"`): tried as given, then with
 *   `.js`, then `.json`, then as a folder's `index.js`; the file must stay inside the plugin's
 *   folder (symbolic links that lead out of it are refused). A `.json` file is parsed; a `.js`
 *   file runs once and later calls get the same `module.exports` (a cycle gets the exports as
 *   they are so far). At most 256 files per plugin, 4 MiB each.
 * - the SDK: `"outlet"`, also under the names `"@outlet/sdk"` and `"@owncast/plugin-sdk"`.
 *
 * Anything else (`"fs"`, an npm package) throws `Cannot find module '...'`: bundle
 * dependencies into the plugin's files.
 */
declare function require(id: "outlet"): typeof import("outlet");
declare function require(id: "@outlet/sdk"): typeof import("@outlet/sdk");
declare function require(id: "@owncast/plugin-sdk"): typeof import("@owncast/plugin-sdk");
declare function require(id: string): any;

/** The module being loaded. The entrypoint's `module.exports` must be the plugin object. */
declare var module: {
  /**
   * What `require` of this file returns. For the entrypoint: the object
   * `definePlugin({...})` returns (an object, not a function).
   */
  exports: any;
};

/** The initial `module.exports` object (`exports.onChatMessage = ...` works too). */
declare var exports: any;

/** This file's path relative to the plugin's folder, e.g. `"lib/util.js"`. */
declare var __filename: string;

/** This file's folder relative to the plugin's folder, e.g. `"lib"` (`""` at the top). */
declare var __dirname: string;

/**
 * Writes to the plugin's log through the host functions `log.info`, `log.warn` and
 * `log.error` (permission `"log"`). The values are joined with spaces: strings as they are,
 * errors with their stack, other objects as JSON. Without `"log"`, `warn` and `error` add the
 * line to the plugin's warnings instead, and `log`, `info` and `debug` are dropped (the plugin
 * gets one warning saying so).
 *
 * Like the host functions it calls, `console` cannot write while the plugin's files load:
 * calling it at the top level of a file (with `"log"` granted) fails the load. Call it from
 * handlers.
 */
interface Console {
  /** Writes at level info. */
  log(...values: unknown[]): void;
  /** Writes at level info. */
  info(...values: unknown[]): void;
  /** Writes at level debug (`log.debug`; at level info if the host has no `log.debug`). */
  debug(...values: unknown[]): void;
  /** Writes at level warn (without `"log"`: a plugin warning). */
  warn(...values: unknown[]): void;
  /** Writes at level error (without `"log"`: a plugin warning). */
  error(...values: unknown[]): void;
}

/** The plugin's console: `log`, `info`, `debug`, `warn` and `error` only. */
declare var console: Console;

// ---------------------------------------------------------------------------------------------
// require("outlet")
// ---------------------------------------------------------------------------------------------

/**
 * The Outlet SDK: `definePlugin`, `filter` and `outlet` (the host functions this plugin was
 * granted), plus the types of payloads, verdicts and values.
 *
 * ```js
 * const { definePlugin, outlet, filter } = require("outlet");
 * ```
 */
declare module "outlet" {
  // ----- Values --------------------------------------------------------------------------------

  /** A JSON scalar. */
  export type JsonPrimitive = string | number | boolean | null;

  /** A JSON array, as the host hands it over. */
  export type JsonArray = JsonValue[];

  /** A JSON object, as the host hands it over. */
  export type JsonObject = { [key: string]: JsonValue };

  /**
   * A JSON value as it reaches the plugin: a payload, or a host function's answer. `null` is
   * `null` (never `undefined`); a whole number is a `number` (integers beyond ±2^53 lose
   * precision); objects and arrays are fresh plain ones the plugin may change. Objects that
   * went through the host have their keys in sorted order.
   */
  export type JsonValue = JsonPrimitive | JsonArray | JsonObject;

  /**
   * A value with a `toJSON` method (a `Date`, for one): the host converts what `toJSON`
   * returns, as `JSON.stringify` does.
   */
  export interface JsonSerializable {
    toJSON(): unknown;
  }

  /**
   * What the plugin may hand to the host (a handler's result, a host function's argument). It
   * is converted directly, by `JSON.stringify`'s rules and a few stricter ones:
   * - a whole number within ±2^53 becomes a JSON integer (`3.0` is `3`), others a float;
   *   `NaN` and infinities are refused;
   * - a BigInt within the 64-bit integer range becomes an integer; a larger one is refused;
   * - properties whose value is `undefined` are skipped, and so are symbol keys; `undefined`
   *   in an array (or as the whole value) is `null`;
   * - `toJSON` is honoured; other objects (a `Map`, a class instance) give their own
   *   enumerable properties;
   * - functions, symbols, cycles and strings with a lone surrogate are refused;
   * - at most 128 levels deep, 1,000,000 values and 16 MiB of strings per conversion.
   *
   * A refused value fails the call naming where it is: `at .user.name: a function cannot be
   * sent to the host`.
   */
  export type JsonInput =
    | string
    | number
    | boolean
    | bigint
    | null
    | JsonSerializable
    | readonly (JsonInput | undefined)[]
    | { readonly [key: string]: JsonInput | undefined };

  // ----- Chat domain payloads (src/domains/chat/chat_domain.cpp) -------------------------------

  /** A chat user's role. */
  export type ChatRole = "broadcaster" | "moderator" | "subscriber" | "vip" | "viewer" | "bot";

  /** A chat user. */
  export type ChatUser = {
    /** The user's id; never empty. */
    id: string;
    /** The name shown in chat, when the platform sent one. */
    displayName?: string;
    /** The user's roles, when the platform sent them. */
    roles?: ChatRole[];
  };

  /**
   * The payload of `chat.message.received` (filter and notify). The schema lets other fields
   * through; these are the ones it names.
   */
  export type ChatMessage = {
    /** The message's id (what `chat.moderate` deletes by). */
    id?: string;
    /** The text; at most 4096 characters (a filter that makes it longer fails). */
    body: string;
    /** Who wrote it. */
    user: ChatUser;
    /** When it was sent, as the platform wrote it. */
    timestamp?: string;
    /** The channel it was sent in. */
    channel?: string;
  };

  /** The payload of `chat.message.deleted`. */
  export type MessageDeleted = {
    /** The id of the removed message. */
    id: string;
  };

  /** The payload of `chat.user.joined`, `chat.user.parted` and `chat.user.renamed`. */
  export type UserEvent = {
    /** The user. */
    user: ChatUser;
  };

  /**
   * The payload of `stream.started`, `stream.stopped` and `stream.title.changed`: an object
   * whose fields the host application chooses.
   */
  export type StreamEvent = JsonObject;

  /** The trigger that matched, as its manifest declares it. */
  export type TriggerInfo = {
    id: string;
    type: "moderate" | "command" | "keyword" | "pattern" | "event" | "timer";
    /** The manifest's `handler`, to route several triggers in one handler. */
    handler?: string;
    command?: string;
    prefix?: string;
    [field: string]: JsonValue | undefined;
  };

  /**
   * The payload of the `chat.trigger` request, from `outlet serve`'s trigger matcher
   * (docs/http-api.md "Bot triggers"). Under `outlet test` it is whatever the scenario sends.
   */
  export type ChatTriggerRequest = {
    trigger: TriggerInfo;
    /** A command's arguments (the text after the command word); else the whole body. */
    text: string;
    /** The triggering message (message triggers). */
    message?: ChatMessage;
    /** Who sent it, or the event's user. */
    user?: ChatUser;
    command?: string;
    args?: string[];
    event?: string;
    payload?: JsonValue;
    /** The plugin's config. */
    config: JsonValue;
  };

  /**
   * What a trigger handler answers (seeds/001); `outlet serve` carries it out. `send_message`
   * and any `message` need `chat.send`; `delete`, `timeout` and `ban` need `chat.moderate`.
   */
  export type TriggerAction = {
    action: "send_message" | "delete" | "timeout" | "ban" | "none";
    /** For `send_message` (and posted after the others): the text. */
    message?: string;
    /** For `timeout`: seconds, 1 to 1209600. */
    duration?: number;
    reason?: string;
    /** For a deferred `delete`: the message. */
    message_id?: string;
    /** For a deferred `timeout` or `ban`: the user. */
    user_id?: string;
  };

  /**
   * The payload of the `http.request` request ("an HTTP request under /plugins/<id>/"). Its
   * schema is only "an object": this version has no HTTP server, so its fields are whatever
   * the requester sends, and the answer (any JSON value) goes back to it unchanged.
   */
  export type HttpRequest = JsonObject;

  /** The chat domain's events and their payloads, by event name. */
  export type ChatEvents = {
    "chat.message.received": ChatMessage;
    "chat.message.deleted": MessageDeleted;
    "chat.user.joined": UserEvent;
    "chat.user.parted": UserEvent;
    "chat.user.renamed": UserEvent;
    "stream.started": StreamEvent;
    "stream.stopped": StreamEvent;
    "stream.title.changed": StreamEvent;
    "chat.trigger": ChatTriggerRequest;
    "http.request": HttpRequest;
  };

  // ----- Filter verdicts -----------------------------------------------------------------------

  /** Let the payload through unchanged. */
  export type PassVerdict = { action: "pass" };

  /** Replace the payload: the next filter, then the notifications, get `payload`. */
  export type ModifyVerdict<P = JsonInput> = { action: "modify"; payload: P };

  /** Drop the payload: later filters and the notifications never see it. */
  export type DropVerdict = { action: "drop"; reason?: string | null };

  /**
   * What a filter decides. Build it with `filter.pass()`, `filter.modify(payload)` or
   * `filter.drop(reason)`, or return such an object directly.
   */
  export type FilterVerdict<P = JsonInput> = PassVerdict | ModifyVerdict<P> | DropVerdict;

  /**
   * What a filter handler may return: a verdict, or any falsy value (nothing, `undefined`,
   * `null`, `false`), which passes. Anything else (a string, `42`, an object without a known
   * `action`) is a failure: the filter is skipped (fail-open) and gets a strike. An `async`
   * handler's promise counts by what it resolves to.
   */
  export type FilterResult<P = JsonInput> =
    | FilterVerdict<P>
    | null
    | undefined
    | void
    | false
    | Promise<FilterVerdict<P> | null | undefined | void | false>;

  /** The verdict builders (no permission needed). */
  export interface FilterBuilders {
    /** `{ action: "pass" }`: the same as returning nothing. */
    pass(): PassVerdict;
    /**
     * `{ action: "modify", payload }`. The new payload must still match the event's schema
     * (a chat message keeps `body` and `user`), or the filter counts as failed and the old
     * payload goes on. Throws a TypeError when `payload` is missing.
     */
    modify<P extends JsonInput>(payload: P): ModifyVerdict<P>;
    /** `{ action: "drop", reason }`, with `reason` as a string (`""` when not given). */
    drop(reason?: string): DropVerdict & { reason: string };
  }

  /** Builders for filter verdicts. Frozen. */
  export const filter: FilterBuilders;

  // ----- Handlers ------------------------------------------------------------------------------

  /**
   * A notification handler: runs after the event, in parallel with other plugins; its answer
   * is ignored (but must still convert to JSON, or the call fails). May be `async`.
   */
  export type NotifyHandler<P = any> = (payload: P) => void | Promise<void>;

  /** A filter handler: returns a verdict, or nothing to pass. May be `async`. */
  export type FilterHandler<P = any> = (payload: P) => FilterResult<P>;

  /**
   * A collect handler: returns this plugin's contribution (nothing contributes nothing); the
   * caller gets every plugin's, in activation order.
   */
  export type CollectHandler<P = any> = (
    payload: P,
  ) => JsonInput | undefined | void | Promise<JsonInput | undefined | void>;

  /**
   * A dispatch handler: returns an object to merge (booleans OR-ed, lists concatenated,
   * objects merged key by key, other values: the first setter wins) or nothing. Anything but
   * an object or nothing is a failure.
   */
  export type DispatchHandler<P = any> = (
    payload: P,
  ) =>
    | { readonly [key: string]: JsonInput | undefined }
    | null
    | undefined
    | void
    | Promise<{ readonly [key: string]: JsonInput | undefined } | null | undefined | void>;

  /** A request handler: what it returns (or resolves to) is the answer; nothing is `null`. */
  export type RequestHandler<P = any, R extends JsonInput = JsonInput> = (
    payload: P,
  ) => R | undefined | void | Promise<R | undefined | void>;

  /**
   * `on: { "event.name": handler }`: each handler subscribes in its event's usual way, like a
   * typed `on<Name>` handler: notify when the event is delivered as a notification, otherwise
   * its one other kind (`chat.trigger` and `http.request` are requests). An event nobody
   * declares is a notification (the plugin loads with a warning).
   */
  export type OnTable = {
    "chat.message.received"?: NotifyHandler<ChatMessage>;
    "chat.message.deleted"?: NotifyHandler<MessageDeleted>;
    "chat.user.joined"?: NotifyHandler<UserEvent>;
    "chat.user.parted"?: NotifyHandler<UserEvent>;
    "chat.user.renamed"?: NotifyHandler<UserEvent>;
    "stream.started"?: NotifyHandler<StreamEvent>;
    "stream.stopped"?: NotifyHandler<StreamEvent>;
    "stream.title.changed"?: NotifyHandler<StreamEvent>;
    "chat.trigger"?: RequestHandler<ChatTriggerRequest, TriggerAction | JsonInput>;
    "http.request"?: RequestHandler<HttpRequest>;
    [event: string]: ((payload: any) => unknown) | undefined;
  };

  /** `notify: { "event.name": handler }`: notification handlers by event name. */
  export type NotifyTable = {
    "chat.message.received"?: NotifyHandler<ChatMessage>;
    "chat.message.deleted"?: NotifyHandler<MessageDeleted>;
    "chat.user.joined"?: NotifyHandler<UserEvent>;
    "chat.user.parted"?: NotifyHandler<UserEvent>;
    "chat.user.renamed"?: NotifyHandler<UserEvent>;
    "stream.started"?: NotifyHandler<StreamEvent>;
    "stream.stopped"?: NotifyHandler<StreamEvent>;
    "stream.title.changed"?: NotifyHandler<StreamEvent>;
    [event: string]: NotifyHandler | undefined;
  };

  /**
   * `filter: { "event.name": handler }`: filter handlers by event name (the chat domain lets
   * only `chat.message.received` be filtered).
   */
  export type FilterTable = {
    "chat.message.received"?: FilterHandler<ChatMessage>;
    [event: string]: FilterHandler | undefined;
  };

  /** `collect: { "event.name": handler }` (the chat domain declares no collect events). */
  export type CollectTable = { [event: string]: CollectHandler | undefined };

  /** `dispatch: { "event.name": handler }` (the chat domain declares no dispatch events). */
  export type DispatchTable = { [event: string]: DispatchHandler | undefined };

  /** `request: { "event.name": handler }`: request handlers by event name. */
  export type RequestTable = {
    "chat.trigger"?: RequestHandler<ChatTriggerRequest, TriggerAction | JsonInput>;
    "http.request"?: RequestHandler<HttpRequest>;
    [event: string]: RequestHandler | undefined;
  };

  /**
   * The plugin object: what `definePlugin` takes and the entrypoint exports. Which handlers it
   * holds decides the plugin's subscriptions (if the manifest lists `subscriptions` too, the
   * two must agree). Every field is optional.
   *
   * Typed handlers are named after the host's events: `on<Name>` subscribes in the event's
   * usual way (notify when it is notifiable, else its one other kind), `filter<Name>` as a
   * filter. `<Name>` is the event's handler name in CamelCase: `ChatMessage` for
   * `chat.message.received`, and otherwise the event name's words (`stream.title.changed` →
   * `onStreamTitleChanged`, a plugin's own `greeter.greeted` → `onGreeterGreeted`).
   *
   * A handler is called with the payload as its one argument and `this` set to this object
   * (for group-table handlers too). Other fields are the plugin's own (helpers, state); a
   * function named like a handler whose event does not exist draws a warning.
   */
  export interface PluginHandlers {
    /** `chat.message.received` as a notification (after the filters passed it). */
    onChatMessage?: NotifyHandler<ChatMessage>;
    /** `chat.message.received` as a filter: return a verdict, or nothing to pass. */
    filterChatMessage?: FilterHandler<ChatMessage>;
    /** `chat.message.deleted`: a message was removed by a moderator or a plugin. */
    onMessageDeleted?: NotifyHandler<MessageDeleted>;
    /** `chat.user.joined`. */
    onUserJoined?: NotifyHandler<UserEvent>;
    /** `chat.user.parted`. */
    onUserParted?: NotifyHandler<UserEvent>;
    /** `chat.user.renamed`: a user changed display name. */
    onUserRenamed?: NotifyHandler<UserEvent>;
    /** `stream.started`: the stream went live. */
    onStreamStarted?: NotifyHandler<StreamEvent>;
    /** `stream.stopped`: the stream went offline. */
    onStreamStopped?: NotifyHandler<StreamEvent>;
    /** `stream.title.changed`. */
    onStreamTitleChanged?: NotifyHandler<StreamEvent>;
    /** `chat.trigger` (a request): one of this plugin's bot triggers matched. */
    onChatTrigger?: RequestHandler<ChatTriggerRequest, TriggerAction | JsonInput>;
    /** `http.request` (a request): an HTTP request under /plugins/<id>/. */
    onHttpRequest?: RequestHandler<HttpRequest>;

    /** Event name → handler, subscribed in the event's usual way (like `on<Name>`). */
    on?: OnTable & ThisType<any>;
    /** Event name → notification handler. */
    notify?: NotifyTable & ThisType<any>;
    /** Event name → filter handler. */
    filter?: FilterTable & ThisType<any>;
    /** Event name → collect handler. */
    collect?: CollectTable & ThisType<any>;
    /** Event name → dispatch handler. */
    dispatch?: DispatchTable & ThisType<any>;
    /** Event name → request handler. */
    request?: RequestTable & ThisType<any>;

    /**
     * The priority of every filter of this plugin: an integer, lower runs first (ties by
     * plugin id), default 100, clamped to ±1,000,000. The manifest's `subscriptions`
     * priorities win over it.
     */
    filterPriority?: number;

    /**
     * The plugin's own fields, and handlers of events this file does not type (the plugin's
     * own events, another application's).
     */
    [key: string]: unknown;
  }

  /**
   * Declares the plugin: returns `handlers` unchanged (it only checks that they are an
   * object), so that editors know their types. Export the result:
   *
   * ```js
   * module.exports = definePlugin({ onChatMessage(message) { ... } });
   * ```
   *
   * Throws a TypeError for anything but an object.
   */
  export function definePlugin<T extends PluginHandlers>(handlers: T & ThisType<any>): T;

  // ----- Host functions ------------------------------------------------------------------------

  /** Options of `outlet.http.fetch`. */
  export type HttpFetchOptions = {
    /** `"GET"` unless given. */
    method?: string;
    headers?: { [name: string]: string };
    body?: JsonInput;
  };

  /** The answer of `outlet.http.fetch`. */
  export type HttpFetchResponse = {
    status: number;
    headers: { [name: string]: string };
    body: JsonValue;
  };

  /** A moderation request for `outlet.chat.moderate`. */
  export type ChatModeration =
    | { action: "delete"; messageId: string; reason?: string }
    | { action: "timeout"; userId: string; durationSeconds: number; reason?: string }
    | { action: "ban"; userId: string; reason?: string };

  /**
   * Every host function of the reference host by its full name, for `outlet.call` and
   * `outlet.has`. Each exists for a plugin only when its permission is declared and granted.
   */
  export type HostFunctions = {
    /** Permission `log`. */
    "log.debug": (message: JsonInput) => null;
    /** Permission `log`. */
    "log.info": (message: JsonInput) => null;
    /** Permission `log`. */
    "log.warn": (message: JsonInput) => null;
    /** Permission `log`. */
    "log.error": (message: JsonInput) => null;
    /** Permission `storage.kv`. */
    "kv.get": (key: string) => JsonValue;
    /** Permission `storage.kv`. */
    "kv.set": (key: string, value: JsonInput) => null;
    /** Permission `storage.kv`. */
    "kv.delete": (key: string) => boolean;
    /** Permission `storage.kv`. */
    "kv.list": (prefix?: string | null, limit?: number | null) => string[];
    /** Permission `cache`. */
    "cache.get": (key: string) => JsonValue;
    /** Permission `cache`. */
    "cache.set": (key: string, value: JsonInput, ttlSeconds?: number | null) => null;
    /** Permission `cache`. */
    "cache.delete": (key: string) => boolean;
    /** Permission `events.emit`. */
    "events.emit": (event: string, payload?: JsonInput) => boolean;
    /** Permission `config.read`. */
    "config.get": (key?: string | null) => JsonValue;
    /** Permission `secrets.read`. */
    "secrets.get": (name: string) => string | null;
    /** Permission `network.fetch` (declared by `outlet test` only, in this version). */
    "http.fetch": (url: string, options?: HttpFetchOptions) => HttpFetchResponse;
    /** Permission `chat.send`. */
    "chat.send": (text: string) => true | { id: string };
    /** Permission `chat.send`. */
    "chat.sendAction": (text: string) => true | { id: string };
    /** Permission `chat.system`. */
    "chat.system": (text: string) => true | { id: string };
    /** Permission `chat.moderate`. */
    "chat.moderate": (request: ChatModeration) => true;
    /** Permission `chat.send`. */
    "chat.defer": (delaySeconds: number, answer: TriggerAction) => true;
  };

  /** A host function's full name (`"kv.get"`, `"chat.send"`, ...). */
  export type HostFunctionName = keyof HostFunctions;

  /**
   * The plugin's own key-value namespace: persistent, and no other plugin can read it.
   * **Permission `storage.kv`**; without it `outlet.kv` is `undefined`. Keys are strings of at
   * most 1024 bytes.
   */
  export interface KvFunctions {
    /**
     * Reads a key: its value, or `null` when absent (or stored as null), so
     * `outlet.kv.get(key) ?? fallback` supplies a default. The type argument is a cast, not a
     * check.
     */
    get<T extends JsonValue = JsonValue>(key: string): T | null;
    /**
     * Stores a JSON value under a key (`null` stores null; `undefined` is a missing argument
     * and throws). Use `delete` to remove a key.
     */
    set(key: string, value: JsonInput): null;
    /** Deletes a key; answers whether it existed. */
    delete(key: string): boolean;
    /**
     * Lists the keys that start with `prefix` (all keys when absent or null), at most `limit`
     * (an integer from 1 to 1000; default 1000).
     */
    list(prefix?: string | null, limit?: number | null): string[];
  }

  /**
   * A per-plugin in-memory cache with expiry: at most 1000 entries and 1 MiB per plugin by
   * default (`HostOptions`), lost when the plugin is loaded again or the host restarts. **Permission `cache`**; without it
   * `outlet.cache` is `undefined`.
   */
  export interface CacheFunctions {
    /** A cached value, or `null` when absent or expired. The type argument is a cast. */
    get<T extends JsonValue = JsonValue>(key: string): T | null;
    /**
     * Caches a value for `ttlSeconds`: a number above 0 and at most 604800 (7 days),
     * fractions allowed; default 60.
     */
    set(key: string, value: JsonInput, ttlSeconds?: number | null): null;
    /** Removes a cached value; answers whether it existed. */
    delete(key: string): boolean;
  }

  /**
   * The plugin's declared events. **Permission `events.emit`**; without it `outlet.events` is
   * `undefined`.
   */
  export interface EventFunctions {
    /**
     * Emits one of the events of the manifest's `events[]`: its direction must be
     * `serverRelay` (the default), the payload must fit its `maxPayloadBytes` and schema. It
     * reaches every subscriber, this plugin too, as a notification after the current call.
     * One call may emit at most 100 events. Answers `true`, or `false` when the emit was
     * dropped for reaching depth 8. Throws for an event that is not the plugin's own or a
     * payload its schema refuses.
     */
    emit(event: string, payload?: JsonInput): boolean;
  }

  /**
   * The host log, lines tagged with the plugin's id. **Permission `log`**; without it
   * `outlet.log` is `undefined`. A message that is not a string is written as JSON; a line is
   * cut at 16 KiB. `console.*` writes through these.
   */
  export interface LogFunctions {
    debug(message: JsonInput): null;
    info(message: JsonInput): null;
    warn(message: JsonInput): null;
    error(message: JsonInput): null;
  }

  /**
   * The plugin's config, set by the operator, validated against the manifest's `config`
   * schema with its defaults applied. **Permission `config.read`**; without it
   * `outlet.config` is `undefined`.
   */
  export interface ConfigFunctions {
    /** The whole config object (`{}` when none is set and the schema has no defaults). */
    get(): JsonObject;
    /**
     * One top-level key of the config: its value, or `null` when unset with no default. The
     * type argument is a cast, not a check (the schema is what guarantees the type).
     */
    get<T extends JsonValue = JsonValue>(key: string): T | null;
  }

  /**
   * Operator-supplied secrets (API tokens, ...); the host never logs them. **Permission
   * `secrets.read`**; without it `outlet.secrets` is `undefined`.
   */
  export interface SecretFunctions {
    /** The secret (a name of at most 256 bytes), or `null` when unset. */
    get(name: string): string | null;
  }

  /**
   * Outbound HTTP to the manifest's `network.allowedHosts`. **Permission `network.fetch`.** In
   * this version only the scenario runner (`outlet test`) declares `http.fetch`, answering
   * from the scenario's `given.httpResponses`; elsewhere `outlet.http` is `undefined`.
   */
  export interface HttpFunctions {
    /** Fetches `url` (http:// or https://, its host in `network.allowedHosts`). */
    fetch(url: string, options?: HttpFetchOptions): HttpFetchResponse;
  }

  /**
   * The chat domain's functions (the reference host's chat-and-streaming domain). Each exists
   * only with its own permission. Under `outlet test` each answers `true` (the call is
   * recorded); under `outlet serve` they act on the live chat, and the posting ones answer the
   * new message's `{id}`.
   */
  export interface ChatFunctions {
    /** Posts a chat message (1 to 4096 bytes) as the plugin's bot user. **Permission `chat.send`.** */
    send(text: string): true | { id: string };
    /** Posts an action (`/me`) message (1 to 4096 bytes). **Permission `chat.send`.** */
    sendAction(text: string): true | { id: string };
    /** Posts a system message (1 to 4096 bytes). **Permission `chat.system`.** */
    system(text: string): true | { id: string };
    /**
     * Deletes a message, or times out or bans a user (`durationSeconds`: an integer from 1 to
     * 1209600, 14 days). **Permission `chat.moderate`.**
     */
    moderate(request: ChatModeration): true;
    /**
     * Carries out a trigger answer after `delaySeconds` (1 to 3600), as seeds/001's
     * `ctx.defer()`; at most 100 wait per plugin. **Permission `chat.send`.**
     */
    defer(delaySeconds: number, answer: TriggerAction): true;
  }

  /**
   * The host functions granted to this plugin, by namespace, plus `call` and `has`. Frozen:
   * assigning to it or its namespaces does nothing (a TypeError in strict mode).
   *
   * Each function exists only when the manifest's `permissions` declares its permission and an
   * operator approved it (`outlet run --enable-all`, `Host::approve`; `outlet test` approves
   * what the manifest declares); otherwise its namespace, or the function, is `undefined`.
   * The namespaces are declared present so that code needs no `!`; use `outlet.has(name)` to
   * test an optional one.
   *
   * Host functions are synchronous. They throw an Error when the arguments are wrong
   * (`outlet.kv.get: argument 1 (key) must be a string`) or the host refuses, and they cannot be
   * called while the plugin's files load (only from handlers).
   */
  export interface OutletHost {
    /** Key-value storage. Permission `storage.kv`. */
    readonly kv: KvFunctions;
    /** The in-memory cache. Permission `cache`. */
    readonly cache: CacheFunctions;
    /** Emitting the plugin's declared events. Permission `events.emit`. */
    readonly events: EventFunctions;
    /** The host log. Permission `log`. */
    readonly log: LogFunctions;
    /** The plugin's config. Permission `config.read`. */
    readonly config: ConfigFunctions;
    /** Operator secrets. Permission `secrets.read`. */
    readonly secrets: SecretFunctions;
    /** Outbound HTTP. Permission `network.fetch`; declared by `outlet test` only, for now. */
    readonly http: HttpFunctions;
    /** Chat: `send`, `sendAction` (`chat.send`), `system` (`chat.system`), `moderate` (`chat.moderate`). */
    readonly chat: ChatFunctions;

    /**
     * Calls a host function by its full name, chosen at run time:
     * `outlet.call("kv.get", "key")` is `outlet.kv.get("key")`. Throws when the function is
     * not available to this plugin (`host function "chat.send" is not available to this plugin
     * (not declared in its permissions, or not granted)`). The reference host's functions are
     * typed; a name another application declares takes JSON arguments and answers JSON.
     */
    call<N extends HostFunctionName | (string & {})>(
      name: N,
      ...args: N extends HostFunctionName ? Parameters<HostFunctions[N]> : JsonInput[]
    ): N extends HostFunctionName ? ReturnType<HostFunctions[N]> : JsonValue;

    /**
     * Whether host function `name` (a full name such as `"kv.get"`, not a namespace) is
     * available to this plugin. Can be called at load time.
     */
    has(name: HostFunctionName | (string & {})): boolean;
  }

  /** The host functions this plugin was granted. */
  export const outlet: OutletHost;
}

/** The same module as `"outlet"`. */
declare module "@outlet/sdk" {
  export * from "outlet";
}

/**
 * The Owncast plugin SDK (seeds/003; github owncast/plugin-sdk), so that an Owncast plugin
 * project runs unmodified (docs/owncast-compat.md): Owncast's handler names and payloads, and
 * `owncast.*` as that SDK defines it. A function whose permission is missing, or that Outlet
 * has no counterpart of yet, throws `Error("permission '<name>' not granted ...")`.
 */
declare module "@owncast/plugin-sdk" {
  import type {
    ChatMessage,
    FilterResult,
    HttpFetchOptions,
    HttpFetchResponse,
    HttpRequest,
    JsonInput,
    JsonObject,
    JsonValue,
  } from "outlet";
  export { filter } from "outlet";

  export type OwncastUser = {
    id: string;
    displayName?: string;
    isBot?: boolean;
    isAuthenticated?: boolean;
    scopes?: string[];
    [field: string]: JsonValue | undefined;
  };
  export type OwncastEvent = JsonObject;

  export interface OwncastPlugin {
    onChatMessage?(message: ChatMessage): void;
    filterChatMessage?(message: ChatMessage): FilterResult<ChatMessage>;
    /** Gets the user itself (Outlet's `chat.user.joined` carries `{user}`). */
    onChatUserJoined?(user: OwncastUser): void;
    onChatUserParted?(user: OwncastUser): void;
    onChatUserRenamed?(event: { user: OwncastUser; previousName?: string }): void;
    onMessageModerated?(event: OwncastEvent): void;
    onStreamStarted?(event: OwncastEvent): void;
    onStreamStopped?(event: OwncastEvent): void;
    onStreamTitleChanged?(event: OwncastEvent): void;
    onSseConnect?(event: OwncastEvent): void;
    onSseDisconnect?(event: OwncastEvent): void;
    onFediverseFollow?(event: OwncastEvent): void;
    onFediverseLike?(event: OwncastEvent): void;
    onFediverseRepost?(event: OwncastEvent): void;
    onFediverseMention?(event: OwncastEvent): void;
    onFediverseReply?(event: OwncastEvent): void;
    onHttpRequest?(request: HttpRequest): JsonInput | void;
    /** Custom events; a typed handler for the same event wins. */
    on?: { [event: string]: (payload: any) => void };
    /** Applies to every filter handler (default 100; lower runs first). */
    filterPriority?: number;
  }
  export function definePlugin<T extends OwncastPlugin>(def: T & ThisType<any>): T;

  export const owncast: {
    readonly chat: {
      send(text: string): void;
      sendAction(text: string): void;
      system(htmlBody: string): void;
      /** Not in Outlet yet: throws. */
      sendTo(clientId: number | string, text: string): never;
      /** Not in Outlet yet: throws. */
      history(limit?: number): never;
      /** Not in Outlet yet: throws. */
      clients(): never;
      /** Needs "chat.moderate". */
      deleteMessage(id: string): void;
      /** Not in Outlet yet: throws. */
      kick(clientId: number | string): never;
    };
    /** Owncast's KV holds strings: get answers a string or null; set stores String(value). */
    readonly kv: {
      get(key: string): string | null;
      set(key: string, value: string | number | boolean): void;
    };
    readonly events: { emit(eventType: string, payload: JsonInput): void };
    readonly http: { fetch(url: string, options?: HttpFetchOptions): HttpFetchResponse };
    /** Not in Outlet yet: every function throws. */
    readonly users: { list(): never; get(id: string): never; setEnabled(...args: any[]): never; banIP(ip: string): never };
    readonly storage: { upload(...args: any[]): never };
    readonly fediverse: { post(text: string): never };
    readonly notifications: { discord(...args: any[]): never; browserPush(...args: any[]): never; fediverse(...args: any[]): never };
    readonly sse: { send(channel: string, event: string, data: JsonInput): never };
  };

  export const FilterAction: { readonly Pass: "pass"; readonly Modify: "modify"; readonly Drop: "drop" };
  export const Events: {
    readonly ChatMessageReceived: "chat.message.received";
    readonly ChatUserJoined: "chat.user.joined";
    readonly ChatUserParted: "chat.user.parted";
    readonly ChatUserRenamed: "chat.user.renamed";
    readonly ChatMessageModerated: "chat.message.moderated";
    readonly StreamStarted: "stream.started";
    readonly StreamStopped: "stream.stopped";
    readonly StreamTitleChanged: "stream.title.changed";
    readonly SseConnect: "sse.connect";
    readonly SseDisconnect: "sse.disconnect";
    readonly FediverseFollow: "fediverse.follow";
    readonly FediverseLike: "fediverse.like";
    readonly FediverseRepost: "fediverse.repost";
    readonly FediverseMention: "fediverse.mention";
    readonly FediverseReply: "fediverse.reply";
  };
  export const Permissions: { readonly [name: string]: string };
}
