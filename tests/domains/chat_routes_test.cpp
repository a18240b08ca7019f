// The chat's routes end to end over loopback: tokens and roles, each bad input,
// moderation and events through the API, and WebSocket clients that receive the
// chat and (with an admin token) send into it.
#include "domains/chat/chat_routes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "http/server.h"
#include "support/http_client.h"
#include "support/test_support.h"
#include "support/websocket_client.h"

namespace outlet::chat {
namespace {

namespace fs = std::filesystem;
using outlet::testing::fetch;
using outlet::testing::Reply;
using outlet::testing::WebSocketClient;
using ::testing::HasSubstr;

class ChatRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path plugin = dir_.path() / "plugins" / "bot";
    fs::create_directories(plugin);
    std::ofstream(plugin / "plugin.json")
        << Json{{"id", "bot"},
                {"name", "Bot"},
                {"version", "1.0.0"},
                {"kind", "bot-module"},
                {"entrypoint", "plugin.lua"},
                {"permissions", {"chat.send"}},
                {"triggers", {{{"type", "command"}, {"command", "ping"}}}}}
               .dump();
    std::ofstream(plugin / "plugin.lua") << R"lua(
return {
  on_chat_trigger = function(req) return { action = "send_message", message = "pong" } end,
  filter_chat_message = function(m)
    if m.body == "drop me" then return outlet.filter.drop("asked to") end
  end,
}
)lua";
    host_ = std::move(Host::create({})).value();
    ASSERT_TRUE(domain_.declare(*host_).ok());
    room_ = std::move(ChatRoom::open(*host_, domain_, {})).value();
    ASSERT_TRUE(host_->discover((dir_.path() / "plugins").string()).ok());
    ASSERT_TRUE(host_->approve("bot").ok());
    ASSERT_TRUE(host_->enable("bot").ok());
    server_ = std::move(http::Server::open(*host_, {})).value();
    admin_ = *server_->first_admin_token();
    reader_ = server_->tokens().issue(http::Role::kRead, "reader").value().secret;
    routes_ = std::make_shared<ChatRoutes>(*room_, server_->tokens());
    routes_->add_to(server_->router());
    ASSERT_TRUE(
        server_->start({.address = "127.0.0.1", .port = 0, .max_body_bytes = 64 << 10}).ok());
  }
  void TearDown() override {
    server_->shutdown(std::chrono::milliseconds(2000));
    routes_->wait_idle();
    room_->stop();
    server_.reset();
    routes_.reset();
    room_.reset();
    host_.reset();
  }

  std::map<std::string, std::string> bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}};
  }
  Reply call(const std::string& method, const std::string& target, const Json& body = nullptr,
             const std::string& token = "") {
    return fetch(server_->port(), method, target, bearer(token.empty() ? admin_ : token),
                 body.is_null() ? "" : body.dump());
  }
  Json message(const std::string& user, const std::string& body) {
    return {{"body", body}, {"user", {{"id", user}, {"display_name", user}}}};
  }
  std::string first_detail_path(const Reply& reply) {
    Json json = reply.json();
    return json["error"]["details"].empty()
               ? ""
               : json["error"]["details"][0]["path"].get<std::string>();
  }

  outlet::testing::TempDir dir_{"outlet-chat-routes"};
  ChatDomain domain_;
  std::unique_ptr<Host> host_;
  std::unique_ptr<ChatRoom> room_;
  std::unique_ptr<http::Server> server_;
  std::shared_ptr<ChatRoutes> routes_;
  std::string admin_;
  std::string reader_;
};

