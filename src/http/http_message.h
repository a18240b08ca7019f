// HTTP requests and responses as the server's handlers see them: plain values, so
// that nothing above the server needs Boost.Beast's headers.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "outlet/json.h"
#include "outlet/result.h"

namespace outlet::http {

using Headers = std::vector<std::pair<std::string, std::string>>;  // names in lower case

struct HttpRequest {
  std::string method;  // as sent, e.g. "GET"
  std::string target;  // as sent, e.g. "/v1/plugins?x=1"
  std::string path;    // the target before '?', still percent-encoded
  std::string query;   // after '?', still percent-encoded
  Headers headers;
  std::string body;
  std::string remote_address;
  unsigned version = 11;  // 10 or 11

  // The first header of that name (case-insensitive), or null.
  const std::string* header(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  Headers headers;
  std::string body;

  void set_header(std::string name, std::string value);
  const std::string* header(std::string_view name) const;
};

// Called once with the answer; may be called from any thread.
using Responder = std::function<void(HttpResponse)>;
using Handler = std::function<void(HttpRequest&&, Responder)>;

// A JSON body with its content type.
HttpResponse json_response(int status, const Json& body);
// The API's error shape: {error: {code, message, details: [{path, rule}]}}, with the
// HTTP status that fits the error's code.
HttpResponse error_response(const Error& error);
HttpResponse error_response(int status, std::string_view code, std::string_view message,
                            const std::vector<ErrorDetail>& details = {});
int http_status_for(ErrorCode code);

// Decodes %XX escapes; an invalid escape or an encoded NUL is an error. '+' stays
// '+' (paths do not use form encoding).
Result<std::string> percent_decode(std::string_view text);
// name=value pairs of a query string, decoded ('+' is a space here).
Result<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query);

}  // namespace outlet::http
