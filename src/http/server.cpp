#include "http/server.h"

#include "dispatch/worker_pool.h"

namespace outlet::http {

Server::Server(Host& host, std::unique_ptr<TokenStore> tokens)
    : host_(host), tokens_(std::move(tokens)) {}

Server::~Server() {
  shutdown(std::chrono::milliseconds(0));
}

Result<std::unique_ptr<Server>> Server::open(Host& host, const ServerSetup& setup) {
  auto tokens = TokenStore::open(setup.data_dir.empty() ? "" : setup.data_dir + "/server.sqlite3");
  if (!tokens.ok())
    return tokens.error();
  std::unique_ptr<Server> server(new Server(host, std::move(tokens).value()));
  if (server->tokens_->size() == 0) {
    auto first = server->tokens_->issue(Role::kAdmin, "first admin token");
    if (!first.ok())
      return first.error();
    server->first_admin_token_ = first->secret;
  }
  server->admin_pool_ = std::make_unique<WorkerPool>(1);
  server->admin_queue_ = server->admin_pool_->make_mailbox();
  AdminApi api{.host = host,
               .tokens = *server->tokens_,
               .events = server->events_,
               .run_serially = [queue = server->admin_queue_](std::function<void()> task) {
                 queue->post(std::move(task));
               }};
  add_admin_routes(server->router_, api);
  server->sse_ = setup.sse;
  server->plugin_routes_ = std::make_shared<PluginRoutes>(host, *server->tokens_, setup.sse);
  server->plugin_routes_->add_to(server->router_);
  if (server->sse_) {
    // A plugin that stops (disabled, failed, unloaded) stops streaming: its browsers
    // see the stream end (and EventSource retries, reaching a 404 until it is back).
    std::weak_ptr<SseHub> hub = server->sse_;
    host.on_state_change([hub](const std::string& id, const StateChange& change) {
      if (change.from == PluginState::kLoaded && change.to != PluginState::kLoaded) {
        if (auto live = hub.lock())
          live->close_all(id);
      }
    });
    std::weak_ptr<PluginRoutes> routes = server->plugin_routes_;
    server->sse_->set_notifier(
        [routes](const std::string& plugin, const std::string& event, Json payload) {
          if (auto live = routes.lock())
            live->tell(plugin, event, std::move(payload));
        });
  }
  return server;
}

Status Server::start(ServerOptions options) {
  if (http_)
    return Error(ErrorCode::kFailedPrecondition, "the server is already running");
  auto http =
      HttpServer::start(std::move(options), [this](HttpRequest&& request, Responder respond) {
        router_.handle(std::move(request), std::move(respond));
      });
  if (!http.ok())
    return http.error();
  http_ = std::move(http).value();
  return ok_status();
}

uint16_t Server::port() const {
  return http_ ? http_->port() : 0;
}

void Server::shutdown(std::chrono::milliseconds grace) {
  if (http_)
    http_->shutdown(grace);
  if (sse_)
    sse_->set_notifier(nullptr);  // the streams are closed; their plugins are told no more
  if (admin_pool_)
    admin_pool_->wait_idle();
  if (plugin_routes_)
    plugin_routes_->wait_idle();
}

}  // namespace outlet::http
