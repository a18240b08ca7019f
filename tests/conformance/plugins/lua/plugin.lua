-- The conformance plugin in Lua: the same behaviours as the native one
-- (tests/conformance/plugins/native/conformance.cpp), chosen by the message body.
local filter = outlet.filter

return {
  filter_chat_message = function(message)
    local body = message.body
    if body:sub(1, 5) == "drop:" then
      return filter.drop(body:sub(6))
    elseif body == "upper" then
      message.body = body:upper()
      return filter.modify(message)
    elseif body == "throw" then
      error("conformance: asked to fail")
    elseif body == "loop" then
      while true do end
    elseif body == "garbage" then
      return 42
    end
  end,

  on_chat_message = function(message)
    outlet.kv.set("last", message.body)
    if message.body == "emit" then
      outlet.events.emit("conformance.echoed", { body = message.body })
    end
  end,

  on = {
    ["conformance.echoed"] = function(payload)
      outlet.kv.set("echoed", payload.body)
    end,
  },

  request = {
    ["chat.trigger"] = function(payload)
      if payload.call then
        -- Probe a host function by name: report whether it exists for this plugin.
        local ok, result = pcall(outlet.call, payload.call, table.unpack(payload.args or {}))
        if not ok then
          return { ok = false, error = result }
        end
        return { ok = true, value = result }
      end
      return { action = "send_message", message = outlet.config.get("greeting") .. " " .. payload.body }
    end,
  },

  collect = {
    ["conformance.panels"] = function(state)
      return { { title = "Conformance", items = { { type = "text", text = state.text or "" } } } }
    end,
  },

  dispatch = {
    ["conformance.key"] = function(key)
      if key.key ~= "char:c" then
        return nil
      end
      return { consume = true, flash = "conformance" }
    end,
  },
}
