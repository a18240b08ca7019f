-- Welcomes a user the first time they join, and emits "greeter.greeted" (declared in
-- plugin.json) so other plugins can react. It also listens to its own event.

---@type OutletPlugin
local plugin = {
  on_user_joined = function(event)
    local key = "greeted:" .. event.user.id
    if outlet.kv.get(key) then
      return -- welcomed before (an absent key reads as nil)
    end
    outlet.kv.set(key, true)
    outlet.chat.send("Welcome, " .. (event.user.displayName or event.user.id) .. "!")
    outlet.events.emit("greeter.greeted", { userId = event.user.id })
  end,

  -- A plugin's own events have typed handlers too: "greeter.greeted" -> on_greeter_greeted.
  -- It runs after on_user_joined has returned (emitted events are queued notifications).
  on_greeter_greeted = function(payload)
    outlet.kv.set("count", (outlet.kv.get("count") or 0) + 1)
  end,
}

return plugin
