#include "http/admin_api.h"

#include <chrono>
#include <memory>

#include "core/json_text.h"
#include "core/text.h"
#include "outlet/lifecycle.h"

namespace outlet::http {
namespace {

constexpr std::array<HookKind, 5> kHookKinds = {HookKind::kNotify, HookKind::kFilter,
                                                HookKind::kCollect, HookKind::kDispatch,
                                                HookKind::kRequest};

std::string iso8601(std::chrono::system_clock::time_point at) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch());
  return iso8601_utc(ms.count(), /*milliseconds=*/false);
}

Json hook_stats_json(const HookStats& stats) {
  return {{"calls", stats.calls},   {"failures", stats.failures}, {"timeouts", stats.timeouts},
          {"p50_us", stats.p50_us}, {"p90_us", stats.p90_us},     {"p99_us", stats.p99_us},
          {"max_us", stats.max_us}};
}

Json token_json(const TokenInfo& token) {
  return {{"id", token.id},
          {"role", role_name(token.role)},
          {"label", token.label},
          {"created", iso8601(std::chrono::system_clock::from_time_t(token.created_unix))}};
}

HttpResponse unauthorized(const std::string& message) {
  HttpResponse response = error_response(401, "unauthenticated", message);
  response.set_header("www-authenticate", "Bearer realm=\"outlet\"");
  return response;
}

class Routes {
 public:
  explicit Routes(AdminApi api) : api_(std::move(api)) {}

  // Every handler holds `self`, so the routes live as long as the router's handlers.
  static void add(Router& router, const std::shared_ptr<Routes>& self) {
    read(router, self, "/v1/health",
         [self](const HttpRequest&, const RouteMatch&) { return self->health(); });
    read(router, self, "/v1/plugins",
         [self](const HttpRequest&, const RouteMatch&) { return self->plugins_by_group(); });
    read(router, self, "/v1/plugins/{id}/detail",
         [self](const HttpRequest&, const RouteMatch& m) { return self->detail(m.param("id")); });
    read(router, self, "/v1/plugins/{id}/config",
         [self](const HttpRequest&, const RouteMatch& m) { return self->config(m.param("id")); });
    read(router, self, "/v1/plugins/{kind}", [self](const HttpRequest&, const RouteMatch& m) {
      return self->plugins_of_group(m.param("kind"));
    });
    read(router, self, "/v1/events",
         [self](const HttpRequest&, const RouteMatch&) { return self->events(); });
    read(router, self, "/v1/metrics", [self](const HttpRequest&, const RouteMatch&) {
      HttpResponse response;
      response.body = render_prometheus(self->api_.host, self->api_.events);
      response.set_header("content-type", "text/plain; version=0.0.4; charset=utf-8");
      return response;
    });
    read(router, self, "/v1/tokens", [self](const HttpRequest&, const RouteMatch&) {
      Json list = Json::array();
      for (const TokenInfo& token : self->api_.tokens.list())
        list.push_back(token_json(token));
      return json_response(200, {{"tokens", std::move(list)}});
    });

    for (const char* action : {"enable", "disable", "reload"}) {
      const std::string name = action;
      write(router, self, "POST", "/v1/plugins/{id}/" + name,
            [self, name](const HttpRequest&, const RouteMatch& m) {
              return self->lifecycle(m.param("id"), name);
            });
    }
    write(router, self, "PUT", "/v1/plugins/{id}/grants",
          [self](const HttpRequest& request, const RouteMatch& m) {
            return self->put_grants(m.param("id"), request);
          });
    write(router, self, "PUT", "/v1/plugins/{id}/config",
          [self](const HttpRequest& request, const RouteMatch& m) {
            return self->put_config(m.param("id"), request);
          });
    write(router, self, "POST", "/v1/tokens",
          [self](const HttpRequest& request, const RouteMatch&) {
            return self->issue_token(request);
          });
    write(router, self, "DELETE", "/v1/tokens/{id}",
          [self](const HttpRequest&, const RouteMatch& m) {
            auto revoked = self->api_.tokens.revoke(m.param("id"));
            if (!revoked.ok())
              return error_response(revoked.error());
            if (!*revoked)
              return error_response(404, "not_found", "no token with id " + m.param("id"));
            HttpResponse response;
            response.status = 204;
            return response;
          });
  }

