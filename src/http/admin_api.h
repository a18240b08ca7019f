// The /v1 admin API over one Host (docs/http-api.md): plugins by kind, detail,
// enable/disable/reload, grants, config, the event catalogue, health, metrics and
// API tokens. Every route needs a bearer token; anything but GET needs `admin`.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "http/metrics.h"
#include "http/router.h"
#include "http/token_store.h"
#include "outlet/host.h"

namespace outlet::http {

struct AdminApi {
  Host& host;
  TokenStore& tokens;
  EventCounters& events;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  // Where mutations run: they may wait for a plugin's call in flight, which must not
  // hold up an I/O thread. Runs tasks one at a time, in order.
  std::function<void(std::function<void()>)> run_serially;
};

void add_admin_routes(Router& router, const AdminApi& api);

// The token a request's "Authorization: Bearer <token>" names, if it is valid.
std::optional<TokenInfo> bearer_token(const TokenStore& tokens, const HttpRequest& request);

// Checks the request's bearer token: null when it may proceed, else the 401/403 answer.
// Reads (GET, HEAD) need any token; everything else needs `admin`.
std::optional<HttpResponse> check_token(const TokenStore& tokens, const HttpRequest& request);

// The JSON shapes the API answers with (snake_case).
Json plugin_summary_json(const PluginStatus& status);
Json plugin_detail_json(const PluginStatus& status);
Json event_json(const EventSpec& event);

}  // namespace outlet::http
