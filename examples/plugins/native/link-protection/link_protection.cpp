// Link Protection: a message with a link from a user without a trusted role is
// dropped, unless every link points at an allowed domain.
#include <re2/re2.h>

#include "native_examples.h"

namespace outlet::examples {
namespace {

bool domain_allowed(const std::string& host, const Json& allowed) {
  for (const Json& domain : allowed) {
    const std::string& d = domain.get_ref<const std::string&>();
    if (host == d)
      return true;
    if (host.size() > d.size() && host.ends_with("." + d))
      return true;
  }
  return false;
}

}  // namespace

std::unique_ptr<NativePlugin> make_link_protection() {
  auto plugin = std::make_unique<NativePlugin>();
  plugin->filter(
      "chat.message.received",
      [](const Json& message, PluginContext& context) -> Result<Json> {
        // A scheme, or a bare name with a common top-level domain.
        static const RE2 kLink(
            R"((?i)(?:https?://)?((?:[a-z0-9-]+\.)+(?:com|net|org|io|gg|tv|ly|me|co|xyz|dev|app))\b)");
        auto config = context.config();
        if (!config.ok())
          return config.error();
        std::vector<std::string> roles = config->value("allowedRoles", std::vector<std::string>{});
        if (has_role(message, roles))
          return filter_pass();
        std::string body = message.value("body", "");
        re2::StringPiece input(body);
        std::string host;
        bool blocked = false;
        while (RE2::FindAndConsume(&input, kLink, &host)) {
          for (char& c : host)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          if (!domain_allowed(host, config->value("allowedDomains", Json::array()))) {
            blocked = true;
            break;
          }
        }
        if (!blocked)
          return filter_pass();
        if (config->value("warn", true)) {
          std::string warning = "@";
          warning += display_name(message);
          warning += ", links are not allowed here";
          (void)context.call("chat.send", Json::array({warning}));
        }
        return filter_drop("link-protection: links are not allowed");
      },
      20);
  return plugin;
}

}  // namespace outlet::examples
