// The live chat with real Lua plugins: the ingest pipeline (sanctions, filters,
// history, broadcast, notifications), plugins' chat host functions acting for real,
// and bot triggers (order, gates, cooldowns, timers, defer, refused answers).
#include "domains/chat/chat_room.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "support/test_support.h"

namespace outlet::chat {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kStart = int64_t{1'800'000'000'000};

class ChatRoomTest : public ::testing::Test {
 protected:
  void SetUp() override { plugins_ = dir_.path() / "plugins"; }
  void TearDown() override {
    if (room_)
      room_->stop();
    room_.reset();
    host_.reset();
  }

  void write_plugin(const std::string& id, const std::vector<std::string>& permissions,
                    const std::string& lua, const Json& extra = Json::object()) {
    Json manifest = {{"id", id},
                     {"name", id + " bot"},
                     {"version", "1.0.0"},
                     {"kind", "bot-module"},
                     {"entrypoint", "plugin.lua"},
                     {"permissions", permissions}};
    manifest.update(extra);
    fs::create_directories(plugins_ / id);
    std::ofstream(plugins_ / id / "plugin.json") << manifest.dump(2);
    std::ofstream(plugins_ / id / "plugin.lua") << lua;
  }

  // Starts a host with every written plugin approved and enabled, and a room.
  void start(const std::string& store = "") {
    host_ = std::move(Host::create({})).value();
    ASSERT_TRUE(domain_.declare(*host_).ok());
    auto room = ChatRoom::open(
        *host_, domain_,
        {.store_path = store, .history_limit = 20, .now_ms = [this] { return now_.load(); }});
    ASSERT_TRUE(room.ok()) << room.error().to_string();
    room_ = std::move(room).value();
    if (fs::exists(plugins_)) {
      auto report = host_->discover(plugins_.string());
      ASSERT_TRUE(report.ok());
      ASSERT_TRUE(report->problems.empty()) << report->problems[0].error.to_string();
      for (const auto& plugin : report->plugins) {
        ASSERT_TRUE(host_->approve(plugin.parsed.manifest.id).ok());
        ASSERT_TRUE(host_->enable(plugin.parsed.manifest.id).ok());
        auto status = host_->status(plugin.parsed.manifest.id);
        ASSERT_EQ(status->state, PluginState::kLoaded) << status->reason;
      }
    }
    room_->subscribe([this](const Json& frame) {
      std::lock_guard lock(frames_mutex_);
      frames_.push_back(frame);
    });
  }

  Result<PostOutcome> say(const std::string& user, const std::string& body,
                          std::vector<std::string> roles = {}) {
    Json message = {{"body", body}, {"user", {{"id", user}}}};
    if (!roles.empty())
      message["user"]["roles"] = roles;
    return room_->post(message);
  }

  // A copy: a range-for over history(n).value() would walk a destroyed temporary.
  std::vector<ChatMessage> recent(size_t limit) { return room_->history(limit).value(); }

  std::vector<std::string> bodies() {
    std::vector<std::string> out;
    for (const ChatMessage& message : recent(100))
      out.push_back(message.body);
    return out;
  }

  std::vector<Json> frames_of(const std::string& type) {
    std::lock_guard lock(frames_mutex_);
    std::vector<Json> out;
    for (const Json& frame : frames_) {
      if (frame["type"] == type)
        out.push_back(frame);
    }
    return out;
  }

  Json trigger_stats(const std::string& plugin, const std::string& id) {
    const Json described = room_->triggers().describe();
    for (const Json& trigger : described["triggers"]) {
      if (trigger["plugin_id"] == plugin && trigger["id"] == id)
        return trigger;
    }
    return nullptr;
  }

