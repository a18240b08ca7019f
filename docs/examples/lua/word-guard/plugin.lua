-- Masks (or drops) chat messages that contain one of the configured words.
local filter = outlet.filter

-- Replaces every occurrence of `word` in `text` (ignoring case) with asterisks.
-- Returns the new text and how many it replaced.
local function mask(text, word)
  local lowered, needle = text:lower(), word:lower()
  local parts, start, count = {}, 1, 0
  while true do
    local from, to = lowered:find(needle, start, true) -- plain search, no pattern
    if from == nil then
      break
    end
    parts[#parts + 1] = text:sub(start, from - 1)
    parts[#parts + 1] = string.rep("*", to - from + 1)
    start, count = to + 1, count + 1
  end
  parts[#parts + 1] = text:sub(start)
  return table.concat(parts), count
end

---@type OutletPlugin
local plugin = {
  filter_priority = 10, -- before filters at the default 100

  filter_chat_message = function(message)
    local config = outlet.config.get() -- validated, defaults applied
    local body, total = message.body, 0
    for _, word in ipairs(config.words) do
      local count
      body, count = mask(body, word)
      total = total + count
    end
    if total == 0 then
      return nil -- pass: nothing to do
    end
    if config.mode == "drop" then
      return filter.drop("contains a blocked word")
    end
    message.body = body
    return filter.modify(message)
  end,
}

return plugin
