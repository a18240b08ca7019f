-- Timed Messages (seeds/001 built-in): posts a rotating list of messages to
-- chat, like the "timers" of stream bots.
--
-- Only `outlet serve` fires timer triggers (an embedding host may have no clock-
-- driven events), and the sandbox has no clock (no `os`). So the timer runs on
-- chat activity, which is also when a timed message is worth posting: a message
-- is posted once `everyMessages` chat messages came in since the last post AND
-- at least `intervalSeconds` passed since then, measured with the messages' own
-- "timestamp" (ISO 8601). Messages without a readable timestamp do not hold the
-- timer back. A quiet chat gets no timed messages, by design.
--
-- State lives in KV, so it survives reloads: "sinceLastPost" (chat messages
-- counted), "next" (1-based index of the next message), "lastPostAt" (ms since
-- 1970 of the message that triggered the last post).

local function days_from_civil(year, month, day)
  if month <= 2 then
    year = year - 1
  end
  local era = (year >= 0 and year or year - 399) // 400
  local year_of_era = year - era * 400
  local day_of_year = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
  local day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
  return era * 146097 + day_of_era - 719468
end

-- "YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM]" -> milliseconds since 1970, or nil.
local function parse_timestamp(text)
  if type(text) ~= "string" then
    return nil
  end
  local y, mo, d, h, mi, s, rest =
    text:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[Tt ](%d%d):(%d%d):(%d%d)(.*)$")
  if not y then
    return nil
  end
  y, mo, d, h, mi, s = tonumber(y), tonumber(mo), tonumber(d), tonumber(h), tonumber(mi), tonumber(s)
  if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or s > 60 then
    return nil
  end
  local millis = 0
  local fraction, zone = rest:match("^[.,](%d+)(.*)$")
  if fraction then
    millis = tonumber((fraction .. "00"):sub(1, 3))
    rest = zone
  end
  local offset = 0
  if rest ~= "" and rest ~= "Z" and rest ~= "z" then
    local sign, oh, om = rest:match("^([+-])(%d%d):?(%d%d)$")
    if not sign then
      return nil
    end
    offset = (tonumber(oh) * 60 + tonumber(om)) * 60000
    if sign == "-" then
      offset = -offset
    end
  end
  local seconds = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + s
  return seconds * 1000 + millis - offset
end

local function kv_integer(key)
  local value = outlet.kv.get(key) -- nil when absent
  return math.type(value) == "integer" and value or nil
end

local function is_bot(message)
  local roles = type(message.user) == "table" and message.user.roles
  if type(roles) ~= "table" then
    return false
  end
  for _, role in ipairs(roles) do
    if role == "bot" then
      return true
    end
  end
  return false
end

-- Posts the next message of the rotation and starts a new round.
local function post_next(config, now)
  local messages = config.messages or {}
  if #messages == 0 then
    return
  end
  local index = ((kv_integer("next") or 1) - 1) % #messages + 1
  outlet.chat.send(messages[index])
  outlet.kv.set("next", index % #messages + 1)
  outlet.kv.set("sinceLastPost", 0)
  if now then
    outlet.kv.set("lastPostAt", now)
  end
end

return {
  on_chat_message = function(message)
    if is_bot(message) then
      return -- our own posts (and other bots') do not count as chat
    end
    local config = outlet.config.get()
    local count = (kv_integer("sinceLastPost") or 0) + 1
    if count < (config.everyMessages or 20) then
      outlet.kv.set("sinceLastPost", count)
      return
    end
    local now = parse_timestamp(message.timestamp)
    local last = kv_integer("lastPostAt")
    local interval = (config.intervalSeconds or 300) * 1000
    if now and last and now - last < interval then
      outlet.kv.set("sinceLastPost", count)
      return
    end
    post_next(config, now)
  end,

  -- A new stream starts a new round (the payload's "timestamp", if any, times
  -- an opening post).
  on_stream_started = function(stream)
    local config = outlet.config.get()
    outlet.kv.delete("lastPostAt")
    outlet.kv.set("sinceLastPost", 0)
    if config.postOnStreamStart then
      post_next(config, parse_timestamp(stream.timestamp))
    end
  end,
}
