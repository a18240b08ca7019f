// The chat's routes on the server (docs/http-api.md "Chat"): ingest and history,
// moderation, presence and stream events from the operator, the live trigger set,
// and a WebSocket for chat clients. Every route needs a token; changes need admin.
// Changes run one at a time on the chat's own queue, in arrival order, so an I/O
// thread never waits for a filter chain.
#pragma once

#include <memory>

#include "domains/chat/chat_room.h"
#include "http/router.h"
#include "http/token_store.h"

namespace outlet {
class WorkerPool;
class SerialMailbox;
}  // namespace outlet

namespace outlet::chat {

class ChatRoutes : public std::enable_shared_from_this<ChatRoutes> {
 public:
  // Messages waiting for the chat's queue; beyond this a post is answered 503.
  static constexpr size_t kMaxQueued = 10000;
  static constexpr size_t kHelloHistory = 50;

  // The room and tokens must outlive the routes. Own the routes in a shared_ptr:
  // handlers and WebSocket clients hold them weakly.
  ChatRoutes(ChatRoom& room, const http::TokenStore& tokens);
  ~ChatRoutes();

  void add_to(http::Router& router);
  // Finishes queued work (at shutdown, after the server stopped taking requests).
  void wait_idle();

 private:
  class Client;
  void post_message(http::HttpRequest&& request, const http::Responder& respond);
  void open_socket(http::HttpRequest&& request, const http::Responder& respond);
  static http::HttpResponse sanction(ChatRoom& room, const Json& body);
  // Queues `task` on the chat's queue; false when the queue is full.
  bool enqueue(std::function<void()> task);

  ChatRoom& room_;
  const http::TokenStore& tokens_;
  std::unique_ptr<WorkerPool> pool_;
  std::shared_ptr<SerialMailbox> queue_;
};

}  // namespace outlet::chat
