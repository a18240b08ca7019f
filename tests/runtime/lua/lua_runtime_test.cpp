// The Lua runtime through a real Host with the chat domain: how handlers are
// found in a plugin file (and the mistakes that are reported), errors at load and
// at call time, print, the outlet table, handler arguments and memory limits.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "domains/chat/chat_domain.h"
#include "outlet/host.h"
#include "support/test_support.h"

namespace outlet {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

Json chat(const std::string& body) {
  return {{"id", "m1"}, {"user", {{"id", "u-1"}, {"displayName", "tester"}}}, {"body", body}};
}

Json joined(const std::string& user) {
  return {{"user", {{"id", user}, {"displayName", user}}}};
}

class LuaRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HostOptions options;
    options.log_sink = [this](const std::string& id, std::string_view level,
                              const std::string& message) {
      std::lock_guard lock(log_mutex_);
      log_.push_back(id + " " + std::string(level) + " " + message);
    };
    // Generous: these tests are about behaviour, on a busy machine.
    options.timeout_ms = {2000, 2000, 2000, 2000, 5000};
    auto host = Host::create(options);
    ASSERT_TRUE(host.ok()) << host.error().to_string();
    host_ = std::move(host).value();
    ASSERT_TRUE(domain_.declare(*host_).ok());
    ASSERT_TRUE(host_->declare_event({"test.panels", {HookKind::kCollect}, nullptr, ""}).ok());
    EventSpec key{"test.key", {HookKind::kDispatch}, nullptr, "A key press."};
    key.handler_arguments = {"key", "state"};
    ASSERT_TRUE(host_->declare_event(std::move(key)).ok());
  }

  void TearDown() override {
    outlet::testing::finishes_or_abort("destroying the host", [this] { host_.reset(); });
  }

  // Writes the plugin folder, adds, approves and enables it; its status after.
  PluginStatus add(const std::string& id, const std::string& source,
                   const Json& patch = Json::object()) {
    Json manifest = {{"id", id},
                     {"name", id},
                     {"version", "1.0.0"},
                     {"kind", "bot-module"},
                     {"runtime", "lua"},
                     {"entrypoint", "plugin.lua"},
                     {"permissions", {"storage.kv", "log"}}};
    manifest.merge_patch(patch);
    fs::path folder = dir_.path() / id;
    fs::create_directories(folder);
    {
      std::ofstream(folder / "plugin.json") << manifest.dump(2);
      std::ofstream(folder / "plugin.lua") << source;
    }
    auto plugin = read_plugin_folder(folder.string(), host_->vocabulary());
    EXPECT_TRUE(plugin.ok()) << plugin.error().to_string();
    if (!plugin.ok())
      return {};
    EXPECT_TRUE(host_->add_plugin(*plugin).ok());
    EXPECT_TRUE(host_->approve(id).ok());
    (void)host_->enable(id);  // a load failure shows in the status
    return *host_->status(id);
  }

  // Adds a plugin that must load.
  void load(const std::string& id, const std::string& source, const Json& patch = Json::object()) {
    PluginStatus status = add(id, source, patch);
    ASSERT_EQ(status.state, PluginState::kLoaded) << status.reason;
  }

  // Adds a plugin that must fail to load; the reason.
  std::string load_error(const std::string& id, const std::string& source,
                         const Json& patch = Json::object()) {
    PluginStatus status = add(id, source, patch);
    EXPECT_EQ(status.state, PluginState::kFailed) << "loaded:\n" << source;
    return status.reason;
  }

  Json kv(const std::string& id, const std::string& key) {
    auto value = host_->kv().get(host_->kv_namespace(id), key);
    return value.ok() && value->has_value() ? **value : Json();
  }

  std::string warnings(const std::string& id) {
    std::string text;
    std::optional<PluginStatus> status = host_->status(id);
    for (const Warning& warning : status->warnings)
      text += warning.hook + ": " + warning.message + "\n";
    return text;
  }

  std::vector<std::string> log() {
    std::lock_guard lock(log_mutex_);
    return log_;
  }

  outlet::testing::TempDir dir_{"outlet-lua-runtime"};
  chat::ChatDomain domain_;
  std::unique_ptr<Host> host_;
  std::mutex log_mutex_;
  std::vector<std::string> log_;
};

// --- Finding the handlers ---

