// The author guide's sandbox table must say what sandbox_policy.cpp does: every
// allowed member in the "allowed" column of its library's row, every replaced
// one in the "replaced" column, every denied one in the denied table.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/lua/sandbox_policy.h"

namespace outlet::lua {
namespace {

std::string guide() {
  std::ifstream file(std::string(OUTLET_SOURCE_DIR) + "/docs/authoring-lua.md");
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string section(const std::string& text, const std::string& heading) {
  size_t start = text.find(heading);
  if (start == std::string::npos)
    return "";
  size_t end = text.find("\n## ", start + heading.size());
  return text.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

// The cells of the table row whose first cell is `label`.
std::vector<std::string> row(const std::string& text, const std::string& label) {
  size_t at = text.find("\n| " + label + " |");
  if (at == std::string::npos)
    return {};
  std::string line = text.substr(at + 1, text.find('\n', at + 1) - at - 1);
  std::vector<std::string> cells;
  std::stringstream stream(line);
  std::string cell;
  while (std::getline(stream, cell, '|'))
    cells.push_back(cell);
  return cells;  // "", label, allowed, replaced
}

TEST(SandboxDocsTest, TheGuideListsEveryMemberWhereThePolicyPutsIt) {
  std::string sandbox = section(guide(), "## The sandbox");
  ASSERT_FALSE(sandbox.empty());
  for (const AllowedMember& member : allowed_members()) {
    std::string library = member.library;
    std::string label = library == "_G" ? "base" : "`" + library + "`";
    std::vector<std::string> cells = row(sandbox, label);
    ASSERT_EQ(cells.size(), 4u) << "no row for " << label;
    const std::string& column = member.replacement == nullptr ? cells[2] : cells[3];
    EXPECT_NE(column.find("`" + std::string(member.name) + "`"), std::string::npos)
        << library << "." << member.name << " should be listed as "
        << (member.replacement == nullptr ? "allowed" : "replaced");
  }
  std::string denied = sandbox.substr(sandbox.find("Denied"));
  for (const DeniedMember& member : denied_members()) {
    std::string name = member.name == nullptr ? member.library
                       : std::string(member.library) == "_G"
                           ? member.name
                           : std::string(member.library) + "." + member.name;
    EXPECT_NE(denied.find("`" + name + "`"), std::string::npos)
        << name << " should be in the denied table";
  }
}

}  // namespace
}  // namespace outlet::lua