  outlet::testing::TempDir dir_{"outlet-chat-room"};
  fs::path plugins_;
  std::atomic<int64_t> now_{kStart};
  ChatDomain domain_;
  std::unique_ptr<Host> host_;
  std::unique_ptr<ChatRoom> room_;
  std::mutex frames_mutex_;
  std::vector<Json> frames_;
};

TEST_F(ChatRoomTest, AMessageIsStoredBroadcastAndNotified) {
  write_plugin("counter", {"storage.kv"}, R"lua(
return { on_chat_message = function(m) outlet.kv.set("last", m.user.displayName .. ": " .. m.body) end }
)lua");
  start();
  auto outcome =
      room_->post({{"body", "hello"},
                   {"user", {{"id", "ann"}, {"display_name", "Ann"}, {"roles", {"subscriber"}}}}});
  ASSERT_TRUE(outcome.ok()) << outcome.error().to_string();
  EXPECT_TRUE(outcome->accepted);
  EXPECT_EQ(outcome->message.id.size(), 16u);
  EXPECT_THAT(bodies(), ElementsAre("hello"));
  auto sent = frames_of("message");
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0]["message"]["user"]["display_name"], "Ann");
  EXPECT_EQ(sent[0]["message"]["user"]["roles"], Json({"subscriber"}));
  host_->wait_idle();
  EXPECT_EQ(host_->kv().get(host_->kv_namespace("counter"), "last").value(), Json("Ann: hello"));
  Json users = room_->users();
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0]["messages"], 1);
  EXPECT_EQ(users[0]["present"], true);
}

TEST_F(ChatRoomTest, BadMessagesAreRefusedNamingTheField) {
  start();
  auto expect_invalid = [&](const Json& message, const std::string& path) {
    auto outcome = room_->post(message);
    ASSERT_FALSE(outcome.ok()) << message.dump();
    EXPECT_EQ(outcome.error().code(), ErrorCode::kInvalidArgument);
    ASSERT_FALSE(outcome.error().details().empty());
    EXPECT_EQ(outcome.error().details()[0].path, path) << outcome.error().to_string();
  };
  expect_invalid(Json::array(), "message");
  expect_invalid({{"user", {{"id", "a"}}}}, "body");
  expect_invalid({{"body", ""}, {"user", {{"id", "a"}}}}, "body");
  expect_invalid({{"body", std::string(4097, 'x')}, {"user", {{"id", "a"}}}}, "body");
  expect_invalid({{"body", "x"}}, "user");
  expect_invalid({{"body", "x"}, {"user", {{"id", ""}}}}, "user.id");
  expect_invalid({{"body", "x"}, {"user", {{"id", "a"}, {"roles", {"king"}}}}}, "user.roles[0]");
  expect_invalid({{"body", "x"}, {"user", {{"id", "a"}, {"roles", {"bot"}}}}}, "user.roles[0]");
  expect_invalid({{"body", "x"}, {"user", {{"id", "a"}, {"admin", true}}}}, "user.admin");
  expect_invalid({{"body", "x"}, {"user", {{"id", "a"}}}, {"id", "../etc"}}, "id");
  expect_invalid({{"body", "x"}, {"user", {{"id", "a"}}}, {"colour", "red"}}, "colour");
  EXPECT_TRUE(bodies().empty());
  // A duplicate id is refused and the first message stays.
  ASSERT_TRUE(room_->post({{"body", "one"}, {"user", {{"id", "a"}}}, {"id", "m-1"}}).ok());
  auto again = room_->post({{"body", "two"}, {"user", {{"id", "a"}}}, {"id", "m-1"}});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), ErrorCode::kAlreadyExists);
  EXPECT_THAT(bodies(), ElementsAre("one"));
}

