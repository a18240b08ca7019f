#include "outlet/manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/json_schema.h"
#include "core/semver.h"

namespace outlet {

static void PrintTo(const ErrorDetail& detail, std::ostream* os) {
  *os << "{" << (detail.path.empty() ? "(root)" : detail.path) << ": " << detail.rule << "}";
}

namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

ManifestVocabulary vocabulary() {
  ManifestVocabulary vocabulary;
  vocabulary.permissions = {"chat.send",   "storage.kv", "network.fetch",
                            "events.emit", "log",        "config.read"};
  vocabulary.kinds = {"bot-module", "widget"};
  return vocabulary;
}

// The smallest manifest that parses; each rule test breaks one field of it.
Json minimal() {
  return {{"id", "hello-bot"},
          {"name", "Hello"},
          {"version", "1.0.0"},
          {"kind", "bot-module"},
          {"entrypoint", "main.lua"}};
}

ParsedManifest parse_ok(const Json& document) {
  Result<ParsedManifest> result = parse_manifest(document, vocabulary());
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().to_string());
  return result.ok() ? std::move(result).value() : ParsedManifest{};
}

// The error for a manifest that must not parse, as "message\n  path: rule" lines.
std::string parse_error(const Json& document) {
  Result<ParsedManifest> result = parse_manifest(document, vocabulary());
  EXPECT_FALSE(result.ok()) << "manifest unexpectedly parsed: " << document.dump();
  if (result.ok())
    return "";
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  return result.error().to_string();
}

Json with(Json document, const std::string& key, Json value) {
  document[key] = std::move(value);
  return document;
}

Json without(Json document, const std::string& key) {
  document.erase(key);
  return document;
}

// ---------------------------------------------------------------------------
// A complete manifest

Json complete() {
  return Json::parse(R"({
    "$schema": "https://outlet.dev/schema/plugin.json",
    "id": "acme.greeter-bot",
    "name": "Greeter",
    "description": "Greets people who join.",
    "version": "1.2.3-beta.1+build.5",
    "apiVersion": 1,
    "kind": "bot-module",
    "entrypoint": "dist/main.js",
    "permissions": ["chat.send", "storage.kv", "network.fetch", "events.emit", "log", "config.read"],
    "network": {"allowedHosts": ["api.example.com", "*.example.org:8443"]},
    "events": [
      {"name": "greeter.greeted", "direction": "clientToServer", "scope": "channel",
       "schema": {"type": "object", "required": ["user"]}, "maxPayloadBytes": 1024,
       "description": "A user was greeted."},
      {"name": "greeter.reset"}
    ],
    "triggers": [
      {"type": "moderate", "id": "mod", "handler": "onModerate"},
      {"type": "command", "command": "hello", "prefix": "?", "aliases": ["hi", "hey"],
       "cooldown": {"user": 5, "global": 1}},
      {"type": "keyword", "keywords": ["good morning", "gm"]},
      {"type": "pattern", "pattern": "^hel+o\\b"},
      {"type": "event", "event": "chat.user.joined"},
      {"type": "timer", "interval": 600, "handler": "announce"}
    ],
    "config": {"type": "object",
               "properties": {"greeting": {"type": "string", "default": "Hello"}}},
    "relationships": {
      "requires": [{"id": "acme.core", "versionRange": "^2.0.0"}],
      "optional": ["acme.stats"],
      "conflicts": [{"id": "other.greeter", "versionRange": "<1.0.0"}],
      "before": ["acme.logger"],
      "after": ["acme.auth"]
    },
    "load": {"priority": "high"},
    "limits": {"timeoutMs": {"filter": 20, "request": 2000}, "memoryBytes": 33554432},
    "compatibility": {"minimumHostVersion": "0.1.0"},
    "authors": ["Ada", {"name": "Bob", "email": "bob@example.com", "url": "https://bob.example.com"}],
    "license": "MIT",
    "homepage": "https://example.com/greeter",
    "icon": "icon.png",
    "category": "fun",
    "kindData": {"color": "blue"},
    "subscriptions": {
      "filter": [{"event": "chat.message.received", "priority": 10}],
      "notify": ["chat.user.joined"]
    }
  })");
}

