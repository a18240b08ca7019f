// An HTTP/1.1 server on Boost.Beast: a fixed number of I/O threads, keep-alive,
// bounded requests, and a graceful shutdown that lets requests in flight finish.
//
// Handlers run on an I/O thread and must not block it for long: one that calls into
// a plugin hands the work to another thread and answers through the Responder,
// which may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "http/http_message.h"
#include "outlet/result.h"

namespace outlet::http {

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (see HttpServer::port)
  size_t io_threads = 2;
  size_t max_body_bytes = 1 << 20;        // larger bodies get 413 before they are read
  size_t max_header_bytes = 16 << 10;     // larger request heads get 431
  std::chrono::seconds idle_timeout{60};  // a keep-alive connection with no request
  std::chrono::seconds read_timeout{30};  // from the first byte of a request to its end
  size_t max_connections = 1024;          // beyond this, new connections are closed at once
};

class HttpServer {
 public:
  // Binds and starts serving; an address in use or not available is an error.
  static Result<std::unique_ptr<HttpServer>> start(ServerOptions options, Handler handler);
  ~HttpServer();  // shutdown(0) if still running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const;
  const std::string& address() const;
  // Stops accepting; idle connections close; requests in flight get up to `grace` to
  // be answered (each answer closes its connection); then the I/O threads stop.
  void shutdown(std::chrono::milliseconds grace);
  size_t open_connections() const;

  struct State;  // shared with the connections; defined in http_server.cpp

 private:
  explicit HttpServer(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace outlet::http
