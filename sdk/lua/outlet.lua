---@meta outlet

-- The Outlet Lua SDK: LuaCATS annotations for lua-language-server.
--
-- This file is never loaded by Outlet. It describes what a Lua plugin sees at run time (the
-- `outlet` table that src/runtime/lua/lua_sdk.cpp builds, and the handlers that
-- src/runtime/lua/lua_runtime.cpp looks for), so that an editor completes and type-checks
-- plugin code. Point lua-language-server at this folder (sdk/lua/README.md) and annotate the
-- plugin table:
--
--     ---@type OutletPlugin
--     local plugin = {
--       on_chat_message = function(message) ... end,   -- message: ChatMessage
--     }
--     return plugin
--
-- Host functions exist only when the plugin's manifest declares their permission and an
-- operator approved it; reading one that does not exist (outlet.kv without "storage.kv") is
-- an error, so test with outlet.has("kv.get") when a function is optional. The chat.*
-- functions and the chat payloads below belong to the chat domain of the reference host;
-- another application declares its own. docs/authoring-lua.md is the guide.

-- ---------------------------------------------------------------------------------------------
-- Values
-- ---------------------------------------------------------------------------------------------

---The JSON `null` sentinel: a userdata distinct from `nil`, so a field that is present and
---null (`outlet.null`) differs from an absent one (`nil`), in payloads and inside the tables
---host functions return. It is truthy: compare with `value == outlet.null`, not
---`if value then`. Prints as `outlet.null`. A host function whose whole answer is null
---(an absent key, a function with nothing to answer) returns `nil` instead, so
---`outlet.kv.get(key) or default` works.
---@class OutletNull: userdata

---A value that converts to and from JSON. Integers stay integers and floats stay floats.
---Strings must be valid UTF-8. A table is a JSON array when it has the keys 1..n only (or was
---made with `outlet.array`, or came from a JSON array), otherwise a JSON object with string
---keys; an empty plain table is `{}`. Functions, threads, other userdata, NaN, infinities,
---cycles and tables with mixed or sparse keys cannot become JSON. As an argument or a return
---value, `nil` is JSON null.
---@alias OutletJson OutletValue|nil

---A JSON value as the host hands it to Lua inside a payload or a table: never `nil` (null is
---`outlet.null`). A host function's whole answer is `nil` when it is null.
---@alias OutletValue boolean|integer|number|string|OutletNull|table

-- ---------------------------------------------------------------------------------------------
-- The outlet table
-- ---------------------------------------------------------------------------------------------

---The host's functions and the SDK helpers. Read-only: assigning to it (or to any of its
---namespace tables) is an error. Reading a name that does not exist is an error too, naming
---the function and pointing at `outlet.has`.
---@class outletlib
---The JSON `null` sentinel (see `OutletNull`).
---@field null OutletNull
outlet = {}

---Marks a table as a JSON array, so that it stays an array when empty (a plain `{}` becomes
---the JSON object `{}`). With no argument it returns a new empty array. Returns its argument,
---marked. Arrays that arrive in payloads are already marked.
---@param t? table
---@return table array
function outlet.array(t) end

---Whether a host function is available to this plugin (declared in the manifest's
---`permissions` and approved), e.g. `outlet.has("kv.get")`.
---@param name string a host function name, as in `outlet.call`
---@return boolean
function outlet.has(name) end

---Calls a host function by its name, chosen at run time: `outlet.call("kv.get", "key")` is
---`outlet.kv.get("key")`. Raises an error when the function is not available to this plugin.
---@param name string e.g. "kv.get", "chat.send"
---@param ... OutletJson the function's arguments
---@return any|nil result `nil` when the function answers null or nothing
function outlet.call(name, ...) end

-- ---------------------------------------------------------------------------------------------
-- Filter verdicts (no permission needed)
-- ---------------------------------------------------------------------------------------------

