// The WebAssembly runtime on its own (issue #4): Extism's kernel semantics, the
// host's part of extism:host/env, WASI's exit, handler derivation from exports
// and `register`, and the module reader that checks imports and caps memories.
// Modules are C compiled by the build (tests/runtime/wasm/modules); the host
// functions are a small table of the test's own, so each behaviour is seen
// without a Host around it.
#include "runtime/spidermonkey/wasm_runtime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "outlet/manifest.h"
#include "outlet/warnings.h"
#include "runtime/spidermonkey/wasm_module.h"
#include "support/test_support.h"

namespace outlet {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The host functions a test grants: config.get, log.* and kv.*, recorded.
class TestFunctions : public HostFunctionTable {
 public:
  explicit TestFunctions(std::vector<std::string> names) : names_(std::move(names)) {}
  const std::vector<std::string>& function_names() const override { return names_; }
  Result<Json> invoke(size_t index, const Json& args, const CallContext&) override {
    const std::string& name = names_[index];
    if (name == "config.get")
      return config.value(args.at(0).get<std::string>(), Json());
    if (name.rfind("log.", 0) == 0) {
      log.push_back(name + " " + args.at(0).get<std::string>());
      return Json();
    }
    if (name == "kv.set") {
      kv[args.at(0).get<std::string>()] = args.size() > 1 ? args.at(1) : Json();
      return Json();
    }
    if (name == "kv.get") {
      auto found = kv.find(args.at(0).get<std::string>());
      return found == kv.end() ? Json() : found->second;
    }
    return Error(ErrorCode::kNotFound, name + ": not in this test");
  }

  Json config = Json::object();
  std::vector<std::string> log;
  std::map<std::string, Json> kv;

 private:
  std::vector<std::string> names_;
};

class WasmRuntimeTest : public ::testing::Test {
 protected:
  Result<std::unique_ptr<PluginInstance>> load(const std::string& module,
                                               std::vector<std::string> functions = {},
                                               const Json& patch = Json::object()) {
    fs::copy_file(fs::path(OUTLET_WASM_MODULES_DIR) / (module + ".wasm"),
                  dir_.path() / "plugin.wasm", fs::copy_options::overwrite_existing);
    Json document = {{"id", "wasm-plugin"}, {"name", "wasm-plugin"},
                     {"version", "1.0.0"},  {"kind", "bot-module"},
                     {"runtime", "wasm"},   {"entrypoint", "plugin.wasm"}};
    document.merge_patch(patch);
    auto parsed = parse_manifest(document, ManifestVocabulary{});
    EXPECT_TRUE(parsed.ok()) << parsed.error().to_string();
    functions_ = std::make_unique<TestFunctions>(std::move(functions));
    InstanceSpec spec;
    spec.manifest = std::make_shared<const Manifest>(parsed->manifest);
    spec.root = dir_.path().string();
    spec.entrypoint_path = (dir_.path() / "plugin.wasm").string();
    spec.host = functions_.get();
    spec.warnings = &warnings_;
    spec.events = {
        std::make_shared<const EventSpec>(EventSpec{"chat.message.received",
                                                    {HookKind::kNotify, HookKind::kFilter},
                                                    Json(),
                                                    "",
                                                    "host",
                                                    nullptr,
                                                    "chat_message"}),
        std::make_shared<const EventSpec>(
            EventSpec{"chat.trigger", {HookKind::kRequest}, Json(), "", "host", nullptr}),
    };
    return runtime_.instantiate(spec);
  }

  std::unique_ptr<PluginInstance> loaded(const std::string& module,
                                         std::vector<std::string> functions = {}) {
    auto instance = load(module, std::move(functions));
    EXPECT_TRUE(instance.ok()) << instance.error().to_string();
    return instance.ok() ? std::move(instance).value() : nullptr;
  }

  Result<std::string> call(PluginInstance& instance, const std::string& name,
                           const std::string& input = "") {
    context_.plugin_id = "wasm-plugin";
    context_.kind = HookKind::kRequest;
    context_.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    context_.timeout_ms = 2000;
    return instance.call_export(context_, name, input);
  }

  std::string warnings() {
    std::string all;
    for (const Warning& warning : warnings_.entries())
      all += warning.message + "\n";
    return all;
  }

