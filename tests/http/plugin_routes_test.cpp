// /plugins/<id>/* end to end: a real Lua plugin folder with public/ files, the
// server on loopback, and requests over real sockets (seeds/003 "Plugins can serve
// HTTP").
#include "http/plugin_routes.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "domains/chat/chat_domain.h"
#include "http/server.h"
#include "support/http_client.h"
#include "support/test_support.h"

namespace outlet::http {
namespace {

namespace fs = std::filesystem;
using outlet::testing::fetch;
using outlet::testing::Reply;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kSiteLua = R"lua(
return {
  on_http_request = function(req)
    if req.path == "/echo" then
      return {
        status = 201,
        headers = {
          ["Content-Type"] = "application/json",
          ["X-Powered-By"] = "a plugin",
          ["Strict-Transport-Security"] = "max-age=0",
          ["Set-Cookie"] = "sid=1; Path=/; Domain=evil.example; HttpOnly",
          ["Access-Control-Allow-Origin"] = "*",
        },
        body = {
          method = req.method, path = req.path, query = req.query, headers = req.headers,
          body = req.body, authenticated = req.authenticated, remoteAddr = req.remoteAddr,
        },
      }
    elseif req.path == "/admin/api" then
      return { body = "secret settings" }
    elseif req.path == "/loop" then
      while true do end
    elseif req.path == "/big" then
      return { body = string.rep("x", 10 * 1024 * 1024 + 1) }
    elseif req.path == "/bad-status" then
      return { status = 42 }
    elseif req.path == "/bad-header" then
      return { headers = { ["Location"] = "/x\r\nSet-Cookie: admin=1" } }
    elseif req.path == "/fail" then
      error("the handler broke")
    end
    return { status = 404, body = "nothing at " .. req.path }
  end,
}
)lua";

class PluginRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plugins_ = dir_.path() / "plugins";
    write_site();
    write_plugin("unserved", {"storage.kv"},
                 "return { on_http_request = function() return "
                 "{ body = 'should never be reached' } end }");
    write_plugin("ungranted", {"http.serve"},
                 "return { on_http_request = function() return { body = 'no' } end }");

    HostOptions options;
    options.timeout_ms[static_cast<size_t>(HookKind::kRequest)] = 300;
    host_ = std::move(Host::create(options)).value();
    ASSERT_TRUE(domain_.declare(*host_).ok());
    auto report = host_->discover(plugins_.string());
    ASSERT_TRUE(report.ok());
    ASSERT_TRUE(report->problems.empty()) << report->problems[0].error.to_string();
    for (const char* id : {"site", "unserved"}) {
      ASSERT_TRUE(host_->approve(id).ok());
      ASSERT_TRUE(host_->enable(id).ok());
    }
    ASSERT_TRUE(host_->enable("ungranted").ok());  // stays blocked: http.serve not approved
    ASSERT_EQ(host_->status("site")->state, PluginState::kLoaded) << host_->status("site")->reason;
    server_ = std::move(Server::open(*host_, {})).value();
    admin_ = *server_->first_admin_token();
    reader_ = server_->tokens().issue(Role::kRead, "reader").value().secret;
    ASSERT_TRUE(server_->start({.address = "127.0.0.1", .port = 0}).ok());
  }
  void TearDown() override {
    server_.reset();
    host_.reset();
  }

  void write(const fs::path& path, const std::string& content) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
  }

  void write_plugin(const std::string& id, const std::vector<std::string>& permissions,
                    const std::string& lua, const Json& extra = Json::object()) {
    Json manifest = {{"id", id},
                     {"name", id},
                     {"version", "1.0.0"},
                     {"kind", "bot-module"},
                     {"entrypoint", "plugin.lua"},
                     {"permissions", permissions}};
    manifest.update(extra);
    write(plugins_ / id / "plugin.json", manifest.dump(2));
    write(plugins_ / id / "plugin.lua", lua);
  }

  void write_site() {
    write_plugin("site", {"http.serve"}, kSiteLua,
                 {{"admin", {{"pages", {{{"title", "Settings"}, {"path", "/admin"}}}}}}});
    const fs::path pub = plugins_ / "site" / "public";
    write(pub / "index.html", "<h1>Site</h1>");
    write(pub / "style.css", "h1 { color: red }");
    write(pub / "data.txt", "0123456789");
    write(pub / "admin" / "index.html", "<h1>Admin</h1>");
    write(pub / "docs" / "index.html", "<h1>Docs</h1>");
    write(dir_.path() / "outside.txt", "private data outside the plugin");
    fs::create_symlink(dir_.path() / "outside.txt", pub / "leak.txt");
    fs::create_symlink(dir_.path(), pub / "leakdir");
  }

  Reply get(const std::string& target, const std::map<std::string, std::string>& headers = {}) {
    return fetch(server_->port(), "GET", target, headers);
  }
  std::map<std::string, std::string> bearer(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }

  outlet::testing::TempDir dir_{"outlet-plugin-routes"};
  fs::path plugins_;
  chat::ChatDomain domain_;
  std::unique_ptr<Host> host_;
  std::unique_ptr<Server> server_;
  std::string admin_;
  std::string reader_;
};