TEST(ManifestTest, CompleteManifestParsesEveryField) {
  ParsedManifest parsed = parse_ok(complete());
  const Manifest& m = parsed.manifest;
  EXPECT_THAT(parsed.warnings, IsEmpty());

  EXPECT_EQ(m.id, "acme.greeter-bot");
  EXPECT_EQ(m.name, "Greeter");
  EXPECT_EQ(m.description, "Greets people who join.");
  EXPECT_EQ(m.version_text, "1.2.3-beta.1+build.5");
  ASSERT_NE(m.version, nullptr);
  EXPECT_EQ(m.version->major, 1u);
  EXPECT_EQ(m.version->minor, 2u);
  EXPECT_EQ(m.version->patch, 3u);
  EXPECT_EQ(m.version->prerelease, (std::vector<std::string>{"beta", "1"}));
  EXPECT_EQ(m.api_version, 1);
  EXPECT_EQ(m.kind, "bot-module");
  EXPECT_EQ(m.runtime, RuntimeKind::kJs);  // from ".js"
  EXPECT_EQ(m.entrypoint, "dist/main.js");
  EXPECT_EQ(m.permissions, (std::vector<std::string>{"chat.send", "storage.kv", "network.fetch",
                                                     "events.emit", "log", "config.read"}));
  EXPECT_TRUE(m.has_permission("network.fetch"));
  EXPECT_FALSE(m.has_permission("chat.moderate"));
  EXPECT_EQ(m.allowed_hosts, (std::vector<std::string>{"api.example.com", "*.example.org:8443"}));
  EXPECT_EQ(m.license, "MIT");
  EXPECT_EQ(m.homepage, "https://example.com/greeter");
  EXPECT_EQ(m.icon, "icon.png");
  EXPECT_EQ(m.category, "fun");
  EXPECT_EQ(m.kind_data, Json({{"color", "blue"}}));
  EXPECT_EQ(m.minimum_host_version, "0.1.0");
  EXPECT_EQ(m.raw, complete());
}

TEST(ManifestTest, CompleteManifestParsesEvents) {
  const Manifest m = parse_ok(complete()).manifest;
  ASSERT_EQ(m.events.size(), 2u);
  const PluginEventSpec& greeted = m.events[0];
  EXPECT_EQ(greeted.name, "greeter.greeted");
  EXPECT_EQ(greeted.direction, EventDirection::kClientToServer);
  EXPECT_EQ(greeted.scope, EventScope::kChannel);
  EXPECT_EQ(greeted.max_payload_bytes, 1024u);
  EXPECT_EQ(greeted.description, "A user was greeted.");
  ASSERT_NE(greeted.schema, nullptr);
  EXPECT_TRUE(greeted.schema->is_valid(Json{{"user", "ada"}}));
  EXPECT_FALSE(greeted.schema->is_valid(Json::object()));

  const PluginEventSpec& reset = m.events[1];
  EXPECT_EQ(reset.direction, EventDirection::kServerRelay);
  EXPECT_EQ(reset.scope, EventScope::kPlugin);
  EXPECT_EQ(reset.schema, nullptr);
  EXPECT_EQ(reset.max_payload_bytes, 64u * 1024);  // seeds/002 default
  EXPECT_EQ(m.find_event("greeter.reset"), &m.events[1]);
  EXPECT_EQ(m.find_event("greeter.nope"), nullptr);
}

