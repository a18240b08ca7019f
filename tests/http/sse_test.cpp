// Host-owned Server-Sent Events end to end (seeds/003): a Lua plugin pushes with
// outlet.sse.send, browsers read /plugins/<id>/_sse/<channel> over real sockets.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "domains/chat/chat_domain.h"
#include "http/server.h"
#include "http/sse_hub.h"
#include "support/http_client.h"
#include "support/test_support.h"

namespace outlet::http {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
namespace asio = boost::asio;

constexpr const char* kLivePlugin = R"lua(
return {
  on_chat_message = function(message)
    outlet.sse.send("overlay", "chat", { body = message.body })
    outlet.sse.send("overlay", "", "line one\nline two")
  end,
  on = {
    ["sse.connect"] = function(e)
      outlet.kv.set("connected:" .. e.connectionId, e.channel)
    end,
    ["sse.disconnect"] = function(e)
      outlet.kv.set("disconnected:" .. e.connectionId, e.channel)
    end,
  },
}
)lua";

// One EventSource-like client: sends the request, then reads the stream as it comes.
class StreamClient {
 public:
  StreamClient(uint16_t port, const std::string& target) : socket_(io_) {
    socket_.connect({asio::ip::make_address("127.0.0.1"), port});
    const std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    asio::write(socket_, asio::buffer(request));
  }
  // Reads until `text` has arrived; false on EOF or error first.
  bool read_until(const std::string& text) {
    while (received_.find(text) == std::string::npos) {
      char buffer[4096];
      boost::system::error_code ec;
      size_t n = socket_.read_some(asio::buffer(buffer), ec);
      if (ec)
        return false;
      received_.append(buffer, n);
    }
    return true;
  }
  // True once the server has closed the stream.
  bool ends() {
    char buffer[4096];
    boost::system::error_code ec;
    while (!ec) {
      size_t n = socket_.read_some(asio::buffer(buffer), ec);
      received_.append(buffer, n);
    }
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
  const std::string& received() const { return received_; }
  void close() { socket_.close(); }

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  std::string received_;
};

class SseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_plugin("live", {"http.sse", "storage.kv"}, kLivePlugin);
    write_plugin("mute", {"storage.kv"}, "return { on_chat_message = function() end }");
    host_ = std::move(Host::create({})).value();
    ASSERT_TRUE(domain_.declare(*host_).ok());
    hub_ = std::make_shared<SseHub>(
        SseOptions{.max_per_plugin = 3, .keep_alive = std::chrono::milliseconds(100)});
    ASSERT_TRUE(SseHub::declare(*host_, hub_).ok());
    ASSERT_TRUE(host_->discover((dir_.path() / "plugins").string()).ok());
    for (const char* id : {"live", "mute"}) {
      ASSERT_TRUE(host_->approve(id).ok());
      ASSERT_TRUE(host_->enable(id).ok());
      ASSERT_EQ(host_->status(id)->state, PluginState::kLoaded) << host_->status(id)->reason;
    }
    server_ = std::move(Server::open(*host_, {.sse = hub_})).value();
    ASSERT_TRUE(server_->start({.address = "127.0.0.1", .port = 0}).ok());
  }
  void TearDown() override {
    server_.reset();
    host_.reset();
  }

  void write_plugin(const std::string& id, const std::vector<std::string>& permissions,
                    const std::string& lua) {
    const fs::path folder = dir_.path() / "plugins" / id;
    fs::create_directories(folder);
    std::ofstream(folder / "plugin.json") << Json{
        {"id", id},
        {"name", id},
        {"version", "1.0.0"},
        {"kind", "bot-module"},
        {"entrypoint", "plugin.lua"},
        {"permissions", permissions}}.dump();
    std::ofstream(folder / "plugin.lua") << lua;
  }

  // Waits (bounded) until the plugin's KV has a key with this prefix.
  bool kv_has_prefix(const std::string& prefix) {
    const auto deadline = std::chrono::steady_clock::now() + outlet::testing::kHangTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto entries = host_->kv().list(host_->kv_namespace("live"), prefix, 10);
      if (entries.ok() && !entries->empty())
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  void chat(const std::string& body) {
    host_->notify("chat.message.received",
                  {{"id", "m1"}, {"body", body}, {"user", {{"id", "u1"}, {"displayName", "Ann"}}}});
    host_->wait_idle();
  }

  outlet::testing::TempDir dir_{"outlet-sse"};
  chat::ChatDomain domain_;
  std::unique_ptr<Host> host_;
  std::shared_ptr<SseHub> hub_;
  std::unique_ptr<Server> server_;
};