TEST_F(LuaRuntimeTest, TypedHandlerNames) {
  load("typed", R"lua(
return {
  on_chat_message = function(message) outlet.kv.set("notified", message.body) end,
  filter_chat_message = function(message)
    if message.body == "bad" then return outlet.filter.drop("typed said no") end
  end,
  on_user_joined = function(event) outlet.kv.set("joined", event.user.id) end,
}
)lua");
  EXPECT_EQ(host_->notify("chat.message.received", chat("hello")), 1u);
  EXPECT_EQ(host_->notify("chat.user.joined", joined("u-7")), 1u);
  EXPECT_EQ(host_->notify("chat.user.parted", joined("u-7")), 0u);
  host_->wait_idle();
  EXPECT_EQ(kv("typed", "notified"), "hello");
  EXPECT_EQ(kv("typed", "joined"), "u-7");
  FilterOutcome outcome = host_->filter("chat.message.received", chat("bad"));
  EXPECT_TRUE(outcome.dropped);
  EXPECT_EQ(outcome.reason, "typed said no");
  EXPECT_FALSE(host_->filter("chat.message.received", chat("fine")).dropped);
}

TEST_F(LuaRuntimeTest, GroupTables) {
  load("groups", R"lua(
return {
  on = {
    ["chat.user.joined"] = function(event) outlet.kv.set("joined", event.user.id) end,
    ["chat.message.received"] = function(message) outlet.kv.set("seen", message.body) end,
  },
  filter = {
    ["chat.message.received"] = function(message)
      message.body = message.body .. "!"
      return outlet.filter.modify(message)
    end,
  },
  request = {
    ["chat.trigger"] = function(payload) return { echo = payload.body } end,
  },
  collect = {
    ["test.panels"] = function(state) return { title = "groups", text = state.text } end,
  },
  dispatch = {
    ["test.key"] = function(key, state) return { consume = true, flash = key } end,
  },
}
)lua");
  host_->notify("chat.user.joined", joined("u-2"));
  host_->notify("chat.message.received", chat("hi"));
  host_->wait_idle();
  EXPECT_EQ(kv("groups", "joined"), "u-2");
  EXPECT_EQ(kv("groups", "seen"), "hi");
  EXPECT_EQ(host_->filter("chat.message.received", chat("hi")).payload["body"], "hi!");
  auto answer = host_->request("groups", "chat.trigger", {{"body", "ping"}});
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  EXPECT_EQ((*answer)["echo"], "ping");
  auto panels = host_->collect("test.panels", {{"text", "t"}});
  ASSERT_EQ(panels.size(), 1u);
  EXPECT_EQ(panels[0].value["title"], "groups");
  EXPECT_EQ(host_->dispatch("test.key", {{"key", "char:x"}, {"state", {}}}).merged["flash"],
            "char:x");
}

TEST_F(LuaRuntimeTest, AGlobalPluginTableReturnedOrNot) {
  // rs-pug style: a global `plugin` table, returned.
  load("pug-returned", R"lua(
plugin = {}
function plugin.on_chat_message(message)
  outlet.kv.set("pug", message.body)
end
return plugin
)lua");
  // The same without the return: the global is found.
  load("pug-global", R"lua(
plugin = {
  on_user_joined = function(event) outlet.kv.set("pug", event.user.id) end,
}
)lua");
  host_->notify("chat.message.received", chat("from pug"));
  host_->notify("chat.user.joined", joined("u-9"));
  host_->wait_idle();
  EXPECT_EQ(kv("pug-returned", "pug"), "from pug");
  EXPECT_EQ(kv("pug-global", "pug"), "u-9");
}

TEST_F(LuaRuntimeTest, AFileThatIsABareTableExpression) {
  load("bare", R"lua({
  on_chat_message = function(message) outlet.kv.set("bare", message.body) end,
}
)lua");
  host_->notify("chat.message.received", chat("bare works"));
  host_->wait_idle();
  EXPECT_EQ(kv("bare", "bare"), "bare works");
}

TEST_F(LuaRuntimeTest, AFileWithoutHandlersIsALoadError) {
  EXPECT_THAT(load_error("nothing", "local x = 1"),
              AllOf(HasSubstr("defines no handlers"), HasSubstr("set a global `plugin` table")));
  EXPECT_THAT(load_error("number", "return 42"), HasSubstr("defines no handlers"));
}