TEST(ManifestTest, CompleteManifestParsesTriggersOfEachType) {
  const Manifest m = parse_ok(complete()).manifest;
  ASSERT_EQ(m.triggers.size(), 6u);

  EXPECT_EQ(m.triggers[0].type, TriggerType::kModerate);
  EXPECT_EQ(m.triggers[0].id, "mod");
  EXPECT_EQ(m.triggers[0].handler, "onModerate");

  const TriggerSpec& command = m.triggers[1];
  EXPECT_EQ(command.type, TriggerType::kCommand);
  EXPECT_EQ(command.id, "command-1");  // "<type>-<index>" when absent
  EXPECT_EQ(command.command, "hello");
  EXPECT_EQ(command.prefix, "?");
  EXPECT_EQ(command.aliases, (std::vector<std::string>{"hi", "hey"}));
  EXPECT_EQ(command.user_cooldown_seconds, 5u);
  EXPECT_EQ(command.global_cooldown_seconds, 1u);

  EXPECT_EQ(m.triggers[2].type, TriggerType::kKeyword);
  EXPECT_EQ(m.triggers[2].keywords, (std::vector<std::string>{"good morning", "gm"}));
  EXPECT_EQ(m.triggers[3].type, TriggerType::kPattern);
  EXPECT_EQ(m.triggers[3].pattern, "^hel+o\\b");
  EXPECT_EQ(m.triggers[4].type, TriggerType::kEvent);
  EXPECT_EQ(m.triggers[4].event, "chat.user.joined");
  EXPECT_EQ(m.triggers[5].type, TriggerType::kTimer);
  EXPECT_EQ(m.triggers[5].interval_seconds, 600u);
  EXPECT_EQ(m.triggers[5].handler, "announce");
}

TEST(ManifestTest, CompleteManifestParsesConfigRelationshipsAndLoadOrder) {
  const Manifest m = parse_ok(complete()).manifest;
  EXPECT_EQ(m.config_schema, complete()["config"]);
  ASSERT_NE(m.config, nullptr);
  EXPECT_EQ(m.config->apply_defaults(Json::object()), Json({{"greeting", "Hello"}}));

  const Relationships& r = m.relationships;
  ASSERT_EQ(r.required.size(), 1u);
  EXPECT_EQ(r.required[0].id, "acme.core");
  EXPECT_EQ(r.required[0].version_range_text, "^2.0.0");
  ASSERT_NE(r.required[0].version_range, nullptr);
  EXPECT_TRUE(r.required[0].version_range->contains(*Version::parse("2.4.1")));
  EXPECT_FALSE(r.required[0].version_range->contains(*Version::parse("3.0.0")));
  ASSERT_EQ(r.optional.size(), 1u);
  EXPECT_EQ(r.optional[0].id, "acme.stats");
  EXPECT_EQ(r.optional[0].version_range, nullptr);  // a bare id allows any version
  ASSERT_EQ(r.conflicts.size(), 1u);
  EXPECT_EQ(r.conflicts[0].id, "other.greeter");
  EXPECT_TRUE(r.conflicts[0].version_range->contains(*Version::parse("0.9.0")));
  EXPECT_EQ(r.before, (std::vector<std::string>{"acme.logger"}));
  EXPECT_EQ(r.after, (std::vector<std::string>{"acme.auth"}));

  EXPECT_EQ(m.load_priority, LoadPriority::kHigh);
}

TEST(ManifestTest, CompleteManifestParsesLimitsAuthorsAndSubscriptions) {
  const Manifest m = parse_ok(complete()).manifest;
  EXPECT_EQ(m.limits.timeout_ms,
            (std::map<HookKind, uint32_t>{{HookKind::kFilter, 20}, {HookKind::kRequest, 2000}}));
  EXPECT_EQ(m.limits.memory_bytes, 33554432u);

  ASSERT_EQ(m.authors.size(), 2u);
  EXPECT_EQ(m.authors[0].name, "Ada");
  EXPECT_EQ(m.authors[1].name, "Bob");
  EXPECT_EQ(m.authors[1].email, "bob@example.com");
  EXPECT_EQ(m.authors[1].url, "https://bob.example.com");

  ASSERT_TRUE(m.subscriptions.has_value());
  ASSERT_EQ(m.subscriptions->size(), 2u);
  const Subscription* filter = nullptr;
  const Subscription* notify = nullptr;
  for (const Subscription& s : *m.subscriptions) {
    (s.kind == HookKind::kFilter ? filter : notify) = &s;
  }
  ASSERT_NE(filter, nullptr);
  ASSERT_NE(notify, nullptr);
  EXPECT_EQ(filter->event, "chat.message.received");
  EXPECT_EQ(filter->priority, 10);
  EXPECT_EQ(notify->kind, HookKind::kNotify);
  EXPECT_EQ(notify->event, "chat.user.joined");
  EXPECT_EQ(notify->priority, 100);  // the default
}

