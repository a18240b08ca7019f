-- A file that is one bare table expression (no `return`), as rs-pug accepts.
-- "app.panels" is a collect event: the host gathers every subscriber's answer.
{
  collect = {
    ["app.panels"] = function(state)
      return {
        {
          title = "Session",
          items = {
            { type = "option", key = "Tab", value = state.active_tab },
            { type = "stat", label = "Queue", value = tostring(state.queue_len) },
            { type = "separator" },
          },
        },
      }
    end,
  },
}
