#include "domains/chat/chat_routes.h"

#include <charconv>

#include "core/json_text.h"
#include "core/text.h"
#include "dispatch/worker_pool.h"
#include "http/admin_api.h"

namespace outlet::chat {
namespace {

using http::error_response;
using http::HttpRequest;
using http::HttpResponse;
using http::json_response;
using http::Responder;
using http::RouteMatch;

constexpr size_t kMaxHistoryPage = 1000;

HttpResponse queue_full() {
  HttpResponse response = error_response(503, "unavailable", "the chat's queue is full; retry");
  response.set_header("retry-after", "1");
  return response;
}

Json outcome_json(const PostOutcome& outcome) {
  Json json = {{"accepted", outcome.accepted}, {"message", outcome.message.api_json()}};
  if (!outcome.accepted) {
    json["dropped_by"] = outcome.dropped_by;
    json["reason"] = outcome.reason;
  }
  return json;
}

// A query parameter as a count from 1 to `max`; absent gives `fallback`.
Result<size_t> count_param(const HttpRequest& request, const char* name, size_t fallback,
                           size_t max) {
  auto pairs = http::parse_query(request.query);
  if (!pairs.ok())
    return pairs.error();
  for (const auto& [key, value] : *pairs) {
    if (key != name)
      continue;
    size_t n = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (ec != std::errc() || end != value.data() + value.size() || n < 1 || n > max) {
      return Error(ErrorCode::kInvalidArgument,
                   std::string("query parameter ") + name + " is invalid",
                   {{name, "must be a whole number from 1 to " + std::to_string(max)}});
    }
    return n;
  }
  return fallback;
}

}  // namespace

// One WebSocket client. Frames out: the room's broadcasts, a hello with recent
// history, and answers to what the client sent. Frames in: {type: "ping"} and, with
// an admin token, {type: "message", body, user, ref?} (ref comes back in the ack).
class ChatRoutes::Client : public std::enable_shared_from_this<Client> {
 public:
  Client(std::weak_ptr<ChatRoutes> routes, ChatRoom& room, bool can_send)
      : routes_(std::move(routes)), room_(room), can_send_(can_send) {}

  void opened(std::shared_ptr<http::StreamSink> sink) {
    {
      std::lock_guard lock(mutex_);
      sink_ = std::move(sink);
    }
    auto routes = routes_.lock();
    // On the chat's queue, so no post lands between the history and the subscription.
    if (!routes || !routes->enqueue([self = shared_from_this()] { self->greet(); }))
      close();
  }

  void received(const std::string& text) {
    auto frame = parse_json_text(text, "frame");
    if (!frame.ok() || !frame->is_object())
      return reply_error(Json(), Error(ErrorCode::kInvalidArgument, "a frame must be a JSON object",
                                       {{"frame", "must be a JSON object with a \"type\""}}));
    const Json ref = frame->value("ref", Json());
    const Json& type = frame->value("type", Json());
    if (type == "ping")
      return send({{"type", "pong"}, {"ref", ref}});
    if (type != "message") {
      return reply_error(
          ref, Error(ErrorCode::kInvalidArgument, "unknown frame type",
                     {{"type", "must be \"message\" or \"ping\", got " + dump_short(type)}}));
    }
    if (!can_send_) {
      return reply_error(
          ref, Error(ErrorCode::kPermissionDenied, "sending messages needs an admin token",
                     {{"authorization", "role is \"read\""}}));
    }
    Json message = *frame;
    message.erase("type");
    message.erase("ref");
    auto routes = routes_.lock();
    auto self = shared_from_this();
    if (!routes || !routes->enqueue([self, message = std::move(message), ref] {
          auto outcome = self->room_.post(message);
          if (!outcome.ok())
            return self->reply_error(ref, outcome.error());
          Json ack = outcome_json(*outcome);
          ack["type"] = "ack";
          ack["ref"] = ref;
          self->send(ack);
        })) {
      reply_error(ref, Error(ErrorCode::kUnavailable, "the chat's queue is full; retry"));
    }
  }

