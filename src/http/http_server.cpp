#include "http/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "outlet/host.h"

namespace outlet::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;

const std::string kServerHeader = std::string("outlet/") + kOutletVersion;
constexpr size_t kMaxLingerBytes = 64 << 20;
// What a stream's slow reader may have waiting before new data is dropped.
constexpr size_t kMaxQueuedStreamBytes = 1 << 20;

class Session;

}  // namespace

// Shared by the server object and every session. Sessions point back at it with a raw
// pointer: they never outlive it, because the io_context (declared after everything a
// session uses, so destroyed before it) destroys every handler, and with them every
// session, before the rest goes. The acceptor and timer come after the io_context:
// I/O objects go before their context.
struct HttpServer::State {
  ServerOptions options;
  Handler handler;
  uint16_t bound_port = 0;

  std::atomic<bool> draining{false};
  std::atomic<size_t> in_flight{0};

  // Responders run on any thread; once `open` is false (shutdown finished) they drop
  // their answer instead of touching a stopping io_context.
  struct Gate {
    std::mutex mutex;
    bool open = true;
  };
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();

  std::mutex sessions_mutex;
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;  // guarded by sessions_mutex
  // Notified when in_flight drops or a session ends, with sessions_mutex.
  std::condition_variable idle;

  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};
  asio::io_context io;
  // Keeps the I/O threads running while no socket operation is pending: a session
  // waiting for its handler has none, and after shutdown closes the acceptor that
  // may be all there is.
  asio::executor_work_guard<asio::io_context::executor_type> keep_running{io.get_executor()};
  // The acceptor and its retry timer are used only on this strand (accepting and
  // shutdown's close run on different threads otherwise).
  asio::strand<asio::io_context::executor_type> accept_strand{asio::make_strand(io)};
  tcp::acceptor acceptor{io};
  asio::steady_timer accept_retry{io};

  void finished_one() {
    std::lock_guard lock(sessions_mutex);
    in_flight.fetch_sub(1);
    idle.notify_all();
  }
};

namespace {

bool is_head(const bhttp::request<bhttp::string_body>& request) {
  return request.method() == bhttp::verb::head;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HttpServer::State& server)
      : stream_(std::move(socket)), server_(server) {
    beast::error_code ec;
    const tcp::endpoint peer = stream_.socket().remote_endpoint(ec);
    if (!ec)
      remote_ = peer.address().to_string();
  }