TEST_F(LuaRuntimeTest, FilterPriorityIsApplied) {
  // Lower priorities run first; the default is 100, and ties go by id.
  const char* source = R"lua(
return {
  filter_priority = %d,
  filter_chat_message = function(message)
    message.body = message.body .. "%s"
    return outlet.filter.modify(message)
  end,
}
)lua";
  char late[512], early[512], camel[512];
  std::snprintf(late, sizeof late, source, 200, "a");
  std::snprintf(early, sizeof early, source, 100, "b");
  std::snprintf(camel, sizeof camel, source, -5, "c");
  std::string camel_source = camel;
  camel_source.replace(camel_source.find("filter_priority"), 15, "filterPriority");
  load("a-late", late);
  load("b-early", early);
  load("c-first", camel_source);
  FilterOutcome outcome = host_->filter("chat.message.received", chat("x"));
  ASSERT_EQ(outcome.steps.size(), 3u);
  EXPECT_EQ(outcome.steps[0].plugin_id, "c-first");
  EXPECT_EQ(outcome.steps[1].plugin_id, "b-early");
  EXPECT_EQ(outcome.steps[2].plugin_id, "a-late");
  EXPECT_EQ(outcome.payload["body"], "xcba");
  EXPECT_THAT(load_error("bad-priority", R"lua(return {
  filter_priority = "high",
  filter_chat_message = function() end,
})lua"),
              AllOf(HasSubstr("filter_priority"), HasSubstr("must be an integer (got a string)")));
}

TEST_F(LuaRuntimeTest, ManifestSubscriptionsMustMatchTheHandlers) {
  std::string reason = load_error("mismatch", R"lua(return {
  on_chat_message = function() end,
})lua",
                                  {{"subscriptions", {{"notify", {"chat.user.joined"}}}}});
  EXPECT_THAT(reason, HasSubstr("disagree"));
  EXPECT_THAT(reason,
              HasSubstr("declared in the manifest but not implemented: notify chat.user.joined"));
  EXPECT_THAT(reason,
              HasSubstr("implemented by the code but not declared: notify chat.message.received"));
  // When they agree the plugin loads, with the manifest's priority (-200: before
  // "other" at -100, where the default 100 would put it after).
  load("agree", R"lua(return {
  filter_chat_message = function(message) return outlet.filter.drop("agree") end,
})lua",
       {{"subscriptions",
         {{"filter", {{{"event", "chat.message.received"}, {"priority", -200}}}}}}});
  load("other", R"lua(return {
  filter_chat_message = function(message) return outlet.filter.drop("other") end,
  filter_priority = -100,
})lua");
  FilterOutcome outcome = host_->filter("chat.message.received", chat("x"));
  ASSERT_EQ(outcome.steps.size(), 1u);
  EXPECT_EQ(outcome.dropped_by, "agree");
}

TEST_F(LuaRuntimeTest, ANonFunctionHandlerIsALoadErrorNamingTheField) {
  EXPECT_THAT(load_error("not-function", "return { on_chat_message = 5 }"),
              AllOf(HasSubstr("the plugin's handlers are invalid"),
                    HasSubstr("on_chat_message: must be a function (got a number)")));
  EXPECT_THAT(
      load_error("not-function-group", "return { on = { [\"chat.user.joined\"] = \"nope\" } }"),
      HasSubstr("on[\"chat.user.joined\"]: must be a function (got a string)"));
  EXPECT_THAT(load_error("group-not-table", "return { filter = 5 }"),
              HasSubstr("filter: must be a table of event name -> handler (got a number)"));
  EXPECT_THAT(load_error("group-bad-key", "return { on = { [1] = function() end } }"),
              HasSubstr("on: keys must be event names (got a number)"));
}

TEST_F(LuaRuntimeTest, AnUntypedHandlerForAFilterOnlyEventNamesTheFilterForm) {
  ASSERT_TRUE(host_->declare_event({"test.gate", {HookKind::kFilter}, nullptr, ""}).ok());
  EXPECT_THAT(load_error("gate-on", "return { on_test_gate = function() end }"),
              HasSubstr("on_test_gate: \"test.gate\" is delivered only to filters; name the "
                        "handler filter_test_gate"));
  EXPECT_THAT(load_error("gate-on-table", "return { on = { [\"test.gate\"] = function() end } }"),
              HasSubstr("is delivered only to filters"));
  EXPECT_EQ(add("gate-filter", "return { filter_test_gate = function() end }").state,
            PluginState::kLoaded);
}