  void closed() {
    uint64_t listener;
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      listener = listener_;
      listener_ = 0;
      sink_.reset();
    }
    if (listener != 0)
      room_.unsubscribe(listener);
  }

 private:
  void greet() {
    Json history = Json::array();
    if (auto recent = room_.history(kHelloHistory); recent.ok()) {
      for (const ChatMessage& message : *recent)
        history.push_back(message.api_json());
    }
    send({{"type", "hello"},
          {"live", room_.live()},
          {"can_send", can_send_},
          {"history", std::move(history)}});
    std::weak_ptr<Client> weak = shared_from_this();
    const uint64_t id = room_.subscribe([weak](const Json& frame) {
      if (auto self = weak.lock())
        self->send(frame);
    });
    std::lock_guard lock(mutex_);
    if (closed_) {
      room_.unsubscribe(id);
      return;
    }
    listener_ = id;
  }

  void send(const Json& frame) {
    std::shared_ptr<http::StreamSink> sink;
    {
      std::lock_guard lock(mutex_);
      sink = sink_;
    }
    if (sink)
      sink->push(dump_json(frame));
  }

  void reply_error(const Json& ref, const Error& error) {
    send({{"type", "error"}, {"ref", ref}, {"error", http::error_body(error)}});
  }

  void close() {
    std::shared_ptr<http::StreamSink> sink;
    {
      std::lock_guard lock(mutex_);
      sink = sink_;
    }
    if (sink)
      sink->close();
  }

  std::weak_ptr<ChatRoutes> routes_;
  ChatRoom& room_;
  const bool can_send_;
  std::mutex mutex_;
  std::shared_ptr<http::StreamSink> sink_;  // guarded by mutex_
  uint64_t listener_ = 0;                   // guarded by mutex_
  bool closed_ = false;                     // guarded by mutex_
};

ChatRoutes::ChatRoutes(ChatRoom& room, const http::TokenStore& tokens)
    : room_(room), tokens_(tokens), pool_(std::make_unique<WorkerPool>(1)) {
  queue_ = pool_->make_mailbox(kMaxQueued);
}

ChatRoutes::~ChatRoutes() = default;

bool ChatRoutes::enqueue(std::function<void()> task) {
  return queue_->post(std::move(task));
}

void ChatRoutes::wait_idle() {
  pool_->wait_idle();
}

