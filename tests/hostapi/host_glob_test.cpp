// network.allowedHosts globs and the URL parsing that feeds them.
#include "hostapi/host_glob.h"

#include <gtest/gtest.h>

#include <string>

namespace outlet {
namespace {

TEST(HostGlobTest, ExactHostMatchesCaseInsensitively) {
  EXPECT_TRUE(host_matches_glob("api.example.com", 443, "api.example.com"));
  EXPECT_TRUE(host_matches_glob("API.Example.COM", 443, "api.example.com"));
  EXPECT_TRUE(host_matches_glob("api.example.com", 443, "API.EXAMPLE.com"));
  EXPECT_FALSE(host_matches_glob("api.example.co", 443, "api.example.com"));
  EXPECT_FALSE(host_matches_glob("api.example.com.evil.net", 443, "api.example.com"));
}

TEST(HostGlobTest, LeadingStarMatchesSubdomainsButNotTheBareDomainOrLookalikes) {
  EXPECT_TRUE(host_matches_glob("api.example.com", 443, "*.example.com"));
  EXPECT_TRUE(host_matches_glob("a.b.example.com", 80, "*.example.com"));
  EXPECT_FALSE(host_matches_glob("example.com", 443, "*.example.com"));
  EXPECT_FALSE(host_matches_glob("evilexample.com", 443, "*.example.com"));
  EXPECT_FALSE(host_matches_glob("example.com.evil.net", 443, "*.example.com"));
}

TEST(HostGlobTest, StarAloneMatchesEveryHost) {
  EXPECT_TRUE(host_matches_glob("anything.at.all", 8080, "*"));
  EXPECT_TRUE(host_matches_glob("localhost", 80, "*"));
}

TEST(HostGlobTest, StarInTheMiddleMatchesAnyRun) {
  EXPECT_TRUE(host_matches_glob("cdn-eu.example.com", 443, "cdn-*.example.com"));
  EXPECT_TRUE(host_matches_glob("cdn-.example.com", 443, "cdn-*.example.com"));
  EXPECT_FALSE(host_matches_glob("cdn.example.com", 443, "cdn-*.example.com"));
}

TEST(HostGlobTest, GlobWithAPortMatchesOnlyThatPort) {
  EXPECT_TRUE(host_matches_glob("api.example.com", 8443, "api.example.com:8443"));
  EXPECT_FALSE(host_matches_glob("api.example.com", 443, "api.example.com:8443"));
  EXPECT_TRUE(host_matches_glob("x.example.com", 8080, "*.example.com:8080"));
  EXPECT_FALSE(host_matches_glob("x.example.com", 80, "*:8080"));
}

TEST(HostGlobTest, GlobWithoutAPortMatchesAnyPort) {
  EXPECT_TRUE(host_matches_glob("api.example.com", 80, "api.example.com"));
  EXPECT_TRUE(host_matches_glob("api.example.com", 9000, "api.example.com"));
}

TEST(HostGlobTest, MalformedPortInAGlobMatchesNothing) {
  EXPECT_FALSE(host_matches_glob("api.example.com", 443, "api.example.com:https"));
  EXPECT_FALSE(host_matches_glob("api.example.com", 99999, "api.example.com:99999"));
  EXPECT_FALSE(host_matches_glob("api.example.com", 443, "api.example.com:"));
}

TEST(HostGlobTest, PathologicalGlobFinishes) {
  // Backtracking matchers go exponential on this; the iterative one is linear-ish.
  std::string host(5000, 'a');
  EXPECT_FALSE(host_matches_glob(host, 443, "*a*a*a*a*a*a*a*a*a*a*a*b"));
  EXPECT_TRUE(host_matches_glob(host + "b", 443, "*a*a*a*a*a*a*a*a*a*a*a*b"));
}

TEST(HostAllowedTest, AllowedWhenAnyGlobMatches) {
  std::vector<std::string> globs = {"api.example.com", "*.cdn.net:443"};
  EXPECT_TRUE(host_allowed("api.example.com", 443, globs));
  EXPECT_TRUE(host_allowed("img.cdn.net", 443, globs));
  EXPECT_FALSE(host_allowed("img.cdn.net", 80, globs));
  EXPECT_FALSE(host_allowed("other.org", 443, globs));
}

TEST(HostAllowedTest, EmptyAllowlistAllowsNothing) {
  EXPECT_FALSE(host_allowed("api.example.com", 443, {}));
}

struct Parsed {
  bool ok;
  std::string scheme;
  std::string host;
  int port;
};

Parsed parse(std::string_view url) {
  Parsed parsed{false, "", "", -1};
  parsed.ok = parse_http_url(url, parsed.scheme, parsed.host, parsed.port);
  return parsed;
}

TEST(ParseHttpUrlTest, SplitsSchemeHostAndDefaultPort) {
  Parsed https = parse("https://API.Example.com/v1/items?q=1#top");
  ASSERT_TRUE(https.ok);
  EXPECT_EQ(https.scheme, "https");
  EXPECT_EQ(https.host, "api.example.com");
  EXPECT_EQ(https.port, 443);

  Parsed http = parse("HTTP://example.com");
  ASSERT_TRUE(http.ok);
  EXPECT_EQ(http.scheme, "http");
  EXPECT_EQ(http.port, 80);

  Parsed query = parse("http://example.com?x=1");
  ASSERT_TRUE(query.ok);
  EXPECT_EQ(query.host, "example.com");
}

TEST(ParseHttpUrlTest, ReadsAnExplicitPort) {
  Parsed parsed = parse("http://localhost:8080/health");
  ASSERT_TRUE(parsed.ok);
  EXPECT_EQ(parsed.host, "localhost");
  EXPECT_EQ(parsed.port, 8080);
}

TEST(ParseHttpUrlTest, ReadsTheHostAndPortOfABracketedIpv6Literal) {
  Parsed with_port = parse("https://[::1]:8080/x");
  ASSERT_TRUE(with_port.ok);
  EXPECT_EQ(with_port.host, "[::1]");
  EXPECT_EQ(with_port.port, 8080);

  Parsed without_port = parse("http://[2001:db8::1]/");
  ASSERT_TRUE(without_port.ok);
  EXPECT_EQ(without_port.host, "[2001:db8::1]");
  EXPECT_EQ(without_port.port, 80);
}

TEST(ParseHttpUrlTest, Ipv6PortCannotSlipPastAPortRestrictedAllowlist) {
  Parsed parsed = parse("https://[::1]:8080/");
  ASSERT_TRUE(parsed.ok);
  EXPECT_FALSE(host_allowed(parsed.host, parsed.port, {"*:443"}));
}

TEST(ParseHttpUrlTest, RejectsCredentialsInTheUrl) {
  EXPECT_FALSE(parse("https://user:pass@example.com/").ok);
  EXPECT_FALSE(parse("https://user@example.com/").ok);
  EXPECT_FALSE(parse("https://allowed.com@evil.com/").ok);
}

TEST(ParseHttpUrlTest, RejectsOtherSchemesAndMissingParts) {
  EXPECT_FALSE(parse("ftp://example.com/").ok);
  EXPECT_FALSE(parse("file:///etc/passwd").ok);
  EXPECT_FALSE(parse("example.com/path").ok);
  EXPECT_FALSE(parse("https://").ok);
  EXPECT_FALSE(parse("https:///path").ok);
  EXPECT_FALSE(parse("https://:443/").ok);
}

TEST(ParseHttpUrlTest, RejectsBadPorts) {
  EXPECT_FALSE(parse("http://example.com:/").ok);
  EXPECT_FALSE(parse("http://example.com:0/").ok);
  EXPECT_FALSE(parse("http://example.com:65536/").ok);
  EXPECT_FALSE(parse("http://example.com:123456/").ok);
  EXPECT_FALSE(parse("http://example.com:80a/").ok);
  EXPECT_FALSE(parse("http://example.com:80:90/").ok);
  EXPECT_FALSE(parse("http://[::1]x/").ok);
  EXPECT_FALSE(parse("http://[::1/").ok);
  EXPECT_FALSE(parse("http://[]/").ok);
}

}  // namespace
}  // namespace outlet