 private:
  using Body = std::function<HttpResponse(const HttpRequest&, const RouteMatch&)>;

  // Reads answer on the I/O thread: they only copy the host's state.
  static void read(Router& router, const std::shared_ptr<Routes>& self, const std::string& pattern,
                   const Body& body) {
    router.add(
        "GET", pattern,
        [self, body](HttpRequest&& request, const RouteMatch& match, const Responder& respond) {
          if (auto refused = check_token(self->api_.tokens, request))
            return respond(std::move(*refused));
          respond(body(request, match));
        });
  }

  // Mutations run one at a time, off the I/O threads.
  static void write(Router& router, const std::shared_ptr<Routes>& self, const char* method,
                    const std::string& pattern, const Body& body) {
    router.add(
        method, pattern,
        [self, body](HttpRequest&& request, const RouteMatch& match, const Responder& respond) {
          if (auto refused = check_token(self->api_.tokens, request))
            return respond(std::move(*refused));
          auto shared_request = std::make_shared<HttpRequest>(std::move(request));
          self->api_.run_serially(
              [body, shared_request, match, respond] { respond(body(*shared_request, match)); });
        });
  }

  HttpResponse health() const {
    Json counts = Json::object();
    size_t loaded = 0;
    const auto statuses = api_.host.statuses();
    for (const PluginStatus& status : statuses) {
      const std::string state(plugin_state_name(status.state));
      counts[state] = counts.value(state, 0) + 1;
      loaded += status.state == PluginState::kLoaded ? 1 : 0;
    }
    const auto uptime = std::chrono::steady_clock::now() - api_.started;
    return json_response(
        200, {{"status", "ok"},
              {"version", kOutletVersion},
              {"uptime_seconds", std::chrono::duration_cast<std::chrono::seconds>(uptime).count()},
              {"plugins", {{"total", statuses.size()}, {"loaded", loaded}, {"by_state", counts}}}});
  }

  std::map<std::string, PluginStatus> statuses_by_id() const {
    std::map<std::string, PluginStatus> out;
    for (PluginStatus& status : api_.host.statuses())
      out.emplace(status.id, std::move(status));
    return out;
  }

  HttpResponse plugins_by_group() const {
    const auto statuses = statuses_by_id();
    Json body = Json::object();
    size_t total = 0;
    for (const auto& [group, plugins] : api_.host.plugins_by_group()) {
      Json list = Json::array();
      for (const PluginMetadata& metadata : plugins) {
        auto it = statuses.find(metadata.id);
        if (it != statuses.end())
          list.push_back(plugin_summary_json(it->second));
      }
      total += list.size();
      body[group] = std::move(list);
    }
    body["total"] = total;
    return json_response(200, body);
  }

  HttpResponse plugins_of_group(const std::string& group) const {
    const auto groups = api_.host.plugins_by_group();
    auto found = groups.find(group);
    if (found == groups.end()) {
      std::string known;
      for (const auto& [name, plugins] : groups)
        known += (known.empty() ? "" : ", ") + name;
      return error_response(404, "not_found", "no plugin kind group \"" + group + "\"",
                            {{"plugin_type", "one of: " + known}});
    }
    const auto statuses = statuses_by_id();
    Json list = Json::array();
    for (const PluginMetadata& metadata : found->second) {
      auto it = statuses.find(metadata.id);
      if (it != statuses.end())
        list.push_back(plugin_summary_json(it->second));
    }
    const size_t total = list.size();
    return json_response(200,
                         {{"plugin_type", group}, {"plugins", std::move(list)}, {"total", total}});
  }