  ~Session() {
    std::lock_guard lock(server_.sessions_mutex);
    server_.sessions.erase(this);
    server_.idle.notify_all();
  }

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
  }

  // On shutdown: a connection between requests closes now; one with a request in
  // flight closes after its answer is written.
  void drain() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      if (self->sink_)
        self->end_stream(websocket::close_code::going_away);
      else if (!self->busy_)
        self->close();
    });
  }

  // After the I/O threads stopped (single-threaded): a handler that never answered
  // would keep its session forever, and a stream's owner must hear that it ended.
  void abandon() {
    self_while_busy_.reset();
    // Its peer must not wait for a server that has stopped (a WebSocket client that
    // never answered our close frame, a handler that never answered).
    beast::error_code ignored;
    stream_.socket().close(ignored);
    if (sink_ && !stream_ended_) {
      stream_ended_ = true;
      sink_->mark_closed();
      if (on_stream_closed_) {
        auto closed = std::move(on_stream_closed_);
        closed();
      }
    }
  }

 private:
  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_.options.max_header_bytes));
    parser_->body_limit(server_.options.max_body_bytes);
    stream_.expires_after(server_.options.idle_timeout);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == beast::error::timeout || ec == asio::error::eof ||
        ec == asio::error::connection_reset) {
      return close();
    }
    begin();
    // Beast compares a declared Content-Length with the body limit while parsing the head.
    if (ec == bhttp::error::body_limit)
      return reject_too_large();
    if (ec == bhttp::error::header_limit) {
      return reject(431, "request_header_too_large",
                    "the request head is larger than " +
                        std::to_string(server_.options.max_header_bytes) + " bytes");
    }
    if (ec) {
      return reject(400, "bad_request", "malformed HTTP request: " + ec.message());
    }
    const auto& request = parser_->get();
    if (auto length = parser_->content_length();
        length && *length > server_.options.max_body_bytes) {
      return reject_too_large();
    }
    auto expect = request.find(bhttp::field::expect);
    if (expect != request.end() && beast::iequals(expect->value(), "100-continue")) {
      auto interim = std::make_shared<bhttp::response<bhttp::empty_body>>(bhttp::status::continue_,
                                                                          request.version());
      bhttp::async_write(stream_, *interim,
                         [self = shared_from_this(), interim](beast::error_code write_ec, size_t) {
                           if (write_ec)
                             return self->finish_and_close();
                           self->read_body();
                         });
      return;
    }
    read_body();
  }

  void read_body() {
    stream_.expires_after(server_.options.read_timeout);
    bhttp::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_body(ec); });
  }

  void on_body(beast::error_code ec) {
    if (ec == bhttp::error::body_limit)
      return reject_too_large();
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted)
      return finish_and_close();
    if (ec)
      return reject(400, "bad_request", "malformed HTTP request body: " + ec.message());
    handle(parser_->release());
  }

  void handle(bhttp::request<bhttp::string_body> message) {
    keep_alive_ = message.keep_alive();
    head_ = is_head(message);
    version_ = message.version();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    const size_t question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos)
      request.query = request.target.substr(question + 1);
    if (websocket::is_upgrade(message)) {
      request.websocket_upgrade = true;
      upgrade_ = message;  // the handshake answers it, if the handler accepts
    }
    for (const auto& field : message) {
      std::string name(field.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      request.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    request.body = std::move(message.body());
    request.remote_address = remote_;
    request.version = message.version();
    // The handler's own limits bound how long it takes; the socket waits for it.
    stream_.expires_never();

    std::weak_ptr<Session> weak = shared_from_this();
    std::shared_ptr<HttpServer::State::Gate> gate = server_.gate;
    auto answered = std::make_shared<std::atomic<bool>>(false);
    Responder respond = [weak, gate, answered](HttpResponse response) {
      if (answered->exchange(true))
        return;
      std::lock_guard lock(gate->mutex);
      if (!gate->open)
        return;
      if (auto self = weak.lock()) {
        asio::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
          self->write(std::move(response));
        });
      }
    };
    try {
      server_.handler(std::move(request), respond);
    } catch (const std::exception& e) {
      respond(error_response(500, "internal", std::string("handler failed: ") + e.what()));
    }
  }

  // --- Streamed responses (Server-Sent Events) ---

  void start_stream(HttpResponse response) {
    auto message = std::make_shared<bhttp::response<bhttp::empty_body>>();
    fill(*message, response, /*keep_alive=*/false);
    auto serializer = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*message);
    on_stream_closed_ = std::move(response.on_stream_closed);
    stream_.expires_after(server_.options.read_timeout);
    bhttp::async_write_header(
        stream_, *serializer,
        [self = shared_from_this(), message, serializer,
         opened = std::move(response.on_stream_open)](beast::error_code ec, size_t) {
          // A stream is not a request in flight: shutdown does not wait for it.
          self->finish();
          self->sink_ = std::make_shared<SessionSink>(self, self->server_.gate);
          if (ec)
            return self->end_stream();
          self->watch_for_disconnect();
          opened(self->sink_);
        });
  }

  // --- WebSocket ---

  void start_websocket(std::shared_ptr<WebSocketHandlers> handlers) {
    handlers_ = std::move(handlers);
    on_stream_closed_ = handlers_->on_closed;
    // The WebSocket stream keeps its own timeouts: a handshake deadline, then pings
    // when idle, and a peer that answers none is dropped.
    stream_.expires_never();
    ws_.emplace(stream_);
    ws_->set_option(
        websocket::stream_base::timeout{std::chrono::seconds(30), std::chrono::seconds(60), true});
    ws_->set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
      response.set(bhttp::field::server, kServerHeader);
    }));
    ws_->read_message_max(handlers_->max_message_bytes);
    ws_->async_accept(*upgrade_, [self = shared_from_this()](beast::error_code ec) {
      self->upgrade_.reset();
      // A connection is not a request in flight: shutdown does not wait for it.
      self->finish();
      self->sink_ = std::make_shared<SessionSink>(self, self->server_.gate);
      if (ec)
        return self->end_stream(websocket::close_code::protocol_error);
      self->read_frame();
      if (self->handlers_->on_open)
        self->handlers_->on_open(self->sink_);
    });
  }

  void read_frame() {
    ws_->async_read(ws_buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      // Closed by the peer, a timeout, a message over the limit (Beast has sent 1009):
      // the socket is done with either way.
      if (ec)
        return self->end_stream(websocket::close_code::none);
      if (!self->ws_->got_text())
        return self->end_stream(websocket::close_code::bad_payload);
      std::string text = beast::buffers_to_string(self->ws_buffer_.data());
      self->ws_buffer_.consume(self->ws_buffer_.size());
      if (self->handlers_->on_message)
        self->handlers_->on_message(std::move(text));
      if (!self->stream_ended_)
        self->read_frame();
    });
  }

  // The client sends nothing on a stream; a read that ends means it has gone.
  void watch_for_disconnect() {
    stream_.expires_never();
    stream_.async_read_some(asio::buffer(disconnect_probe_),
                            [self = shared_from_this()](beast::error_code ec, size_t) {
                              if (ec)
                                return self->end_stream();
                              self->watch_for_disconnect();
                            });
  }

  // Writes the sink's queue, one chunk at a time, on the strand.
  void write_next() {
    if (stream_ended_)
      return;
    auto chunk = sink_->next();
    if (!chunk)
      return;
    // A client that stops reading cannot hold a write forever.
    stream_.expires_after(server_.options.read_timeout);
    auto bytes = std::make_shared<std::string>(std::move(*chunk));
    auto done = [self = shared_from_this(), bytes](beast::error_code ec, size_t) {
      self->ws_writing_ = false;
      if (self->stream_ended_)
        return self->close_after_write(ec);  // end_stream waited for this write
      if (ec)
        return self->end_stream(websocket::close_code::none);
      self->sink_->written(bytes->size());
      self->write_next();
    };
    if (ws_) {
      ws_writing_ = true;
      ws_->text(true);
      ws_->async_write(asio::buffer(*bytes), std::move(done));
      return;
    }
    asio::async_write(stream_, asio::buffer(*bytes), std::move(done));
  }

  // Ends a stream or WebSocket connection; `code` is the close frame a WebSocket
  // peer gets (none: the connection has already failed or been closed).
  void end_stream(websocket::close_code code = websocket::close_code::none) {
    if (stream_ended_)
      return;
    stream_ended_ = true;
    if (sink_)
      sink_->mark_closed();
    pending_close_ = code;
    // A WebSocket allows one write at a time, a close frame included: with one in
    // flight, its completion closes (close_after_write).
    if (!ws_writing_)
      close_after_write(beast::error_code());
    if (on_stream_closed_) {
      auto closed = std::move(on_stream_closed_);
      closed();
    }
  }

  void close_after_write(beast::error_code ec) {
    if (!ec && ws_ && ws_->is_open() && pending_close_ != websocket::close_code::none) {
      ws_->async_close(pending_close_,
                       [self = shared_from_this()](beast::error_code) { self->close(); });
      return;
    }
    close();
  }

  // The StreamSink a streamed response's owner pushes into, from any thread.
  class SessionSink : public StreamSink {
   public:
    // No executor is kept: the sink may outlive the server (its owner holds it), and
    // reaches the session only through the gate that closes when the server stops.
    SessionSink(const std::shared_ptr<Session>& session,
                std::shared_ptr<HttpServer::State::Gate> gate)
        : session_(session), gate_(std::move(gate)) {}

    bool push(std::string bytes) override {
      std::lock_guard lock(mutex_);
      if (!open_ || queued_bytes_ + bytes.size() > kMaxQueuedStreamBytes)
        return false;
      queued_bytes_ += bytes.size();
      queue_.push_back(std::move(bytes));
      if (!writing_) {
        writing_ = true;
        on_strand([](Session& session) { session.write_next(); });
      }
      return true;
    }
    void close() override {
      on_strand([](Session& session) { session.end_stream(websocket::close_code::normal); });
    }
    bool is_open() const override {
      std::lock_guard lock(mutex_);
      return open_;
    }

    std::optional<std::string> next() {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) {
        writing_ = false;
        return std::nullopt;
      }
      std::string chunk = std::move(queue_.front());
      queue_.pop_front();
      return chunk;
    }
    void written(size_t bytes) {
      std::lock_guard lock(mutex_);
      queued_bytes_ -= std::min(bytes, queued_bytes_);
    }
    void mark_closed() {
      std::lock_guard lock(mutex_);
      open_ = false;
      queue_.clear();
    }

   private:
    void on_strand(void (*action)(Session&)) {
      std::lock_guard gate_lock(gate_->mutex);
      if (!gate_->open)
        return;
      if (auto session = session_.lock()) {
        asio::post(session->stream_.get_executor(), [session, action] { action(*session); });
      }
    }

    std::weak_ptr<Session> session_;
    std::shared_ptr<HttpServer::State::Gate> gate_;
    mutable std::mutex mutex_;
    std::deque<std::string> queue_;  // guarded by mutex_
    size_t queued_bytes_ = 0;        // guarded by mutex_; counts chunks until written
    bool writing_ = false;           // guarded by mutex_: a write_next is scheduled or running
    bool open_ = true;               // guarded by mutex_
  };

  void begin() {
    busy_ = true;
    self_while_busy_ = shared_from_this();
    server_.in_flight.fetch_add(1);
  }

  void reject_too_large() {
    reject(413, "payload_too_large",
           "the request body is larger than " + std::to_string(server_.options.max_body_bytes) +
               " bytes");
  }

  // An answer the server gives itself; the connection closes after it, since the rest
  // of what the client sent cannot be trusted to start a new request.
  void reject(int status, std::string_view code, const std::string& message) {
    keep_alive_ = false;
    linger_ = true;
    head_ = false;
    version_ = parser_ ? parser_->get().version() : 11;
    if (version_ != 10 && version_ != 11)
      version_ = 11;
    write(error_response(status, code, message));
  }

  void write(HttpResponse response) {
    if (response.websocket) {
      if (upgrade_)
        return start_websocket(std::move(response.websocket));
      response = error_response(426, "upgrade_required", "this route speaks WebSocket only");
      response.set_header("upgrade", "websocket");
    }
    upgrade_.reset();
    if (response.on_stream_open && !head_)
      return start_stream(std::move(response));
    const bool keep_alive = keep_alive_ && !server_.draining.load();
    if (head_) {
      auto message = std::make_shared<bhttp::response<bhttp::empty_body>>();
      fill(*message, response, keep_alive);
      message->content_length(response.body.size());
      send(message);
    } else {
      auto message = std::make_shared<bhttp::response<bhttp::string_body>>();
      fill(*message, response, keep_alive);
      message->body() = std::move(response.body);
      message->prepare_payload();
      send(message);
    }
  }

  template <typename Message>
  void fill(Message& message, const HttpResponse& response, bool keep_alive) {
    message.version(version_);
    message.result(static_cast<unsigned>(response.status));
    message.set(bhttp::field::server, kServerHeader);
    for (const auto& [name, value] : response.headers)
      message.insert(name, value);
    message.keep_alive(keep_alive);
  }

  template <typename Message>
  void send(const std::shared_ptr<Message>& message) {
    stream_.expires_after(server_.options.read_timeout);
    bhttp::async_write(stream_, *message,
                       [self = shared_from_this(), message](beast::error_code ec, size_t) {
                         self->on_written(ec, message->need_eof());
                       });
  }

  void on_written(beast::error_code ec, bool close_after) {
    const bool closing = ec || close_after || server_.draining.load();
    finish();
    if (closing && linger_ && !ec)
      return linger();
    if (closing)
      return close();
    read_header();
  }

  // After refusing a request whose body is still arriving, closing at once would make
  // the kernel answer the unread bytes with a reset, which can destroy our answer
  // before the client reads it. So: stop sending, read and drop what comes (bounded
  // in time and bytes), then close.
  void linger() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.expires_after(std::chrono::seconds(2));
    discard_ = std::make_shared<std::array<char, 16384>>();
    discard_more();
  }

  void discard_more() {
    stream_.async_read_some(asio::buffer(*discard_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->discarded_ += n;
                              if (ec || self->discarded_ > kMaxLingerBytes)
                                return self->close();
                              self->discard_more();
                            });
  }

  void finish() {
    if (!busy_)
      return;
    busy_ = false;
    server_.finished_one();
    self_while_busy_.reset();
  }

  void finish_and_close() {
    finish();
    close();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  HttpServer::State& server_;
  std::string remote_;
  bool keep_alive_ = false;
  bool head_ = false;
  unsigned version_ = 11;
  bool linger_ = false;  // the server refused the request: drain before closing
  std::shared_ptr<std::array<char, 16384>> discard_;
  size_t discarded_ = 0;
  std::shared_ptr<SessionSink> sink_;  // set once the response is a stream
  std::function<void()> on_stream_closed_;
  bool stream_ended_ = false;
  std::array<char, 64> disconnect_probe_{};
  std::optional<bhttp::request<bhttp::string_body>> upgrade_;  // a WebSocket handshake
  std::optional<websocket::stream<beast::tcp_stream&>> ws_;    // after the handshake
  std::shared_ptr<WebSocketHandlers> handlers_;
  beast::flat_buffer ws_buffer_;
  bool ws_writing_ = false;
  websocket::close_code pending_close_ = websocket::close_code::none;
  bool busy_ = false;                         // a request is being handled or answered
  std::shared_ptr<Session> self_while_busy_;  // no async operation holds us meanwhile
};