TEST(ManifestTest, MinimalManifestGetsDefaults) {
  const Manifest m = parse_ok(minimal()).manifest;
  EXPECT_EQ(m.runtime, RuntimeKind::kLua);
  EXPECT_EQ(m.load_priority, LoadPriority::kDefault);
  EXPECT_TRUE(m.limits.timeout_ms.empty());
  EXPECT_FALSE(m.limits.memory_bytes.has_value());
  EXPECT_TRUE(m.config_schema.is_null());
  EXPECT_EQ(m.config, nullptr);
  EXPECT_FALSE(m.subscriptions.has_value());
}

TEST(ManifestTest, RuntimeComesFromTheExtensionUnlessWritten) {
  EXPECT_EQ(parse_ok(with(minimal(), "entrypoint", "plugin.wasm")).manifest.runtime,
            RuntimeKind::kWasm);
  EXPECT_EQ(parse_ok(with(minimal(), "entrypoint", "index.mjs")).manifest.runtime,
            RuntimeKind::kJs);
  EXPECT_EQ(parse_ok(with(with(minimal(), "entrypoint", "main.cpp"), "runtime", "native"))
                .manifest.runtime,
            RuntimeKind::kNative);
  EXPECT_EQ(parse_ok(with(minimal(), "runtime", "js")).manifest.runtime, RuntimeKind::kJs);
}

TEST(ManifestTest, ScalarTimeoutAppliesToEveryHookKind) {
  const Manifest m = parse_ok(with(minimal(), "limits", {{"timeoutMs", 250}})).manifest;
  ASSERT_EQ(m.limits.timeout_ms.size(), 5u);
  for (HookKind kind : kAllHookKinds)
    EXPECT_EQ(m.limits.timeout_ms.at(kind), 250u);
}

// ---------------------------------------------------------------------------
// Identity

TEST(ManifestTest, IdMustMatchThePattern) {
  for (const char* id : {"ab", "Hello-bot", "hello."}) {
    SCOPED_TRACE(id);
    std::string error = parse_error(with(minimal(), "id", id));
    EXPECT_THAT(error, HasSubstr("id: \"" + std::string(id) +
                                 "\" must match ^[a-z0-9][a-z0-9.-]{1,126}[a-z0-9]$"));
    EXPECT_THAT(error, HasSubstr("3 to 128 characters"));
  }
}

TEST(ManifestTest, NameIsRequired) {
  EXPECT_THAT(parse_error(without(minimal(), "name")), HasSubstr("\n  name: is required"));
}

TEST(ManifestTest, VersionMustBeSemver) {
  EXPECT_THAT(parse_error(with(minimal(), "version", "1.0")),
              HasSubstr("version: \"1.0\" is not a semantic version (expected MAJOR.MINOR.PATCH)"));
}

TEST(ManifestTest, ApiVersionNewerThanTheHostIsRejected) {
  EXPECT_THAT(parse_error(with(minimal(), "apiVersion", 2)),
              HasSubstr("apiVersion: plugin needs API version 2, this host provides 1"));
}

TEST(ManifestTest, UnknownKindSuggestsAndListsTheHostsKinds) {
  EXPECT_THAT(parse_error(with(minimal(), "kind", "bot-modul")),
              HasSubstr("kind: unknown kind \"bot-modul\" (did you mean \"bot-module\"?); this "
                        "host knows: bot-module, widget"));
}

TEST(ManifestTest, UnknownRuntimeIsRejected) {
  EXPECT_THAT(parse_error(with(minimal(), "runtime", "luaa")),
              HasSubstr("runtime: unknown runtime \"luaa\" (did you mean \"lua\"?) (expected "
                        "native, lua, js or wasm)"));
}

TEST(ManifestTest, AbsoluteEntrypointIsRejected) {
  EXPECT_THAT(parse_error(with(minimal(), "entrypoint", "/etc/main.lua")),
              HasSubstr("entrypoint: \"/etc/main.lua\" must be relative to the plugin root"));
}