  Result<PluginStatus> find(const std::string& id) const {
    auto status = api_.host.status(id);
    if (!status)
      return Error(ErrorCode::kNotFound, "no plugin \"" + id + "\"", {{"id", "not installed"}});
    return std::move(*status);
  }

  HttpResponse detail(const std::string& id) const {
    auto status = find(id);
    if (!status.ok())
      return error_response(status.error());
    return json_response(200, plugin_detail_json(*status));
  }

  HttpResponse config(const std::string& id) const {
    auto status = find(id);
    if (!status.ok())
      return error_response(status.error());
    return json_response(200,
                         {{"config", status->config}, {"schema", status->manifest->config_schema}});
  }

  HttpResponse events() const {
    Json list = Json::array();
    for (const auto& event : api_.host.events())
      list.push_back(event_json(*event));
    const size_t total = list.size();
    return json_response(200, {{"events", std::move(list)}, {"total", total}});
  }

  HttpResponse lifecycle(const std::string& id, const std::string& action) {
    if (auto status = find(id); !status.ok())
      return error_response(status.error());
    Status done = action == "enable"    ? api_.host.enable(id)
                  : action == "disable" ? api_.host.disable(id)
                                        : api_.host.reload(id);
    if (!done.ok())
      return error_response(done.error());
    return detail(id);
  }

  HttpResponse put_grants(const std::string& id, const HttpRequest& request) {
    if (auto status = find(id); !status.ok())
      return error_response(status.error());
    auto body = json_body(request);
    if (!body.ok())
      return error_response(body.error());
    const Json* permissions =
        body->is_object() && body->contains("permissions") ? &(*body)["permissions"] : nullptr;
    std::vector<std::string> approved;
    if (permissions == nullptr || !permissions->is_array()) {
      return error_response(400, "invalid_argument", "grants need a list of permissions",
                            {{"permissions", "must be an array of permission names"}});
    }
    for (size_t i = 0; i < permissions->size(); ++i) {
      if (!(*permissions)[i].is_string()) {
        return error_response(400, "invalid_argument", "grants need a list of permissions",
                              {{"permissions[" + std::to_string(i) + "]", "must be a string"}});
      }
      approved.push_back((*permissions)[i].get<std::string>());
    }
    if (Status s = api_.host.approve(id, approved); !s.ok())
      return error_response(s.error());
    return detail(id);
  }

  HttpResponse put_config(const std::string& id, const HttpRequest& request) {
    if (auto status = find(id); !status.ok())
      return error_response(status.error());
    auto body = json_body(request);
    if (!body.ok())
      return error_response(body.error());
    if (Status s = api_.host.set_config(id, *body); !s.ok())
      return error_response(s.error());
    return config(id);
  }

  HttpResponse issue_token(const HttpRequest& request) {
    auto body = json_body(request);
    if (!body.ok())
      return error_response(body.error());
    if (!body->is_object() || !body->contains("role") || !(*body)["role"].is_string())
      return error_response(400, "invalid_argument", "a token needs a role",
                            {{"role", "must be \"admin\" or \"read\""}});
    auto role = parse_role((*body)["role"].get<std::string>());
    if (!role)
      return error_response(400, "invalid_argument", "unknown role",
                            {{"role", "must be \"admin\" or \"read\""}});
    const Json label = body->value("label", Json(""));
    if (!label.is_string())
      return error_response(400, "invalid_argument", "bad label", {{"label", "must be a string"}});
    auto issued = api_.tokens.issue(*role, label.get<std::string>());
    if (!issued.ok())
      return error_response(issued.error());
    Json answer = token_json(issued->info);
    answer["token"] = issued->secret;  // the only time it is ever shown
    return json_response(201, answer);
  }

  AdminApi api_;
};

}  // namespace