void accept_next(HttpServer::State& server) {
  server.acceptor.async_accept(
      asio::make_strand(server.io),
      asio::bind_executor(
          server.accept_strand, [&server](beast::error_code ec, tcp::socket socket) {
            if (ec == asio::error::operation_aborted || !server.acceptor.is_open())
              return;
            if (!ec) {
              std::unique_lock lock(server.sessions_mutex);
              if (server.sessions.size() >= server.options.max_connections) {
                lock.unlock();
                beast::error_code ignored;
                socket.close(ignored);
              } else {
                auto session = std::make_shared<Session>(std::move(socket), server);
                server.sessions.emplace(session.get(), session);
                lock.unlock();
                session->start();
              }
              return accept_next(server);
            }
            // Out of file descriptors (or a like failure): retrying at once would fail at
            // once, forever, at full CPU. Wait a little; closing connections frees some.
            server.accept_retry.expires_after(std::chrono::milliseconds(50));
            server.accept_retry.async_wait(
                asio::bind_executor(server.accept_strand, [&server](beast::error_code wait_ec) {
                  if (!wait_ec && server.acceptor.is_open())
                    accept_next(server);
                }));
          }));
}

}  // namespace

HttpServer::HttpServer(std::shared_ptr<State> state) : state_(std::move(state)) {}

