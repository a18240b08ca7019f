-- Chat Logger (seeds/003 example): writes every chat message, deletion, join,
-- part, rename and stream start/stop to the host log (tagged with the plugin
-- id by the host), and keeps the last `maxLines` lines in the KV key
-- "transcript" (a JSON array of strings), where they survive restarts.

local function name_of(user)
  if type(user) ~= "table" then
    return "someone"
  end
  if type(user.displayName) == "string" and user.displayName ~= "" then
    return user.displayName
  end
  if type(user.id) == "string" then
    return user.id
  end
  return "someone"
end

local function record(line)
  local config = outlet.config.get()
  if config.level == "debug" then
    outlet.log.debug(line)
  else
    outlet.log.info(line)
  end
  local transcript = outlet.kv.get("transcript")
  if type(transcript) ~= "table" then
    transcript = {}
  end
  transcript[#transcript + 1] = line
  local max_lines = config.maxLines or 100
  if #transcript > max_lines then
    transcript = table.move(transcript, #transcript - max_lines + 1, #transcript, 1, {})
  end
  outlet.kv.set("transcript", transcript)
end

local function presence(line)
  if outlet.config.get("presence") ~= false then
    record(line)
  end
end

return {
  on_chat_message = function(message)
    local line = name_of(message.user) .. ": " .. message.body
    if type(message.timestamp) == "string" then
      line = "[" .. message.timestamp .. "] " .. line
    end
    record(line)
  end,

  on_message_deleted = function(deleted)
    record("* message " .. deleted.id .. " was deleted")
  end,

  on_user_joined = function(event)
    presence("* " .. name_of(event.user) .. " joined")
  end,

  on_user_parted = function(event)
    presence("* " .. name_of(event.user) .. " left")
  end,

  on_user_renamed = function(event)
    presence("* " .. event.user.id .. " is now known as " .. name_of(event.user))
  end,

  on_stream_started = function(stream)
    if type(stream.title) == "string" and stream.title ~= "" then
      record("* stream started: " .. stream.title)
    else
      record("* stream started")
    end
  end,

  on_stream_stopped = function()
    record("* stream stopped")
  end,
}