TEST_F(ChatRoomTest, FiltersDropOrChangeTheTextButNotTheSpeaker) {
  write_plugin("words", {}, R"lua(
return { filter_chat_message = function(m)
  if m.body:find("spam") then return outlet.filter.drop("no spam") end
  m.body = m.body:gsub("darn", "****")
  m.user.id = "someone-else"
  return outlet.filter.modify(m)
end }
)lua");
  start();
  auto dropped = say("ann", "buy spam now");
  ASSERT_TRUE(dropped.ok());
  EXPECT_FALSE(dropped->accepted);
  EXPECT_EQ(dropped->dropped_by, "words");
  EXPECT_EQ(dropped->reason, "no spam");
  auto changed = say("ann", "darn it");
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->message.body, "**** it");
  EXPECT_EQ(changed->message.user.id, "ann");
  EXPECT_THAT(bodies(), ElementsAre("**** it"));
  EXPECT_EQ(frames_of("message").size(), 1u);
}

TEST_F(ChatRoomTest, HistoryIsBoundedAndSurvivesAReopen) {
  const std::string store = (dir_.path() / "chat.sqlite3").string();
  start(store);
  for (int i = 0; i < 60; ++i)
    ASSERT_TRUE(say("ann", "m" + std::to_string(i)).ok());
  auto all = room_->history(1000).value();
  EXPECT_GE(all.size(), 20u);
  EXPECT_LE(all.size(), 22u);
  EXPECT_EQ(all.back().body, "m59");
  EXPECT_EQ(room_->history(3).value().front().body, "m57");
  ASSERT_TRUE(room_->sanction("troll", SanctionKind::kBan, 0, "rude", "operator").ok());
  room_->stop();
  room_.reset();
  host_.reset();

  start(store);
  EXPECT_EQ(room_->history(1).value().front().body, "m59");
  ASSERT_EQ(room_->sanctions().size(), 1u);
  EXPECT_EQ(room_->sanctions()[0].reason, "rude");
  EXPECT_EQ(say("troll", "let me in").error().code(), ErrorCode::kPermissionDenied);
}

TEST_F(ChatRoomTest, TimeoutsExpireAndBansHoldUntilLifted) {
  start();
  ASSERT_TRUE(room_->sanction("bob", SanctionKind::kTimeout, 60, "calm down", "operator").ok());
  auto refused = say("bob", "hi");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), ErrorCode::kPermissionDenied);
  EXPECT_THAT(refused.error().message(), HasSubstr("timed out for 60 more seconds (calm down)"));
  now_ += 59'000;
  EXPECT_FALSE(say("bob", "hi").ok());
  now_ += 1'000;
  EXPECT_TRUE(say("bob", "hi").ok());
  EXPECT_TRUE(room_->sanctions().empty());

  ASSERT_TRUE(room_->sanction("eve", SanctionKind::kBan, 0, "", "operator").ok());
  now_ += int64_t{365} * 24 * 3600 * 1000;
  EXPECT_FALSE(say("eve", "still?").ok());
  EXPECT_TRUE(room_->lift("eve", "operator").value());
  EXPECT_FALSE(room_->lift("eve", "operator").value());
  EXPECT_TRUE(say("eve", "back").ok());
  EXPECT_EQ(frames_of("sanction").size(), 2u);
  EXPECT_EQ(frames_of("lifted").size(), 1u);
  EXPECT_EQ(room_->sanction("x", SanctionKind::kTimeout, 0, "", "operator").error().code(),
            ErrorCode::kInvalidArgument);
}

