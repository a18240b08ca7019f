#include "testing/scenario_runner.h"

#include <re2/re2.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <sstream>

#include "core/json_text.h"
#include "core/suggest.h"
#include "core/text.h"
#include "hostapi/args.h"
#include "hostapi/host_glob.h"
#include "outlet/discovery.h"

namespace outlet {
namespace fs = std::filesystem;
namespace {

constexpr size_t kMaxScenarioFileBytes = 8 << 20;

std::string shorten(const Json& value) {
  return dump_short(value, 160);
}

bool is_regex_literal(const Json& expected) {
  if (!expected.is_string())
    return false;
  const std::string& text = expected.get_ref<const std::string&>();
  return text.size() >= 2 && text.front() == '/' && text.back() == '/';
}

// Outbound HTTP inside a scenario: answered from given.httpResponses, never the
// network, and recorded for expect.httpRequests. The allowlist still applies.
class CannedHttp {
 public:
  explicit CannedHttp(Json responses) : responses_(std::move(responses)) {}

  HostFunctionSpec function() {
    return {"http.fetch", "network.fetch",
            "Fetches a URL on network.allowedHosts: returns {status, headers, body}.",
            [this](const HostCall& call, const Json& args) -> Result<Json> {
              HostArgs a("http.fetch", args);
              if (Status s = a.expect_count(1, 2); !s.ok())
                return s.error();
              auto url = a.string_at(0, "url", 8192);
              if (!url.ok())
                return url.error();
              const Json& options = a.at(1).is_object() ? a.at(1) : Json::object();
              std::string method = options.value("method", "GET");
              std::string scheme, host;
              int port = 0;
              if (!parse_http_url(*url, scheme, host, port)) {
                return a.invalid(0, "url", "must be an http:// or https:// URL with a host");
              }
              if (!host_allowed(host, port, call.manifest.allowed_hosts)) {
                return Error(ErrorCode::kPermissionDenied,
                             "http.fetch: host \"" + host + "\" is not in network.allowedHosts");
              }
              Json request = {{"method", method}, {"url", *url}};
              if (options.contains("headers"))
                request["headers"] = options["headers"];
              if (options.contains("body"))
                request["body"] = options["body"];
              {
                std::lock_guard lock(mutex_);
                requests_.push_back(request);
              }
              for (const Json& canned : responses_) {
                if (!url_matches(canned.value("url", Json("")), *url))
                  continue;
                // Owncast's runner: no method means any method; Outlet's: GET.
                if (!(owncast_rules_ && !canned.contains("method")) &&
                    canned.value("method", "GET") != method)
                  continue;
                return Json{{"status", canned.value("status", 200)},
                            {"headers", canned.value("headers", Json::object())},
                            {"body", canned.value("body", Json(""))}};
              }
              return Error(ErrorCode::kNotFound,
                           "http.fetch: the scenario has no canned response for " + method + " " +
                               *url + " (add one to given.httpResponses)");
            }};
  }

  Json requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  // An Owncast plugin project's tests: canned URLs are globs, and a missing
  // method matches any (the rules of Owncast's own test runner).
  void use_owncast_rules() { owncast_rules_ = true; }

 private:
  bool url_matches(const Json& pattern, const std::string& url) const {
    if (owncast_rules_ && pattern.is_string())
      return glob_matches(url, pattern.get<std::string>());
    return match_expected(pattern, Json(url), "").empty();
  }