TEST_F(PluginRoutesTest, PublicFilesAreServedWithTheirTypes) {
  Reply index = get("/plugins/site/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<h1>Site</h1>");
  EXPECT_EQ(index.header("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(index.header("x-content-type-options"), "nosniff");
  Reply css = get("/plugins/site/style.css");
  EXPECT_EQ(css.body, "h1 { color: red }");
  EXPECT_EQ(css.header("content-type"), "text/css; charset=utf-8");
  EXPECT_EQ(get("/plugins/site/docs/").body, "<h1>Docs</h1>");

  Reply bare = get("/plugins/site?x=1");
  EXPECT_EQ(bare.status, 301);
  EXPECT_EQ(bare.header("location"), "/plugins/site/?x=1");
  Reply folder = get("/plugins/site/docs");
  EXPECT_EQ(folder.status, 301);
  EXPECT_EQ(folder.header("location"), "/plugins/site/docs/");

  Reply head = fetch(server_->port(), "HEAD", "/plugins/site/data.txt");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), "10");
  EXPECT_TRUE(head.body.empty());
}

TEST_F(PluginRoutesTest, ConditionalRequestsAndRanges) {
  Reply first = get("/plugins/site/data.txt");
  const std::string etag = first.header("etag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(get("/plugins/site/data.txt", {{"If-None-Match", etag}}).status, 304);
  EXPECT_EQ(get("/plugins/site/data.txt", {{"If-None-Match", "W/" + etag + ", \"other\""}}).status,
            304);
  EXPECT_EQ(get("/plugins/site/data.txt", {{"If-None-Match", "\"other\""}}).status, 200);
  EXPECT_EQ(
      get("/plugins/site/data.txt", {{"If-Modified-Since", first.header("last-modified")}}).status,
      304);

  Reply part = get("/plugins/site/data.txt", {{"Range", "bytes=2-5"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "2345");
  EXPECT_EQ(part.header("content-range"), "bytes 2-5/10");
  EXPECT_EQ(get("/plugins/site/data.txt", {{"Range", "bytes=-3"}}).body, "789");
  EXPECT_EQ(get("/plugins/site/data.txt", {{"Range", "bytes=7-"}}).body, "789");
  EXPECT_EQ(get("/plugins/site/data.txt", {{"Range", "bytes=8-100"}}).body, "89");
  Reply beyond = get("/plugins/site/data.txt", {{"Range", "bytes=10-"}});
  EXPECT_EQ(beyond.status, 416);
  EXPECT_EQ(beyond.header("content-range"), "bytes */10");
  EXPECT_EQ(get("/plugins/site/data.txt", {{"Range", "bytes=0-1,4-5"}}).status, 200)
      << "several ranges: the whole file";
  EXPECT_EQ(
      get("/plugins/site/data.txt", {{"Range", "bytes=2-5"}, {"If-Range", "\"stale\""}}).status,
      200);
}

TEST_F(PluginRoutesTest, NothingOutsideThePublicFolderIsReachable) {
  for (const std::string target :
       {"/plugins/site/../../outside.txt", "/plugins/site/%2e%2e/%2e%2e/outside.txt",
        "/plugins/site/..%2F..%2Foutside.txt", "/plugins/site/%2E%2E%5C%2E%2E%5Coutside.txt",
        "/plugins/site//etc/passwd", "/plugins/site/%2Fetc%2Fpasswd", "/plugins/site/leak.txt",
        "/plugins/site/leakdir/outside.txt", "/plugins/site/./index.html",
        "/plugins/site/plugin.lua", "/plugins/site/../site/plugin.json"}) {
    Reply reply = get(target);
    EXPECT_TRUE(reply.status == 404 || reply.status == 400) << target << ": " << reply.status;
    EXPECT_THAT(reply.body, Not(HasSubstr("private data"))) << target;
    EXPECT_THAT(reply.body, Not(HasSubstr("on_http_request"))) << target;
  }
}

TEST_F(PluginRoutesTest, TheHandlerGetsTheRequestWithoutCredentialsAndItsAnswerIsFiltered) {
  Reply reply = fetch(server_->port(), "POST", "/plugins/site/echo?x=1&name=two+words",
                      {{"Cookie", "outlet_session=abc"},
                       {"Authorization", "Bearer " + reader_},
                       {"X-Custom", "yes"},
                       {"Content-Type", "text/plain"}},
                      "hello body");
  ASSERT_EQ(reply.status, 201) << reply.body;
  Json seen = reply.json();
  EXPECT_EQ(seen["method"], "POST");
  EXPECT_EQ(seen["path"], "/echo");
  EXPECT_EQ(seen["query"], (Json{{"x", "1"}, {"name", "two words"}}));
  EXPECT_EQ(seen["body"], "hello body");
  EXPECT_EQ(seen["headers"]["x-custom"], "yes");
  EXPECT_FALSE(seen["headers"].contains("cookie"));
  EXPECT_FALSE(seen["headers"].contains("authorization"));
  EXPECT_EQ(seen["authenticated"], false) << "a read token is not an admin";
  EXPECT_EQ(seen["remoteAddr"], "127.0.0.1");

  EXPECT_EQ(reply.header("content-type"), "application/json");
  EXPECT_EQ(reply.header("access-control-allow-origin"), "*");
  EXPECT_EQ(reply.header("x-powered-by"), "");
  EXPECT_EQ(reply.header("strict-transport-security"), "");
  EXPECT_EQ(reply.header("set-cookie"), "sid=1; HttpOnly; Path=/plugins/site/");

  Reply admin = fetch(server_->port(), "GET", "/plugins/site/echo", bearer(admin_));
  EXPECT_EQ(admin.json()["authenticated"], true);
}

TEST_F(PluginRoutesTest, AdminPagesNeedAnAdminToken) {
  for (const std::string target :
       {"/plugins/site/admin", "/plugins/site/admin/", "/plugins/site/admin/api"}) {
    EXPECT_EQ(get(target).status, 401) << target;
    EXPECT_EQ(get(target, bearer(reader_)).status, 401) << target;
    EXPECT_EQ(get(target, bearer("olt_forged")).status, 401) << target;
  }
  EXPECT_EQ(get("/plugins/site/admin/", bearer(admin_)).body, "<h1>Admin</h1>");
  EXPECT_EQ(get("/plugins/site/admin/api", bearer(admin_)).body, "secret settings");
  EXPECT_EQ(get("/plugins/site/administrator").status, 404) << "a prefix of a word is not a page";
}

TEST_F(PluginRoutesTest, AFailingSlowOrMisbehavingHandlerGetsAnHttpErrorNotAHang) {
  Reply loop = get("/plugins/site/loop");
  EXPECT_EQ(loop.status, 504);
  EXPECT_EQ(loop.json()["error"]["code"], "deadline_exceeded");
  Reply fail = get("/plugins/site/fail");
  EXPECT_EQ(fail.status, 502);
  EXPECT_THAT(fail.body, HasSubstr("the handler broke"));
  Reply big = get("/plugins/site/big");
  EXPECT_EQ(big.status, 502);
  EXPECT_EQ(big.json()["error"]["details"][0]["path"], "body");
  Reply status = get("/plugins/site/bad-status");
  EXPECT_EQ(status.status, 502);
  EXPECT_EQ(status.json()["error"]["details"][0]["path"], "status");
  Reply header = get("/plugins/site/bad-header");
  EXPECT_EQ(header.status, 502);
  EXPECT_EQ(header.header("set-cookie"), "");
  EXPECT_EQ(get("/plugins/site/").status, 200) << "the plugin still serves";
}

TEST_F(PluginRoutesTest, OnlyLoadedPluginsGrantedHttpServeAreReachable) {
  Reply unserved = get("/plugins/unserved/anything");
  EXPECT_EQ(unserved.status, 404);
  EXPECT_THAT(unserved.body, Not(HasSubstr("should never be reached")));
  EXPECT_EQ(get("/plugins/ungranted/anything").status, 404);
  EXPECT_EQ(get("/plugins/nobody/anything").status, 404);
  ASSERT_TRUE(host_->disable("site").ok());
  EXPECT_EQ(get("/plugins/site/").status, 404);
}

// seeds/003's admin-demo example, as an Owncast author wrote it: unmodified.
TEST_F(PluginRoutesTest, AnOwncastProjectServesItsFilesAndAdminPagesUnmodified) {
  const fs::path project = plugins_ / "admin-demo";
  write(project / "plugin.manifest.json", R"({
    "api": "1", "name": "Example Admin Demo", "slug": "admin-demo", "version": "0.2.1",
    "description": "A public landing page plus an admin-gated settings panel and API",
    "permissions": ["http.serve", "storage.kv"],
    "admin": {"pages": [{"title": "Example Page 1", "path": "/admin", "icon": "gear"},
                        {"title": "Example Page 2", "path": "/admin/anotherpage.html"}]}
  })");
  write(project / "src" / "plugin.js", R"js(
const { definePlugin, owncast } = require("@owncast/plugin-sdk");
function settings() {
  return JSON.parse(owncast.kv.get("settings") || "{}");
}
module.exports = definePlugin({
  onHttpRequest(req) {
    if (req.method === "GET" && req.path === "/admin/api/settings") {
      return { status: 200, headers: { "content-type": "application/json" },
               body: JSON.stringify(settings()) };
    }
    if (req.method === "POST" && req.path === "/admin/api/settings") {
      let parsed;
      try { parsed = JSON.parse(req.body); } catch (e) { return { status: 400, body: "invalid JSON" }; }
      owncast.kv.set("settings", JSON.stringify(parsed));
      return { status: 204 };
    }
    return { status: 404 };
  },
});
)js");
  write(project / "public" / "index.html", "<h1>Welcome</h1>");
  write(project / "public" / "admin" / "index.html", "<h1>Settings panel</h1>");
  auto report = host_->discover(plugins_.string());
  ASSERT_TRUE(report.ok());
  ASSERT_TRUE(host_->approve("admin-demo").ok());
  ASSERT_TRUE(host_->enable("admin-demo").ok());
  ASSERT_EQ(host_->status("admin-demo")->state, PluginState::kLoaded)
      << host_->status("admin-demo")->reason;

  EXPECT_EQ(get("/plugins/admin-demo/").body, "<h1>Welcome</h1>");
  EXPECT_EQ(get("/plugins/admin-demo/admin/").status, 401);
  EXPECT_EQ(get("/plugins/admin-demo/admin/", bearer(admin_)).body, "<h1>Settings panel</h1>");
  EXPECT_EQ(get("/plugins/admin-demo/admin/api/settings").status, 401);
  EXPECT_EQ(fetch(server_->port(), "POST", "/plugins/admin-demo/admin/api/settings", {},
                  R"({"theme": "dark"})")
                .status,
            401);
  Reply saved = fetch(server_->port(), "POST", "/plugins/admin-demo/admin/api/settings",
                      bearer(admin_), R"({"theme": "dark"})");
  EXPECT_EQ(saved.status, 204) << saved.body;
  Reply read = get("/plugins/admin-demo/admin/api/settings", bearer(admin_));
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(read.json(), (Json{{"theme", "dark"}}));
  EXPECT_EQ(get("/plugins/admin-demo/missing").status, 404);
}

TEST(PluginAnswerTest, SetCookieKeepsItsAttributesButNotItsPathOrDomain) {
  EXPECT_EQ(confine_cookie("a=b", "/plugins/x/"), "a=b; Path=/plugins/x/");
  EXPECT_EQ(confine_cookie("a=b; path=/; DOMAIN=.example.com; Secure; SameSite=Lax", "/plugins/x/"),
            "a=b; Secure; SameSite=Lax; Path=/plugins/x/");
}

TEST(PluginAnswerTest, NonStringBodiesAreSentAsJson) {
  HttpResponse response = plugin_answer_to_response("x", {{"body", {{"ok", true}}}}, 1024);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "{\"ok\":true}");
  EXPECT_EQ(*response.header("content-type"), "application/json");
  EXPECT_EQ(plugin_answer_to_response("x", Json(), 1024).status, 200);
  EXPECT_EQ(plugin_answer_to_response("x", Json("text"), 1024).status, 502);
  EXPECT_EQ(plugin_answer_to_response("x", {{"headers", {{"a", 1}}}}, 1024).status, 502);
}

}  // namespace
}  // namespace outlet::http
