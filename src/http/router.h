// Routes requests by method and path pattern ("/v1/plugins/{id}/detail"). Path
// segments are percent-decoded before matching, so "{id}" never sees "%2F" as a
// separator and a handler never sees an encoded value. No match: 404; a path that
// matches with another method: 405 with Allow.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_message.h"

namespace outlet::http {

struct RouteMatch {
  std::map<std::string, std::string, std::less<>> params;
  const std::string& param(std::string_view name) const;
};

using RouteHandler = std::function<void(HttpRequest&&, const RouteMatch&, Responder)>;

class Router {
 public:
  // A pattern is literal segments and "{name}" segments; a final "{name*}" takes the
  // rest of the path (decoded, joined by '/').
  void add(std::string method, std::string_view pattern, RouteHandler handler);
  // HEAD is answered by GET routes.
  void handle(HttpRequest&& request, Responder respond) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    RouteHandler handler;
  };
  std::vector<Route> routes_;
};

// The path's segments, each percent-decoded; empty segments ("//") are kept, so they
// match nothing.
Result<std::vector<std::string>> split_path(std::string_view path);

}  // namespace outlet::http
