// The Outlet server around one Host: API tokens, the /v1 admin API, plugins' own
// routes under /plugins/<id>/, and whatever routes a domain adds (the chat domain's
// ingest), on one HttpServer.
//
//   auto server = Server::open(host, {.data_dir = dir});
//   (*server)->router().add(...);            // a domain's own routes, before start
//   (*server)->start(http_options);
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "http/admin_api.h"
#include "http/http_server.h"
#include "http/metrics.h"
#include "http/plugin_routes.h"
#include "http/router.h"
#include "http/token_store.h"
#include "outlet/host.h"

namespace outlet {
class WorkerPool;
class SerialMailbox;
}  // namespace outlet

namespace outlet::http {

struct ServerSetup {
  // server.sqlite3 (API tokens) lives here; empty: in memory (tests).
  std::string data_dir;
  // Event streams for plugins; declared on the host (SseHub::declare) before its
  // plugins loaded. Null: no /_sse/ routes.
  std::shared_ptr<SseHub> sse;
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> open(Host& host, const ServerSetup& setup);
  ~Server();

  Router& router() { return router_; }
  TokenStore& tokens() { return *tokens_; }
  EventCounters& events() { return events_; }
  // Set when open() found no token and made the first admin token: show it once.
  const std::optional<std::string>& first_admin_token() const { return first_admin_token_; }

  Status start(ServerOptions options);
  uint16_t port() const;
  // Stops accepting, lets requests in flight finish (up to `grace`), then finishes
  // queued admin work. The Host is the caller's to stop afterwards.
  void shutdown(std::chrono::milliseconds grace);

 private:
  Server(Host& host, std::unique_ptr<TokenStore> tokens);

  Host& host_;
  std::unique_ptr<TokenStore> tokens_;
  EventCounters events_;
  Router router_;
  std::optional<std::string> first_admin_token_;
  std::unique_ptr<WorkerPool> admin_pool_;
  std::shared_ptr<SerialMailbox> admin_queue_;
  std::shared_ptr<SseHub> sse_;
  std::shared_ptr<PluginRoutes> plugin_routes_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace outlet::http
