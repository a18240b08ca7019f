// The /v1 admin API end to end: a real Host with the chat domain, the server on a
// loopback port, and requests over real sockets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "domains/chat/chat_domain.h"
#include "http/server.h"
#include "support/http_client.h"
#include "support/test_support.h"

namespace outlet::http {
namespace {

using outlet::testing::Connection;
using outlet::testing::fetch;
using outlet::testing::Reply;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

Json greeter_manifest() {
  Json manifest = outlet::testing::native_manifest(
      "greeter", {"chat.send", "storage.kv"},
      {{"kind", "bot-module"},
       {"config",
        {{"type", "object"},
         {"properties",
          {{"greeting", {{"type", "string"}, {"default", "Hello"}, {"maxLength", 20}}},
           {"volume", {{"type", "integer"}, {"minimum", 0}, {"maximum", 10}, {"default", 5}}}}},
         {"additionalProperties", false}}}});
  return manifest;
}

std::unique_ptr<NativePlugin> greeter() {
  auto plugin = std::make_unique<NativePlugin>();
  plugin->filter("chat.message.received", [](const Json& payload, PluginContext&) -> Result<Json> {
    return Json{{"action", "pass"}};
    (void)payload;
  });
  return plugin;
}

class AdminApiTest : public ::testing::Test {
 protected:
  void SetUp() override { boot(); }
  void TearDown() override { stop(); }

  void boot() {
    HostOptions options;
    options.data_dir = dir_.path().string();
    host_ = std::move(Host::create(options)).value();
    ASSERT_TRUE(domain_.declare(*host_).ok());
    ASSERT_TRUE(host_->register_native_plugin("greeter", greeter).ok());
    ASSERT_TRUE(host_->add_builtin(greeter_manifest()).ok());
    ASSERT_TRUE(
        host_->register_native_plugin("quiet", [] { return std::make_unique<NativePlugin>(); })
            .ok());
    ASSERT_TRUE(host_
                    ->add_builtin(outlet::testing::native_manifest(
                        "quiet", {}, {{"kind", "widget"}, {"config", widget_config()}}))
                    .ok());
    ASSERT_TRUE(host_->start().ok());
    auto server = Server::open(*host_, {.data_dir = dir_.path().string()});
    ASSERT_TRUE(server.ok()) << server.error().to_string();
    server_ = std::move(server).value();
    if (server_->first_admin_token())
      admin_ = *server_->first_admin_token();
    if (reader_.empty())
      reader_ = server_->tokens().issue(Role::kRead, "reader").value().secret;
    if (extra_routes_)
      extra_routes_(server_->router());
    ASSERT_TRUE(server_->start({.address = "127.0.0.1", .port = 0, .io_threads = 2}).ok());
    port_ = server_->port();
  }

  void stop() {
    if (server_)
      server_->shutdown(std::chrono::milliseconds(1000));
    server_.reset();
    host_.reset();
  }

  static Json widget_config() {
    return {{"type", "object"},
            {"properties", {{"color", {{"type", "string"}, {"default", "#fff"}}}}}};
  }

  std::map<std::string, std::string> as(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }
  Reply get(const std::string& target, const std::string& token) {
    return fetch(port_, "GET", target, as(token));
  }
  Reply send(const std::string& method, const std::string& target, const std::string& body = "",
             const std::string& token = "") {
    return fetch(port_, method, target, as(token.empty() ? admin_ : token), body);
  }

