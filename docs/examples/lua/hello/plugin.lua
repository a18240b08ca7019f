-- Answers "!hello" in chat.

---@type OutletPlugin
local plugin = {
  on_chat_message = function(message)
    if message.body == "!hello" then
      local name = message.user.displayName or message.user.id
      outlet.chat.send("Hello, " .. name .. "!")
    end
  end,
}

return plugin