TEST_F(LuaRuntimeTest, AnUnknownTypedNameIsOnlyAWarningWithASuggestion) {
  load("typo", R"lua(return {
  on_chat_mesage = function() end,
  on_user_joined = function() end,
  on_helper_value = 5,
  helper = function() end,
})lua");
  std::string text = warnings("typo");
  EXPECT_THAT(text, HasSubstr("on_chat_mesage is not a handler"));
  EXPECT_THAT(text, HasSubstr("did you mean"));
  EXPECT_THAT(text, HasSubstr("on_chat_message"));
  // Not-a-function values and other names are the plugin's own business.
  EXPECT_THAT(text, Not(HasSubstr("on_helper_value")));
  EXPECT_THAT(text, Not(HasSubstr("helper is")));
  EXPECT_EQ(host_->notify("chat.message.received", chat("x")), 0u);
}

TEST_F(LuaRuntimeTest, TwoHandlersForOneEventAreAnError) {
  EXPECT_THAT(load_error("duplicate", R"lua(return {
  on_user_joined = function() end,
  on = { ["chat.user.joined"] = function() end },
})lua"),
              HasSubstr("a second notify handler for \"chat.user.joined\""));
  EXPECT_THAT(load_error("duplicate-filter", R"lua(return {
  filter_chat_message = function() end,
  filter = { ["chat.message.received"] = function() end },
})lua"),
              HasSubstr("a second filter handler for \"chat.message.received\""));
  // A filter and a notify handler for the same event are two different things.
  load("both-kinds", R"lua(return {
  filter_chat_message = function() end,
  on_chat_message = function() end,
})lua");
}

// --- Errors at load time ---

TEST_F(LuaRuntimeTest, ASyntaxErrorReportsFileAndLine) {
  std::string reason = load_error("syntax", "local x = 1\nlocal y = \nreturn {}\n");
  EXPECT_THAT(reason, HasSubstr("does not compile"));
  EXPECT_THAT(reason, HasSubstr("plugin.lua:3:"));
  reason = load_error("syntax2",
                      "return {\n  on_chat_message = function(m)\n    if m then\n  end,\n}\n");
  EXPECT_THAT(reason, HasSubstr("plugin.lua:"));
  EXPECT_THAT(reason, HasSubstr("does not compile"));
}

TEST_F(LuaRuntimeTest, AnErrorWhileLoadingIsReported) {
  std::string reason = load_error("raises", "local t = {}\nerror('boom at load')\nreturn t\n");
  EXPECT_THAT(reason, HasSubstr("failed while loading"));
  EXPECT_THAT(reason, HasSubstr("plugin.lua:2: boom at load"));
  reason = load_error("indexes-nil", "local t = nil\nreturn { on_chat_message = t.x }\n");
  EXPECT_THAT(reason, HasSubstr("plugin.lua:2: attempt to index"));
}

TEST_F(LuaRuntimeTest, ATopLevelInfiniteLoopFailsTheLoad) {
  std::string reason = load_error("spins", "while true do end\nreturn {}\n");
  EXPECT_THAT(reason, HasSubstr("to load"));
  EXPECT_THAT(reason, HasSubstr("plugin.lua:1"));
}

TEST_F(LuaRuntimeTest, HostFunctionsCannotBeCalledWhileLoading) {
  std::string reason = load_error("eager", R"lua(
outlet.kv.set("too", "early")
return { on_chat_message = function() end }
)lua");
  EXPECT_THAT(reason, HasSubstr("outlet.kv.set: host functions cannot be called while the plugin "
                                "loads; call them from a handler"));
  EXPECT_THAT(load_error("eager-print",
                         "print('hello')\nreturn { on_chat_message = function() "
                         "end }"),
              HasSubstr("cannot be called while the plugin loads"));
}

// --- Errors at call time ---

TEST_F(LuaRuntimeTest, ErrorsAtCallTimeCarryFileLineAndTraceback) {
  load("fails", R"lua(
local function helper(x)
  error("helper failed with " .. x)
end

return {
  filter_chat_message = function(message)
    helper(message.body)
  end,
  request = {
    ["chat.trigger"] = function(payload)
      local t = nil
      return t.field
    end,
  },
}
)lua");
  FilterOutcome outcome = host_->filter("chat.message.received", chat("xyz"));
  ASSERT_EQ(outcome.steps.size(), 1u);
  EXPECT_EQ(outcome.steps[0].action, FilterAction::kFailed);
  const std::string& detail = outcome.steps[0].detail;
  EXPECT_THAT(detail, HasSubstr("plugin.lua:3: helper failed with xyz"));
  EXPECT_THAT(detail, HasSubstr("stack traceback"));
  EXPECT_THAT(detail, HasSubstr("plugin.lua:8"));  // the handler's line in the traceback
  auto answer = host_->request("fails", "chat.trigger", {{"body", "x"}});
  ASSERT_FALSE(answer.ok());
  EXPECT_THAT(answer.error().message(), HasSubstr("plugin.lua:13: attempt to index"));
  EXPECT_THAT(answer.error().message(), HasSubstr("stack traceback"));
}

