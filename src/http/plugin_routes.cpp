#include "http/plugin_routes.h"

#include <algorithm>
#include <array>

#include "core/text.h"
#include "dispatch/worker_pool.h"
#include "http/admin_api.h"
#include "http/static_files.h"

namespace outlet::http {
namespace {

constexpr std::array<std::string_view, 6> kMethods = {"GET",   "POST",   "PUT",
                                                      "PATCH", "DELETE", "OPTIONS"};

// Host-owned headers (Server, security policies, connection framing) stay the host's.
bool allowed_response_header(std::string_view name) {
  static constexpr std::array<std::string_view, 9> kAllowed = {
      "content-type", "cache-control",    "etag",      "last-modified", "location", "vary",
      "link",         "content-language", "set-cookie"};
  return std::find(kAllowed.begin(), kAllowed.end(), name) != kAllowed.end() ||
         name.rfind("access-control-", 0) == 0;
}

std::string lower(std::string text) {
  for (char& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

HttpResponse bad_answer(const std::string& plugin_id, const std::string& path,
                        const std::string& rule) {
  return error_response(502, "plugin_error",
                        "plugin \"" + plugin_id + "\" answered with an invalid response",
                        {{path, rule}});
}

Json request_payload(const HttpRequest& request, const std::string& rest, bool authenticated) {
  Json headers = Json::object();
  for (const auto& [name, value] : request.headers) {
    // The host's credentials and the visitor's cookies never reach a plugin.
    if (name == "cookie" || name == "authorization" || name == "proxy-authorization")
      continue;
    if (headers.contains(name))
      headers[name] = headers[name].get<std::string>() + ", " + value;
    else
      headers[name] = value;
  }
  Json query = Json::object();
  if (auto pairs = parse_query(request.query); pairs.ok()) {
    for (auto& [name, value] : *pairs)
      query[name] = value;
  }
  return {{"method", request.method},       {"path", "/" + rest},
          {"query", std::move(query)},      {"headers", std::move(headers)},
          {"body", request.body},           {"remoteAddr", request.remote_address},
          {"authenticated", authenticated}, {"user", nullptr}};
}

}  // namespace

std::string confine_cookie(std::string_view cookie, std::string_view path) {
  std::string out;
  size_t start = 0;
  bool first = true;
  while (start <= cookie.size()) {
    size_t semicolon = cookie.find(';', start);
    std::string_view part = cookie.substr(
        start, (semicolon == std::string_view::npos ? cookie.size() : semicolon) - start);
    while (!part.empty() && part.front() == ' ')
      part.remove_prefix(1);
    const std::string name = lower(std::string(part.substr(0, part.find('='))));
    if (first || (name != "path" && name != "domain" && !part.empty())) {
      if (!out.empty())
        out += "; ";
      out += part;
    }
    first = false;
    if (semicolon == std::string_view::npos)
      break;
    start = semicolon + 1;
  }
  out += "; Path=";
  out += path;
  return out;
}

HttpResponse plugin_answer_to_response(const std::string& plugin_id, const Json& answer,
                                       size_t max_body_bytes) {
  HttpResponse response;
  if (answer.is_null())
    return response;  // nothing to say: 200, empty
  if (!answer.is_object())
    return bad_answer(plugin_id, "(root)", "must be an object {status?, headers?, body?}");
  if (auto status = answer.find("status"); status != answer.end() && !status->is_null()) {
    if (!status->is_number_integer() || status->get<int64_t>() < 100 ||
        status->get<int64_t>() > 599) {
      return bad_answer(plugin_id, "status", "must be an integer from 100 to 599");
    }
    response.status = static_cast<int>(status->get<int64_t>());
  }
  const std::string cookie_path = "/plugins/" + plugin_id + "/";
  if (auto headers = answer.find("headers"); headers != answer.end() && !headers->is_null()) {
    if (!headers->is_object())
      return bad_answer(plugin_id, "headers", "must be an object of name: string");
    for (const auto& [name, value] : headers->items()) {
      if (!value.is_string())
        return bad_answer(plugin_id, "headers." + name, "must be a string");
      const std::string key = lower(name);
      const std::string& text = value.get_ref<const std::string&>();
      if (text.find_first_of("\r\n") != std::string::npos || text.find('\0') != std::string::npos)
        return bad_answer(plugin_id, "headers." + name, "must not contain CR, LF or NUL");
      if (!allowed_response_header(key))
        continue;  // dropped: the host owns it
      if (key == "set-cookie")
        response.headers.emplace_back(key, confine_cookie(text, cookie_path));
      else
        response.set_header(key, text);
    }
  }
  if (auto body = answer.find("body"); body != answer.end() && !body->is_null()) {
    if (body->is_string()) {
      response.body = body->get<std::string>();
    } else {
      response.body = dump_json(*body);
      if (response.header("content-type") == nullptr)
        response.set_header("content-type", "application/json");
    }
  }
  if (response.body.size() > max_body_bytes) {
    return bad_answer(plugin_id, "body",
                      "must be at most " + describe_bytes(max_body_bytes) + ", got " +
                          describe_bytes(response.body.size()));
  }
  if (response.header("content-type") == nullptr && !response.body.empty())
    response.set_header("content-type", "text/plain; charset=utf-8");
  return response;
}

PluginRoutes::PluginRoutes(Host& host, const TokenStore& tokens, std::shared_ptr<SseHub> sse,
                           PluginRouteLimits limits)
    : host_(host),
      tokens_(tokens),
      sse_(std::move(sse)),
      limits_(limits),
      pool_(std::make_unique<WorkerPool>(limits.worker_threads)) {}

PluginRoutes::~PluginRoutes() = default;

void PluginRoutes::wait_idle() {
  pool_->wait_idle();
}

std::shared_ptr<SerialMailbox> PluginRoutes::mailbox_for(const std::string& id) {
  std::lock_guard lock(mutex_);
  auto& mailbox = mailboxes_[id];
  if (!mailbox)
    mailbox = pool_->make_mailbox(limits_.max_queued_per_plugin);
  return mailbox;
}

void PluginRoutes::tell(const std::string& plugin_id, const std::string& event, Json payload) {
  Host& host = host_;
  auto shared_payload = std::make_shared<Json>(std::move(payload));
  mailbox_for(plugin_id)->post([&host, plugin_id, event, shared_payload] {
    // No handler for it, or a failure (counted as a strike by the host): nothing to answer.
    (void)host.request(plugin_id, event, *shared_payload);
  });
}

void PluginRoutes::add_to(Router& router) {
  auto self = shared_from_this();
  for (std::string_view method : kMethods) {
    router.add(std::string(method), "/plugins/{id}/{rest*}",
               [self](HttpRequest&& request, const RouteMatch& match, const Responder& respond) {
                 self->handle(std::move(request), match.param("id"), match.param("rest"), respond);
               });
  }
}

void PluginRoutes::handle(HttpRequest&& request, const std::string& id, const std::string& rest,
                          const Responder& respond) {
  auto status = host_.status(id);
  auto granted = [&status](const char* permission) {
    return status->manifest->has_permission(permission) &&
           std::find(status->approved_permissions.begin(), status->approved_permissions.end(),
                     permission) != status->approved_permissions.end();
  };
  const bool loaded = status && status->state == PluginState::kLoaded;
  const bool stream = rest == "_sse" || rest.rfind("_sse/", 0) == 0;
  const bool reachable =
      loaded && (stream ? sse_ != nullptr && granted("http.sse") : granted("http.serve"));
  if (!reachable)
    return respond(error_response(404, "not_found", "no route for " + request.path));
  const std::string path = "/" + rest;
  if (rest.empty() && request.path.back() != '/') {
    // "/plugins/<id>" → "/plugins/<id>/", so relative links in its pages resolve.
    HttpResponse redirect;
    redirect.status = 301;
    redirect.set_header("location",
                        request.path + "/" + (request.query.empty() ? "" : "?" + request.query));
    return respond(std::move(redirect));
  }
  const auto token = bearer_token(tokens_, request);
  const bool authenticated = token && token->role == Role::kAdmin;
  const std::string channel = rest.size() > 5 ? rest.substr(5) : "";
  const bool admin_only = status->manifest->is_admin_path(path) ||
                          (stream && status->manifest->is_admin_path("/" + channel));
  if (admin_only && !authenticated) {
    HttpResponse refused =
        error_response(401, "unauthenticated", "this page of \"" + id + "\" needs an admin token");
    refused.set_header("www-authenticate", "Bearer realm=\"outlet\"");
    return respond(std::move(refused));
  }
  if (stream) {
    if (request.method != "GET") {
      HttpResponse refused =
          error_response(405, "method_not_allowed", "an event stream is read with GET");
      refused.set_header("allow", "GET");
      return respond(std::move(refused));
    }
    if (channel.find('/') != std::string::npos)
      return respond(error_response(404, "not_found", "a channel name has no '/'"));
    return respond(sse_->open(id, channel, Json()));
  }
  if (!status->source.root.empty()) {
    if (auto file = serve_static(status->source.root + "/public", rest, request))
      return respond(std::move(*file));
  }

  auto payload = std::make_shared<Json>(request_payload(request, rest, authenticated));
  Host& host = host_;
  const size_t max_bytes = limits_.max_response_bytes;
  const bool queued = mailbox_for(id)->post([&host, id, payload, respond, max_bytes] {
    auto answer = host.request(id, "http.request", *payload);
    if (!answer.ok()) {
      const Error& error = answer.error();
      if (error.code() == ErrorCode::kNotFound)
        return respond(error_response(404, "not_found", error.message()));
      if (error.code() == ErrorCode::kDeadlineExceeded)
        return respond(error_response(504, "deadline_exceeded", error.message()));
      return respond(error_response(502, "plugin_error", error.message()));
    }
    respond(plugin_answer_to_response(id, *answer, max_bytes));
  });
  if (!queued) {
    respond(error_response(503, "unavailable",
                           "plugin \"" + id + "\" has too many requests waiting; try again"));
  }
}

}  // namespace outlet::http