TEST(ManifestTest, EntrypointWithDotDotIsRejected) {
  EXPECT_THAT(parse_error(with(minimal(), "entrypoint", "lib/../../main.lua")),
              HasSubstr("entrypoint: \"lib/../../main.lua\" must not escape the plugin root "
                        "(\"..\")"));
  EXPECT_THAT(parse_error(with(minimal(), "entrypoint", "..")),
              HasSubstr("entrypoint: \"..\" must not escape the plugin root"));
}

TEST(ManifestTest, EntrypointWithBackslashIsRejected) {
  EXPECT_THAT(parse_error(with(minimal(), "entrypoint", "dist\\main.lua")),
              HasSubstr("entrypoint: \"dist\\main.lua\" must use forward slashes"));
}

TEST(ManifestTest, RuntimeIsRequiredWhenTheExtensionSaysNothing) {
  EXPECT_THAT(parse_error(with(minimal(), "entrypoint", "main.py")),
              HasSubstr("runtime: is required when the entrypoint's extension is not .lua, .js "
                        "or .wasm"));
}

// ---------------------------------------------------------------------------
// Permissions and network

TEST(ManifestTest, UnknownPermissionSuggestsTheClosest) {
  EXPECT_THAT(
      parse_error(with(minimal(), "permissions", {"log", "storage.kv", "chat.sned"})),
      HasSubstr("permissions[2]: unknown permission \"chat.sned\" (did you mean \"chat.send\"?)"));
}

TEST(ManifestTest, UnknownPermissionPathPointsAtTheOriginalEntry) {
  // The duplicate at [1] is dropped from the list; the unknown one is still [3].
  EXPECT_THAT(parse_error(with(minimal(), "permissions", {"log", "log", 5, "chat.sned"})),
              HasSubstr("permissions[3]: unknown permission \"chat.sned\""));
}

TEST(ManifestTest, DuplicatePermissionIsRejected) {
  std::string error = parse_error(with(minimal(), "permissions", {"log", "chat.send", "log"}));
  EXPECT_THAT(error, HasSubstr("permissions[2]: duplicate entry \"log\""));
}

TEST(ManifestTest, FetchWithoutAllowedHostsIsRejected) {
  EXPECT_THAT(parse_error(with(minimal(), "permissions", {"network.fetch"})),
              HasSubstr("network.allowedHosts: is required when permission \"network.fetch\" is "
                        "declared"));
}

TEST(ManifestTest, BadHostGlobIsRejected) {
  Json document = with(minimal(), "permissions", {"network.fetch"});
  document["network"] = {{"allowedHosts", {"api.example.com", "exa mple.com"}}};
  EXPECT_THAT(parse_error(document),
              HasSubstr("network.allowedHosts[1]: \"exa mple.com\" is not a host glob"));
}

TEST(ManifestTest, BadHostGlobPathPointsAtTheOriginalEntry) {
  Json document = with(minimal(), "permissions", {"network.fetch"});
  document["network"] = {{"allowedHosts", {"api.example.com", "api.example.com", "bad/host"}}};
  std::string error = parse_error(document);
  EXPECT_THAT(error, HasSubstr("network.allowedHosts[1]: duplicate entry \"api.example.com\""));
  EXPECT_THAT(error, HasSubstr("network.allowedHosts[2]: \"bad/host\" is not a host glob"));
}

TEST(ManifestTest, AllowedHostsWithoutFetchIsOnlyAWarning) {
  ParsedManifest parsed =
      parse_ok(with(minimal(), "network", {{"allowedHosts", {"api.example.com"}}}));
  EXPECT_THAT(parsed.warnings,
              Contains(ErrorDetail{"network.allowedHosts",
                                   "has no effect without permission \"network.fetch\""}));
}

// ---------------------------------------------------------------------------
// Events

Json with_events(Json events) {
  return with(minimal(), "events", std::move(events));
}

TEST(ManifestTest, EventNameMustMatchThePattern) {
  EXPECT_THAT(parse_error(with_events({{{"name", "Greeter.Greeted"}}})),
              HasSubstr("events[0].name: \"Greeter.Greeted\" must match "
                        "^[a-z][a-z0-9.:-]{1,126}[a-z0-9]$"));
}