TEST(SseFrameTest, EveryLineOfDataIsADataLine) {
  EXPECT_EQ(sse_frame("chat", Json{{"a", 1}}), "event: chat\ndata: {\"a\":1}\n\n");
  EXPECT_EQ(sse_frame("", "one\ntwo\r\nthree\rfour"),
            "data: one\ndata: two\ndata: three\ndata: four\n\n");
  EXPECT_EQ(sse_frame("", ""), "data: \n\n");
}

TEST_F(SseTest, APluginPushesEventsToEveryBrowserOnTheChannel) {
  StreamClient first(server_->port(), "/plugins/live/_sse/overlay");
  StreamClient second(server_->port(), "/plugins/live/_sse/overlay");
  StreamClient other(server_->port(), "/plugins/live/_sse/elsewhere");
  for (StreamClient* client : {&first, &second, &other})
    ASSERT_TRUE(client->read_until(": connected\n\n"));
  EXPECT_THAT(first.received(), HasSubstr("HTTP/1.1 200"));
  EXPECT_THAT(first.received(), HasSubstr("content-type: text/event-stream"));
  EXPECT_THAT(first.received(), HasSubstr("cache-control: no-cache"));

  chat("hello");
  for (StreamClient* client : {&first, &second}) {
    ASSERT_TRUE(client->read_until("event: chat\ndata: {\"body\":\"hello\"}\n\n"));
    ASSERT_TRUE(client->read_until("data: line one\ndata: line two\n\n"));
  }
  ASSERT_TRUE(other.read_until(": keep-alive\n\n"));
  EXPECT_THAT(other.received(), ::testing::Not(HasSubstr("hello"))) << "another channel";
}

TEST_F(SseTest, ThePluginHearsConnectsAndDisconnects) {
  {
    StreamClient client(server_->port(), "/plugins/live/_sse/overlay");
    ASSERT_TRUE(client.read_until(": connected\n\n"));
    EXPECT_TRUE(kv_has_prefix("connected:sse-"));
    client.close();
  }
  EXPECT_TRUE(kv_has_prefix("disconnected:sse-"));
  const auto deadline = std::chrono::steady_clock::now() + outlet::testing::kHangTimeout;
  while (hub_->connections("live") != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(hub_->connections("live"), 0u);
}

TEST_F(SseTest, ConnectionsBeyondThePluginsLimitGet503) {
  std::vector<std::unique_ptr<StreamClient>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(std::make_unique<StreamClient>(server_->port(), "/plugins/live/_sse/overlay"));
    ASSERT_TRUE(open.back()->read_until(": connected\n\n"));
  }
  auto refused = outlet::testing::fetch(server_->port(), "GET", "/plugins/live/_sse/overlay");
  EXPECT_EQ(refused.status, 503);
  EXPECT_THAT(refused.body, HasSubstr("already has 3 event streams"));
}

