// Runs the official JSON-Schema-Test-Suite (Debian package json-schema-test-suite)
// for draft-07 against JsonSchema. Every case of every file must pass unless the
// file or case is listed below with the reason Outlet does not support it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>

#include "core/json_schema.h"

// The suite's draft-07 directory (the one holding additionalItems.json and optional/).
#ifndef OUTLET_JSON_SCHEMA_SUITE_DIR
#define OUTLET_JSON_SCHEMA_SUITE_DIR "/usr/share/json-schema-test-suite/tests/draft7"
#endif

namespace outlet {
namespace {

namespace fs = std::filesystem;

// Files not run, relative to the draft-07 directory, with the reason.
const std::map<std::string, std::string>& skipped_files() {
  static const std::map<std::string, std::string> kFiles = {
      {"refRemote.json",
       "remote $refs (http://localhost:1234/...) need a network; Outlet schemas must be "
       "self-contained, and compile() rejects remote $refs"},
      {"optional/content.json",
       "contentMediaType/contentEncoding are annotations only; Outlet does not decode content"},
      {"optional/format/idn-email.json", "format \"idn-email\" is not enforced (ignored)"},
      {"optional/format/idn-hostname.json", "format \"idn-hostname\" is not enforced (ignored)"},
      {"optional/format/iri.json", "format \"iri\" is not enforced (ignored)"},
      {"optional/format/iri-reference.json", "format \"iri-reference\" is not enforced (ignored)"},
      {"optional/format/json-pointer.json", "format \"json-pointer\" is not enforced (ignored)"},
      {"optional/format/relative-json-pointer.json",
       "format \"relative-json-pointer\" is not enforced (ignored)"},
      {"optional/format/uri-reference.json", "format \"uri-reference\" is not enforced (ignored)"},
      {"optional/format/uri-template.json", "format \"uri-template\" is not enforced (ignored)"},
  };
  return kFiles;
}

// Single cases not run, as "file / group description / test description", with the reason.
const std::map<std::string, std::string>& skipped_cases() {
  static const std::map<std::string, std::string> kCases = {};
  return kCases;
}

struct Tally {
  int passed = 0;
  int failed = 0;
  int skipped = 0;
  std::set<std::string> used_case_skips;
};

bool read_json(const fs::path& path, Json* out) {
  std::ifstream in(path);
  if (!in) {
    return false;
  }
  *out = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  return !out->is_discarded();
}

std::string describe(const std::vector<SchemaIssue>& issues) {
  std::string text;
  for (const SchemaIssue& issue : issues) {
    text +=
        "\n    " + (issue.path.empty() ? std::string("(root)") : issue.path) + ": " + issue.rule;
  }
  return text.empty() ? " (none)" : text;
}

void run_file(const std::string& name, const Json& groups, Tally* tally) {
  for (const Json& group : groups) {
    const std::string group_name = group.value("description", "?");
    Result<JsonSchema> schema = JsonSchema::compile(group.at("schema"));
    for (const Json& test : group.at("tests")) {
      const std::string id = name + " / " + group_name + " / " + test.value("description", "?");
      if (skipped_cases().count(id)) {
        tally->used_case_skips.insert(id);
        ++tally->skipped;
        continue;
      }
      if (!schema.ok()) {
        ++tally->failed;
        ADD_FAILURE() << id << ": schema did not compile: " << schema.error().to_string();
        continue;
      }
      const Json& data = test.at("data");
      bool expected = test.at("valid").get<bool>();
      std::vector<SchemaIssue> issues = schema->validate(data);
      bool valid = issues.empty();
      if (valid == expected && schema->is_valid(data) == expected) {
        ++tally->passed;
        continue;
      }
      ++tally->failed;
      ADD_FAILURE() << id << "\n  schema: " << group.at("schema").dump()
                    << "\n  data: " << data.dump() << "\n  expected "
                    << (expected ? "valid" : "invalid") << ", validate() says "
                    << (valid ? "valid" : "invalid") << ", is_valid() says "
                    << (schema->is_valid(data) ? "valid" : "invalid")
                    << "\n  issues:" << describe(issues);
    }
  }
}

int count_cases(const Json& groups) {
  int n = 0;
  for (const Json& group : groups) {
    n += static_cast<int>(group.at("tests").size());
  }
  return n;
}

TEST(JsonSchemaSuiteTest, Draft7) {
  const fs::path root = OUTLET_JSON_SCHEMA_SUITE_DIR;
  if (!fs::is_directory(root)) {
    GTEST_SKIP() << "JSON-Schema-Test-Suite not found at " << root
                 << " (install the json-schema-test-suite package)";
  }
  std::vector<std::string> files;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json") {
      files.push_back(fs::relative(entry.path(), root).generic_string());
    }
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());

  Tally tally;
  std::set<std::string> seen;
  for (const std::string& name : files) {
    seen.insert(name);
    Json groups;
    if (!read_json(root / name, &groups) || !groups.is_array()) {
      ADD_FAILURE() << name << ": not a readable suite file";
      continue;
    }
    auto skip = skipped_files().find(name);
    if (skip != skipped_files().end()) {
      tally.skipped += count_cases(groups);
      continue;
    }
    try {
      run_file(name, groups, &tally);
    } catch (const std::exception& e) {
      ADD_FAILURE() << name << ": malformed suite file: " << e.what();
    }
  }

  // A skip that matches nothing is stale and hides nothing: drop it.
  for (const auto& [name, reason] : skipped_files()) {
    EXPECT_TRUE(seen.count(name)) << "skipped file not in the suite: " << name;
  }
  for (const auto& [id, reason] : skipped_cases()) {
    EXPECT_TRUE(tally.used_case_skips.count(id)) << "skipped case not in the suite: " << id;
  }

  int run = tally.passed + tally.failed;
  std::cout << "draft7: " << tally.passed << "/" << run << " cases passed, " << tally.skipped
            << " skipped\n";
  for (const auto& [name, reason] : skipped_files()) {
    std::cout << "  skipped " << name << ": " << reason << "\n";
  }
  for (const auto& [id, reason] : skipped_cases()) {
    std::cout << "  skipped " << id << ": " << reason << "\n";
  }
  EXPECT_EQ(tally.failed, 0);
}

}  // namespace
}  // namespace outlet
