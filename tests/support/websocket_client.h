// A blocking WebSocket client for tests (Boost.Beast): connect with headers, send
// text, and read frames with a deadline, so a test that expects a frame that never
// comes fails instead of hanging.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "outlet/json.h"

namespace outlet::testing {

class WebSocketClient {
 public:
  // Connects and performs the handshake; `error` holds why it failed (e.g. the
  // server answered 401 instead of upgrading), and the client is then unusable.
  WebSocketClient(uint16_t port, const std::string& target,
                  const std::map<std::string, std::string>& headers = {})
      : ws_(io_) {
    namespace beast = boost::beast;
    boost::asio::ip::tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), port);
    beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(10));
    beast::error_code ec;
    beast::get_lowest_layer(ws_).connect(endpoint, ec);
    if (ec) {
      error = ec.message();
      return;
    }
    ws_.set_option(beast::websocket::stream_base::decorator(
        [headers](beast::websocket::request_type& request) {
          for (const auto& [name, value] : headers)
            request.set(name, value);
        }));
    ws_.handshake("127.0.0.1", target, ec);
    if (ec)
      error = ec.message();
  }

  bool ok() const { return error.empty(); }

  bool send(const Json& frame) {
    boost::beast::error_code ec;
    boost::beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(10));
    ws_.text(true);
    ws_.write(boost::asio::buffer(frame.dump()), ec);
    return !ec;
  }

  bool send_binary(const std::string& bytes) {
    boost::beast::error_code ec;
    ws_.binary(true);
    ws_.write(boost::asio::buffer(bytes), ec);
    return !ec;
  }

  // The next frame as JSON, or nullopt when none arrives within `timeout` or the
  // connection ended (closed() tells which).
  std::optional<Json> next(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    // Asynchronous with our own deadline: a WebSocket read does not honour tcp_stream's.
    boost::beast::error_code ec;
    bool done = false;
    boost::beast::flat_buffer buffer;
    ws_.async_read(buffer, [&](boost::beast::error_code read_ec, size_t) {
      ec = read_ec;
      done = true;
    });
    io_.restart();
    io_.run_for(timeout);
    if (!done) {
      boost::beast::get_lowest_layer(ws_).socket().close(ec);
      io_.restart();
      io_.run();
      timed_out_ = true;
      return std::nullopt;
    }
    if (ec) {
      closed_ = ec == boost::beast::websocket::error::closed;
      last_error_ = ec;
      return std::nullopt;
    }
    return Json::parse(boost::beast::buffers_to_string(buffer.data()), nullptr, false);
  }

  // The next frame whose "type" is `type`, skipping others.
  std::optional<Json> next_of(const std::string& type,
                              std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      auto frame = next(left);
      if (!frame)
        return std::nullopt;
      if (frame->is_object() && frame->value("type", "") == type)
        return frame;
    }
    return std::nullopt;
  }

  bool closed() const { return closed_; }
  bool timed_out() const { return timed_out_; }
  boost::beast::websocket::close_reason close_reason() const { return ws_.reason(); }
  const boost::beast::error_code& last_error() const { return last_error_; }

  std::string error;

 private:
  boost::asio::io_context io_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_;
  bool closed_ = false;
  bool timed_out_ = false;
  boost::beast::error_code last_error_;
};

}  // namespace outlet::testing
