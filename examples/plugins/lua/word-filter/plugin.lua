-- Word Filter (seeds/001 built-in): masks blocked words (case-insensitive, whole
-- words only) or drops the message, depending on config. The Lua twin of
-- examples/plugins/native/word-filter/word_filter.cpp.
local filter = outlet.filter

-- Letters, digits and "_" make up words (ASCII, as in the native twin).
local function is_word_char(c)
  return c ~= "" and c:find("^[%w_]") ~= nil
end

-- Replaces each whole-word, case-insensitive occurrence of `word` in `body`.
-- Returns the new body and how many occurrences were replaced.
local function mask_word(body, word, replacement)
  local haystack, needle = body:lower(), word:lower()
  local count, at = 0, 1
  while true do
    local first, last = haystack:find(needle, at, true)
    if not first then
      break
    end
    local starts_word = first == 1 or not is_word_char(haystack:sub(first - 1, first - 1))
    local ends_word = last == #haystack or not is_word_char(haystack:sub(last + 1, last + 1))
    if starts_word and ends_word then
      body = body:sub(1, first - 1) .. replacement .. body:sub(last + 1)
      haystack = haystack:sub(1, first - 1) .. replacement .. haystack:sub(last + 1)
      at = first + #replacement
      count = count + 1
    else
      at = last + 1
    end
  end
  return body, count
end

return {
  filter_chat_message = function(message)
    local config = outlet.config.get()
    local replacement = config.replacement or "***"
    local body = message.body
    local hits = 0
    for _, word in ipairs(config.words or {}) do
      if word ~= "" then
        local found
        body, found = mask_word(body, word, replacement)
        hits = hits + found
      end
    end
    if hits == 0 then
      return filter.pass()
    end
    if config.mode == "drop" then
      return filter.drop("word-filter: message contains a blocked word")
    end
    message.body = body
    return filter.modify(message)
  end,
}
