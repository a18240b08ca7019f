// The conformance plugin in C++. Each runtime has the same plugin in its own
// language (tests/conformance/plugins/<runtime>/); the suite drives them alike.
// Behaviour is chosen by the message body, so one plugin covers every case.
#include <algorithm>
#include <cctype>
#include <thread>

#include "outlet/native_plugin.h"

namespace outlet::conformance {

std::unique_ptr<NativePlugin> make_native_conformance_plugin() {
  auto plugin = std::make_unique<NativePlugin>();
  plugin->filter("chat.message.received", [](const Json& message, PluginContext&) -> Result<Json> {
    std::string body = message.value("body", "");
    if (body.rfind("drop:", 0) == 0)
      return filter_drop(body.substr(5));
    if (body == "upper") {
      Json modified = message;
      std::string text = body;
      std::transform(text.begin(), text.end(), text.begin(),
                     [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
      modified["body"] = text;
      return filter_modify(modified);
    }
    if (body == "throw")
      return Error(ErrorCode::kPluginError, "conformance: asked to fail");
    // Native code cannot be interrupted: "loop" overruns the 30 ms filter limit.
    if (body == "loop") {
      std::this_thread::sleep_for(std::chrono::milliseconds(80));
      return filter_pass();
    }
    if (body == "garbage")
      return Json(42);
    return Json();
  });
  plugin->on("chat.message.received",
             [](const Json& message, PluginContext& context) -> Result<Json> {
               std::string body = message.value("body", "");
               if (Status s = context.kv_set("last", body); !s.ok())
                 return s.error();
               if (body == "emit") {
                 if (Status s = context.emit("conformance.echoed", {{"body", body}}); !s.ok())
                   return s.error();
               }
               return Json();
             });
  plugin->on("conformance.echoed", [](const Json& payload, PluginContext& context) -> Result<Json> {
    if (Status s = context.kv_set("echoed", payload.value("body", "")); !s.ok())
      return s.error();
    return Json();
  });
  plugin->request("chat.trigger", [](const Json& payload, PluginContext& context) -> Result<Json> {
    if (payload.contains("call")) {
      // Probe a host function by name: report whether it exists for this plugin.
      auto result =
          context.call(payload["call"].get<std::string>(), payload.value("args", Json::array()));
      if (!result.ok())
        return Json{{"ok", false}, {"error", result.error().message()}};
      return Json{{"ok", true}, {"value", *result}};
    }
    auto greeting = context.call("config.get", Json::array({"greeting"}));
    if (!greeting.ok())
      return greeting.error();
    return Json{{"action", "send_message"},
                {"message", greeting->get<std::string>() + " " + payload.value("body", "")}};
  });
  plugin->collect("conformance.panels", [](const Json& state, PluginContext&) -> Result<Json> {
    return Json::array({{{"title", "Conformance"},
                         {"items", {{{"type", "text"}, {"text", state.value("text", "")}}}}}});
  });
  plugin->dispatch("conformance.key", [](const Json& key, PluginContext&) -> Result<Json> {
    if (key.value("key", "") != "char:c")
      return Json();
    return Json{{"consume", true}, {"flash", "conformance"}};
  });
  return plugin;
}

}  // namespace outlet::conformance
