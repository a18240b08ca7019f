#include "core/text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace outlet {
namespace {

TEST(TextTest, TruncationNeverSplitsACharacter) {
  std::string accents;
  for (int i = 0; i < 150; ++i)
    accents += "é";  // two bytes each
  std::string cut = truncate_utf8("x" + accents, 200);
  EXPECT_EQ(cut.size(), 199u + 3u) << "199 whole bytes, then the ellipsis";
  EXPECT_EQ(cut.substr(cut.size() - 3), "…");
  EXPECT_NO_THROW((void)Json(cut).dump()) << "the result is valid UTF-8";
  EXPECT_EQ(truncate_utf8("short", 200), "short");
}

TEST(TextTest, DumpReplacesInvalidUtf8InsteadOfThrowing) {
  Json value = {{"bad", std::string("ok\xff\xfe")}};
  EXPECT_THROW((void)value.dump(), Json::type_error);
  EXPECT_EQ(dump_json(value), "{\"bad\":\"ok\xEF\xBF\xBD\xEF\xBF\xBD\"}");
  EXPECT_EQ(dump_short(Json(std::string(500, 'a')), 10), "\"aaaaaaaaa…");
}

}  // namespace
}  // namespace outlet
