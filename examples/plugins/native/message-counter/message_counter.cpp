// Message Counter: keeps "count:<user id>" and "total" in the plugin's KV namespace.
#include "native_examples.h"

namespace outlet::examples {
namespace {

Result<int64_t> increment(PluginContext& context, const std::string& key) {
  auto current = context.kv_get(key);
  if (!current.ok())
    return current.error();
  int64_t next = (current->is_number_integer() ? current->get<int64_t>() : 0) + 1;
  if (Status s = context.kv_set(key, next); !s.ok())
    return s.error();
  return next;
}

}  // namespace

std::unique_ptr<NativePlugin> make_message_counter() {
  auto plugin = std::make_unique<NativePlugin>();
  plugin->on(
      "chat.message.received", [](const Json& message, PluginContext& context) -> Result<Json> {
        std::string user = message.value("user", Json::object()).value("id", "anonymous");
        auto mine = increment(context, "count:" + user);
        if (!mine.ok())
          return mine.error();
        auto total = increment(context, "total");
        if (!total.ok())
          return total.error();
        if (message.value("body", "") == "!count") {
          auto sent = context.call("chat.send", Json::array({display_name(message) + " has sent " +
                                                             std::to_string(*mine) + " messages (" +
                                                             std::to_string(*total) + " in all)"}));
          if (!sent.ok())
            return sent.error();
        }
        return Json();
      });
  return plugin;
}

}  // namespace outlet::examples