TEST_F(LuaRuntimeTest, AReturnValueJsonCannotHoldIsAnError) {
  load("returns", R"lua(return {
  request = { ["chat.trigger"] = function() return { list = { 1, 2, function() end } } end },
})lua");
  auto answer = host_->request("returns", "chat.trigger", {{"body", "x"}});
  ASSERT_FALSE(answer.ok());
  EXPECT_THAT(answer.error().message(),
              HasSubstr("at $.list[2]: a function value cannot become JSON"));
}

// --- print, the outlet table ---

TEST_F(LuaRuntimeTest, PrintGoesToTheLogWithTheLogPermission) {
  load("printer", R"lua(return {
  request = { ["chat.trigger"] = function(p) print("hello", 1, nil, true, outlet.null) return {} end },
})lua");
  ASSERT_TRUE(host_->request("printer", "chat.trigger", {{"body", "x"}}).ok());
  EXPECT_THAT(log(),
              ::testing::Contains(HasSubstr("printer info hello\t1\tnil\ttrue\toutlet.null")));
}

TEST_F(LuaRuntimeTest, PrintWithoutTheLogPermissionIsDroppedWithAWarning) {
  load("quiet", R"lua(return {
  request = { ["chat.trigger"] = function(p) print("unheard") return { ok = true } end },
})lua",
       {{"permissions", Json::array()}});
  auto answer = host_->request("quiet", "chat.trigger", {{"body", "x"}});
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  EXPECT_THAT(log(), Not(::testing::Contains(HasSubstr("unheard"))));
  EXPECT_THAT(warnings("quiet"), HasSubstr("print() output is dropped"));
}

TEST_F(LuaRuntimeTest, TheOutletTableOffersOnlyWhatWasGranted) {
  load("probe", R"lua(return {
  request = {
    ["chat.trigger"] = function(payload)
      local ok_chat, chat_error = pcall(function() return outlet.chat.send end)
      local ok_call, call_error = pcall(outlet.call, "chat.send", "hi")
      local ok_missing, missing_error = pcall(function() return outlet.kv.nope end)
      outlet.kv.set("k", { n = 1, nothing = outlet.null })
      return {
        has_send = outlet.has("chat.send"),
        has_get = outlet.has("kv.get"),
        has_log = outlet.has("log.info"),
        chat_error = chat_error,
        call_error = call_error,
        missing_error = missing_error,
        ok_chat = ok_chat, ok_call = ok_call, ok_missing = ok_missing,
        via_call = outlet.call("kv.get", "k"),
        nested_null = outlet.kv.get("k").nothing == outlet.null,
        missing_type = type(outlet.kv.get("absent")),
        missing_default = outlet.kv.get("absent") or "default",
      }
    end,
  },
})lua");
  auto answer = host_->request("probe", "chat.trigger", {{"body", "x"}});
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  const Json& a = *answer;
  EXPECT_EQ(a["has_send"], false);
  EXPECT_EQ(a["has_get"], true);
  EXPECT_EQ(a["has_log"], true);
  EXPECT_EQ(a["ok_chat"], false);
  EXPECT_THAT(a["chat_error"].get<std::string>(), HasSubstr("outlet.chat is not available"));
  EXPECT_EQ(a["ok_call"], false);
  EXPECT_THAT(a["call_error"].get<std::string>(),
              HasSubstr("host function \"chat.send\" is not available to this plugin"));
  EXPECT_EQ(a["ok_missing"], false);
  EXPECT_THAT(a["missing_error"].get<std::string>(), HasSubstr("outlet.kv.nope is not available"));
  EXPECT_EQ(a["via_call"], Json::parse(R"({"n": 1, "nothing": null})"));
  // kv.get of a missing key answers JSON null; a whole answer of null is nil (so
  // `outlet.kv.get(k) or default` works), a null inside one is outlet.null
  // (sdk/lua/README.md).
  EXPECT_EQ(a["missing_type"], "nil");
  EXPECT_EQ(a["missing_default"], "default");
  EXPECT_EQ(a["nested_null"], true);
  EXPECT_TRUE(domain_.actions().empty());
}