TEST_F(ChatRoomTest, PluginHostFunctionsActOnTheLiveChat) {
  write_plugin("greeter", {"chat.send", "chat.system", "chat.moderate"}, R"lua(
return { on_chat_message = function(m)
  if m.body == "!hi" then
    local sent = outlet.chat.send("hello " .. m.user.displayName)
    outlet.chat.system("sent " .. sent.id)
  elseif m.body == "!delete me" then
    outlet.chat.moderate({ action = "delete", messageId = m.id })
  elseif m.body == "!ban me" then
    outlet.chat.moderate({ action = "ban", userId = m.user.id, reason = "asked for it" })
  elseif m.body == "!ban mod" then
    local ok, err = pcall(outlet.chat.moderate, { action = "ban", userId = "mod" })
    outlet.chat.send(ok and "banned a mod" or ("refused: " .. tostring(err)))
  end
end }
)lua");
  start();
  ASSERT_TRUE(say("ann", "!hi").ok());
  host_->wait_idle();
  auto history = room_->history(10).value();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[1].body, "hello ann");
  EXPECT_EQ(history[1].user.id, "bot:greeter");
  EXPECT_EQ(history[1].user.display_name, "greeter bot");
  EXPECT_EQ(history[1].user.roles, std::vector<std::string>{"bot"});
  EXPECT_EQ(history[1].plugin_id, "greeter");
  EXPECT_EQ(history[2].kind, MessageKind::kSystem);
  EXPECT_EQ(history[2].body, "sent " + history[1].id);

  auto doomed = say("ann", "!delete me");
  host_->wait_idle();
  for (const ChatMessage& message : recent(10))
    EXPECT_NE(message.id, doomed->message.id);
  ASSERT_EQ(frames_of("deleted").size(), 1u);
  EXPECT_EQ(frames_of("deleted")[0]["by"], "greeter");

  ASSERT_TRUE(say("carl", "!ban me").ok());
  host_->wait_idle();
  EXPECT_EQ(say("carl", "hello?").error().code(), ErrorCode::kPermissionDenied);
  ASSERT_EQ(room_->sanctions().size(), 1u);
  EXPECT_EQ(room_->sanctions()[0].by, "greeter");

  ASSERT_TRUE(say("mod", "present", {"moderator"}).ok());
  ASSERT_TRUE(say("ann", "!ban mod").ok());
  host_->wait_idle();
  EXPECT_THAT(room_->history(1).value()[0].body, HasSubstr("refused:"));
  EXPECT_THAT(room_->history(1).value()[0].body, HasSubstr("moderator"));
  EXPECT_TRUE(say("mod", "still here").ok());
}

TEST_F(ChatRoomTest, BotMessagesDoNotReachPluginsAgain) {
  // Two echo bots would answer each other forever if bot messages were notified.
  for (const char* id : {"echo-a", "echo-b"}) {
    write_plugin(id, {"chat.send"}, R"lua(
return { on_chat_message = function(m) outlet.chat.send("echo: " .. m.body) end }
)lua");
  }
  start();
  ASSERT_TRUE(say("ann", "ping").ok());
  host_->wait_idle();
  EXPECT_EQ(room_->history(100).value().size(), 3u);
}

constexpr const char* kTriggerBot = R"lua(
return { on_chat_trigger = function(req)
  local t = req.trigger
  if t.type == "moderate" then
    if req.text:find("http") then return { action = "delete", message = "no links, " .. req.user.displayName } end
    if req.text:find("idiot") then return { action = "timeout", duration = 30, reason = "insult" } end
    return { action = "none" }
  elseif t.type == "command" then
    return { action = "send_message", message = t.id .. ":" .. req.command .. ":" .. req.text .. ":" .. #req.args .. ":" .. req.config.greeting }
  elseif t.type == "keyword" or t.type == "pattern" then
    return { action = "send_message", message = t.id .. " matched" }
  elseif t.type == "event" then
    return { action = "send_message", message = "welcome " .. req.payload.user.displayName }
  end
end }
)lua";

Json trigger_manifest() {
  return {{"triggers",
           {{{"type", "moderate"}},
            {{"type", "command"}, {"id", "hello"}, {"command", "hello"}, {"aliases", {"hi"}}},
            {{"type", "command"},
             {"id", "slow"},
             {"command", "slow"},
             {"cooldown", {{"user", 10}, {"global", 3}}}},
            {{"type", "keyword"}, {"id", "kw"}, {"keywords", {"pizza"}}},
            {{"type", "pattern"}, {"id", "dice"}, {"pattern", "\\b\\d+d\\d+\\b"}},
            {{"type", "event"}, {"id", "welcome"}, {"event", "chat.user.joined"}}}},
          {"config",
           {{"type", "object"},
            {"properties", {{"greeting", {{"type", "string"}, {"default", "hey"}}}}}}}};
}

