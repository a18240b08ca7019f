-- The rs-pug form: a global `plugin` table, filled in function by function. The file
-- need not return it (`return plugin` at the end, as rs-pug's examples do, works too).
-- "app.key" is a dispatch event: each subscriber may answer an object, and the host
-- merges the answers (booleans OR-ed, lists concatenated, objects merged key by key,
-- other values: the first setter wins).
plugin = {}

local volume = 50

plugin.dispatch = {}

plugin.dispatch["app.key"] = function(input)
  if input.key == "char:v" then
    volume = math.min(100, volume + 10)
    return {
      consume = true,
      flash = "Volume: " .. volume .. "%",
      core_actions = { { type = "set_volume", value = volume } },
    }
  end
  return nil -- not ours: contributes nothing
end