TEST_F(LuaRuntimeTest, AGrantedNamespaceStillRefusesItsUngrantedMembers) {
  load("chatty", R"lua(return {
  request = {
    ["chat.trigger"] = function(payload)
      outlet.chat.send("said " .. payload.body)
      local ok, err = pcall(function() return outlet.chat.system end)
      return { ok = ok, err = err }
    end,
  },
})lua",
       {{"permissions", {"chat.send"}}});
  auto answer = host_->request("chatty", "chat.trigger", {{"body", "x"}});
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  EXPECT_EQ((*answer)["ok"], false);
  EXPECT_THAT((*answer)["err"].get<std::string>(),
              HasSubstr("outlet.chat.system is not available"));
  EXPECT_EQ(domain_.recorded("chatSends"), Json::array({"said x"}));
}

TEST_F(LuaRuntimeTest, HostFunctionErrorsAreLuaErrors) {
  load("misuse", R"lua(return {
  request = {
    ["chat.trigger"] = function(payload)
      local ok, err = pcall(outlet.kv.set)
      local ok2, err2 = pcall(outlet.kv.set, "k", function() end)
      return { ok = ok, err = err, ok2 = ok2, err2 = err2 }
    end,
  },
})lua");
  auto answer = host_->request("misuse", "chat.trigger", {{"body", "x"}});
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  EXPECT_EQ((*answer)["ok"], false);
  EXPECT_THAT((*answer)["err"].get<std::string>(), HasSubstr("outlet.kv.set"));
  EXPECT_EQ((*answer)["ok2"], false);
  EXPECT_THAT((*answer)["err2"].get<std::string>(),
              HasSubstr("outlet.kv.set: argument 2 at $: a function value cannot become JSON"));
}

// --- Handler arguments ---

TEST_F(LuaRuntimeTest, HandlerArgumentsArrivePositionally) {
  load("keys", R"lua(return {
  on_test_key = function(key, state, extra)
    return {
      consume = true,
      flash = tostring(key) .. "/" .. tostring(state and state.mode) .. "/" .. type(extra),
    }
  end,
})lua");
  DispatchOutcome outcome =
      host_->dispatch("test.key", {{"key", "char:q"}, {"state", {{"mode", "insert"}}}});
  EXPECT_EQ(outcome.merged["flash"], "char:q/insert/nil");
  // A missing field is nil.
  outcome = host_->dispatch("test.key", {{"state", {{"mode", "normal"}}}});
  EXPECT_EQ(outcome.merged["flash"], "nil/normal/nil");
}

// --- Limits ---

TEST_F(LuaRuntimeTest, ManifestMemoryBytesLowersTheCap) {
  const char* source = R"lua(return {
  request = {
    ["chat.trigger"] = function(payload)
      local t = {}
      for i = 1, 400000 do t[i] = i end
      return { n = #t }
    end,
  },
})lua";
  load("roomy", source);
  load("tight", source, {{"limits", {{"memoryBytes", 2 << 20}}}});
  auto roomy = host_->request("roomy", "chat.trigger", {{"body", "x"}});
  ASSERT_TRUE(roomy.ok()) << roomy.error().to_string();
  EXPECT_EQ((*roomy)["n"], 400000);
  auto tight = host_->request("tight", "chat.trigger", {{"body", "x"}});
  ASSERT_FALSE(tight.ok());
  EXPECT_EQ(tight.error().code(), ErrorCode::kResourceExhausted) << tight.error().to_string();
  EXPECT_THAT(tight.error().message(), HasSubstr("2 MiB memory limit"));
  // A memory abort cannot be caught by the plugin.
  load("catcher", R"lua(return {
  request = {
    ["chat.trigger"] = function(payload)
      local ok = pcall(function() local t = {} for i = 1, 1e7 do t[i] = i end end)
      return { caught = not ok }
    end,
  },
})lua",
       {{"limits", {{"memoryBytes", 2 << 20}}}});
  auto caught = host_->request("catcher", "chat.trigger", {{"body", "x"}});
  ASSERT_FALSE(caught.ok()) << caught->dump();
  EXPECT_THAT(caught.error().message(), HasSubstr("memory limit"));
}

}  // namespace
}  // namespace outlet