  outlet::testing::TempDir dir_{"outlet-admin-api"};
  chat::ChatDomain domain_;
  std::unique_ptr<Host> host_;
  std::unique_ptr<Server> server_;
  std::function<void(Router&)> extra_routes_;  // a test's own, added before the server starts
  std::string admin_;
  std::string reader_;
  uint16_t port_ = 0;
};

TEST_F(AdminApiTest, EveryRouteRefusesAMissingOrWrongToken) {
  for (const std::string target :
       {"/v1/health", "/v1/plugins", "/v1/plugins/bot_modules", "/v1/plugins/greeter/detail",
        "/v1/plugins/greeter/config", "/v1/events", "/v1/metrics", "/v1/tokens"}) {
    Reply none = fetch(port_, "GET", target);
    EXPECT_EQ(none.status, 401) << target;
    EXPECT_EQ(none.json()["error"]["code"], "unauthenticated") << target;
    EXPECT_THAT(none.header("www-authenticate"), HasSubstr("Bearer")) << target;
    EXPECT_EQ(get(target, "olt_not-a-real-token").status, 401) << target;
    EXPECT_EQ(fetch(port_, "GET", target, {{"Authorization", "Basic " + admin_}}).status, 401)
        << target;
    EXPECT_EQ(get(target, reader_).status, 200) << target;
  }
  for (const std::string target : {"/v1/plugins/greeter/enable", "/v1/plugins/greeter/disable",
                                   "/v1/plugins/greeter/reload", "/v1/tokens"}) {
    EXPECT_EQ(fetch(port_, "POST", target).status, 401) << target;
    Reply read_only = send("POST", target, "{}", reader_);
    EXPECT_EQ(read_only.status, 403) << target;
    EXPECT_EQ(read_only.json()["error"]["code"], "permission_denied") << target;
  }
  EXPECT_EQ(send("PUT", "/v1/plugins/greeter/config", "{}", reader_).status, 403);
  EXPECT_EQ(send("PUT", "/v1/plugins/greeter/grants", "{}", reader_).status, 403);
}

TEST_F(AdminApiTest, ATokenIsStoredOnlyAsAHash) {
  std::ifstream in(dir_.path() / "server.sqlite3", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ifstream wal(dir_.path() / "server.sqlite3-wal", std::ios::binary);
  bytes.append((std::istreambuf_iterator<char>(wal)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(bytes.empty());
  EXPECT_EQ(bytes.find(admin_.substr(4)), std::string::npos);
  EXPECT_EQ(bytes.find(reader_.substr(4)), std::string::npos);
}

TEST_F(AdminApiTest, PluginsAreGroupedByKindWithATotal) {
  Reply reply = get("/v1/plugins", reader_);
  ASSERT_EQ(reply.status, 200);
  Json body = reply.json();
  EXPECT_EQ(body["total"], 2);
  for (const char* group : {"widgets", "bot_modules", "platforms", "events", "automation_nodes"})
    EXPECT_TRUE(body.contains(group)) << group;
  ASSERT_EQ(body["bot_modules"].size(), 1u);
  EXPECT_EQ(body["bot_modules"][0]["id"], "greeter");
  EXPECT_EQ(body["bot_modules"][0]["state"], "validated");
  EXPECT_EQ(body["widgets"][0]["id"], "quiet");

  Reply one = get("/v1/plugins/widgets", reader_);
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.json()["plugin_type"], "widgets");
  EXPECT_EQ(one.json()["total"], 1);

  Reply unknown = get("/v1/plugins/gadgets", reader_);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_THAT(unknown.json()["error"]["details"][0]["rule"].get<std::string>(),
              HasSubstr("bot_modules"));
}

TEST_F(AdminApiTest, GrantsThenEnableLoadsThePluginAndDetailShowsIt) {
  Reply blocked = send("POST", "/v1/plugins/greeter/enable");
  ASSERT_EQ(blocked.status, 200) << blocked.body;
  EXPECT_EQ(blocked.json()["state"], "blocked");
  EXPECT_EQ(blocked.json()["grants"]["missing"], Json({"chat.send", "storage.kv"}));

  Reply granted =
      send("PUT", "/v1/plugins/greeter/grants", R"({"permissions": ["chat.send", "storage.kv"]})");
  ASSERT_EQ(granted.status, 200) << granted.body;
  Json detail = granted.json();
  EXPECT_EQ(detail["state"], "loaded");
  EXPECT_EQ(detail["grants"]["declared"], Json({"chat.send", "storage.kv"}));
  EXPECT_EQ(detail["grants"]["approved"], Json({"chat.send", "storage.kv"}));
  EXPECT_EQ(detail["grants"]["missing"], Json::array());
  EXPECT_EQ(detail["manifest"]["id"], "greeter");
  EXPECT_EQ(detail["config"], (Json{{"greeting", "Hello"}, {"volume", 5}}));

  host_->filter("chat.message.received", {{"text", "hi"}, {"user", {{"name", "ann"}}}});
  Json after = get("/v1/plugins/greeter/detail", reader_).json();
  EXPECT_EQ(after["hooks"]["filter"]["calls"], 1);
  EXPECT_EQ(after["strikes"], 0);
  EXPECT_GE(after["hooks"]["filter"]["p50_us"].get<double>(), 0.0);

  Reply disabled = send("POST", "/v1/plugins/greeter/disable");
  ASSERT_EQ(disabled.status, 200);
  EXPECT_EQ(disabled.json()["state"], "disabled");
  EXPECT_FALSE(disabled.json()["enabled"].get<bool>());
}

TEST_F(AdminApiTest, GrantsThatTheManifestDoesNotDeclareAreRefused) {
  Reply reply = send("PUT", "/v1/plugins/greeter/grants", R"({"permissions": ["chat.moderate"]})");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.json()["error"]["details"][0]["path"], "permissions");
  Reply shape = send("PUT", "/v1/plugins/greeter/grants", R"({"permissions": "chat.send"})");
  EXPECT_EQ(shape.status, 400);
  EXPECT_EQ(shape.json()["error"]["details"][0]["path"], "permissions");
  Reply item = send("PUT", "/v1/plugins/greeter/grants", R"({"permissions": ["log", 3]})");
  EXPECT_EQ(item.status, 400);
  EXPECT_EQ(item.json()["error"]["details"][0]["path"], "permissions[1]");
  EXPECT_EQ(host_->status("greeter")->approved_permissions, std::vector<std::string>{});
}

TEST_F(AdminApiTest, AnInvalidConfigNamesEachBadFieldAndStoresNothing) {
  ASSERT_EQ(send("PUT", "/v1/plugins/greeter/config", R"({"greeting": "Hi", "volume": 7})").status,
            200);
  Reply bad = send("PUT", "/v1/plugins/greeter/config",
                   R"({"greeting": "this greeting is far too long", "volume": 11, "extra": 1})");
  ASSERT_EQ(bad.status, 400) << bad.body;
  Json error = bad.json()["error"];
  EXPECT_EQ(error["code"], "invalid_argument");
  std::vector<std::string> paths;
  for (const Json& detail : error["details"])
    paths.push_back(detail["path"].get<std::string>());
  EXPECT_THAT(paths, Contains("config.greeting"));
  EXPECT_THAT(paths, Contains("config.volume"));
  EXPECT_THAT(paths, Contains("config.extra"));
  Json stored = get("/v1/plugins/greeter/config", reader_).json();
  EXPECT_EQ(stored["config"], (Json{{"greeting", "Hi"}, {"volume", 7}}));
  EXPECT_EQ(stored["schema"]["properties"]["volume"]["maximum"], 10);
}

TEST_F(AdminApiTest, MalformedJsonEmptyBodiesAndUnknownPluginsGetClearErrors) {
  Reply malformed = send("PUT", "/v1/plugins/greeter/config", R"({"greeting": )");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(malformed.json()["error"]["code"], "invalid_argument");
  EXPECT_THAT(malformed.json()["error"]["message"].get<std::string>(), HasSubstr("request body"));

  Reply empty = send("PUT", "/v1/plugins/greeter/config", "");
  EXPECT_EQ(empty.status, 400);
  EXPECT_EQ(empty.json()["error"]["details"][0]["path"], "body");

  for (const std::string target : {"/v1/plugins/nobody/detail", "/v1/plugins/nobody/config"}) {
    Reply missing = get(target, reader_);
    EXPECT_EQ(missing.status, 404) << target;
    EXPECT_EQ(missing.json()["error"]["code"], "not_found") << target;
  }
  EXPECT_EQ(send("POST", "/v1/plugins/nobody/enable").status, 404);
  EXPECT_EQ(get("/v1/nothing-here", reader_).status, 404);
  Reply wrong_method = send("DELETE", "/v1/plugins/greeter/detail");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.header("allow"), "GET");
}

TEST_F(AdminApiTest, TraversalLikePathsMatchNoRoute) {
  for (const std::string target :
       {"/v1/plugins/..%2F..%2Fetc/detail", "/v1/plugins/%2e%2e/detail", "/v1//plugins",
        "/v1/plugins/greeter%00/detail", "/v1/plugins/greeter/../quiet/detail"}) {
    Reply reply = get(target, admin_);
    EXPECT_TRUE(reply.status == 404 || reply.status == 400) << target << " → " << reply.status;
  }
}

TEST_F(AdminApiTest, AnOversizedBodyIs413AndNothingIsStored) {
  std::string huge = R"({"greeting": ")" + std::string(2 << 20, 'x') + R"("})";
  Reply reply = send("PUT", "/v1/plugins/greeter/config", huge);
  EXPECT_EQ(reply.status, 413);
  EXPECT_EQ(reply.json()["error"]["code"], "payload_too_large");
  EXPECT_EQ(get("/v1/plugins/greeter/config", reader_).json()["config"]["greeting"], "Hello");
}

TEST_F(AdminApiTest, ARestartRestoresEnabledPluginsGrantsConfigsAndTokens) {
  ASSERT_EQ(send("PUT", "/v1/plugins/greeter/grants", R"({"permissions": ["chat.send"]})").status,
            200);
  ASSERT_EQ(send("POST", "/v1/plugins/greeter/enable").status, 200);
  ASSERT_EQ(send("PUT", "/v1/plugins/greeter/config", R"({"greeting": "Yo"})").status, 200);
  ASSERT_EQ(send("POST", "/v1/plugins/quiet/enable").status, 200);
  ASSERT_EQ(send("POST", "/v1/plugins/quiet/disable").status, 200);
  const Json before = get("/v1/plugins/greeter/detail", reader_).json();

  stop();
  boot();
  EXPECT_FALSE(server_->first_admin_token()) << "the first run's token still exists";
  Json after = get("/v1/plugins/greeter/detail", reader_).json();
  EXPECT_EQ(after["state"], before["state"]);
  EXPECT_EQ(after["enabled"], true);
  EXPECT_EQ(after["grants"], before["grants"]);
  EXPECT_EQ(after["config"], (Json{{"greeting", "Yo"}, {"volume", 5}}));
  EXPECT_EQ(get("/v1/plugins/quiet/detail", admin_).json()["state"], "disabled");
}

TEST_F(AdminApiTest, TokensCanBeIssuedListedAndRevoked) {
  Reply issued = send("POST", "/v1/tokens", R"({"role": "read", "label": "dashboard"})");
  ASSERT_EQ(issued.status, 201) << issued.body;
  const std::string secret = issued.json()["token"];
  const std::string id = issued.json()["id"];
  EXPECT_EQ(get("/v1/health", secret).status, 200);
  Json listed = get("/v1/tokens", reader_).json();
  EXPECT_THAT(listed.dump(), HasSubstr("dashboard"));
  EXPECT_THAT(listed.dump(), Not(HasSubstr(secret))) << "a listing never shows a secret";

  EXPECT_EQ(send("POST", "/v1/tokens", R"({"role": "root"})").json()["error"]["details"][0]["path"],
            "role");
  EXPECT_EQ(send("DELETE", "/v1/tokens/" + id).status, 204);
  EXPECT_EQ(get("/v1/health", secret).status, 401);
  EXPECT_EQ(send("DELETE", "/v1/tokens/" + id).status, 404);
}

TEST_F(AdminApiTest, EventsHealthAndMetrics) {
  Json events = get("/v1/events", reader_).json();
  ASSERT_GT(events["total"].get<int>(), 5);
  bool found = false;
  for (const Json& event : events["events"]) {
    if (event["name"] == "chat.message.received") {
      found = true;
      EXPECT_THAT(event["kinds"], Contains("filter"));
      EXPECT_TRUE(event["schema"].is_object());
    }
  }
  EXPECT_TRUE(found);

  Json health = get("/v1/health", reader_).json();
  EXPECT_EQ(health["status"], "ok");
  EXPECT_EQ(health["plugins"]["total"], 2);

  ASSERT_EQ(
      send("PUT", "/v1/plugins/greeter/grants", R"({"permissions": ["chat.send", "storage.kv"]})")
          .status,
      200);
  ASSERT_EQ(send("POST", "/v1/plugins/greeter/enable").json()["state"], "loaded");
  host_->filter("chat.message.received", {{"text", "hi"}, {"user", {{"name", "ann"}}}});
  server_->events().count("chat.message.received", "filter");
  Reply metrics = get("/v1/metrics", reader_);
  ASSERT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.header("content-type"), HasSubstr("text/plain; version=0.0.4"));
  EXPECT_THAT(metrics.body, HasSubstr("outlet_events_total{event=\"chat.message.received\","
                                      "kind=\"filter\"} 1\n"));
  EXPECT_THAT(metrics.body,
              HasSubstr("outlet_plugin_calls_total{plugin=\"greeter\",hook=\"filter\"} 1\n"));
  EXPECT_THAT(metrics.body, HasSubstr("outlet_plugin_call_duration_seconds_bucket{plugin="
                                      "\"greeter\",hook=\"filter\",le=\"+Inf\"} 1\n"));
  EXPECT_THAT(metrics.body, HasSubstr("# TYPE outlet_plugin_call_duration_seconds histogram"));
  EXPECT_THAT(metrics.body,
              HasSubstr("outlet_plugin_state{plugin=\"greeter\",state=\"loaded\"} 1"));
}

TEST_F(AdminApiTest, AConnectionIsKeptAliveAcrossRequests) {
  Connection connection(port_);
  for (int i = 0; i < 3; ++i) {
    Reply reply = connection.request("GET", "/v1/health", as(reader_));
    EXPECT_EQ(reply.status, 200);
    EXPECT_TRUE(reply.keep_alive);
  }
  Reply head = connection.request("HEAD", "/v1/health", as(reader_));
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_NE(head.header("content-length"), "0");
}

TEST_F(AdminApiTest, MalformedHttpGets400AndTheConnectionCloses) {
  Connection connection(port_);
  Reply reply = connection.raw("GARBAGE\r\n\r\n");
  EXPECT_EQ(reply.status, 400);
  EXPECT_TRUE(connection.closed_by_server());

  Connection huge_head(port_);
  Reply too_big = huge_head.raw(
      "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 << 10, 'a') + "\r\n\r\n");
  EXPECT_EQ(too_big.status, 431);
}

TEST_F(AdminApiTest, ShutdownLetsARequestInFlightFinish) {
  auto arrived = std::make_shared<outlet::testing::Gate>();
  auto release = std::make_shared<outlet::testing::Gate>();
  extra_routes_ = [arrived, release](Router& router) {
    router.add("GET", "/slow",
               [arrived, release](HttpRequest&&, const RouteMatch&, Responder respond) {
                 arrived->open();
                 std::thread([release, respond] {
                   release->wait();
                   respond(json_response(200, {{"done", true}}));
                 }).detach();
               });
  };
  stop();
  boot();
  Reply slow;
  std::thread client([&] { slow = fetch(port_, "GET", "/slow"); });
  ASSERT_TRUE(arrived->wait());
  std::thread opener([release] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    release->open();
  });
  server_->shutdown(std::chrono::seconds(10));
  client.join();
  opener.join();
  EXPECT_EQ(slow.status, 200);
  EXPECT_EQ(slow.json()["done"], true);
  EXPECT_FALSE(slow.keep_alive) << "a draining server closes after the answer";
  EXPECT_THROW(fetch(port_, "GET", "/v1/health"), std::exception) << "no longer accepting";
}

}  // namespace
}  // namespace outlet::http
