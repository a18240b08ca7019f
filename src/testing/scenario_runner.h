// JSON scenario tests (seeds/003): `__tests__/*.test.json` beside a plugin, run
// against the real runtime through the same Host the application uses.
//
// A file is an array of scenarios:
//   { "name": "...",
//     "given":  { "kv": {...}, "config": {...}, "secrets": {...}, "httpResponses": [...] },
//     "events": [ steps ],
//     "expect": { "chatSends": [...], "emits": [...], "kv": {...}, "httpRequests": [...] },
//     "expectError": "/regex/" }            // the set-up itself must fail (e.g. a bad config)
// Steps: {"event", "payload"} notify; {"filter", "payload", "expect": {action, payload?,
// reason?}}; {"collect"|"dispatch", "payload", "expect"}; {"request", "payload",
// "expect"}. Every scenario gets a fresh plugin instance and a fresh store; steps in
// one scenario share them. Expected strings written "/re/" are RE2 searches; objects
// match partially (extra fields in the actual value are fine); lists match exactly.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "outlet/host.h"
#include "outlet/result.h"
#include "testing/scenario_domain.h"

namespace outlet {

struct ScenarioOptions {
  std::function<std::unique_ptr<ScenarioDomain>()> make_domain;
  // Installs runtimes and native plugins on each fresh host.
  std::function<Status(Host&)> prepare_host;
  // Only scenarios whose name contains this run ("" = all).
  std::string name_filter;
};

struct ScenarioResult {
  std::string file;  // relative to the plugin folder
  std::string name;
  bool passed = false;
  std::vector<std::string> failures;
  std::vector<std::string> log;  // what the plugin logged (and host warnings), first 50 lines
  double duration_ms = 0;
};

struct TestReport {
  std::string plugin_dir;
  std::string plugin_id;
  std::vector<ScenarioResult> scenarios;
  // Problems that stop whole files from running: unreadable or malformed JSON.
  std::vector<std::string> errors;

  size_t passed() const;
  size_t failed() const;  // failed scenarios plus file errors
  bool ok() const { return failed() == 0; }
};

// Runs every __tests__/*.test.json of one plugin folder.
Result<TestReport> run_plugin_tests(const std::string& plugin_dir, const ScenarioOptions& options);

// Runs one scenario file's parsed content (for tests of the runner itself).
std::vector<ScenarioResult> run_scenarios(const std::string& plugin_dir, const std::string& file,
                                          const Json& scenarios, const ScenarioOptions& options,
                                          std::vector<std::string>& errors);

std::string format_report_human(const std::vector<TestReport>& reports);
std::string format_report_json(const std::vector<TestReport>& reports);
std::string format_report_junit(const std::vector<TestReport>& reports);

// Partial match used by `expect`: returns "" when `actual` satisfies `expected`,
// else a description of the first difference at `path`.
std::string match_expected(const Json& expected, const Json& actual, const std::string& path);

}  // namespace outlet
