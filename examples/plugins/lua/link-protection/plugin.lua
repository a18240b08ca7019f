-- Link Protection (seeds/001 built-in): a message with a link from a user
-- without a trusted role is dropped, unless every link points at an allowed
-- domain (or one of its subdomains). The Lua twin of
-- examples/plugins/native/link-protection/link_protection.cpp.
--
-- A link is a scheme-less or http(s) host name: one or more "label." followed by
-- a common top-level domain and a word boundary, as the native twin's RE2
-- pattern (?i)(?:https?://)?((?:[a-z0-9-]+\.)+(?:com|net|...|app))\b
-- finds it. Lua patterns have no alternation, so the scan is written out.
local filter = outlet.filter

-- In the order the native pattern tries them ("com" before "co").
local TLDS = { "com", "net", "org", "io", "gg", "tv", "ly", "me", "co", "xyz", "dev", "app" }

local function is_word_char(c)
  return c ~= "" and c:find("^[%w_]") ~= nil
end

local function is_label_char(c)
  return c ~= "" and c:find("^[a-z0-9%-]") ~= nil
end

-- The host name starting at `start` of the lower-cased `text`, and the position
-- after it; or nil and the position where the labels stopped (no host starts
-- between `start` and there).
local function host_at(text, start)
  local ends = {} -- the position after each "label."
  local at = start
  while true do
    local after = text:match("^[a-z0-9%-]+%.()", at)
    if not after then
      break
    end
    ends[#ends + 1] = after
    at = after
  end
  -- Greedy, then backtracking: the most labels whose next part is a known
  -- top-level domain followed by a word boundary.
  for k = #ends, 1, -1 do
    local tld_start = ends[k]
    for _, tld in ipairs(TLDS) do
      local tld_end = tld_start + #tld - 1
      if text:sub(tld_start, tld_end) == tld and not is_word_char(text:sub(tld_end + 1, tld_end + 1)) then
        return text:sub(start, tld_end), tld_end + 1
      end
    end
  end
  return nil, at
end

-- Every host name linked in `body`, lower-cased, in order.
local function linked_hosts(body)
  local text = body:lower()
  local hosts = {}
  local at, resume = 1, 1
  while at <= #text do
    local c = text:sub(at, at)
    -- A host starts at a label character that begins a label (or right where
    -- the previous match ended, as a regex search resumes there).
    if is_label_char(c) and (at == resume or not is_label_char(text:sub(at - 1, at - 1))) then
      local host, next_at = host_at(text, at)
      if host then
        hosts[#hosts + 1] = host
        resume = next_at
      end
      at = math.max(next_at, at + 1)
    else
      at = at + 1
    end
  end
  return hosts
end

local function domain_allowed(host, allowed)
  for _, domain in ipairs(allowed) do
    domain = domain:lower()
    if host == domain or (#host > #domain and host:sub(-(#domain + 1)) == "." .. domain) then
      return true
    end
  end
  return false
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

local function display_name(message)
  local user = message.user
  if type(user) ~= "table" then
    return "someone"
  end
  if type(user.displayName) == "string" then
    return user.displayName
  end
  if type(user.id) == "string" then
    return user.id
  end
  return "someone"
end

return {
  filter_chat_message = function(message)
    local config = outlet.config.get()
    if has_role(message, config.allowedRoles or {}) then
      return filter.pass()
    end
    local blocked = false
    for _, host in ipairs(linked_hosts(message.body)) do
      if not domain_allowed(host, config.allowedDomains or {}) then
        blocked = true
        break
      end
    end
    if not blocked then
      return filter.pass()
    end
    if config.warn ~= false then
      -- The warning is a courtesy: if chat refuses it (say, a display name too
      -- long for a chat line), the link is still dropped. An error here would
      -- fail the filter, and a failed filter lets the message through.
      pcall(outlet.chat.send, "@" .. display_name(message) .. ", links are not allowed here")
    end
    return filter.drop("link-protection: links are not allowed")
  end,
}
