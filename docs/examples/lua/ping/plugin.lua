-- Answers the "chat.trigger" request with an action for the host to carry out.
-- chat.trigger is a request event: on_chat_trigger is its request handler, and
-- what it returns is the answer.

---@type OutletPlugin
local plugin = {
  on_chat_trigger = function(request)
    local reply = outlet.config.get("reply")
    if type(request.text) == "string" and request.text ~= "" then
      reply = reply .. " " .. request.text
    end
    return { action = "send_message", message = reply }
  end,
}

return plugin
