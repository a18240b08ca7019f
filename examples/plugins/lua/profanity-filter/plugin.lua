-- Profanity Filter (seeds/003 example): masks profanity in chat messages.
--
-- Unlike the word filter, which matches configured words exactly, it reads each
-- word the way a person would:
--   * leetspeak: "sh1t", "$hit" (4 @ -> a, 3 -> e, 1 -> i, 0 -> o, 5 $ -> s, 7 -> t),
--   * stretched letters: "fuuuuck", "daaamn",
--   * common endings: "damned", "bitches", "crappy", "fucking".
-- A mask is as long as the word it hides ("f******" or "*******"). A message with
-- at least dropThreshold profanities is dropped instead (0: never).
local filter = outlet.filter

local LEET = { ["4"] = "a", ["@"] = "a", ["3"] = "e", ["1"] = "i", ["0"] = "o", ["5"] = "s", ["$"] = "s", ["7"] = "t" }
local ENDINGS = { "", "s", "es", "ed", "er", "ers", "ing", "in", "y", "ty" }

-- "fuuuck" -> "fuck": every run of one character becomes one.
-- (A Lua pattern cannot repeat a back-reference, so this walks the bytes.)
local function collapse(word)
  local out, previous = {}, nil
  for i = 1, #word do
    local c = word:sub(i, i)
    if c ~= previous then
      out[#out + 1] = c
      previous = c
    end
  end
  return table.concat(out)
end

-- The set of collapsed forms that count as profanity.
local function forms_of(words)
  local forms = {}
  for _, word in ipairs(words) do
    for _, ending in ipairs(ENDINGS) do
      forms[collapse(word .. ending)] = true
    end
  end
  return forms
end

local function mask_of(original, style)
  if style == "full" then
    return ("*"):rep(#original)
  end
  return original:sub(1, 1) .. ("*"):rep(#original - 1)
end

-- Returns the masked body and how many words were masked.
local function censor(body, config)
  local forms = forms_of(config.words or {})
  -- Lower-casing and the leet map replace one byte by one byte, so positions in
  -- `text` are positions in `body`.
  local text = body:lower()
  if config.leetspeak ~= false then
    text = text:gsub("[4@31057$]", LEET)
  end
  local pieces, count, copied = {}, 0, 1
  for first, word, after in text:gmatch("()([%w_]+)()") do
    if forms[collapse(word)] then
      pieces[#pieces + 1] = body:sub(copied, first - 1)
      pieces[#pieces + 1] = mask_of(body:sub(first, after - 1), config.mask)
      copied = after
      count = count + 1
    end
  end
  pieces[#pieces + 1] = body:sub(copied)
  return table.concat(pieces), count
end

return {
  filter_chat_message = function(message)
    local config = outlet.config.get()
    local body, count = censor(message.body, config)
    if count == 0 then
      return filter.pass()
    end
    local threshold = config.dropThreshold or 0
    if threshold > 0 and count >= threshold then
      return filter.drop(string.format("profanity-filter: %d profanities", count))
    end
    message.body = body
    return filter.modify(message)
  end,
}
