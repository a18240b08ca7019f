// Relay: re-emits "!announce <text>" as a plugin event other plugins subscribe to.
#include "native_examples.h"

namespace outlet::examples {

std::unique_ptr<NativePlugin> make_relay() {
  auto plugin = std::make_unique<NativePlugin>();
  plugin->on("chat.message.received",
             [](const Json& message, PluginContext& context) -> Result<Json> {
               static const std::string kCommand = "!announce ";
               std::string body = message.value("body", "");
               if (body.rfind(kCommand, 0) != 0 || body.size() == kCommand.size())
                 return Json();
               if (Status s = context.emit(
                       "announcement.broadcast",
                       {{"by", display_name(message)}, {"text", body.substr(kCommand.size())}});
                   !s.ok()) {
                 return s.error();
               }
               return Json();
             });
  return plugin;
}

}  // namespace outlet::examples