TEST(ManifestTest, EventDirectionMustBeKnown) {
  EXPECT_THAT(
      parse_error(with_events({{{"name", "greeter.greeted"}, {"direction", "serverrelay"}}})),
      HasSubstr("events[0].direction: unknown direction \"serverrelay\" (did you mean "
                "\"serverRelay\"?) (expected serverRelay, clientToServer or p2pHint)"));
}

TEST(ManifestTest, DuplicateEventIsRejected) {
  EXPECT_THAT(parse_error(with_events({{{"name", "greeter.greeted"}},
                                       {{"name", "greeter.reset"}},
                                       {{"name", "greeter.greeted"}}})),
              HasSubstr("events[2].name: duplicate event \"greeter.greeted\""));
}

TEST(ManifestTest, InvalidEventSchemaNamesTheSchemaPath) {
  std::string error = parse_error(with_events(
      {{{"name", "greeter.greeted"}, {"schema", {{"type", "object"}, {"minProperties", "two"}}}}}));
  EXPECT_THAT(error, HasSubstr("events[0].schema.minProperties: "));
}

TEST(ManifestTest, EventMaxPayloadBytesMustBeInRange) {
  EXPECT_THAT(parse_error(with_events({{{"name", "greeter.greeted"}, {"maxPayloadBytes", 0}}})),
              HasSubstr("events[0].maxPayloadBytes: must be between 1 and 16777216"));
  EXPECT_THAT(
      parse_error(with_events({{{"name", "greeter.greeted"}, {"maxPayloadBytes", 16777217}}})),
      HasSubstr("events[0].maxPayloadBytes: must be between 1 and 16777216"));
  EXPECT_THAT(parse_error(with_events({{{"name", "greeter.greeted"}, {"maxPayloadBytes", -1}}})),
              HasSubstr("events[0].maxPayloadBytes: must be a non-negative integer, got -1"));
}

// ---------------------------------------------------------------------------
// Triggers

Json with_trigger(Json trigger) {
  return with(minimal(), "triggers", Json::array({trigger}));
}

TEST(ManifestTest, UnknownTriggerTypeSuggestsTheClosest) {
  EXPECT_THAT(parse_error(with_trigger({{"type", "comand"}, {"command", "hello"}})),
              HasSubstr("triggers[0].type: unknown trigger type \"comand\" (did you mean "
                        "\"command\"?)"));
}

TEST(ManifestTest, CommandWithASpaceIsRejected) {
  EXPECT_THAT(parse_error(with_trigger({{"type", "command"}, {"command", "say hi"}})),
              HasSubstr("triggers[0].command: must be one word without spaces"));
}

TEST(ManifestTest, KeywordTriggerNeedsAKeyword) {
  EXPECT_THAT(parse_error(with_trigger({{"type", "keyword"}, {"keywords", Json::array()}})),
              HasSubstr("triggers[0].keywords: a keyword trigger needs at least one keyword"));
  EXPECT_THAT(parse_error(with_trigger({{"type", "keyword"}, {"keywords", {""}}})),
              HasSubstr("triggers[0].keywords[0]: must be a non-empty string"));
}

TEST(ManifestTest, PatternMustCompileWithRe2) {
  EXPECT_THAT(parse_error(with_trigger({{"type", "pattern"}, {"pattern", "(unclosed"}})),
              HasSubstr("triggers[0].pattern: is not a valid RE2 pattern: missing )"));
  // A backreference is ECMA-only; RE2 refuses it rather than backtracking.
  EXPECT_THAT(parse_error(with_trigger({{"type", "pattern"}, {"pattern", "(a)\\1"}})),
              HasSubstr("triggers[0].pattern: is not a valid RE2 pattern"));
}

TEST(ManifestTest, TimerNeedsAnInterval) {
  EXPECT_THAT(parse_error(with_trigger({{"type", "timer"}})),
              HasSubstr("triggers[0].interval: is required for a timer trigger"));
  EXPECT_THAT(parse_error(with_trigger({{"type", "timer"}, {"interval", 0}})),
              HasSubstr("triggers[0].interval: must be between 1 and 604800"));
}

