-- Announcer (seeds/003 example): posts announcements that other plugins (e.g.
-- relay) emit as announcement.broadcast, as system messages. The Lua twin of
-- examples/plugins/native/announcer/announcer.cpp.
--
-- A plugin-declared event has no typed handler name: it is subscribed to with
-- the `on` table, keyed by the event's name.
local ANNOUNCEMENT = "announcement.broadcast"

return {
  on = {
    [ANNOUNCEMENT] = function(announcement)
      local by = type(announcement.by) == "string" and announcement.by or "someone"
      local text = type(announcement.text) == "string" and announcement.text or ""
      outlet.log.info("announcement from " .. by)
      outlet.chat.system("📣 " .. by .. ": " .. text)
    end,
  },
}