void ChatRoutes::add_to(http::Router& router) {
  std::weak_ptr<ChatRoutes> weak = shared_from_this();
  // Every handler checks the token first, then runs with the routes alive.
  auto route = [&router, weak](const char* method, std::string_view pattern, auto body) {
    router.add(
        method, pattern,
        [weak, body](HttpRequest&& request, const RouteMatch& match, const Responder& respond) {
          auto self = weak.lock();
          if (!self)
            return respond(error_response(503, "unavailable", "the chat has stopped"));
          if (auto denied = http::check_token(self->tokens_, request))
            return respond(std::move(*denied));
          body(*self, std::move(request), match, respond);
        });
  };
  // Reads are quick and answered on the I/O thread.
  route("GET", "/v1/chat/messages",
        [](ChatRoutes& self, HttpRequest&& request, const RouteMatch&, const Responder& respond) {
          auto limit = count_param(request, "limit", 50, kMaxHistoryPage);
          if (!limit.ok())
            return respond(error_response(limit.error()));
          auto recent = self.room_.history(*limit);
          if (!recent.ok())
            return respond(error_response(recent.error()));
          Json messages = Json::array();
          for (const ChatMessage& message : *recent)
            messages.push_back(message.api_json());
          respond(json_response(200, {{"messages", std::move(messages)}}));
        });
  route("POST", "/v1/chat/messages",
        [](ChatRoutes& self, HttpRequest&& request, const RouteMatch&, const Responder& respond) {
          self.post_message(std::move(request), respond);
        });
  route("DELETE", "/v1/chat/messages/{id}",
        [](ChatRoutes& self, HttpRequest&&, const RouteMatch& match, const Responder& respond) {
          const std::string& id = match.param("id");
          if (!self.enqueue([&room = self.room_, id, respond] {
                auto removed = room.delete_message(id, "operator");
                if (!removed.ok())
                  return respond(error_response(removed.error()));
                if (!*removed) {
                  return respond(
                      error_response(404, "not_found", "no message \"" + id + "\" in the history"));
                }
                respond(HttpResponse{.status = 204});
              }))
            respond(queue_full());
        });
  route("GET", "/v1/chat/users",
        [](ChatRoutes& self, HttpRequest&&, const RouteMatch&, const Responder& respond) {
          respond(json_response(
              200, {{"users", self.room_.users()}, {"clients", self.room_.clients()}}));
        });
  route("GET", "/v1/chat/moderation",
        [](ChatRoutes& self, HttpRequest&&, const RouteMatch&, const Responder& respond) {
          Json list = Json::array();
          for (const Sanction& sanction : self.room_.sanctions())
            list.push_back(sanction.api_json());
          respond(json_response(200, {{"sanctions", std::move(list)}}));
        });
  route("POST", "/v1/chat/moderation",
        [](ChatRoutes& self, HttpRequest&& request, const RouteMatch&, const Responder& respond) {
          auto body = http::json_body(request);
          if (!body.ok())
            return respond(error_response(body.error()));
          if (!self.enqueue([&room = self.room_, body = std::move(*body), respond] {
                respond(ChatRoutes::sanction(room, body));
              }))
            respond(queue_full());
        });
  route("DELETE", "/v1/chat/moderation/{user_id}",
        [](ChatRoutes& self, HttpRequest&&, const RouteMatch& match, const Responder& respond) {
          const std::string& user = match.param("user_id");
          if (!self.enqueue([&room = self.room_, user, respond] {
                auto lifted = room.lift(user, "operator");
                if (!lifted.ok())
                  return respond(error_response(lifted.error()));
                if (!*lifted) {
                  return respond(error_response(404, "not_found",
                                                "user \"" + user + "\" has no sanction in force"));
                }
                respond(HttpResponse{.status = 204});
              }))
            respond(queue_full());
        });
  route("POST", "/v1/chat/events",
        [](ChatRoutes& self, HttpRequest&& request, const RouteMatch&, const Responder& respond) {
          auto body = http::json_body(request);
          if (!body.ok())
            return respond(error_response(body.error()));
          if (!body->is_object() || !body->contains("event") || !(*body)["event"].is_string()) {
            return respond(error_response(400, "invalid_argument", "the body needs an event name",
                                          {{"event", "must be a string"}}));
          }
          std::string event = (*body)["event"].get<std::string>();
          Json payload = body->value("payload", Json());
          if (payload.is_null())
            payload = Json::object();
          if (!self.enqueue([&room = self.room_, event, payload, respond] {
                if (Status s = room.post_event(event, payload); !s.ok())
                  return respond(error_response(s.error()));
                respond(json_response(202, {{"event", event}}));
              }))
            respond(queue_full());
        });
  route("GET", "/v1/chat/stream",
        [](ChatRoutes& self, HttpRequest&&, const RouteMatch&, const Responder& respond) {
          respond(json_response(200, {{"live", self.room_.live()}}));
        });
  route("GET", "/v1/chat/triggers",
        [](ChatRoutes& self, HttpRequest&&, const RouteMatch&, const Responder& respond) {
          respond(json_response(200, self.room_.triggers().describe()));
        });
  // Browsers cannot set headers on a WebSocket, so this route also takes the token
  // as ?access_token=; the check is the same.
  router.add("GET", "/v1/chat/ws",
             [weak](HttpRequest&& request, const RouteMatch&, const Responder& respond) {
               auto self = weak.lock();
               if (!self)
                 return respond(error_response(503, "unavailable", "the chat has stopped"));
               self->open_socket(std::move(request), respond);
             });
}