// ---------------------------------------------------------------------------
// Config, relationships, load, limits, compatibility, homepage

TEST(ManifestTest, ConfigSchemaMustBeObjectTyped) {
  EXPECT_THAT(parse_error(with(minimal(), "config", {{"type", "array"}})),
              HasSubstr("config.type: a config schema must be {\"type\": \"object\", ...}"));
  EXPECT_THAT(parse_error(with(minimal(), "config", {{"properties", Json::object()}})),
              HasSubstr("config.type: a config schema must be"));
}

TEST(ManifestTest, RelationshipVersionRangeMustParse) {
  Json document = with(minimal(), "relationships",
                       {{"requires", {{{"id", "acme.core"}, {"versionRange", "^^1"}}}}});
  EXPECT_THAT(parse_error(document),
              HasSubstr("relationships.requires[0].versionRange: invalid version range \"^^1\""));
}

TEST(ManifestTest, PluginCannotNameItselfInRelationships) {
  EXPECT_THAT(parse_error(with(minimal(), "relationships", {{"after", {"hello-bot"}}})),
              HasSubstr("relationships.after[0]: a plugin cannot name itself"));
}

TEST(ManifestTest, RequiredAndConflictingAtOnceIsRejected) {
  Json document =
      with(minimal(), "relationships", {{"requires", {"acme.core"}}, {"conflicts", {"acme.core"}}});
  EXPECT_THAT(parse_error(document),
              HasSubstr("relationships: \"acme.core\" is both required and conflicting"));
}

TEST(ManifestTest, UnknownLoadPriorityIsRejected) {
  EXPECT_THAT(parse_error(with(minimal(), "load", {{"priority", "hihg"}})),
              HasSubstr("load.priority: unknown priority \"hihg\" (did you mean \"high\"?) "
                        "(expected bootstrap, high, default or low)"));
}

TEST(ManifestTest, TimeoutForAnUnknownHookKindIsRejected) {
  EXPECT_THAT(parse_error(with(minimal(), "limits", {{"timeoutMs", {{"filtr", 10}}}})),
              HasSubstr("limits.timeoutMs.filtr: unknown hook kind \"filtr\" (expected notify, "
                        "filter, collect, dispatch or request)"));
}

TEST(ManifestTest, MinimumHostVersionAboveTheHostIsRejected) {
  EXPECT_THAT(
      parse_error(with(minimal(), "compatibility", {{"minimumHostVersion", "9.0.0"}})),
      HasSubstr("compatibility.minimumHostVersion: plugin needs Outlet 9.0.0 or newer; this host "
                "is 0.1.0"));
}

TEST(ManifestTest, HomepageMustBeHttp) {
  EXPECT_THAT(parse_error(with(minimal(), "homepage", "ftp://example.com")),
              HasSubstr("homepage: must be an http:// or https:// URL"));
  EXPECT_THAT(parse_error(with(minimal(), "homepage", "javascript:alert(1)")),
              HasSubstr("homepage: must be an http:// or https:// URL"));
}

// ---------------------------------------------------------------------------
// Whole documents

TEST(ManifestTest, UnknownTopLevelFieldIsAWarningWithASuggestion) {
  ParsedManifest parsed = parse_ok(with(minimal(), "permisions", {"log"}));
  EXPECT_THAT(parsed.warnings, Contains(ErrorDetail{"permisions",
                                                    "unknown field \"permisions\" is ignored (did "
                                                    "you mean \"permissions\"?)"}));
}

TEST(ManifestTest, EveryErrorIsReportedAtOnce) {
  Json document = without(minimal(), "name");
  document["version"] = "one";
  document["load"] = {{"priority", "urgent"}};
  Result<ParsedManifest> result = parse_manifest(document, vocabulary());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().details().size(), 3u);
  std::string error = result.error().to_string();
  EXPECT_THAT(error, HasSubstr("plugin.json of \"hello-bot\" is invalid: 3 errors"));
  EXPECT_THAT(error, HasSubstr("\n  name: is required"));
  EXPECT_THAT(error, HasSubstr("\n  version: \"one\" is not a semantic version"));
  EXPECT_THAT(error, HasSubstr("\n  load.priority: unknown priority \"urgent\""));
}