TEST_F(ChatRoomTest, TriggersMatchInOrderAndTheirAnswersAreCarriedOut) {
  write_plugin("bot", {"chat.send", "chat.moderate"}, kTriggerBot, trigger_manifest());
  start();
  ASSERT_TRUE(say("ann", "!HI there you").ok());
  EXPECT_EQ(room_->history(1).value()[0].body, "hello:hi:there you:2:hey");
  // A command wins over a keyword in the same message; a keyword over a pattern.
  ASSERT_TRUE(say("ann", "!hello pizza 2d6").ok());
  EXPECT_EQ(room_->history(1).value()[0].body, "hello:hello:pizza 2d6:2:hey");
  ASSERT_TRUE(say("ann", "pizza for 2d6").ok());
  EXPECT_EQ(room_->history(1).value()[0].body, "kw matched");
  ASSERT_TRUE(say("ann", "roll 3d20").ok());
  EXPECT_EQ(room_->history(1).value()[0].body, "dice matched");
  const size_t before = room_->history(100).value().size();
  ASSERT_TRUE(say("ann", "just talking").ok());
  EXPECT_EQ(room_->history(100).value().size(), before + 1);

  // The moderate gate: the link is deleted, its reply posted, and no command runs.
  auto link = say("ann", "!hello see http://x");
  auto last = room_->history(1).value()[0];
  EXPECT_EQ(last.body, "no links, ann");
  for (const ChatMessage& message : recent(100))
    EXPECT_NE(message.id, link->message.id);
  ASSERT_TRUE(say("dan", "you idiot").ok());
  EXPECT_EQ(say("dan", "sorry").error().code(), ErrorCode::kPermissionDenied);
  now_ += 30'000;
  EXPECT_TRUE(say("dan", "sorry").ok());

  ASSERT_TRUE(room_->join({{"id", "eve"}, {"display_name", "Eve"}}).ok());
  EXPECT_EQ(room_->history(1).value()[0].body, "welcome Eve");
  EXPECT_EQ(trigger_stats("bot", "hello")["executed"], 2);
  EXPECT_EQ(trigger_stats("bot", "moderate-0")["matched"].get<int>(), 8);  // every accepted message
}

TEST_F(ChatRoomTest, CooldownsPerUserAndGlobal) {
  write_plugin("bot", {"chat.send", "chat.moderate"}, kTriggerBot, trigger_manifest());
  start();
  auto replies = [&] {
    int n = 0;
    for (const ChatMessage& message : recent(100))
      n += message.body.starts_with("slow:") ? 1 : 0;
    return n;
  };
  ASSERT_TRUE(say("ann", "!slow").ok());
  EXPECT_EQ(replies(), 1);
  ASSERT_TRUE(say("bob", "!slow").ok());  // global cooldown: 3 s
  EXPECT_EQ(replies(), 1);
  now_ += 3'000;
  ASSERT_TRUE(say("bob", "!slow").ok());
  EXPECT_EQ(replies(), 2);
  now_ += 3'000;
  ASSERT_TRUE(say("ann", "!slow").ok());  // ann's own cooldown: 10 s, 6 s gone
  EXPECT_EQ(replies(), 2);
  now_ += 4'000;
  ASSERT_TRUE(say("ann", "!slow").ok());
  EXPECT_EQ(replies(), 3);
  EXPECT_EQ(trigger_stats("bot", "slow")["cooled_down"], 2);
}

