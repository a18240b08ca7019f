// A blocking HTTP/1.1 client for tests, over real loopback sockets. One Connection
// is one TCP connection, so keep-alive and pipelining can be tested; raw() sends
// bytes as they are, for malformed requests.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <string>

#include "outlet/json.h"

namespace outlet::testing {

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool keep_alive = false;

  Json json() const { return Json::parse(body, nullptr, false); }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

class Connection {
 public:
  explicit Connection(uint16_t port) : socket_(io_) {
    boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), port);
    socket_.connect(endpoint);
  }

  Reply request(const std::string& method, const std::string& target,
                const std::map<std::string, std::string>& headers = {},
                const std::string& body = "") {
    namespace http = boost::beast::http;
    http::request<http::string_body> req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, "127.0.0.1");
    for (const auto& [name, value] : headers)
      req.set(name, value);
    req.body() = body;
    if (!body.empty() || method == "POST" || method == "PUT")
      req.prepare_payload();
    http::write(socket_, req);
    return read_reply(method == "HEAD");
  }

  // Writes bytes as they are and reads one reply (status 0 if the server just closed).
  Reply raw(const std::string& bytes) {
    boost::asio::write(socket_, boost::asio::buffer(bytes));
    return read_reply(false);
  }

  Reply read_reply(bool head) {
    namespace http = boost::beast::http;
    Reply reply;
    boost::beast::error_code ec;
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 << 20);
    parser.skip(head);
    http::read(socket_, buffer_, parser, ec);
    if (ec)
      return reply;
    auto& res = parser.get();
    reply.status = static_cast<int>(res.result_int());
    for (const auto& field : res) {
      std::string name(field.name_string());
      for (char& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      reply.headers[name] = std::string(field.value());
    }
    reply.body = res.body();
    reply.keep_alive = res.keep_alive();
    return reply;
  }

  // True when the server has closed the connection (a read sees EOF).
  bool closed_by_server() {
    boost::beast::error_code ec;
    char byte;
    socket_.read_some(boost::asio::buffer(&byte, 1), ec);
    return ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset;
  }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

// One request on a fresh connection.
inline Reply fetch(uint16_t port, const std::string& method, const std::string& target,
                   const std::map<std::string, std::string>& headers = {},
                   const std::string& body = "") {
  Connection connection(port);
  return connection.request(method, target, headers, body);
}

}  // namespace outlet::testing