  outlet::testing::TempDir dir_{"outlet-wasm-runtime"};
  WasmRuntime runtime_;
  std::unique_ptr<TestFunctions> functions_;
  WarningLog warnings_;
  CallContext context_;
};

TEST_F(WasmRuntimeTest, AnInputIsReadExactlyInWordsAndBytes) {
  auto instance = loaded("abi");
  ASSERT_TRUE(instance);
  std::string input(4099, '\0');
  for (size_t i = 0; i < input.size(); ++i)
    input[i] = static_cast<char>(i * 7 + 1);
  auto output = call(*instance, "echo", input);
  ASSERT_TRUE(output.ok()) << output.error().to_string();
  EXPECT_EQ(*output, input);
  EXPECT_EQ(*call(*instance, "echo", ""), "");
}

TEST_F(WasmRuntimeTest, TheKernelKeepsExtismsContract) {
  auto instance = loaded("abi");
  ASSERT_TRUE(instance);
  auto output = call(*instance, "edges", "0123456789");
  ASSERT_TRUE(output.ok()) << output.error().to_string();
  EXPECT_EQ(*output, "ok");
}

TEST_F(WasmRuntimeTest, VarsSurviveCallsAndVarSetOfNothingDeletes) {
  auto instance = loaded("abi");
  ASSERT_TRUE(instance);
  EXPECT_EQ(*call(*instance, "count"), "1");
  EXPECT_EQ(*call(*instance, "count"), "2");
  EXPECT_EQ(*call(*instance, "count"), "3");
  ASSERT_TRUE(call(*instance, "forget").ok());
  EXPECT_EQ(*call(*instance, "count"), "1");
}

TEST_F(WasmRuntimeTest, ConfigGetReadsTheConfigOnlyWithThePermission) {
  auto instance = loaded("abi", {"config.get"});
  ASSERT_TRUE(instance);
  functions_->config = {{"greeting", "hello"}, {"limit", 3}};
  EXPECT_EQ(*call(*instance, "config", "greeting"), "hello");
  EXPECT_EQ(*call(*instance, "config", "limit"), "3");  // JSON text for non-strings
  EXPECT_EQ(*call(*instance, "config", "missing"), "(none)");

  auto without = loaded("abi");
  ASSERT_TRUE(without);
  EXPECT_EQ(*call(*without, "config", "greeting"), "(none)");
  EXPECT_THAT(warnings(), HasSubstr("lacks the \"config.read\" permission"));
}

TEST_F(WasmRuntimeTest, LogLinesNeedTheLogPermissionElseWarningsGoToThePluginsWarnings) {
  auto instance = loaded("abi", {"log.debug", "log.info", "log.warn", "log.error"});
  ASSERT_TRUE(instance);
  EXPECT_EQ(*call(*instance, "logs"), "0");  // everything is wanted
  EXPECT_THAT(functions_->log, ElementsAre("log.info an info line", "log.warn a warning line"));

  auto without = loaded("abi");
  ASSERT_TRUE(without);
  EXPECT_EQ(*call(*without, "logs"), "3");  // only warnings and errors go anywhere
  EXPECT_THAT(warnings(), HasSubstr("a warning line"));
  EXPECT_THAT(warnings(), HasSubstr("log output is dropped"));
}

TEST_F(WasmRuntimeTest, ProcExitEndsTheCall) {
  auto instance = loaded("abi");
  ASSERT_TRUE(instance);
  auto zero = call(*instance, "exit_zero");
  ASSERT_TRUE(zero.ok()) << zero.error().to_string();
  EXPECT_EQ(*zero, "before exit");
  auto three = call(*instance, "exit_three");
  ASSERT_FALSE(three.ok());
  EXPECT_THAT(three.error().message(), HasSubstr("exit_three exited with code 3"));
  EXPECT_EQ(*call(*instance, "count"), "1") << "the instance is still usable";
}

TEST_F(WasmRuntimeTest, ANonZeroReturnCodeFailsTheCall) {
  auto instance = loaded("abi");
  ASSERT_TRUE(instance);
  auto result = call(*instance, "returns_seven");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(result.error().message(), HasSubstr("returned the non-zero code 7"));
  EXPECT_EQ(call(*instance, "no_such_export").error().code(), ErrorCode::kNotFound);
}

TEST_F(WasmRuntimeTest, ATypedHandlerOfTheWrongTypeIsALoadError) {
  auto instance = load("wrong_type");
  ASSERT_FALSE(instance.ok());
  EXPECT_THAT(instance.error().to_string(),
              AllOf(HasSubstr("on_chat_message"), HasSubstr("(i32) -> i32")));
}

TEST_F(WasmRuntimeTest, RegisterRoutesEventsToTheEnvelopeExports) {
  auto instance = loaded("registered");
  ASSERT_TRUE(instance);
  std::vector<Subscription> subscriptions = instance->subscriptions();
  ASSERT_EQ(subscriptions.size(), 2u);
  auto find = [&](HookKind kind) {
    auto it = std::find_if(subscriptions.begin(), subscriptions.end(),
                           [&](const Subscription& s) { return s.kind == kind; });
    return it == subscriptions.end() ? Subscription{} : *it;
  };
  EXPECT_EQ(find(HookKind::kNotify).event, "custom.event");
  EXPECT_EQ(find(HookKind::kFilter).event, "chat.message.received");
  EXPECT_EQ(find(HookKind::kFilter).priority, 5);

  CallContext context;
  context.kind = HookKind::kFilter;
  context.event = "chat.message.received";
  context.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  auto verdict = instance->call(context, {{"body", "hi"}});
  ASSERT_TRUE(verdict.ok()) << verdict.error().to_string();
  EXPECT_EQ((*verdict)["action"], "modify");
  EXPECT_EQ((*verdict)["payload"],
            Json({{"event", "chat.message.received"}, {"payload", {{"body", "hi"}}}}));
}

TEST_F(WasmRuntimeTest, WhatRegisterSaysMustAgreeWithTheManifest) {
  auto instance = load("registered", {}, {{"version", "2.0.0"}});
  ASSERT_FALSE(instance.ok());
  EXPECT_THAT(instance.error().to_string(),
              AllOf(HasSubstr("register.version"), HasSubstr("plugin.json says \"2.0.0\"")));
}

// --- The module reader ---

std::string module_bytes(std::initializer_list<unsigned> bytes) {
  std::string text;
  for (unsigned b : {0x00u, 0x61u, 0x73u, 0x6du, 0x01u, 0x00u, 0x00u, 0x00u})
    text.push_back(static_cast<char>(b));
  for (unsigned b : bytes)
    text.push_back(static_cast<char>(b));
  return text;
}

TEST(WasmModuleTest, RejectsWhatIsNotAModuleNamingWhy) {
  EXPECT_THAT(wasm::read_module("hello").error().message(), HasSubstr("not a wasm module"));
  std::string component = module_bytes({});
  component[4] = 0x0d;
  EXPECT_THAT(wasm::read_module(component).error().message(),
              HasSubstr("a component is not a module"));
  // A section that claims more bytes than there are.
  EXPECT_THAT(wasm::read_module(module_bytes({0x01, 0x7f, 0x00})).error().message(),
              HasSubstr("runs past the end"));
  // A count far larger than the bytes that follow.
  EXPECT_THAT(
      wasm::read_module(module_bytes({0x02, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f})).error().message(),
      HasSubstr("too many imports"));
}

TEST(WasmModuleTest, ReadsImportsWithTheirTypesAndExports) {
  // (type (func (param i64) (result i64)))
  // (import "extism:host/user" "kv.get" (func (type 0)))
  // (import "env" "memory" (memory 1))
  std::string bytes = module_bytes(
      {0x01, 0x06, 0x01, 0x60, 0x01, 0x7e, 0x01, 0x7e,  //
       0x02, 0x29, 0x02,                                //
       0x10, 'e',  'x',  't',  'i',  's',  'm',  ':',  'h', 'o', 's',  't',  '/',  'u',
       's',  'e',  'r',  0x06, 'k',  'v',  '.',  'g',  'e', 't', 0x00, 0x00,  //
       0x03, 'e',  'n',  'v',  0x06, 'm',  'e',  'm',  'o', 'r', 'y',  0x02, 0x00, 0x01});
  auto info = wasm::read_module(bytes);
  ASSERT_TRUE(info.ok()) << info.error().to_string();
  ASSERT_EQ(info->imports.size(), 2u);
  EXPECT_EQ(info->imports[0].module, "extism:host/user");
  EXPECT_EQ(info->imports[0].name, "kv.get");
  EXPECT_EQ(wasm::describe(*info->function_type(info->imports[0])), "(i64) -> i64");
  EXPECT_EQ(info->imports[1].kind, wasm::ExternalKind::kMemory);
}

TEST(WasmModuleTest, CapsMemoriesAndRefusesOnesThatStartAboveTheCap) {
  // (memory 2) then (memory 2 1000) in two modules.
  std::string open = module_bytes({0x05, 0x03, 0x01, 0x00, 0x02});
  auto info = wasm::read_module(open);
  ASSERT_TRUE(info.ok());
  auto capped = wasm::cap_memories(open, *info, 100);
  ASSERT_TRUE(capped.ok());
  auto reread = wasm::read_module(*capped);
  ASSERT_TRUE(reread.ok());
  EXPECT_EQ(reread->memories[0].min_pages, 2u);
  EXPECT_EQ(reread->memories[0].max_pages, 100u);

  std::string bounded = module_bytes({0x05, 0x05, 0x01, 0x01, 0x02, 0xe8, 0x07});
  info = wasm::read_module(bounded);
  ASSERT_TRUE(info.ok());
  reread = wasm::read_module(*wasm::cap_memories(bounded, *info, 100));
  EXPECT_EQ(reread->memories[0].max_pages, 100u);
  reread = wasm::read_module(*wasm::cap_memories(bounded, *info, 5000));
  EXPECT_EQ(reread->memories[0].max_pages, 1000u) << "a lower declared maximum stays";

  auto refused = wasm::cap_memories(open, *wasm::read_module(open), 1);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message(), HasSubstr("starts at 2 pages"));
}

}  // namespace
}  // namespace outlet
