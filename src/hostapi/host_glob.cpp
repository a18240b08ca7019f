#include "hostapi/host_glob.h"

#include <cctype>

namespace outlet {
namespace {

char lower(char c) {
  return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

}  // namespace

bool host_matches_glob(std::string_view host, int port, std::string_view glob) {
  size_t colon = glob.rfind(':');
  if (colon != std::string_view::npos) {
    std::string_view port_text = glob.substr(colon + 1);
    int glob_port = 0;
    for (char c : port_text) {
      if (!std::isdigit(static_cast<unsigned char>(c)))
        return false;
      glob_port = glob_port * 10 + (c - '0');
      if (glob_port > 65535)
        return false;
    }
    if (glob_port != port)
      return false;
    glob = glob.substr(0, colon);
  }
  return glob_matches(host, glob, /*ignore_case=*/true);
}

bool host_allowed(std::string_view host, int port, const std::vector<std::string>& globs) {
  for (const std::string& glob : globs) {
    if (host_matches_glob(host, port, glob))
      return true;
  }
  return false;
}

bool parse_http_url(std::string_view url, std::string& scheme, std::string& host, int& port) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos)
    return false;
  scheme = std::string(url.substr(0, sep));
  for (char& c : scheme)
    c = lower(c);
  if (scheme != "http" && scheme != "https")
    return false;
  std::string_view rest = url.substr(sep + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos)
    return false;  // no credentials in URLs
  port = scheme == "https" ? 443 : 80;
  // The port follows the host. An IPv6 literal is bracketed ("[::1]:8080") and its own
  // colons are not a port; any other stray ':' makes the URL invalid, so the allowlist
  // never checks a different port from the one a client would connect to.
  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos || close < 2)
      return false;
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return false;
      port_text = after.substr(1);
      has_port = true;
    }
    authority = authority.substr(0, close + 1);
  } else if (size_t colon = authority.find(':'); colon != std::string_view::npos) {
    port_text = authority.substr(colon + 1);
    has_port = true;
    authority = authority.substr(0, colon);
  }
  if (has_port) {
    if (port_text.empty() || port_text.size() > 5)
      return false;
    port = 0;
    for (char c : port_text) {
      if (!std::isdigit(static_cast<unsigned char>(c)))
        return false;
      port = port * 10 + (c - '0');
    }
    if (port == 0 || port > 65535)
      return false;
  }
  if (authority.empty())
    return false;
  host = std::string(authority);
  for (char& c : host)
    c = lower(c);
  return true;
}

}  // namespace outlet
