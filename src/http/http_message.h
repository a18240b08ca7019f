// HTTP requests and responses as the server's handlers see them: plain values, so
// that nothing above the server needs Boost.Beast's headers.
#pragma once

#include <functional>
#include <memory>
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
  unsigned version = 11;           // 10 or 11
  bool websocket_upgrade = false;  // a WebSocket handshake (GET with Upgrade: websocket)

  // The first header of that name (case-insensitive), or null.
  const std::string* header(std::string_view name) const;
};

// The body of a streamed response (Server-Sent Events), written as it comes. Every
// method may be called from any thread.
class StreamSink {
 public:
  virtual ~StreamSink() = default;
  // Queues bytes for the client; false (and nothing queued) when the client has gone
  // or is so far behind that its queue is full: a slow reader loses data, it never
  // holds up the writer.
  virtual bool push(std::string bytes) = 0;
  virtual void close() = 0;
  virtual bool is_open() const = 0;
};

// Accepts a WebSocket handshake (answer a request whose websocket_upgrade is set).
// After the handshake `on_open` gets a sink whose pushes go out as text frames (the
// same 1 MiB queue as a stream: a slow reader loses frames); `on_message` gets each
// text message the client sends, in order, on an I/O thread, so it must hand real
// work elsewhere; `on_closed` runs once when the connection ends for any reason.
struct WebSocketHandlers {
  std::function<void(std::shared_ptr<StreamSink>)> on_open;
  std::function<void(std::string)> on_message;
  std::function<void()> on_closed;
  size_t max_message_bytes = 64 << 10;  // a bigger message closes the connection (1009)
};

struct HttpResponse {
  int status = 200;
  Headers headers;
  std::string body;
  // Set for a streamed response: once the head is sent (without a length; the body
  // ends when the connection does), `on_stream_open` gets the sink; `on_stream_closed`
  // runs once when the client leaves, the stream is closed, or the server stops.
  std::function<void(std::shared_ptr<StreamSink>)> on_stream_open;
  std::function<void()> on_stream_closed;
  // Set to accept a WebSocket upgrade instead of answering (status and body unused).
  std::shared_ptr<WebSocketHandlers> websocket;

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
// The object inside "error": {code, message, details}, for answers that are not a
// response of their own (a WebSocket frame).
Json error_body(std::string_view code, std::string_view message,
                const std::vector<ErrorDetail>& details);
Json error_body(const Error& error);
HttpResponse error_response(int status, std::string_view code, std::string_view message,
                            const std::vector<ErrorDetail>& details = {});
int http_status_for(ErrorCode code);

// The request body as JSON; an empty or malformed body is an error naming `body`.
Result<Json> json_body(const HttpRequest& request);

// Decodes %XX escapes; an invalid escape or an encoded NUL is an error. '+' stays
// '+' (paths do not use form encoding).
Result<std::string> percent_decode(std::string_view text);
// name=value pairs of a query string, decoded ('+' is a space here).
Result<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query);

}  // namespace outlet::http
