#include "http/router.h"

#include <algorithm>

namespace outlet::http {
namespace {

bool is_param(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool is_rest_param(const std::string& segment) {
  return is_param(segment) && segment[segment.size() - 2] == '*';
}

std::string param_name(const std::string& segment) {
  return segment.substr(1, segment.size() - (is_rest_param(segment) ? 3 : 2));
}

bool match(const std::vector<std::string>& pattern, const std::vector<std::string>& path,
           RouteMatch& out) {
  out.params.clear();
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (is_rest_param(pattern[i])) {
      std::string rest;
      for (size_t j = i; j < path.size(); ++j)
        rest += (j == i ? "" : "/") + path[j];
      out.params[param_name(pattern[i])] = rest;
      return true;
    }
    if (i >= path.size())
      return false;
    if (is_param(pattern[i])) {
      if (path[i].empty())
        return false;
      out.params[param_name(pattern[i])] = path[i];
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  return pattern.size() == path.size();
}

}  // namespace

const std::string& RouteMatch::param(std::string_view name) const {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

Result<std::vector<std::string>> split_path(std::string_view path) {
  if (path.empty() || path.front() != '/') {
    return Error(ErrorCode::kInvalidArgument, "invalid request path",
                 {{"path", "must start with '/'"}});
  }
  std::vector<std::string> segments;
  path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    auto decoded = percent_decode(path.substr(0, slash));
    if (!decoded.ok())
      return decoded.error();
    segments.push_back(std::move(*decoded));
    if (slash == std::string_view::npos)
      break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

void Router::add(std::string method, std::string_view pattern, RouteHandler handler) {
  auto segments = split_path(pattern);
  routes_.push_back({std::move(method),
                     segments.ok() ? std::move(*segments) : std::vector<std::string>{},
                     std::move(handler)});
}

void Router::handle(HttpRequest&& request, Responder respond) const {
  auto path = split_path(request.path);
  if (!path.ok())
    return respond(
        error_response(400, "bad_request", path.error().message(), path.error().details()));
  const std::string method = request.method == "HEAD" ? "GET" : request.method;
  std::vector<std::string> allowed;
  RouteMatch found;
  for (const Route& route : routes_) {
    if (!match(route.segments, *path, found))
      continue;
    if (route.method == method)
      return route.handler(std::move(request), found, std::move(respond));
    if (std::find(allowed.begin(), allowed.end(), route.method) == allowed.end())
      allowed.push_back(route.method);
  }
  if (allowed.empty()) {
    return respond(error_response(404, "not_found", "no route for " + request.path));
  }
  std::string allow;
  for (const std::string& m : allowed)
    allow += (allow.empty() ? "" : ", ") + m;
  HttpResponse response = error_response(
      405, "method_not_allowed",
      request.method + " is not allowed on " + request.path + " (allowed: " + allow + ")");
  response.set_header("allow", allow);
  respond(std::move(response));
}

}  // namespace outlet::http
