// outlet serve: the reference server. Plugins in the plugins folder are discovered
// (never enabled on their own: an admin approves and enables them through the API,
// and that choice persists); the /v1 API answers with a bearer token; SIGINT or
// SIGTERM lets requests in flight finish, then stops.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "cli_host.h"
#include "commands.h"
#include "domains/chat/chat_room.h"
#include "domains/chat/chat_routes.h"
#include "http/serve_config.h"
#include "http/server.h"

namespace outlet::cli {
namespace {

struct ServeFlags {
  std::map<std::string, std::string> values;  // setting name → text, only those given
};

int serve(const ServeFlags& flags) {
  // Blocked before any thread starts, so every thread inherits the mask and the
  // signals wait for sigwait below instead of killing the process mid-write.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  http::ServeConfigSources sources;
  sources.flags = flags.values;
  for (const http::ServeSetting& setting : http::serve_settings()) {
    if (const char* value = std::getenv(setting.env); value != nullptr)
      sources.env[setting.env] = value;
  }
  auto config = http::load_serve_config(sources);
  if (!config.ok()) {
    print_error(config.error());
    return 2;
  }
  std::error_code ec;
  std::filesystem::create_directories(config->plugins_dir, ec);
  if (ec) {
    std::fprintf(stderr, "error: cannot create plugins folder %s: %s\n",
                 config->plugins_dir.c_str(), ec.message().c_str());
    return 1;
  }

  HostOptions host_options;
  host_options.data_dir = config->data_dir;
  host_options.tenant = config->tenant;
  host_options.worker_threads = config->worker_threads;
  host_options.strike_limit = config->strike_limit;
  host_options.wasm_wasi = config->wasm_wasi;
  auto chat_host = make_chat_host(std::move(host_options));
  if (!chat_host.ok()) {
    print_error(chat_host.error());
    return 1;
  }
  Host& host = *chat_host->host;
  auto sse = std::make_shared<http::SseHub>();
  if (Status declared = http::SseHub::declare(host, sse); !declared.ok()) {
    print_error(declared.error());
    return 1;
  }
  // The live chat before any plugin loads, so that everything they do acts on it.
  auto room = chat::ChatRoom::open(
      host, *chat_host->domain,
      {.store_path = config->data_dir + "/chat.sqlite3", .tenant = config->tenant});
  if (!room.ok()) {
    print_error(room.error());
    return 1;
  }
  auto report = host.discover(config->plugins_dir);
  if (!report.ok()) {
    print_error(report.error());
    return 1;
  }
  for (const auto& problem : report->problems)
    print_error(problem.error, problem.folder + ": ");
  if (Status started = host.start(); !started.ok())
    print_error(started.error(), "warning: ");

  auto server = http::Server::open(host, {.data_dir = config->data_dir, .sse = sse});
  if (!server.ok()) {
    print_error(server.error());
    return 1;
  }
  auto chat_routes = std::make_shared<chat::ChatRoutes>(**room, (*server)->tokens());
  chat_routes->add_to((*server)->router());
  if (const auto& token = (*server)->first_admin_token()) {
    std::printf(
        "First run: an admin API token was created. It is shown only now; store it safely.\n"
        "  %s\n",
        token->c_str());
  }
  Status listening = (*server)->start({.address = config->listen_address,
                                       .port = config->listen_port,
                                       .io_threads = config->io_threads,
                                       .max_body_bytes = config->max_body_bytes,
                                       .max_connections = config->max_connections});
  if (!listening.ok()) {
    print_error(listening.error());
    return 1;
  }
  std::printf("outlet %s serving on http://%s:%u (data: %s, plugins: %s, %zu plugins)\n",
              kOutletVersion, config->listen_address.c_str(), (*server)->port(),
              config->data_dir.c_str(), config->plugins_dir.c_str(), host.statuses().size());
  std::fflush(stdout);

  int received = 0;
  sigwait(&stop_signals, &received);
  std::printf("%s: finishing requests in flight (up to %lld ms), then stopping\n",
              received == SIGINT ? "SIGINT" : "SIGTERM",
              static_cast<long long>(config->shutdown_grace.count()));
  std::fflush(stdout);
  (*server)->shutdown(config->shutdown_grace);
  chat_routes->wait_idle();
  (*room)->stop();
  host.wait_idle();
  server->reset();
  chat_host->host.reset();
  std::printf("stopped\n");
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  auto* command = app.add_subcommand(
      "serve",
      "Run the Outlet server: the /v1 admin API (bearer tokens), with plugins from the plugins "
      "folder. Each setting comes from a flag, else its environment variable, else the "
      "--config file, else its default.");
  for (const http::ServeSetting& setting : http::serve_settings()) {
    const std::string name = setting.name;
    std::string help = std::string(setting.description) + " [env " + setting.env;
    if (*setting.default_text != '\0')
      help += ", default " + std::string(setting.default_text);
    help += "]";
    command
        ->add_option_function<std::string>(
            http::setting_flag(setting),
            [flags, name](const std::string& value) { flags->values[name] = value; }, help)
        ->type_name(setting.type == http::SettingType::kCount  ? "N"
                    : setting.type == http::SettingType::kBool ? "BOOL"
                                                               : "TEXT");
  }
  command->callback([flags, &exit_code] { exit_code = serve(*flags); });
}

}  // namespace outlet::cli