TEST_F(ChatRoutesTest, EveryRouteNeedsATokenAndChangesNeedAdmin) {
  for (const char* target : {"/v1/chat/messages", "/v1/chat/users", "/v1/chat/moderation",
                             "/v1/chat/stream", "/v1/chat/triggers"}) {
    EXPECT_EQ(fetch(server_->port(), "GET", target).status, 401) << target;
    EXPECT_EQ(call("GET", target, nullptr, reader_).status, 200) << target;
  }
  EXPECT_EQ(call("POST", "/v1/chat/messages", message("ann", "hi"), reader_).status, 403);
  EXPECT_EQ(
      call("POST", "/v1/chat/moderation", {{"action", "ban"}, {"user_id", "x"}}, reader_).status,
      403);
  EXPECT_EQ(call("POST", "/v1/chat/events", {{"event", "stream.started"}}, reader_).status, 403);
  EXPECT_EQ(call("DELETE", "/v1/chat/messages/abc", nullptr, reader_).status, 403);
  EXPECT_EQ(call("GET", "/v1/chat/messages", nullptr, "olt_wrong").status, 401);
}

TEST_F(ChatRoutesTest, MessagesArePostedFilteredAnsweredAndListed) {
  Reply posted = call("POST", "/v1/chat/messages", message("ann", "hello"));
  ASSERT_EQ(posted.status, 201) << posted.body;
  EXPECT_EQ(posted.json()["accepted"], true);
  EXPECT_EQ(posted.json()["message"]["user"]["id"], "ann");
  Reply dropped = call("POST", "/v1/chat/messages", message("ann", "drop me"));
  EXPECT_EQ(dropped.status, 200);
  EXPECT_EQ(dropped.json()["accepted"], false);
  EXPECT_EQ(dropped.json()["dropped_by"], "bot");
  EXPECT_EQ(dropped.json()["reason"], "asked to");
  ASSERT_EQ(call("POST", "/v1/chat/messages", message("ann", "!ping")).status, 201);

  Reply listed = call("GET", "/v1/chat/messages?limit=2", nullptr, reader_);
  ASSERT_EQ(listed.status, 200);
  Json messages = listed.json()["messages"];
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0]["body"], "!ping");
  EXPECT_EQ(messages[1]["body"], "pong");
  EXPECT_EQ(messages[1]["user"]["id"], "bot:bot");
  EXPECT_EQ(messages[1]["plugin_id"], "bot");

  const std::string id = messages[0]["id"];
  EXPECT_EQ(call("DELETE", "/v1/chat/messages/" + id).status, 204);
  EXPECT_EQ(call("DELETE", "/v1/chat/messages/" + id).status, 404);
  EXPECT_EQ(call("GET", "/v1/chat/messages").json()["messages"].size(), 2u);
  Json triggers = call("GET", "/v1/chat/triggers").json()["triggers"];
  ASSERT_EQ(triggers.size(), 1u);
  EXPECT_EQ(triggers[0]["executed"], 1);
}

TEST_F(ChatRoutesTest, BadInputIsRefusedNamingTheFieldAndNothingIsStored) {
  Reply malformed = fetch(server_->port(), "POST", "/v1/chat/messages", bearer(admin_), "{oops");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(call("POST", "/v1/chat/messages").status, 400);
  Reply no_body = call("POST", "/v1/chat/messages", {{"user", {{"id", "a"}}}});
  EXPECT_EQ(no_body.status, 400);
  EXPECT_EQ(first_detail_path(no_body), "body");
  Reply bad_role = call("POST", "/v1/chat/messages",
                        {{"body", "x"}, {"user", {{"id", "a"}, {"roles", {"god"}}}}});
  EXPECT_EQ(first_detail_path(bad_role), "user.roles[0]");
  Reply big = call("POST", "/v1/chat/messages", message("a", std::string(70 << 10, 'x')));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(first_detail_path(call("GET", "/v1/chat/messages?limit=0")), "limit");
  EXPECT_EQ(first_detail_path(call("GET", "/v1/chat/messages?limit=abc")), "limit");
  EXPECT_EQ(first_detail_path(call("POST", "/v1/chat/moderation", {{"action", "mute"}})), "action");
  EXPECT_EQ(first_detail_path(
                call("POST", "/v1/chat/moderation", {{"action", "timeout"}, {"user_id", "a"}})),
            "duration_seconds");
  EXPECT_EQ(first_detail_path(call("POST", "/v1/chat/moderation",
                                   {{"action", "ban"}, {"user_id", "a"}, {"forever", true}})),
            "forever");
  EXPECT_EQ(first_detail_path(call("POST", "/v1/chat/events", {{"payload", {}}})), "event");
  EXPECT_EQ(first_detail_path(call("POST", "/v1/chat/events", {{"event", "nope"}})), "event");
  EXPECT_TRUE(call("GET", "/v1/chat/messages").json()["messages"].empty());
  EXPECT_TRUE(call("GET", "/v1/chat/moderation").json()["sanctions"].empty());
}

