-- Echo Bot (seeds/003 example): repeats what follows "!echo ". The Lua twin of
-- examples/plugins/native/echo-bot/echo_bot.cpp.
--
-- The command is matched here, on every chat message, so that it works in any
-- host; under `outlet serve` a `command` trigger and an `on_chat_trigger`
-- handler would do the same.
local COMMAND = "!echo "

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
    -- A chat line holds at most 4096 bytes; a longer echo is refused by the host.
    -- That is the chatter's doing, not a fault of the plugin: it becomes a
    -- warning (warn() goes to the plugin's warnings) instead of a failed call,
    -- since five failed calls in a row would auto-disable the plugin.
    local ok, problem = pcall(outlet.chat.send, display_name(message) .. " said: " .. body:sub(#COMMAND + 1))
    if not ok then
      warn("echo not sent: " .. tostring(problem))
    end
  end,
}
