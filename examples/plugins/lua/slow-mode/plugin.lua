-- Slow Mode (seeds/003 example): a user may send one message per
-- intervalSeconds; a message that comes sooner is dropped.
--
-- Time comes from the message's own "timestamp" (ISO 8601, e.g.
-- "2024-01-01T00:00:01Z"): the sandbox has no clock (no `os`), and the
-- message's time is the one that matters anyway. A message without a readable
-- timestamp cannot be timed, so it passes (fail open, like every filter).
-- The time of each user's last accepted message is kept in KV as
-- "last:<user id>" = milliseconds since 1970 as a string (e.g. "1704067200000").
local filter = outlet.filter

-- Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
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

-- "YYYY-MM-DDTHH:MM:SS[.fff][Z|+HH:MM|-HH:MM]" -> milliseconds since 1970 (UTC),
-- or nil. A time without a zone is taken as UTC.
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

-- The stored time of a user's last message (a string or a number), or nil.
local function stored_millis(value)
  local millis = math.tointeger(tonumber(value))
  return millis
end

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

return {
  filter_chat_message = function(message)
    local config = outlet.config.get()
    if has_role(message, config.exemptRoles or {}) then
      return filter.pass()
    end
    local now = parse_timestamp(message.timestamp)
    if now == nil then
      return filter.pass()
    end
    local key = "last:" .. message.user.id
    local last = stored_millis(outlet.kv.get(key))
    local interval = (config.intervalSeconds or 2) * 1000
    if last ~= nil then
      local elapsed = now - last
      if elapsed < 0 then
        return filter.pass() -- an older message arriving late: it does not move the clock back
      end
      if elapsed < interval then
        local wait = (interval - elapsed + 999) // 1000
        return filter.drop(string.format("slow-mode: wait %d more second%s", wait, wait == 1 and "" or "s"))
      end
    end
    outlet.kv.set(key, tostring(now))
    return filter.pass()
  end,
}
