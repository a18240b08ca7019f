// Serves a plugin's public/ folder: GET and HEAD, MIME types by extension, ETag and
// Last-Modified with conditional requests, single byte ranges, index.html for
// folders. Nothing outside the folder is reachable: "..", "." and empty segments,
// backslashes and NULs are refused, and a path whose real location (symlinks
// resolved) leaves the folder is not found.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "http/http_message.h"

namespace outlet::http {

inline constexpr uint64_t kMaxStaticFileBytes = 64 << 20;

// The answer for `relative` (decoded, '/'-separated, no leading '/') under `root`,
// or nullopt when there is no such file (so the plugin's handler may answer).
// `request` supplies the method and the conditional and range headers;
// `url_path` is the request's path, for redirecting "dir" to "dir/".
std::optional<HttpResponse> serve_static(const std::string& root, const std::string& relative,
                                         const HttpRequest& request);

std::string mime_type_for(std::string_view filename);

}  // namespace outlet::http
