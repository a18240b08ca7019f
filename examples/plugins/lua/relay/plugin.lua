-- Relay (seeds/003 example): re-emits "!announce <text>" as the plugin event
-- announcement.broadcast, which other plugins (e.g. announcer) subscribe to.
-- The Lua twin of examples/plugins/native/relay/relay.cpp.
--
-- The event is declared in plugin.json (events[]), so the host checks every
-- payload against its schema and maxPayloadBytes before anyone receives it.
local COMMAND = "!announce "

local function display_name(message)
  local user = message.user
  if type(user) ~= "table" then
    return "someone"
  end
  if type(user.displayName) == "string" then
    return user.displayName
  end
  if type(user.id) == "string" then
    return user.id
  end
  return "someone"
end

return {
  on_chat_message = function(message)
    local body = message.body
    if body:sub(1, #COMMAND) ~= COMMAND or #body == #COMMAND then
      return
    end
    -- The host refuses a payload over the event's maxPayloadBytes (4 KiB). That
    -- is the chatter's doing, not a fault of the plugin: it becomes a warning
    -- (warn() goes to the plugin's warnings) instead of a failed call, since five
    -- failed calls in a row would auto-disable the plugin.
    local ok, problem = pcall(outlet.events.emit, "announcement.broadcast", {
      by = display_name(message),
      text = body:sub(#COMMAND + 1),
    })
    if not ok then
      warn("announcement not relayed: " .. tostring(problem))
    end
  end,
}