  bool owncast_rules_ = false;
  Json responses_;
  mutable std::mutex mutex_;
  Json requests_ = Json::array();
};

constexpr size_t kMaxLogLines = 50;

struct ScenarioContext {
  // Everything the host's observers and host functions write to is declared before
  // `host`, so it outlives the host's last call.
  std::mutex log_mutex;
  std::vector<std::string> log;  // guarded by log_mutex; the plugin's log lines, capped
  std::mutex emits_mutex;
  Json emits = Json::array();  // guarded by emits_mutex
  std::unique_ptr<ScenarioDomain> domain;
  std::unique_ptr<CannedHttp> http;
  std::unique_ptr<Host> host;
  std::string plugin_id;
  // An Owncast plugin project (plugin.manifest.json): its tests' payloads are
  // read in Owncast's shapes.
  bool owncast_project = false;
};

// Builds a fresh host with the plugin loaded, per the scenario's `given`.
Result<std::unique_ptr<ScenarioContext>> set_up(const std::string& plugin_dir, const Json& given,
                                                const ScenarioOptions& options) {
  auto context = std::make_unique<ScenarioContext>();
  HostOptions host_options;
  // Kept for the report: a failing scenario shows what the plugin logged.
  host_options.log_sink = [ctx = context.get()](const std::string& plugin, std::string_view level,
                                                const std::string& message) {
    std::lock_guard lock(ctx->log_mutex);
    if (ctx->log.size() < kMaxLogLines) {
      ctx->log.push_back("[" + plugin + "] " + std::string(level) + ": " + message);
    }
  };
  auto host = Host::create(host_options);
  if (!host.ok())
    return host.error();
  context->host = std::move(host).value();
  Host& h = *context->host;
  if (options.make_domain) {
    context->domain = options.make_domain();
    if (Status s = context->domain->declare(h); !s.ok())
      return s.error();
  }
  context->http = std::make_unique<CannedHttp>(given.value("httpResponses", Json::array()));
  if (Status s = h.declare_host_function(context->http->function()); !s.ok())
    return s.error();
  if (options.prepare_host) {
    if (Status s = options.prepare_host(h); !s.ok())
      return s.error();
  }
  h.on_emit([ctx = context.get()](const EmitRecord& record) {
    std::lock_guard lock(ctx->emits_mutex);
    ctx->emits.push_back({{"eventType", record.event}, {"payload", record.payload}});
  });

  auto plugin = read_plugin_folder(plugin_dir, h.vocabulary());
  if (!plugin.ok())
    return plugin.error();
  context->plugin_id = plugin->parsed.manifest.id;
  context->owncast_project =
      std::filesystem::path(plugin->manifest_path).filename() == "plugin.manifest.json";
  if (context->owncast_project)
    context->http->use_owncast_rules();
  if (Status s = h.add_plugin(*plugin); !s.ok())
    return s.error();
  const std::string& id = context->plugin_id;
  const Json kv = given.value("kv", Json::object());
  for (const auto& [key, value] : kv.items()) {
    if (Status s = h.kv().set(h.kv_namespace(id), key, value); !s.ok())
      return s.error();
  }
  if (given.contains("config")) {
    if (Status s = h.set_config(id, given["config"]); !s.ok())
      return s.error();
  }
  const Json secrets = given.value("secrets", Json::object());
  for (const auto& [name, value] : secrets.items()) {
    if (!value.is_string()) {
      return Error(ErrorCode::kInvalidArgument, "given.secrets." + name + " must be a string");
    }
    if (Status s = h.set_secret(id, name, value.get<std::string>()); !s.ok())
      return s.error();
  }
  if (Status s = h.approve(id); !s.ok())
    return s.error();
  if (Status s = h.enable(id); !s.ok())
    return s.error();
  auto status = h.status(id);
  if (!status || status->state != PluginState::kLoaded) {
    return Error(ErrorCode::kFailedPrecondition,
                 "plugin \"" + id + "\" did not load: " +
                     std::string(plugin_state_name(status ? status->state : PluginState::kFailed)) +
                     (status && !status->reason.empty() ? ": " + status->reason : ""));
  }
  return context;
}

std::string filter_action_of(const FilterOutcome& outcome) {
  if (outcome.dropped)
    return "drop";
  for (const FilterStep& step : outcome.steps) {
    if (step.action == FilterAction::kModify)
      return "modify";
  }
  return "pass";
}

void check_step(ScenarioContext& context, const Json& step, size_t index,
                std::vector<std::string>& failures) {
  Host& host = *context.host;
  std::string where = "events[" + std::to_string(index) + "]";
  auto fail = [&](const std::string& message) { failures.push_back(where + ": " + message); };
  if (!step.is_object())
    return fail("a step must be an object");
  const Json& payload = step.value("payload", Json::object());
  const Json* expect = step.contains("expect") ? &step["expect"] : nullptr;

  if (step.contains("event")) {
    if (!step["event"].is_string())
      return fail("\"event\" must be an event name");
    std::string event = step["event"].get<std::string>();
    if (context.owncast_project && context.domain)
      host.notify(event, context.domain->owncast_payload(event, payload));
    else
      host.notify(event, payload);
    host.wait_idle();
    return;
  }
  if (step.contains("filter")) {
    if (!step["filter"].is_string())
      return fail("\"filter\" must be an event name");
    std::string event = step["filter"].get<std::string>();
    FilterOutcome outcome = host.filter(event, context.owncast_project && context.domain
                                                   ? context.domain->owncast_payload(event, payload)
                                                   : payload);
    host.wait_idle();
    for (const FilterStep& s : outcome.steps) {
      if (s.action == FilterAction::kFailed)
        fail("plugin " + s.plugin_id + " failed: " + s.detail);
    }
    if (expect == nullptr)
      return;
    std::string action = filter_action_of(outcome);
    if (expect->contains("action") && (*expect)["action"] != action) {
      fail("expected action " + dump_short((*expect)["action"]) + ", got \"" + action + "\"" +
           (outcome.dropped ? " (reason \"" + outcome.reason + "\")" : ""));
    }
    if (expect->contains("payload")) {
      std::string diff = match_expected((*expect)["payload"], outcome.payload, "payload");
      if (!diff.empty())
        fail(diff);
    }
    if (expect->contains("reason")) {
      std::string diff = match_expected((*expect)["reason"], Json(outcome.reason), "reason");
      if (!diff.empty())
        fail(diff);
    }
    return;
  }
  for (const char* kind : {"collect", "dispatch", "request"}) {
    if (!step.contains(kind))
      continue;
    if (!step[kind].is_string())
      return fail(std::string("\"") + kind + "\" must be an event name");
    std::string event = step[kind].get<std::string>();
    Json actual;
    if (std::string(kind) == "collect") {
      actual = Json::array();
      for (const Contribution& c : host.collect(event, payload))
        actual.push_back(c.value);
    } else if (std::string(kind) == "dispatch") {
      actual = host.dispatch(event, payload).merged;
    } else {
      auto answer = host.request(context.plugin_id, event, payload);
      if (!answer.ok())
        return fail("request failed: " + answer.error().message());
      actual = *answer;
    }
    host.wait_idle();
    if (expect != nullptr) {
      std::string diff = match_expected(*expect, actual, "result");
      if (!diff.empty())
        fail(diff);
    }
    return;
  }
  if (step.contains("http")) {
    return fail("HTTP steps need the Outlet server, which this build does not include yet");
  }
  fail("a step needs one of \"event\", \"filter\", \"collect\", \"dispatch\", \"request\"");
}

void check_final(ScenarioContext& context, const Json& expect, std::vector<std::string>& failures) {
  Host& host = *context.host;
  std::vector<std::string> known = {"kv", "emits", "httpRequests"};
  if (context.domain) {
    for (const std::string& name : context.domain->recording_names())
      known.push_back(name);
  }
  for (const auto& [name, expected] : expect.items()) {
    Json actual;
    if (name == "kv") {
      actual = Json::object();
      auto entries = host.kv().list(host.kv_namespace(context.plugin_id), "", 0);
      if (entries.ok()) {
        for (const KvEntry& entry : *entries)
          actual[entry.key] = entry.value;
      }
    } else if (name == "emits") {
      std::lock_guard lock(context.emits_mutex);
      actual = context.emits;
    } else if (name == "httpRequests") {
      actual = context.http->requests();
    } else if (context.domain && !context.domain->recorded(name).is_null()) {
      actual = context.domain->recorded(name);
    } else {
      failures.push_back("expect." + name + ": unknown expectation" + did_you_mean(name, known) +
                         "; known: kv, emits, httpRequests and the domain's recordings");
      continue;
    }
    std::string diff = match_expected(expected, actual, "expect." + name);
    if (!diff.empty())
      failures.push_back(diff);
  }
}

// A scenario file is hostile input like any other: every field that is read later
// is checked for its type here, so a wrong type is a failure, not a crash.
// Owncast's test runner can seed what its other host functions answer; Outlet
// has no counterpart of those functions yet (they throw), so the fields are
// accepted and unused (docs/owncast-compat.md).
const std::vector<std::string>& owncast_only_given() {
  static const std::vector<std::string> kFields = {
      "stream",  "server",     "chatHistory", "chatClients", "users",
      "socials", "federation", "broadcaster", "tags",        "videoConfig"};
  return kFields;
}

std::vector<std::string> shape_problems(const Json& scenario, const Json& given,
                                        bool owncast_project) {
  std::vector<std::string> problems;
  if (!given.is_object()) {
    problems.emplace_back("\"given\" must be an object");
    return problems;
  }
  static const std::vector<std::string> kGiven = {"kv", "config", "secrets", "httpResponses"};
  for (const auto& [key, value] : given.items()) {
    const auto& owncast = owncast_only_given();
    if (owncast_project && std::find(owncast.begin(), owncast.end(), key) != owncast.end())
      continue;
    if (std::find(kGiven.begin(), kGiven.end(), key) == kGiven.end()) {
      problems.push_back("unknown field \"given." + key + "\"" + did_you_mean(key, kGiven));
    }
  }
  for (const char* key : {"kv", "secrets"}) {
    if (given.contains(key) && !given[key].is_object()) {
      problems.push_back(std::string("\"given.") + key + "\" must be an object");
    }
  }
  if (given.contains("httpResponses")) {
    const Json& responses = given["httpResponses"];
    if (!responses.is_array()) {
      problems.emplace_back("\"given.httpResponses\" must be an array");
    } else {
      for (size_t i = 0; i < responses.size(); ++i) {
        const Json& r = responses[i];
        if (!r.is_object() || !r.contains("url") || !r["url"].is_string()) {
          problems.push_back("given.httpResponses[" + std::to_string(i) +
                             "] must be an object with a \"url\" string");
        }
      }
    }
  }
  if (scenario.contains("expect") && !scenario["expect"].is_object()) {
    problems.emplace_back("\"expect\" must be an object");
  }
  if (scenario.contains("expectError") && !scenario["expectError"].is_string()) {
    problems.emplace_back("\"expectError\" must be a string (\"/regex/\" or exact text)");
  }
  return problems;
}

ScenarioResult run_one(const std::string& plugin_dir, const std::string& file, const Json& scenario,
                       size_t index, const ScenarioOptions& options) {
  ScenarioResult result;
  result.file = file;
  auto start = std::chrono::steady_clock::now();
  auto finish = [&]() {
    result.passed = result.failures.empty();
    result.duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return result;
  };
  if (!scenario.is_object()) {
    result.name = "[" + std::to_string(index) + "]";
    result.failures.emplace_back("a scenario must be an object");
    return finish();
  }
  const Json name = scenario.value("name", Json());
  result.name = name.is_string() ? name.get<std::string>() : "[" + std::to_string(index) + "]";
  if (!name.is_string())
    result.failures.emplace_back("\"name\" must be a string");
  static const std::vector<std::string> kFields = {"name",   "given",       "events",
                                                   "expect", "expectError", "description"};
  for (const auto& [key, value] : scenario.items()) {
    if (std::find(kFields.begin(), kFields.end(), key) == kFields.end()) {
      result.failures.push_back("unknown field \"" + key + "\"" + did_you_mean(key, kFields));
    }
  }
  const Json& given = scenario.value("given", Json::object());
  bool owncast_project =
      !std::filesystem::exists(std::filesystem::path(plugin_dir) / "plugin.json") &&
      std::filesystem::exists(std::filesystem::path(plugin_dir) / "plugin.manifest.json");
  for (std::string& problem : shape_problems(scenario, given, owncast_project)) {
    result.failures.push_back(std::move(problem));
  }
  if (!result.failures.empty())
    return finish();

  auto context = set_up(plugin_dir, given, options);
  if (scenario.contains("expectError")) {
    if (context.ok()) {
      result.failures.push_back("expected set-up to fail with " +
                                dump_short(scenario["expectError"]) + ", but it succeeded");
    } else {
      std::string diff =
          match_expected(scenario["expectError"], Json(context.error().to_string()), "error");
      if (!diff.empty())
        result.failures.push_back(diff);
    }
    return finish();
  }
  if (!context.ok()) {
    result.failures.push_back("set-up failed: " + context.error().to_string());
    return finish();
  }
  const Json& steps = scenario.value("events", Json::array());
  if (!steps.is_array()) {
    result.failures.emplace_back("\"events\" must be an array of steps");
    return finish();
  }
  ScenarioContext& ctx = **context;
  for (size_t i = 0; i < steps.size(); ++i)
    check_step(ctx, steps[i], i, result.failures);
  ctx.host->wait_idle();
  if (scenario.contains("expect"))
    check_final(ctx, scenario["expect"], result.failures);
  std::lock_guard lock(ctx.log_mutex);
  result.log = ctx.log;
  return finish();
}

std::string xml_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string match_expected(const Json& expected, const Json& actual, const std::string& path) {
  if (is_regex_literal(expected)) {
    const std::string& text = expected.get_ref<const std::string&>();
    RE2 pattern(text.substr(1, text.size() - 2), RE2::Quiet);
    if (!pattern.ok())
      return path + ": expected pattern " + text + " is not a valid RE2 regex";
    if (!actual.is_string())
      return path + ": expected a string matching " + text + ", got " + shorten(actual);
    if (!RE2::PartialMatch(actual.get_ref<const std::string&>(), pattern)) {
      return path + ": expected a match for " + text + ", got " + shorten(actual);
    }
    return "";
  }
  if (expected.is_object()) {
    if (!actual.is_object())
      return path + ": expected an object, got " + shorten(actual);
    for (const auto& [key, value] : expected.items()) {
      auto it = actual.find(key);
      if (it == actual.end())
        return path + "." + key + ": missing (expected " + shorten(value) + ")";
      std::string diff = match_expected(value, *it, path + "." + key);
      if (!diff.empty())
        return diff;
    }
    return "";
  }
  if (expected.is_array()) {
    if (!actual.is_array())
      return path + ": expected a list, got " + shorten(actual);
    if (expected.size() != actual.size()) {
      return path + ": expected " + std::to_string(expected.size()) + " item(s) " +
             shorten(expected) + ", got " + std::to_string(actual.size()) + " " + shorten(actual);
    }
    for (size_t i = 0; i < expected.size(); ++i) {
      std::string diff =
          match_expected(expected[i], actual[i], path + "[" + std::to_string(i) + "]");
      if (!diff.empty())
        return diff;
    }
    return "";
  }
  if (expected != actual)
    return path + ": expected " + shorten(expected) + ", got " + shorten(actual);
  return "";
}

size_t TestReport::passed() const {
  return static_cast<size_t>(
      std::count_if(scenarios.begin(), scenarios.end(), [](const auto& s) { return s.passed; }));
}

size_t TestReport::failed() const {
  return scenarios.size() - passed() + errors.size();
}

std::vector<ScenarioResult> run_scenarios(const std::string& plugin_dir, const std::string& file,
                                          const Json& scenarios, const ScenarioOptions& options,
                                          std::vector<std::string>& errors) {
  std::vector<ScenarioResult> results;
  if (!scenarios.is_array()) {
    errors.push_back(file + ": must be a JSON array of scenarios");
    return results;
  }
  for (size_t i = 0; i < scenarios.size(); ++i) {
    const Json& scenario = scenarios[i];
    if (!options.name_filter.empty()) {
      const Json name = scenario.is_object() ? scenario.value("name", Json()) : Json();
      if (!name.is_string() ||
          name.get_ref<const std::string&>().find(options.name_filter) == std::string::npos) {
        continue;
      }
    }
    results.push_back(run_one(plugin_dir, file, scenario, i, options));
  }
  return results;
}

Result<TestReport> run_plugin_tests(const std::string& plugin_dir, const ScenarioOptions& options) {
  TestReport report;
  report.plugin_dir = plugin_dir;
  std::error_code ec;
  fs::path tests = fs::path(plugin_dir) / "__tests__";
  if (!fs::is_directory(tests, ec)) {
    return Error(ErrorCode::kNotFound, plugin_dir + " has no __tests__ folder");
  }
  auto manifest = read_file_capped((fs::path(plugin_dir) / "plugin.json").string(), 1 << 20);
  if (manifest.ok()) {
    auto document = parse_json_text(*manifest, "plugin.json");
    if (document.ok() && document->is_object() && document->contains("id") &&
        (*document)["id"].is_string()) {
      report.plugin_id = (*document)["id"].get<std::string>();
    }
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(tests, ec)) {
    std::string name = entry.path().filename().string();
    if (name.size() > 10 && name.ends_with(".test.json"))
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    return Error(ErrorCode::kNotFound, tests.string() + " has no *.test.json files");
  }
  for (const fs::path& file : files) {
    std::string relative = "__tests__/" + file.filename().string();
    auto text = read_file_capped(file.string(), kMaxScenarioFileBytes);
    if (!text.ok()) {
      report.errors.push_back(relative + ": " + text.error().message());
      continue;
    }
    auto scenarios = parse_json_text(*text, relative);
    if (!scenarios.ok()) {
      report.errors.push_back(relative +
                              ": not valid JSON: " + scenarios.error().details()[0].rule);
      continue;
    }
    for (ScenarioResult& r :
         run_scenarios(plugin_dir, relative, *scenarios, options, report.errors)) {
      report.scenarios.push_back(std::move(r));
    }
  }
  return report;
}

std::string format_report_human(const std::vector<TestReport>& reports) {
  std::ostringstream out;
  size_t passed = 0, failed = 0;
  for (const TestReport& report : reports) {
    out << (report.plugin_id.empty() ? report.plugin_dir : report.plugin_id) << " ("
        << report.plugin_dir << ")\n";
    for (const std::string& error : report.errors)
      out << "  ✗ " << error << "\n";
    for (const ScenarioResult& s : report.scenarios) {
      char duration[32];
      std::snprintf(duration, sizeof duration, "%.1f", s.duration_ms);
      out << "  " << (s.passed ? "✓ " : "✗ ") << s.name << " (" << duration << " ms)\n";
      for (const std::string& failure : s.failures)
        out << "      " << failure << "\n";
      if (!s.passed && !s.log.empty()) {
        out << "      plugin log:\n";
        for (const std::string& line : s.log)
          out << "        " << line << "\n";
      }
    }
    passed += report.passed();
    failed += report.failed();
  }
  out << passed << " passed, " << failed << " failed\n";
  return out.str();
}

std::string format_report_json(const std::vector<TestReport>& reports) {
  Json document = {{"plugins", Json::array()}, {"passed", 0}, {"failed", 0}};
  size_t passed = 0, failed = 0;
  for (const TestReport& report : reports) {
    Json plugin = {{"id", report.plugin_id},
                   {"dir", report.plugin_dir},
                   {"errors", report.errors},
                   {"scenarios", Json::array()}};
    for (const ScenarioResult& s : report.scenarios) {
      plugin["scenarios"].push_back({{"file", s.file},
                                     {"name", s.name},
                                     {"passed", s.passed},
                                     {"failures", s.failures},
                                     {"log", s.log},
                                     {"durationMs", s.duration_ms}});
    }
    passed += report.passed();
    failed += report.failed();
    document["plugins"].push_back(std::move(plugin));
  }
  document["passed"] = passed;
  document["failed"] = failed;
  return dump_json(document, 2) + "\n";
}

std::string format_report_junit(const std::vector<TestReport>& reports) {
  std::ostringstream out;
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
  for (const TestReport& report : reports) {
    std::string suite = report.plugin_id.empty() ? report.plugin_dir : report.plugin_id;
    out << "  <testsuite name=\"" << xml_escape(suite) << "\" tests=\""
        << report.scenarios.size() + report.errors.size() << "\" failures=\"" << report.failed()
        << "\">\n";
    for (const std::string& error : report.errors) {
      out << "    <testcase classname=\"" << xml_escape(suite) << "\" name=\"load\">"
          << "<failure message=\"" << xml_escape(error) << "\"/></testcase>\n";
    }
    for (const ScenarioResult& s : report.scenarios) {
      out << "    <testcase classname=\"" << xml_escape(suite + "." + s.file) << "\" name=\""
          << xml_escape(s.name) << "\" time=\"" << s.duration_ms / 1000.0 << "\">";
      if (!s.passed) {
        std::string message;
        for (const std::string& f : s.failures)
          message += (message.empty() ? "" : "\n") + f;
        out << "<failure message=\"" << xml_escape(message) << "\"/>";
      }
      out << "</testcase>\n";
    }
    out << "  </testsuite>\n";
  }
  out << "</testsuites>\n";
  return out.str();
}

}  // namespace outlet