TEST(ManifestTest, SingleErrorSaysOneError) {
  EXPECT_THAT(parse_error(without(minimal(), "name")),
              HasSubstr("plugin.json of \"hello-bot\" is invalid: 1 error\n"));
}

TEST(ManifestTest, NonObjectDocumentIsRejected) {
  EXPECT_THAT(parse_error(Json::array({1, 2})),
              HasSubstr("plugin.json is invalid\n  (root): must be a JSON object, got array"));
}

TEST(ManifestTest, InvalidJsonTextSaysWhere) {
  Result<ParsedManifest> result = parse_manifest_text("{\"id\": ", vocabulary());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kInvalidArgument);
  EXPECT_THAT(result.error().to_string(), HasSubstr("plugin.json is not valid JSON\n  (root): "));
  EXPECT_THAT(result.error().to_string(), HasSubstr("parse error at line 1, column 8"));
}

TEST(ManifestTest, TextOverOneMebibyteIsRefusedBeforeParsing) {
  std::string text = minimal().dump();
  text.append((1u << 20) + 1 - text.size(), ' ');
  Result<ParsedManifest> result = parse_manifest_text(text, vocabulary());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code(), ErrorCode::kResourceExhausted);
  EXPECT_THAT(result.error().to_string(),
              HasSubstr("(root): must be at most 1 MiB, got 1048577 bytes"));
}

TEST(ManifestTest, TextOfExactlyOneMebibyteParses) {
  std::string text = minimal().dump();
  text.append((1u << 20) - text.size(), ' ');
  Result<ParsedManifest> result = parse_manifest_text(text, vocabulary());
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().to_string());
}

TEST(ManifestTest, EmptyVocabularyChecksNoPermissionsOrKinds) {
  Json document = with(with(minimal(), "kind", "anything"), "permissions", {"made.up"});
  Result<ParsedManifest> result = parse_manifest(document, ManifestVocabulary{});
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().to_string());
  EXPECT_THAT(parse_error(document), Not(IsEmpty()));
}

}  // namespace
}  // namespace outlet

namespace outlet {
namespace {

TEST(ManifestAdminPagesTest, PagesParseAndGateTheirPathsAndEverythingBeneath) {
  const Manifest m = parse_ok(with(minimal(), "admin",
                                   {{"pages",
                                     {{{"title", "Settings"}, {"path", "/admin"}, {"icon", "gear"}},
                                      {{"title", "Tools"}, {"path", "/tools/*.html"}}}}}))
                         .manifest;
  ASSERT_EQ(m.admin_pages.size(), 2u);
  EXPECT_EQ(m.admin_pages[0].icon, "gear");
  for (const char* gated : {"/admin", "/admin/", "/admin/api/settings", "/tools/a.html"})
    EXPECT_TRUE(m.is_admin_path(gated)) << gated;
  for (const char* open : {"/", "/administrator", "/adminx/", "/tools/a.css", "/public/admin"})
    EXPECT_FALSE(m.is_admin_path(open)) << open;
}

TEST(ManifestAdminPagesTest, BadPagesNameTheirField) {
  EXPECT_THAT(
      parse_error(with(minimal(), "admin", {{"pages", {{{"title", "X"}, {"path", "admin"}}}}})),
      HasSubstr("admin.pages[0].path: must start with '/'"));
  EXPECT_THAT(parse_error(with(minimal(), "admin", {{"pages", {{{"path", "/a"}}}}})),
              HasSubstr("admin.pages[0].title: is required"));
  EXPECT_THAT(
      parse_error(with(minimal(), "admin", {{"pages", {{{"title", "X"}, {"path", "/a/../b"}}}}})),
      HasSubstr("admin.pages[0].path"));
  EXPECT_THAT(parse_error(with(minimal(), "admin", {{"pagez", Json::array()}})),
              HasSubstr("admin.pagez: unknown field"));
  EXPECT_THAT(parse_error(with(minimal(), "admin", {{"pages", "/admin"}})),
              HasSubstr("admin.pages: must be an array"));
}

}  // namespace
}  // namespace outlet