namespace {

constexpr std::string_view kBearer = "Bearer ";

bool has_bearer_scheme(const std::string& header) {
  return header.size() > kBearer.size() &&
         std::equal(kBearer.begin(), kBearer.end(), header.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

}  // namespace

std::optional<TokenInfo> bearer_token(const TokenStore& tokens, const HttpRequest& request) {
  const std::string* header = request.header("authorization");
  if (header == nullptr || !has_bearer_scheme(*header))
    return std::nullopt;
  return tokens.authenticate(std::string_view(*header).substr(kBearer.size()));
}

std::optional<HttpResponse> check_token(const TokenStore& tokens, const HttpRequest& request) {
  const std::string* header = request.header("authorization");
  if (header == nullptr)
    return unauthorized("this route needs an API token (Authorization: Bearer <token>)");
  if (!has_bearer_scheme(*header))
    return unauthorized("the Authorization header must be \"Bearer <token>\"");
  auto token = bearer_token(tokens, request);
  if (!token)
    return unauthorized("the API token is not valid");
  const bool reading = request.method == "GET" || request.method == "HEAD";
  if (!reading && token->role != Role::kAdmin) {
    return error_response(403, "permission_denied",
                          request.method + " " + request.path + " needs an admin token",
                          {{"authorization", "role is \"read\""}});
  }
  return std::nullopt;
}

Json plugin_summary_json(const PluginStatus& status) {
  const Manifest& manifest = *status.manifest;
  Json authors = Json::array();
  for (const Author& author : manifest.authors)
    authors.push_back(author.name);
  return {{"id", status.id},
          {"name", manifest.name},
          {"description", manifest.description},
          {"version", manifest.version_text},
          {"kind", manifest.kind},
          {"runtime", runtime_kind_name(manifest.runtime)},
          {"authors", std::move(authors)},
          {"icon", manifest.icon},
          {"category", manifest.category},
          {"state", plugin_state_name(status.state)},
          {"enabled", status.enabled}};
}

Json plugin_detail_json(const PluginStatus& status) {
  Json detail = plugin_summary_json(status);
  const Manifest& manifest = *status.manifest;
  detail["manifest"] = manifest.raw;
  detail["reason"] = status.reason;
  detail["source"] = status.source.location;
  detail["grants"] = {{"declared", manifest.permissions},
                      {"approved", status.approved_permissions},
                      {"missing", status.missing_grants}};
  detail["config"] = status.config;
  Json warnings = Json::array();
  for (const Warning& warning : status.warnings) {
    warnings.push_back({{"hook", warning.hook},
                        {"message", warning.message},
                        {"count", warning.count},
                        {"first_seen", iso8601(warning.first_seen)},
                        {"last_seen", iso8601(warning.last_seen)}});
  }
  detail["warnings"] = std::move(warnings);
  Json hooks = Json::object();
  if (status.stats) {
    detail["strikes"] = status.stats->strikes;
    detail["consecutive_failures"] = status.stats->consecutive_failures;
    detail["memory_bytes"] = status.stats->memory_bytes;
    for (HookKind kind : kHookKinds)
      hooks[hook_kind_name(kind)] =
          hook_stats_json(status.stats->by_kind[static_cast<size_t>(kind)]);
  } else {
    detail["strikes"] = 0;
    detail["consecutive_failures"] = 0;
    detail["memory_bytes"] = 0;
  }
  detail["hooks"] = std::move(hooks);
  return detail;
}

Json event_json(const EventSpec& event) {
  Json kinds = Json::array();
  for (HookKind kind : event.kinds)
    kinds.push_back(hook_kind_name(kind));
  return {{"name", event.name},
          {"kinds", std::move(kinds)},
          {"description", event.description},
          {"declared_by", event.declared_by},
          {"schema", event.schema}};
}

void add_admin_routes(Router& router, const AdminApi& api) {
  Routes::add(router, std::make_shared<Routes>(api));
}

}  // namespace outlet::http
