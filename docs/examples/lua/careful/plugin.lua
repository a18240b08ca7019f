-- Host functions raise Lua errors on bad arguments; pcall catches them. Functions whose
-- permission the plugin lacks do not exist: outlet.has tells before touching them.

-- The cache when the operator granted "cache", else the plugin's KV (same get/set).
-- (Reading outlet.cache without the permission would raise an error.)
local cached = outlet.has("cache.get")
local store = cached and outlet.cache or outlet.kv

---@type OutletPlugin
local plugin = {
  on_chat_message = function(message)
    if message.body ~= "!check" then
      return
    end
    -- A function cannot become JSON: kv.set raises, pcall returns false and the message.
    local ok, problem = pcall(outlet.kv.set, "callback", { run = print })
    if not ok then
      outlet.log.warn(problem)
      outlet.kv.set("lastError", problem)
    end
    store.set("checkedBy", message.user.id)
    outlet.kv.set("usesCache", cached)
  end,
}

return plugin