TEST_F(ChatRoutesTest, ModerationThroughTheApi) {
  Reply timeout = call(
      "POST", "/v1/chat/moderation",
      {{"action", "timeout"}, {"user_id", "bob"}, {"duration_seconds", 600}, {"reason", "spam"}});
  ASSERT_EQ(timeout.status, 201) << timeout.body;
  EXPECT_EQ(timeout.json()["sanction"]["action"], "timeout");
  Reply refused = call("POST", "/v1/chat/messages", message("bob", "hi"));
  EXPECT_EQ(refused.status, 403);
  EXPECT_THAT(refused.json()["error"]["message"].get<std::string>(), HasSubstr("timed out"));
  Json listed = call("GET", "/v1/chat/moderation", nullptr, reader_).json()["sanctions"];
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["user_id"], "bob");
  EXPECT_EQ(listed[0]["reason"], "spam");
  EXPECT_EQ(call("DELETE", "/v1/chat/moderation/bob").status, 204);
  EXPECT_EQ(call("DELETE", "/v1/chat/moderation/bob").status, 404);
  EXPECT_EQ(call("POST", "/v1/chat/messages", message("bob", "hi")).status, 201);
}

TEST_F(ChatRoutesTest, StreamAndPresenceEvents) {
  EXPECT_EQ(call("GET", "/v1/chat/stream").json()["live"], false);
  EXPECT_EQ(
      call("POST", "/v1/chat/events", {{"event", "stream.started"}, {"payload", Json::object()}})
          .status,
      202);
  EXPECT_EQ(call("GET", "/v1/chat/stream").json()["live"], true);
  EXPECT_EQ(call("POST", "/v1/chat/events", {{"event", "stream.started"}}).status, 409);
  EXPECT_EQ(call("POST", "/v1/chat/events",
                 {{"event", "chat.user.joined"}, {"payload", {{"user", {{"id", "ann"}}}}}})
                .status,
            202);
  Json users = call("GET", "/v1/chat/users").json();
  ASSERT_EQ(users["users"].size(), 1u);
  EXPECT_EQ(users["users"][0]["present"], true);
}

