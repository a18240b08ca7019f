// /plugins/<id>/* (seeds/003): a plugin's public/ files, else its `http.request`
// handler; /plugins/<id>/_sse/<channel> is the host-owned event stream. Only a
// loaded plugin granted `http.serve` (`http.sse` for streams) is reachable
// (anything else is 404, so the URL space says nothing about what is installed);
// paths matching its manifest's admin.pages need an admin token (401).
//
// The handler gets {method, path, query, headers, body, remoteAddr, authenticated,
// user} — headers without Cookie or Authorization — and answers {status?, headers?,
// body?}. Its calls run on a worker pool, one at a time per plugin, under the
// request hook's deadline (504 past it). Response headers pass an allowlist and a
// Set-Cookie is confined to the plugin's path.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "http/router.h"
#include "http/sse_hub.h"
#include "http/token_store.h"
#include "outlet/host.h"

namespace outlet {
class WorkerPool;
class SerialMailbox;
}  // namespace outlet

namespace outlet::http {

struct PluginRouteLimits {
  size_t max_response_bytes = 10 << 20;
  size_t max_queued_per_plugin = 64;  // beyond this: 503
  size_t worker_threads = 4;
};

class PluginRoutes : public std::enable_shared_from_this<PluginRoutes> {
 public:
  // `sse` may be null: then /_sse/ streams are not offered.
  PluginRoutes(Host& host, const TokenStore& tokens, std::shared_ptr<SseHub> sse,
               PluginRouteLimits limits = {});
  ~PluginRoutes();

  void add_to(Router& router);
  // Queues a request to one plugin (sse.connect, sse.disconnect) whose answer nobody
  // waits for; a plugin without a handler for it simply does not get it.
  void tell(const std::string& plugin_id, const std::string& event, Json payload);
  // Finishes queued plugin requests (their answers are dropped if the server stopped).
  void wait_idle();

 private:
  void handle(HttpRequest&& request, const std::string& id, const std::string& rest,
              const Responder& respond);
  std::shared_ptr<SerialMailbox> mailbox_for(const std::string& id);

  Host& host_;
  const TokenStore& tokens_;
  std::shared_ptr<SseHub> sse_;
  PluginRouteLimits limits_;
  std::unique_ptr<WorkerPool> pool_;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<SerialMailbox>> mailboxes_;  // guarded by mutex_
};

// The plugin's answer as an HTTP response: status 100–599 (default 200), headers
// through the allowlist, Set-Cookie confined to /plugins/<id>/, body a string (other
// JSON is sent as JSON). Anything malformed or too large is a 502 naming the rule.
HttpResponse plugin_answer_to_response(const std::string& plugin_id, const Json& answer,
                                       size_t max_body_bytes);

// A Set-Cookie value with its Path set to `path` and any Domain removed.
std::string confine_cookie(std::string_view cookie, std::string_view path);

}  // namespace outlet::http