TEST_F(ChatRoomTest, AnswersTheHostWillNotCarryOutAreCountedWithTheReason) {
  write_plugin("rude", {"chat.send"}, R"lua(
return { on_chat_trigger = function(req)
  if req.text == "ban" then return { action = "ban" } end
  if req.text == "nuke" then return { action = "nuke" } end
  if req.text == "long" then return { action = "timeout", duration = 99999999 } end
  if req.text == "list" then return { 1, 2 } end
  if req.text == "fail" then error("broken") end
  return nil
end }
)lua",
               {{"triggers", {{{"type", "command"}, {"command", "do"}}}}});
  start();
  auto problem_after = [&](const std::string& text) {
    EXPECT_TRUE(say("ann", "!do " + text).ok());
    return trigger_stats("rude", "command-0")["last_problem"];
  };
  EXPECT_THAT(problem_after("ban").get<std::string>(), HasSubstr("chat.moderate"));
  EXPECT_THAT(problem_after("nuke").get<std::string>(), HasSubstr("answer.action"));
  EXPECT_THAT(problem_after("long").get<std::string>(), HasSubstr("chat.moderate"));
  EXPECT_THAT(problem_after("list").get<std::string>(), HasSubstr("must be an object"));
  EXPECT_THAT(problem_after("fail").get<std::string>(), HasSubstr("broken"));
  Json stats = trigger_stats("rude", "command-0");
  EXPECT_EQ(stats["refused"], 4);
  EXPECT_EQ(stats["failed"], 1);
  EXPECT_TRUE(say("ann", "!do nothing").ok());
  EXPECT_EQ(trigger_stats("rude", "command-0")["executed"], 1);
  EXPECT_TRUE(room_->sanctions().empty());
}

TEST_F(ChatRoomTest, TriggerSetsFollowEnableAndDisable) {
  write_plugin("bot", {"chat.send", "chat.moderate"}, kTriggerBot, trigger_manifest());
  start();
  EXPECT_EQ(room_->triggers().describe()["triggers"].size(), 6u);
  ASSERT_TRUE(host_->disable("bot").ok());
  EXPECT_EQ(room_->triggers().describe()["triggers"].size(), 0u);
  ASSERT_TRUE(say("ann", "!hello").ok());
  EXPECT_EQ(room_->history(10).value().size(), 1u);
  ASSERT_TRUE(host_->enable("bot").ok());
  ASSERT_TRUE(say("ann", "!hello").ok());
  EXPECT_EQ(room_->history(1).value()[0].body, "hello:hello::0:hey");
}