HttpResponse ChatRoutes::sanction(ChatRoom& room, const Json& body) {
  if (!body.is_object()) {
    return error_response(400, "invalid_argument", "the body must be an object",
                          {{"body", "must be {action, user_id, duration_seconds?, reason?}"}});
  }
  for (const auto& [name, value] : body.items()) {
    if (name != "action" && name != "user_id" && name != "duration_seconds" && name != "reason") {
      return error_response(400, "invalid_argument", "unknown field",
                            {{name,
                              "is not a field (expected action, user_id, "
                              "duration_seconds or reason)"}});
    }
  }
  const Json& action = body.value("action", Json());
  if (action != "timeout" && action != "ban") {
    return error_response(
        400, "invalid_argument", "unknown moderation action",
        {{"action", "must be \"timeout\" or \"ban\", got " + dump_short(action)}});
  }
  const Json& user = body.value("user_id", Json());
  if (!user.is_string())
    return error_response(400, "invalid_argument", "user_id is required",
                          {{"user_id", "must be a string"}});
  int64_t seconds = 0;
  if (action == "timeout") {
    const Json& duration = body.value("duration_seconds", Json());
    if (!duration.is_number_integer()) {
      return error_response(400, "invalid_argument", "a timeout needs a duration",
                            {{"duration_seconds", "must be whole seconds from 1 to 1209600"}});
    }
    seconds = duration.get<int64_t>();
  }
  const Json& reason = body.value("reason", Json(""));
  if (!reason.is_string())
    return error_response(400, "invalid_argument", "reason must be text",
                          {{"reason", "must be a string"}});
  auto sanctioned = room.sanction(user.get<std::string>(),
                                  action == "ban" ? SanctionKind::kBan : SanctionKind::kTimeout,
                                  seconds, reason.get<std::string>(), "operator");
  if (!sanctioned.ok())
    return error_response(sanctioned.error());
  return json_response(201, {{"sanction", sanctioned->api_json()}});
}

void ChatRoutes::post_message(HttpRequest&& request, const Responder& respond) {
  auto body = http::json_body(request);
  if (!body.ok())
    return respond(error_response(body.error()));
  if (!enqueue([&room = room_, body = std::move(*body), respond] {
        auto outcome = room.post(body);
        if (!outcome.ok())
          return respond(error_response(outcome.error()));
        respond(json_response(outcome->accepted ? 201 : 200, outcome_json(*outcome)));
      }))
    respond(queue_full());
}

void ChatRoutes::open_socket(HttpRequest&& request, const Responder& respond) {
  if (request.header("authorization") == nullptr) {
    auto pairs = http::parse_query(request.query);
    if (pairs.ok()) {
      for (const auto& [key, value] : *pairs) {
        if (key == "access_token")
          request.headers.emplace_back("authorization", "Bearer " + value);
      }
    }
  }
  if (auto denied = http::check_token(tokens_, request))
    return respond(std::move(*denied));
  if (!request.websocket_upgrade) {
    HttpResponse response =
        error_response(426, "upgrade_required", "/v1/chat/ws speaks WebSocket only");
    response.set_header("upgrade", "websocket");
    return respond(std::move(response));
  }
  auto token = http::bearer_token(tokens_, request);
  auto client =
      std::make_shared<Client>(weak_from_this(), room_, token && token->role == http::Role::kAdmin);
  HttpResponse response;
  response.websocket = std::make_shared<http::WebSocketHandlers>();
  response.websocket->on_open = [client](std::shared_ptr<http::StreamSink> sink) {
    client->opened(std::move(sink));
  };
  response.websocket->on_message = [client](const std::string& text) { client->received(text); };
  response.websocket->on_closed = [client] { client->closed(); };
  respond(std::move(response));
}

}  // namespace outlet::chat
