#include "http/http_message.h"

#include <gtest/gtest.h>

namespace outlet::http {
namespace {

TEST(HttpMessageTest, PercentDecodingRefusesBadEscapesAndNul) {
  EXPECT_EQ(percent_decode("a%20b%2F%2e").value(), "a b/.");
  EXPECT_EQ(percent_decode("plus+stays").value(), "plus+stays");
  for (const char* bad : {"%", "%2", "%g0", "a%0", "%00"})
    EXPECT_FALSE(percent_decode(bad).ok()) << bad;
}

TEST(HttpMessageTest, QueryPairsAreDecodedWithPlusAsSpace) {
  auto pairs = parse_query("a=1&b=two+words&c&=x&d=%41%42&&");
  ASSERT_TRUE(pairs.ok());
  std::vector<std::pair<std::string, std::string>> expected = {
      {"a", "1"}, {"b", "two words"}, {"c", ""}, {"", "x"}, {"d", "AB"}};
  EXPECT_EQ(*pairs, expected);
  EXPECT_FALSE(parse_query("a=%zz").ok());
}

TEST(HttpMessageTest, ErrorsHaveTheApiShapeAndAStatusThatFitsTheirCode) {
  HttpResponse response = error_response(Error(ErrorCode::kInvalidArgument, "config is invalid",
                                               {{"config.volume", "must be <= 10"}}));
  EXPECT_EQ(response.status, 400);
  EXPECT_EQ(*response.header("Content-Type"), "application/json");
  Json body = Json::parse(response.body);
  EXPECT_EQ(body,
            (Json{{"error",
                   {{"code", "invalid_argument"},
                    {"message", "config is invalid"},
                    {"details", {{{"path", "config.volume"}, {"rule", "must be <= 10"}}}}}}}));
  EXPECT_EQ(http_status_for(ErrorCode::kNotFound), 404);
  EXPECT_EQ(http_status_for(ErrorCode::kPermissionDenied), 403);
  EXPECT_EQ(http_status_for(ErrorCode::kDeadlineExceeded), 504);
  EXPECT_EQ(http_status_for(ErrorCode::kInternal), 500);
}

TEST(HttpMessageTest, SetHeaderReplacesCaseInsensitively) {
  HttpResponse response;
  response.set_header("Content-Type", "text/plain");
  response.set_header("content-type", "text/html");
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(*response.header("CONTENT-TYPE"), "text/html");
}

}  // namespace
}  // namespace outlet::http
