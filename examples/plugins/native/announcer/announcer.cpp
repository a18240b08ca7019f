// Announcer: posts announcements that other plugins (e.g. relay) emit.
#include "native_examples.h"

namespace outlet::examples {

std::unique_ptr<NativePlugin> make_announcer() {
  auto plugin = std::make_unique<NativePlugin>();
  plugin->on("announcement.broadcast",
             [](const Json& announcement, PluginContext& context) -> Result<Json> {
               std::string by = announcement.value("by", "someone");
               std::string text = announcement.value("text", "");
               (void)context.log("info", "announcement from " + by);
               auto posted = context.call("chat.system", Json::array({"📣 " + by + ": " + text}));
               if (!posted.ok())
                 return posted.error();
               return Json();
             });
  return plugin;
}

}  // namespace outlet::examples