TEST_F(SseTest, ASlowClientLosesFramesAndNeverHoldsUpThePlugin) {
  StreamClient slow(server_->port(), "/plugins/live/_sse/overlay");  // never reads again
  StreamClient reader(server_->port(), "/plugins/live/_sse/overlay");
  ASSERT_TRUE(slow.read_until(": connected\n\n"));
  ASSERT_TRUE(reader.read_until(": connected\n\n"));
  const std::string chunk(16 << 10, 'x');
  size_t delivered = 0;
  std::thread drain([&] { reader.read_until("event: last"); });
  for (int i = 0; i < 2000; ++i)
    delivered += hub_->send("live", "overlay", "bulk", chunk);
  // The reader may lose some too if it falls behind; "last" is retried until it lands.
  while (hub_->send("live", "overlay", "last", "done") == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  drain.join();
  EXPECT_LT(delivered, 2u * 2000) << "the slow client's queue filled and it lost frames";
  EXPECT_THAT(reader.received(), HasSubstr("event: last"));
  EXPECT_EQ(hub_->connections("live"), 2u) << "losing frames does not cost the connection";
}

TEST_F(SseTest, StreamsNeedHttpSseAndGet) {
  EXPECT_EQ(outlet::testing::fetch(server_->port(), "GET", "/plugins/mute/_sse/overlay").status,
            404);
  EXPECT_EQ(outlet::testing::fetch(server_->port(), "POST", "/plugins/live/_sse/overlay").status,
            405);
  EXPECT_EQ(outlet::testing::fetch(server_->port(), "GET", "/plugins/live/_sse/a/b").status, 404);
  EXPECT_EQ(outlet::testing::fetch(server_->port(), "GET", "/plugins/live/index.html").status, 404)
      << "http.sse alone serves no pages";
}

TEST_F(SseTest, ShutdownClosesStreamsAndTellsThePlugin) {
  StreamClient client(server_->port(), "/plugins/live/_sse/overlay");
  ASSERT_TRUE(client.read_until(": connected\n\n"));
  ASSERT_TRUE(kv_has_prefix("connected:"));
  server_->shutdown(std::chrono::milliseconds(5000));
  EXPECT_TRUE(client.ends());
  EXPECT_TRUE(kv_has_prefix("disconnected:"));
}

TEST_F(SseTest, DisablingThePluginEndsItsStreams) {
  StreamClient client(server_->port(), "/plugins/live/_sse/overlay");
  ASSERT_TRUE(client.read_until(": connected\n\n"));
  ASSERT_TRUE(host_->disable("live").ok());
  EXPECT_TRUE(client.ends());
  EXPECT_EQ(outlet::testing::fetch(server_->port(), "GET", "/plugins/live/_sse/overlay").status,
            404);
}

TEST_F(SseTest, SendChecksItsArguments) {
  // Through a plugin as it would call it: the host function's own checks.
  write_plugin("loud", {"http.sse"}, R"lua(
return {
  on_chat_message = function(m)
    local ok, err = pcall(outlet.sse.send, "overlay", "bad\nevent", "x")
    assert(not ok and tostring(err):find("must be one line"), tostring(err))
    ok, err = pcall(outlet.sse.send, "overlay", "big", string.rep("y", 300 * 1024))
    assert(not ok and tostring(err):find("at most"), tostring(err))
    ok, err = pcall(outlet.sse.send, "overlay")
    assert(not ok and tostring(err):find("event"), tostring(err))
    outlet.sse.send("overlay", "ok", "fine")
  end,
}
)lua");
  ASSERT_TRUE(host_->discover((dir_.path() / "plugins").string()).ok());
  ASSERT_TRUE(host_->approve("loud").ok());
  ASSERT_TRUE(host_->enable("loud").ok());
  StreamClient client(server_->port(), "/plugins/loud/_sse/overlay");
  ASSERT_TRUE(client.read_until(": connected\n\n"));
  chat("go");
  EXPECT_TRUE(client.read_until("event: ok\ndata: fine\n\n"));
  EXPECT_EQ(host_->status("loud")->stats->strikes, 0u) << "every assert in the handler held";
}

}  // namespace
}  // namespace outlet::http