Result<std::unique_ptr<HttpServer>> HttpServer::start(ServerOptions options, Handler handler) {
  if (options.io_threads == 0)
    return Error(ErrorCode::kInvalidArgument, "io_threads must be at least 1");
  auto state = std::make_shared<State>();
  state->options = std::move(options);
  state->handler = std::move(handler);
  beast::error_code ec;
  const auto address = asio::ip::make_address(state->options.address, ec);
  if (ec) {
    return Error(ErrorCode::kInvalidArgument, "cannot listen",
                 {{"listen", "'" + state->options.address + "' is not an IP address"}});
  }
  const tcp::endpoint endpoint(address, state->options.port);
  const std::string where = state->options.address + ":" + std::to_string(state->options.port);
  if (state->acceptor.open(endpoint.protocol(), ec);
      !ec && (state->acceptor.set_option(asio::socket_base::reuse_address(true), ec), !ec) &&
      (state->acceptor.bind(endpoint, ec), !ec)) {
    state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec)
    return Error(ErrorCode::kUnavailable, "cannot listen on " + where + ": " + ec.message());
  state->bound_port = state->acceptor.local_endpoint().port();
  accept_next(*state);
  for (size_t i = 0; i < state->options.io_threads; ++i)
    state->threads.emplace_back([raw = state.get()] { raw->io.run(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(state)));
}

HttpServer::~HttpServer() {
  shutdown(std::chrono::milliseconds(0));
}

uint16_t HttpServer::port() const {
  return state_->bound_port;
}

const std::string& HttpServer::address() const {
  return state_->options.address;
}

size_t HttpServer::open_connections() const {
  std::lock_guard lock(state_->sessions_mutex);
  return state_->sessions.size();
}

void HttpServer::shutdown(std::chrono::milliseconds grace) {
  State& state = *state_;
  if (state.stopped.exchange(true))
    return;
  state.draining = true;
  asio::post(state.accept_strand, [&state] {
    beast::error_code ignored;
    state.acceptor.close(ignored);
    state.accept_retry.cancel();
  });
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(state.sessions_mutex);
    for (auto& [raw, weak] : state.sessions) {
      if (auto session = weak.lock())
        live.push_back(std::move(session));
    }
  }
  for (auto& session : live)
    session->drain();
  live.clear();
  {
    std::unique_lock lock(state.sessions_mutex);
    // Every connection closes on its own: idle ones and streams at once (on their
    // strand), busy ones after their answer. Waiting for all of them, not just for
    // the answers, lets those closes run before the I/O threads stop.
    state.idle.wait_for(lock, grace, [&state] { return state.sessions.empty(); });
  }
  {
    std::lock_guard lock(state.gate->mutex);
    state.gate->open = false;
  }
  state.keep_running.reset();
  state.io.stop();
  for (std::thread& thread : state.threads)
    thread.join();
  state.threads.clear();
  // Sessions still waiting for a handler hold themselves; let go so the io_context's
  // destruction can reclaim them.
  {
    std::lock_guard lock(state.sessions_mutex);
    for (auto& [raw, weak] : state.sessions) {
      if (auto session = weak.lock())
        live.push_back(std::move(session));
    }
  }
  for (auto& session : live)
    session->abandon();
}

}  // namespace outlet::http