TEST_F(ChatRoomTest, TimersFireWhileLiveAndDeferredActionsRunLater) {
  write_plugin("timed", {"chat.send"}, R"lua(
return { on_chat_trigger = function(req)
  if req.trigger.type == "timer" then return { action = "send_message", message = "tick" } end
  outlet.chat.defer(1, { action = "send_message", message = "later: " .. req.text })
  return { action = "send_message", message = "now" }
end }
)lua",
               {{"triggers",
                 {{{"type", "timer"}, {"id", "tick"}, {"interval", 1}},
                  {{"type", "command"}, {"command", "later"}}}}});
  start();
  auto count = [&](const std::string& body) {
    int n = 0;
    for (const ChatMessage& message : recent(100))
      n += message.body == body ? 1 : 0;
    return n;
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  EXPECT_EQ(count("tick"), 0);  // not live: timers wait
  ASSERT_TRUE(room_->set_live(true, Json::object()).ok());
  ASSERT_TRUE(say("ann", "!later soon").ok());
  EXPECT_EQ(count("now"), 1);
  EXPECT_EQ(count("later: soon"), 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while ((count("tick") < 2 || count("later: soon") < 1) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_GE(count("tick"), 2);
  EXPECT_EQ(count("later: soon"), 1);
  ASSERT_TRUE(room_->set_live(false, Json::object()).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const int ticks = count("tick");
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  EXPECT_EQ(count("tick"), ticks);
  EXPECT_EQ(room_->set_live(false, Json::object()).error().code(), ErrorCode::kFailedPrecondition);
}

TEST_F(ChatRoomTest, OperatorEventsAreValidatedAndDelivered) {
  write_plugin("watcher", {"storage.kv"}, R"lua(
return {
  on_stream_title_changed = function(e) outlet.kv.set("title", e.title) end,
  on_user_parted = function(e) outlet.kv.set("parted", e.user.id) end,
}
)lua");
  start();
  EXPECT_EQ(room_->post_event("no.such.event", Json::object()).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(room_->post_event("chat.trigger", Json::object()).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(room_->post_event("chat.user.joined", {{"user", {{"id", 5}}}}).error().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(room_->part("nobody").error().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(room_->post_event("stream.title.changed", {{"title", "Speedrun"}}).ok());
  ASSERT_TRUE(room_->post_event("chat.user.joined", {{"user", {{"id", "ann"}}}}).ok());
  ASSERT_TRUE(room_->post_event("chat.user.parted", {{"user", {{"id", "ann"}}}}).ok());
  host_->wait_idle();
  const std::string ns = host_->kv_namespace("watcher");
  EXPECT_EQ(host_->kv().get(ns, "title").value(), Json("Speedrun"));
  EXPECT_EQ(host_->kv().get(ns, "parted").value(), Json("ann"));
  EXPECT_EQ(room_->users()[0]["present"], false);
  EXPECT_EQ(frames_of("joined").size(), 1u);
  EXPECT_EQ(frames_of("parted").size(), 1u);
}

TEST_F(ChatRoomTest, DeferRefusesBadArgumentsAndCapsWhatWaits) {
  write_plugin("patient", {"chat.send"}, R"lua(
return { on_chat_message = function(m)
  local problems = {}
  for _, args in ipairs({ { 0, { action = "none" } }, { 3601, { action = "none" } },
                          { 1.5, { action = "none" } }, { 5, "send hi" }, { 5, {} } }) do
    local ok, err = pcall(outlet.chat.defer, args[1], args[2])
    if not ok then problems[#problems + 1] = tostring(err) end
  end
  local queued, refusal = 0, nil
  for _ = 1, 101 do
    local ok, err = pcall(outlet.chat.defer, 3600, { action = "send_message", message = "much later" })
    if ok then queued = queued + 1 else refusal = tostring(err) end
  end
  outlet.chat.send(#problems .. " refused; " .. queued .. " queued; " .. tostring(refusal))
end }
)lua");
  start();
  ASSERT_TRUE(say("ann", "go").ok());
  host_->wait_idle();
  const std::string report = room_->history(1).value()[0].body;
  EXPECT_THAT(report, HasSubstr("5 refused; 100 queued;"));
  EXPECT_THAT(report, HasSubstr("100 deferred actions are already waiting"));
}

TEST_F(ChatRoomTest, TrackedUsersStayBoundedEvenIfNobodyParts) {
  host_ = std::move(Host::create({})).value();
  ASSERT_TRUE(domain_.declare(*host_).ok());
  room_ =
      std::move(ChatRoom::open(*host_, domain_,
                               {.max_tracked_users = 20, .now_ms = [this] { return now_.load(); }}))
          .value();
  ASSERT_TRUE(room_->join({{"id", "regular"}}).ok());
  ASSERT_TRUE(room_->part("regular").ok());
  for (int i = 0; i < 100; ++i) {
    now_ += 1000;
    ASSERT_TRUE(say("user-" + std::to_string(i), "hi").ok());
  }
  Json users = room_->users();
  EXPECT_LE(users.size(), 20u);
  std::set<std::string> ids;
  for (const Json& user : users)
    ids.insert(user["id"].get<std::string>());
  EXPECT_EQ(ids.count("regular"), 0u) << "an absent user goes first";
  EXPECT_EQ(ids.count("user-99"), 1u) << "the newest stays";
  EXPECT_EQ(ids.count("user-0"), 0u) << "the longest unseen goes";
}

}  // namespace
}  // namespace outlet::chat
