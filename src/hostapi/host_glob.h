// network.allowedHosts matching (seeds/003): a host glob like "api.example.com",
// "*.example.com" or "*"; '*' matches any run of characters, case-insensitively.
// A glob with ":port" matches only that port.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/glob.h"

namespace outlet {

bool host_matches_glob(std::string_view host, int port, std::string_view glob);
bool host_allowed(std::string_view host, int port, const std::vector<std::string>& globs);

// Splits "scheme://host:port/path" into host and port (default by scheme).
// Returns false for URLs that are not http(s) or have no host.
bool parse_http_url(std::string_view url, std::string& scheme, std::string& host, int& port);

}  // namespace outlet
