-- Message Counter (seeds/003 example): keeps "count:<user id>" and "total" in
-- the plugin's KV namespace, so counts survive reloads and restarts; "!count"
-- reports yours. The Lua twin of examples/plugins/native/message-counter/message_counter.cpp.

-- Adds one to an integer key (a missing or non-integer value counts as 0).
local function increment(key)
  local current = outlet.kv.get(key) -- nil when absent
  local next_value = (math.type(current) == "integer" and current or 0) + 1
  outlet.kv.set(key, next_value)
  return next_value
end

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
    local user = type(message.user) == "table" and message.user.id
    if type(user) ~= "string" then
      user = "anonymous"
    end
    local mine = increment("count:" .. user)
    local total = increment("total")
    if message.body == "!count" then
      -- A refused reply (a display name too long for a chat line) is a warning,
      -- not a failed call: five failed calls in a row would auto-disable the plugin.
      local ok, problem = pcall(outlet.chat.send,
        display_name(message) .. " has sent " .. mine .. " messages (" .. total .. " in all)")
      if not ok then
        warn("count not sent: " .. tostring(problem))
      end
    end
  end,
}
