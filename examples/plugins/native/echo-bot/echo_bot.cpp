// Echo Bot: repeats what follows "!echo ".
#include "native_examples.h"

namespace outlet::examples {

std::unique_ptr<NativePlugin> make_echo_bot() {
  auto plugin = std::make_unique<NativePlugin>();
  plugin->on("chat.message.received",
             [](const Json& message, PluginContext& context) -> Result<Json> {
               static const std::string kCommand = "!echo ";
               std::string body = message.value("body", "");
               if (body.rfind(kCommand, 0) != 0 || body.size() == kCommand.size())
                 return Json();
               auto sent = context.call(
                   "chat.send",
                   Json::array({display_name(message) + " said: " + body.substr(kCommand.size())}));
               if (!sent.ok())
                 return sent.error();
               return Json();
             });
  return plugin;
}

}  // namespace outlet::examples
