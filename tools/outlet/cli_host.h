// Wiring shared by the CLI's commands: a Host with the chat domain, every
// runtime this build has, and the native example plugins.
#pragma once

#include <memory>
#include <string>

#include "domains/chat/chat_domain.h"
#include "outlet/host.h"
#include "testing/scenario_runner.h"

namespace outlet::cli {

struct ChatHost {
  std::unique_ptr<chat::ChatDomain> domain;
  std::unique_ptr<Host> host;
};

// Installs runtimes and native plugins on a host (also used per scenario).
Status prepare_host(Host& host);
Result<ChatHost> make_chat_host(HostOptions options);
ScenarioOptions scenario_options();

// Approves every discovered plugin's declared permissions and enables it, printing
// what failed; returns how many failed.
int approve_and_enable_all(Host& host, const DiscoveryReport& report);

// The example plugins folder: $OUTLET_EXAMPLES_DIR, else the source tree's.
std::string examples_dir();

// "  path: rule" lines of an error, for terminals.
void print_error(const Error& error, const std::string& prefix = "error: ");

}  // namespace outlet::cli
