-- Spam Protection (seeds/001 built-in): a moderation filter that stops
--   * overlong messages (maxLength characters),
--   * shouting (more than maxCapsPercent of the letters are capitals),
--   * character floods (one character more than maxRepeatedChars times in a row),
--   * copy-paste (the same message more than maxDuplicates times in a row).
-- A caught message is dropped; with action = "timeout" the user is also timed
-- out through chat.moderate. Users with an exempt role are never checked.
--
-- Each user's last message lives in the plugin's cache, with a time to live of
-- duplicateWindowSeconds, so a repeat counts only if it comes soon after.
local filter = outlet.filter

local REASONS = {
  length = "message too long",
  caps = "too many capital letters",
  flood = "too many repeated characters",
  duplicate = "same message repeated",
}

local function has_role(message, roles)
  local user = message.user
  if type(user) ~= "table" or type(user.roles) ~= "table" then
    return false
  end
  for _, role in ipairs(user.roles) do
    for _, wanted in ipairs(roles) do
      if role == wanted then
        return true
      end
    end
  end
  return false
end

local function display_name(message)
  local user = message.user
  if type(user.displayName) == "string" then
    return user.displayName
  end
  return user.id
end

-- Length in characters (UTF-8), or in bytes if the text is not valid UTF-8.
local function char_length(text)
  return utf8.len(text) or #text
end

local function is_shouting(body, max_percent, min_letters)
  local _, letters = body:gsub("%a", "")
  if letters < min_letters then
    return false
  end
  local _, capitals = body:gsub("%u", "")
  return capitals * 100 > letters * max_percent
end

-- The longest run of one character (spaces aside), counted in characters.
local function longest_run(body)
  local longest, run, previous = 0, 0, nil
  for char in body:gmatch(utf8.charpattern) do
    if char == previous and not char:find("^%s$") then
      run = run + 1
    else
      run = 1
    end
    previous = char
    if run > longest then
      longest = run
    end
  end
  return longest
end

-- How many times in a row this user has now sent this message.
local function count_repeats(user_id, body, window)
  local text = body:lower():gsub("%s+", " "):gsub("^ ", ""):gsub(" $", "")
  local key = "last:" .. user_id
  local last = outlet.cache.get(key) -- nil when absent or expired
  local count = 1
  if type(last) == "table" and last.text == text then
    count = last.count + 1
  end
  outlet.cache.set(key, { text = text, count = count }, window)
  return count
end

-- Which rule the message breaks, or nil.
local function check(message, config)
  local body = message.body
  local repeats = count_repeats(message.user.id, body, config.duplicateWindowSeconds or 60)
  local max_length = config.maxLength or 400
  if max_length > 0 and char_length(body) > max_length then
    return "length"
  end
  if is_shouting(body, config.maxCapsPercent or 70, config.capsMinLetters or 10) then
    return "caps"
  end
  local max_run = config.maxRepeatedChars or 10
  if max_run > 0 and longest_run(body) > max_run then
    return "flood"
  end
  local max_duplicates = config.maxDuplicates or 2
  if max_duplicates > 0 and repeats > max_duplicates then
    return "duplicate"
  end
  return nil
end

return {
  filter_chat_message = function(message)
    local config = outlet.config.get()
    if has_role(message, config.exemptRoles or {}) then
      return filter.pass()
    end
    local rule = check(message, config)
    if rule == nil then
      return filter.pass()
    end
    local reason = "spam-protection: " .. REASONS[rule]
    -- The timeout and the warning are extras: if the chat refuses one (say, a
    -- display name too long for a chat line), the message is still dropped. An
    -- error here would fail the filter, and a failed filter lets the message
    -- through; pcall turns it into a warning on the plugin instead.
    local ok, problem = true, nil
    if config.action == "timeout" then
      local seconds = config.timeoutSeconds or 60
      ok, problem = pcall(outlet.chat.moderate, {
        action = "timeout",
        userId = message.user.id,
        durationSeconds = seconds,
        reason = reason,
      })
      if ok and config.warn ~= false then
        ok, problem = pcall(outlet.chat.send,
          string.format("@%s was timed out for %ds: %s", display_name(message), seconds, REASONS[rule]))
      end
    elseif config.warn ~= false then
      ok, problem = pcall(outlet.chat.send, "@" .. display_name(message) .. ", please don't spam: " .. REASONS[rule])
    end
    if not ok then
      warn("spam-protection: " .. tostring(problem))
    end
    return filter.drop(reason)
  end,
}
