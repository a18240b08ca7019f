-- Keeps a profile per user and the list of users online, in KV.
-- Shows the JSON <-> Lua rules: nil and outlet.null, outlet.array, integers and floats.

---@type OutletPlugin
local plugin = {
  on_user_joined = function(event)
    local user = event.user
    -- A key that is not there reads as nil, so `or` supplies the default.
    local profile = outlet.kv.get("profile:" .. user.id) or { visits = 0, points = 0.0 }
    profile.visits = profile.visits + 1     -- an integer stays an integer
    profile.points = profile.points + 0.5   -- a float stays a float
    -- Absent in the payload is nil; stored as outlet.null the field is kept, as JSON null
    -- (and reads back as outlet.null inside the table: only a top-level null is nil).
    profile.name = user.displayName or outlet.null
    -- An empty plain table would become {}; outlet.array() stays [].
    profile.roles = user.roles or outlet.array()
    outlet.kv.set("profile:" .. user.id, profile)

    local online = outlet.kv.get("online") or outlet.array()
    for _, id in ipairs(online) do
      if id == user.id then
        return
      end
    end
    online[#online + 1] = user.id
    outlet.kv.set("online", online)
  end,

  on_user_parted = function(event)
    -- Came from a JSON array, so it stays an array even when it empties.
    local online = outlet.kv.get("online") or outlet.array()
    for i = #online, 1, -1 do
      if online[i] == event.user.id then
        table.remove(online, i)
      end
    end
    outlet.kv.set("online", online)
  end,
}

return plugin
