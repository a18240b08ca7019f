#include "cli_host.h"

#include <cstdio>
#include <cstdlib>

#include "native_examples.h"

namespace outlet::cli {

Status prepare_host(Host& host) {
  return examples::register_native_examples(host);
}

Result<ChatHost> make_chat_host(HostOptions options) {
  ChatHost chat_host;
  chat_host.domain = std::make_unique<chat::ChatDomain>();
  auto host = Host::create(std::move(options));
  if (!host.ok())
    return host.error();
  chat_host.host = std::move(host).value();
  if (Status s = chat_host.domain->declare(*chat_host.host); !s.ok())
    return s.error();
  if (Status s = prepare_host(*chat_host.host); !s.ok())
    return s.error();
  return chat_host;
}

ScenarioOptions scenario_options() {
  ScenarioOptions options;
  options.make_domain = [] { return std::make_unique<chat::ChatDomain>(); };
  options.prepare_host = prepare_host;
  return options;
}

int approve_and_enable_all(Host& host, const DiscoveryReport& report) {
  int failures = 0;
  for (const DiscoveredPlugin& plugin : report.plugins) {
    const std::string& id = plugin.parsed.manifest.id;
    // In order: enabling needs the approval first.
    Status approved = host.approve(id);
    Status enabled = host.enable(id);
    for (const Status* s : {&approved, &enabled}) {
      if (!s->ok()) {
        print_error(s->error(), id + ": ");
        ++failures;
      }
    }
  }
  return failures;
}

std::string examples_dir() {
  if (const char* dir = std::getenv("OUTLET_EXAMPLES_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  return OUTLET_EXAMPLES_DIR;
}

void print_error(const Error& error, const std::string& prefix) {
  std::fprintf(stderr, "%s%s\n", prefix.c_str(), error.to_string().c_str());
}

}  // namespace outlet::cli
