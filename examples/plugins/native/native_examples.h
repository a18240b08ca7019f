// The native (C++) example plugins, compiled into the `outlet` CLI and the tests.
// Each lives in its own folder beside this file with plugin.json and __tests__/.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "outlet/host.h"
#include "outlet/native_plugin.h"

namespace outlet::examples {

std::unique_ptr<NativePlugin> make_word_filter();
std::unique_ptr<NativePlugin> make_link_protection();
std::unique_ptr<NativePlugin> make_echo_bot();
std::unique_ptr<NativePlugin> make_message_counter();
std::unique_ptr<NativePlugin> make_relay();
std::unique_ptr<NativePlugin> make_announcer();

// Registers every example with the host's native runtime, by plugin id.
Status register_native_examples(Host& host);

// Helpers shared by the examples.
std::string display_name(const Json& message);
bool has_role(const Json& message, const std::vector<std::string>& roles);

}  // namespace outlet::examples
