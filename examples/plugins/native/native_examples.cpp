#include "native_examples.h"

namespace outlet::examples {

Status register_native_examples(Host& host) {
  const std::pair<const char*, NativePluginFactory> factories[] = {
      {"word-filter", make_word_filter},
      {"link-protection", make_link_protection},
      {"echo-bot", make_echo_bot},
      {"message-counter", make_message_counter},
      {"relay", make_relay},
      {"announcer", make_announcer},
  };
  for (const auto& [id, factory] : factories) {
    if (Status s = host.register_native_plugin(id, factory); !s.ok())
      return s;
  }
  return {};
}

std::string display_name(const Json& message) {
  const Json& user = message.value("user", Json::object());
  if (!user.is_object())
    return "someone";
  if (user.contains("displayName") && user["displayName"].is_string()) {
    return user["displayName"].get<std::string>();
  }
  if (user.contains("id") && user["id"].is_string())
    return user["id"].get<std::string>();
  return "someone";
}

bool has_role(const Json& message, const std::vector<std::string>& roles) {
  const Json& user = message.value("user", Json::object());
  if (!user.is_object() || !user.contains("roles") || !user["roles"].is_array())
    return false;
  for (const Json& role : user["roles"]) {
    for (const std::string& wanted : roles) {
      if (role == wanted)
        return true;
    }
  }
  return false;
}

}  // namespace outlet::examples