TEST_F(ChatRoutesTest, WebSocketClientsReceiveTheChatAndAdminsSendIntoIt) {
  WebSocketClient refused(server_->port(), "/v1/chat/ws");
  EXPECT_FALSE(refused.ok());
  Reply plain = call("GET", "/v1/chat/ws", nullptr, reader_);
  EXPECT_EQ(plain.status, 426);

  ASSERT_EQ(call("POST", "/v1/chat/messages", message("ann", "earlier")).status, 201);
  WebSocketClient viewer(server_->port(), "/v1/chat/ws?access_token=" + reader_);
  ASSERT_TRUE(viewer.ok()) << viewer.error;
  auto hello = viewer.next();
  ASSERT_TRUE(hello);
  EXPECT_EQ((*hello)["type"], "hello");
  EXPECT_EQ((*hello)["can_send"], false);
  ASSERT_EQ((*hello)["history"].size(), 1u);
  EXPECT_EQ((*hello)["history"][0]["body"], "earlier");

  WebSocketClient bridge(server_->port(), "/v1/chat/ws", {{"Authorization", "Bearer " + admin_}});
  ASSERT_TRUE(bridge.ok()) << bridge.error;
  ASSERT_TRUE(bridge.next_of("hello"));

  ASSERT_TRUE(
      bridge.send({{"type", "message"}, {"ref", 7}, {"body", "!ping"}, {"user", {{"id", "cat"}}}}));
  auto ack = bridge.next_of("ack");
  ASSERT_TRUE(ack);
  EXPECT_EQ((*ack)["ref"], 7);
  EXPECT_EQ((*ack)["accepted"], true);
  auto seen = viewer.next_of("message");
  ASSERT_TRUE(seen);
  EXPECT_EQ((*seen)["message"]["body"], "!ping");
  auto answer = viewer.next_of("message");
  ASSERT_TRUE(answer);
  EXPECT_EQ((*answer)["message"]["body"], "pong");

  ASSERT_TRUE(viewer.send(
      {{"type", "message"}, {"ref", "r1"}, {"body", "me too"}, {"user", {{"id", "dan"}}}}));
  auto denied = viewer.next_of("error");
  ASSERT_TRUE(denied);
  EXPECT_EQ((*denied)["ref"], "r1");
  EXPECT_EQ((*denied)["error"]["code"], "permission_denied");
  ASSERT_TRUE(viewer.send({{"type", "ping"}, {"ref", 1}}));
  EXPECT_TRUE(viewer.next_of("pong"));
  ASSERT_TRUE(bridge.send({{"type", "message"}, {"body", ""}, {"user", {{"id", "cat"}}}}));
  auto invalid = bridge.next_of("error");
  ASSERT_TRUE(invalid);
  EXPECT_EQ((*invalid)["error"]["details"][0]["path"], "body");

  const std::string id = (*seen)["message"]["id"];
  ASSERT_EQ(call("DELETE", "/v1/chat/messages/" + id).status, 204);
  auto deleted = viewer.next_of("deleted");
  ASSERT_TRUE(deleted);
  EXPECT_EQ((*deleted)["id"], id);
  EXPECT_EQ(call("GET", "/v1/chat/users").json()["clients"], 2);
}

TEST_F(ChatRoutesTest, AnOversizedOrBinaryFrameClosesTheConnection) {
  WebSocketClient client(server_->port(), "/v1/chat/ws", {{"Authorization", "Bearer " + admin_}});
  ASSERT_TRUE(client.ok()) << client.error;
  ASSERT_TRUE(client.next_of("hello"));
  client.send({{"type", "message"}, {"body", std::string(70 << 10, 'x')}});
  EXPECT_FALSE(client.next(std::chrono::seconds(5)));
  EXPECT_EQ(client.close_reason().code, boost::beast::websocket::close_code::too_big);
  // The server keeps serving others.
  WebSocketClient next(server_->port(), "/v1/chat/ws", {{"Authorization", "Bearer " + admin_}});
  ASSERT_TRUE(next.ok());
  EXPECT_TRUE(next.next_of("hello"));
  // Frames are JSON text: a binary one ends the connection with "invalid payload".
  next.send_binary(std::string("\x00\x01\x02", 3));
  EXPECT_FALSE(next.next(std::chrono::seconds(5)));
  EXPECT_EQ(next.close_reason().code, boost::beast::websocket::close_code::bad_payload);
}

TEST_F(ChatRoutesTest, ShutdownClosesWebSocketsAsGoingAway) {
  WebSocketClient client(server_->port(), "/v1/chat/ws?access_token=" + reader_);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client.next_of("hello"));
  // The client answers the close frame while the server waits for it, as a real one does.
  std::thread stopper([this] { server_->shutdown(std::chrono::milliseconds(5000)); });
  EXPECT_FALSE(client.next(std::chrono::seconds(10)));
  stopper.join();
  EXPECT_TRUE(client.closed()) << client.last_error().message();
  EXPECT_EQ(client.close_reason().code, boost::beast::websocket::close_code::going_away);
}

}  // namespace
}  // namespace outlet::chat
