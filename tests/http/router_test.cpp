#include "http/router.h"

#include <gtest/gtest.h>

namespace outlet::http {
namespace {

struct Answer {
  HttpResponse response;
  std::string route;
  std::map<std::string, std::string, std::less<>> params;
};

class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* pattern : {"/v1/plugins", "/v1/plugins/{kind}", "/v1/plugins/{id}/detail",
                                "/plugins/{id}/{rest*}"}) {
      add("GET", pattern);
    }
    add("POST", "/v1/plugins/{id}/enable");
    add("PUT", "/v1/plugins/{id}/detail");
  }

  void add(const char* method, const char* pattern) {
    const std::string name = std::string(method) + " " + pattern;
    router_.add(method, pattern,
                [this, name](HttpRequest&&, const RouteMatch& match, Responder respond) {
                  last_.route = name;
                  last_.params = match.params;
                  respond(HttpResponse{});
                });
  }

  Answer go(const std::string& method, const std::string& path) {
    last_ = {};
    HttpRequest request;
    request.method = method;
    request.path = path;
    router_.handle(std::move(request), [this](HttpResponse r) { last_.response = std::move(r); });
    return last_;
  }

  Router router_;
  Answer last_;
};

TEST_F(RouterTest, LiteralAndParameterSegmentsMatch) {
  EXPECT_EQ(go("GET", "/v1/plugins").route, "GET /v1/plugins");
  Answer kind = go("GET", "/v1/plugins/widgets");
  EXPECT_EQ(kind.route, "GET /v1/plugins/{kind}");
  EXPECT_EQ(kind.params["kind"], "widgets");
  Answer detail = go("GET", "/v1/plugins/word-filter/detail");
  EXPECT_EQ(detail.route, "GET /v1/plugins/{id}/detail");
  EXPECT_EQ(detail.params["id"], "word-filter");
}

TEST_F(RouterTest, SegmentsAreDecodedAfterSplittingSoAnEncodedSlashStaysInsideOne) {
  Answer detail = go("GET", "/v1/plugins/a%2Fb/detail");
  EXPECT_EQ(detail.route, "GET /v1/plugins/{id}/detail");
  EXPECT_EQ(detail.params["id"], "a/b");
}

TEST_F(RouterTest, ARestParameterTakesTheRemainingSegments) {
  Answer file = go("GET", "/plugins/demo/css/site.css");
  EXPECT_EQ(file.params["id"], "demo");
  EXPECT_EQ(file.params["rest"], "css/site.css");
  EXPECT_EQ(go("GET", "/plugins/demo").params["rest"], "");
}

TEST_F(RouterTest, UnknownPathsAre404AndOtherMethodsAre405WithAllow) {
  EXPECT_EQ(go("GET", "/v2/plugins").response.status, 404);
  EXPECT_EQ(go("GET", "/v1/plugins/x/detail/more").response.status, 404);
  EXPECT_EQ(go("GET", "/v1/plugins//detail").response.status, 404) << "an empty id matches nothing";
  Answer wrong = go("DELETE", "/v1/plugins/x/detail");
  EXPECT_EQ(wrong.response.status, 405);
  EXPECT_EQ(*wrong.response.header("allow"), "GET, PUT");
}

TEST_F(RouterTest, HeadIsAnsweredByGet) {
  EXPECT_EQ(go("HEAD", "/v1/plugins").route, "GET /v1/plugins");
}

TEST_F(RouterTest, BadEncodingAndRelativePathsAre400) {
  EXPECT_EQ(go("GET", "/v1/plugins/%zz/detail").response.status, 400);
  EXPECT_EQ(go("GET", "/v1/plugins/%00/detail").response.status, 400);
  EXPECT_EQ(go("GET", "v1/plugins").response.status, 400);
  EXPECT_EQ(go("GET", "").response.status, 400);
}

}  // namespace
}  // namespace outlet::http