---What a filter handler returns. Returning nothing (nil) also means pass.
---@class FilterVerdict
---@field action "pass"|"modify"|"drop"
---With "modify": the payload handed to the next filter (it must still match the event's schema).
---@field payload? OutletJson
---With "drop": why, shown to the operator.
---@field reason? string

---Builders for filter verdicts.
---@class outlet.filter
outlet.filter = {}

---Lets the payload through unchanged: `{ action = "pass" }`. Same as returning nothing.
---@return FilterVerdict
function outlet.filter.pass() end

---Replaces the payload: `{ action = "modify", payload = payload }`. The new payload must still
---match the event's schema, or the filter counts as failed (fail-open: the old payload goes on).
---@param payload OutletJson
---@return FilterVerdict
function outlet.filter.modify(payload) end

---Drops the payload; later filters and the notifications do not see it:
---`{ action = "drop", reason = reason or "" }`.
---@param reason? string
---@return FilterVerdict
function outlet.filter.drop(reason) end

-- ---------------------------------------------------------------------------------------------
-- Core host functions
-- ---------------------------------------------------------------------------------------------

---The plugin's own key-value namespace (persistent; no other plugin can read it).
---**Permission: `storage.kv`.** Keys are strings of at most 1024 bytes.
---@class outlet.kv
outlet.kv = {}

---Reads a key. An absent key (or one stored as null) answers `nil`, so
---`outlet.kv.get(key) or default` supplies a default. Nulls inside a stored table read as
---`outlet.null`.
---@param key string
---@return OutletValue|nil value `nil` when absent
function outlet.kv.get(key) end

---Stores a JSON value under a key. `outlet.kv.set(key, nil)` stores JSON null; use
---`outlet.kv.delete` to remove a key.
---@param key string
---@param value OutletJson
function outlet.kv.set(key, value) end

---Deletes a key.
---@param key string
---@return boolean existed
function outlet.kv.delete(key) end

---Lists keys that start with `prefix` (all keys when nil), at most `limit` (1 to 1000,
---default 1000).
---@param prefix? string
---@param limit? integer
---@return string[] keys
function outlet.kv.list(prefix, limit) end

---A per-plugin in-memory cache with expiry (at most 1000 entries and 1 MiB per plugin by
---default; lost on restart). **Permission: `cache`.**
---@class outlet.cache
outlet.cache = {}

---Reads a cached value: `nil` when absent or expired (`outlet.cache.get(key) or default`).
---@param key string
---@return OutletValue|nil value `nil` when absent or expired
function outlet.cache.get(key) end

---Caches a value for `ttlSeconds` (default 60; above 0 and at most 604800, fractions allowed).
---@param key string
---@param value OutletJson
---@param ttlSeconds? number
function outlet.cache.set(key, value, ttlSeconds) end

---Removes a cached value.
---@param key string
---@return boolean existed
function outlet.cache.delete(key) end

---Plugin-defined events. **Permission: `events.emit`.**
---@class outlet.events
outlet.events = {}

---Emits one of the events this plugin declares in its manifest's `events[]` (direction
---`serverRelay`; the payload must fit `maxPayloadBytes` and the event's schema). It reaches
---subscribers as a notification, after the current call. A call may emit at most 100 events.
---@param event string
---@param payload? OutletJson
---@return boolean delivered false when dropped for reaching emit depth 8
function outlet.events.emit(event, payload) end

---The host log, tagged with the plugin id. **Permission: `log`.** A message that is not a
---string is written as JSON; a line is cut at 16 KiB. With this permission `print(...)` writes
---to `outlet.log.info` too (without it, print's output is dropped with a warning).
---@class outlet.log
outlet.log = {}

---@param message OutletJson
function outlet.log.debug(message) end

---@param message OutletJson
function outlet.log.info(message) end

---@param message OutletJson
function outlet.log.warn(message) end

---@param message OutletJson
function outlet.log.error(message) end

---The plugin's config, set by the operator, validated against the manifest's `config` schema
---with its defaults applied. **Permission: `config.read`.**
---@class outlet.config
outlet.config = {}

---The whole config object, or one top-level key of it (`nil` when that key is unset and has
---no default, so `outlet.config.get(key) or default` works).
---@param key? string
---@return any|nil value `nil` when the key is unset
function outlet.config.get(key) end

---Operator-supplied secrets (API tokens, ...). Never logged by the host.
---**Permission: `secrets.read`.**
---@class outlet.secrets
outlet.secrets = {}

---@param name string
---@return string|nil secret `nil` when unset
function outlet.secrets.get(name) end

---Outbound HTTP to the manifest's `network.allowedHosts`. **Permission: `network.fetch`.**
---In this version only the scenario runner (`outlet test`) declares `http.fetch`, answering from
---the scenario's `given.httpResponses`; a host without it leaves `outlet.http` undefined.
---@class outlet.http
outlet.http = {}

---@class HttpFetchOptions
---@field method? string "GET" unless given
---@field headers? table<string, string>
---@field body? OutletJson

---@class HttpFetchResponse
---@field status integer
---@field headers table<string, string>
---@field body OutletJson

---@param url string an http:// or https:// URL whose host is in `network.allowedHosts`
---@param options? HttpFetchOptions
---@return HttpFetchResponse
function outlet.http.fetch(url, options) end

-- ---------------------------------------------------------------------------------------------
-- Chat domain host functions (the reference host's chat-and-streaming domain)
-- ---------------------------------------------------------------------------------------------

---The chat domain's functions. Under `outlet test` each answers `true` (the call is recorded);
---under `outlet serve` they act on the live chat, and the posting ones answer the new
---message's `{id = ...}`.
---@class outlet.chat
outlet.chat = {}

---Posts a chat message as the plugin's bot user. **Permission: `chat.send`.**
---@param text string 1 to 4096 bytes
---@return boolean|{id: string}
function outlet.chat.send(text) end

---Posts an action (`/me`) message. **Permission: `chat.send`.**
---@param text string 1 to 4096 bytes
---@return boolean|{id: string}
function outlet.chat.sendAction(text) end

---Posts a system message. **Permission: `chat.system`.**
---@param text string 1 to 4096 bytes
---@return boolean|{id: string}
function outlet.chat.system(text) end

---A moderation request.
---@class ChatModeration
---@field action "delete"|"timeout"|"ban"
---Required for "delete".
---@field messageId? string
---Required for "timeout" and "ban".
---@field userId? string
---Required for "timeout": 1 to 1209600 (14 days), an integer.
---@field durationSeconds? integer
---@field reason? string

---Deletes a message, or times out or bans a user. **Permission: `chat.moderate`.** Under
---`outlet serve` it really happens (a plugin cannot time out or ban staff: an error).
---@param request ChatModeration
---@return boolean
function outlet.chat.moderate(request) end

---Carries out a trigger answer after `delaySeconds` (1 to 3600), as seeds/001's `ctx.defer()`;
---at most 100 wait per plugin. **Permission: `chat.send`.**
---@param delaySeconds integer
---@param answer TriggerAction
---@return boolean
function outlet.chat.defer(delaySeconds, answer) end

-- ---------------------------------------------------------------------------------------------
-- Chat domain payloads (src/domains/chat/chat_domain.cpp)
-- ---------------------------------------------------------------------------------------------

---@alias ChatRole "broadcaster"|"moderator"|"subscriber"|"vip"|"viewer"|"bot"

---@class ChatUser
---Never empty.
---@field id string
---@field displayName? string
---@field roles? ChatRole[]

---The payload of `chat.message.received` (filter and notify).
---@class ChatMessage
---@field id? string
---At most 4096 characters.
---@field body string
---@field user ChatUser
---@field timestamp? string
---@field channel? string

---The payload of `chat.message.deleted`.
---@class MessageDeleted
---@field id string

---The payload of `chat.user.joined`, `chat.user.parted` and `chat.user.renamed`.
---@class UserEvent
---@field user ChatUser

---The payload of `stream.started`, `stream.stopped` and `stream.title.changed`: an object
---whose fields the host application chooses.
---@class StreamEvent
---@field [string] any

---The trigger that matched, as its manifest declares it.
---@class TriggerInfo
---@field id string
---@field type "moderate"|"command"|"keyword"|"pattern"|"event"|"timer"
---The manifest's `handler`, to route several triggers in one handler.
---@field handler? string
---@field command? string
---@field prefix? string

---The payload of the `chat.trigger` request, from `outlet serve`'s trigger matcher
---(docs/http-api.md "Bot triggers"). Under `outlet test` it is whatever the scenario sends.
---@class ChatTriggerRequest
---@field trigger TriggerInfo
---A command's arguments (the text after the command word); else the whole message body.
---@field text string
---The triggering message (message triggers).
---@field message? ChatMessage
---Who sent it, or the event's user.
---@field user? ChatUser
---@field command? string
---@field args? string[]
---@field event? string
---@field payload? any
---The plugin's config.
---@field config any

---What a trigger handler answers (seeds/001); `outlet serve` carries it out. `send_message`
---and any `message` need `chat.send`; `delete`, `timeout` and `ban` need `chat.moderate`.
---@class TriggerAction
---@field action "send_message"|"delete"|"timeout"|"ban"|"none"
---@field message? string
---For "timeout": seconds, 1 to 1209600.
---@field duration? integer
---@field reason? string
---For a deferred "delete": the message.
---@field message_id? string
---For a deferred "timeout" or "ban": the user.
---@field user_id? string

---The payload of the `http.request` request (a request under /plugins/<id>/): an object; the
---server (not in this version) fills it in.
---@class HttpRequest
---@field [string] any

-- ---------------------------------------------------------------------------------------------
-- The plugin table
-- ---------------------------------------------------------------------------------------------

---What a plugin file returns (or assigns to the global `plugin`, as rs-pug plugins do). Every
---field is optional; which handlers exist decides the plugin's subscriptions.
---
---Typed handlers are named after the host's events: `on_<name>` subscribes in the event's
---usual way (notify when it is notifiable, else its one other kind), `filter_<name>` as a
---filter. `<name>` is the event's handler name (`chat_message` for `chat.message.received`),
---or its name with `.`, `:` and `-` replaced by `_` (`on_stream_title_changed`, and the same
---for the plugin's own declared events).
---
---Group tables name events directly: `on`, `notify`, `filter`, `collect`, `dispatch`,
---`request`. Other fields (helpers, state) are ignored by the host.
---@class OutletPlugin
---`chat.message.received` as a notification (after the filters passed it).
---@field on_chat_message? fun(message: ChatMessage)
---`chat.message.received` as a filter: return a verdict, or nothing to pass.
---@field filter_chat_message? fun(message: ChatMessage): FilterVerdict|nil
---`chat.message.deleted`.
---@field on_message_deleted? fun(event: MessageDeleted)
---`chat.user.joined`.
---@field on_user_joined? fun(event: UserEvent)
---`chat.user.parted`.
---@field on_user_parted? fun(event: UserEvent)
---`chat.user.renamed`.
---@field on_user_renamed? fun(event: UserEvent)
---`stream.started`.
---@field on_stream_started? fun(event: StreamEvent)
---`stream.stopped`.
---@field on_stream_stopped? fun(event: StreamEvent)
---`stream.title.changed`.
---@field on_stream_title_changed? fun(event: StreamEvent)
---`chat.trigger` (a request): a bot trigger of this plugin matched.
---@field on_chat_trigger? fun(request: ChatTriggerRequest): TriggerAction|OutletJson
---`http.request` (a request): an HTTP request under /plugins/<id>/.
---@field on_http_request? fun(request: HttpRequest): OutletJson
---Event name -> handler, subscribed in the event's usual way (like `on_<name>`); an event
---nobody declares is a notification.
---@field on? table<string, fun(payload: any, ...: any): any>
---Event name -> notification handler (return ignored, but it must still convert to JSON).
---@field notify? table<string, fun(payload: any, ...: any)>
---Event name -> filter handler.
---@field filter? table<string, fun(payload: any, ...: any): FilterVerdict|nil>
---Event name -> collect handler: a contribution (nil contributes nothing).
---@field collect? table<string, fun(payload: any, ...: any): OutletJson>
---Event name -> dispatch handler: an object to merge (booleans OR-ed, lists concatenated,
---objects merged, other values first setter wins), or nil.
---@field dispatch? table<string, fun(payload: any, ...: any): table|nil>
---Event name -> request handler: the answer.
---@field request? table<string, fun(payload: any, ...: any): OutletJson>
---The priority of every filter handler of this plugin (lower runs first, ties by plugin id;
---default 100). The manifest's `subscriptions` priorities win over it.
---@field filter_priority? integer
---Same as `filter_priority`.
---@field filterPriority? integer
---Handlers of other events (`on_<name>`, `filter_<name>`) and the plugin's own fields.
---@field [string] any

---The rs-pug form: a plugin file may fill a global `plugin` table instead of returning one.
---@type OutletPlugin
plugin = {}
