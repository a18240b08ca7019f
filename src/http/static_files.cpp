#include "http/static_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <utility>

namespace outlet::http {
namespace {

namespace fs = std::filesystem;

HttpResponse not_found() {
  return error_response(404, "not_found", "no such file");
}

std::string http_date(time_t seconds) {
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  std::strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &utc);
  return buffer;
}

std::optional<time_t> parse_http_date(const std::string& text) {
  std::tm utc{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &utc);
  if (end == nullptr || *end != '\0')
    return std::nullopt;
  return timegm(&utc);
}

// Each segment must name something inside the folder: no "..", ".", empty segment
// (an absolute path or "//"), backslash or NUL. A final empty segment ("dir/") is
// fine: it asks for the folder's index.
bool is_safe_relative(const std::string& relative) {
  size_t start = 0;
  while (start <= relative.size()) {
    const size_t slash = relative.find('/', start);
    const size_t end = slash == std::string::npos ? relative.size() : slash;
    const std::string_view segment(relative.data() + start, end - start);
    const bool last = slash == std::string::npos;
    if (segment.empty() && !(last && start > 0) && !(last && relative.empty()))
      return false;
    if (segment == ".." || segment == "." ||
        segment.find_first_of(std::string_view("\\\0", 2)) != std::string_view::npos) {
      return false;
    }
    if (last)
      break;
    start = slash + 1;
  }
  return true;
}

bool is_within(const fs::path& path, const fs::path& root) {
  const std::string& p = path.native();
  const std::string& r = root.native();
  return p == r || (p.size() > r.size() && p.compare(0, r.size(), r) == 0 && p[r.size()] == '/');
}

struct ByteRange {
  uint64_t first;
  uint64_t last;  // inclusive
};

enum class RangeResult { kNone, kOne, kUnsatisfiable };

// One "bytes=first-last", "bytes=first-" or "bytes=-suffix" range; a list of several
// is answered whole (RFC 9110 lets a server ignore Range).
RangeResult parse_range(const std::string& header, uint64_t size, ByteRange& out) {
  constexpr std::string_view kUnit = "bytes=";
  if (header.compare(0, kUnit.size(), kUnit) != 0 || header.find(',') != std::string::npos)
    return RangeResult::kNone;
  const std::string_view spec = std::string_view(header).substr(kUnit.size());
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos)
    return RangeResult::kNone;
  auto number = [](std::string_view text, uint64_t& value) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return !text.empty() && ec == std::errc() && end == text.data() + text.size();
  };
  const std::string_view first_text = spec.substr(0, dash);
  const std::string_view last_text = spec.substr(dash + 1);
  uint64_t first = 0;
  uint64_t last = 0;
  if (first_text.empty()) {
    uint64_t suffix = 0;
    if (!number(last_text, suffix))
      return RangeResult::kNone;
    if (suffix == 0 || size == 0)
      return RangeResult::kUnsatisfiable;
    first = suffix >= size ? 0 : size - suffix;
    last = size - 1;
  } else {
    if (!number(first_text, first))
      return RangeResult::kNone;
    if (last_text.empty()) {
      last = size == 0 ? 0 : size - 1;
    } else if (!number(last_text, last) || last < first) {
      return RangeResult::kNone;
    }
    if (first >= size)
      return RangeResult::kUnsatisfiable;
    if (last >= size)
      last = size - 1;
  }
  out = {first, last};
  return RangeResult::kOne;
}

bool etag_listed(const std::string& header, const std::string& etag) {
  if (header == "*")
    return true;
  size_t start = 0;
  while (start < header.size()) {
    size_t comma = header.find(',', start);
    std::string_view item(header.data() + start,
                          (comma == std::string::npos ? header.size() : comma) - start);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (item.substr(0, 2) == "W/")
      item.remove_prefix(2);  // weak comparison, as If-None-Match uses
    if (item == etag)
      return true;
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return false;
}

}  // namespace

std::string mime_type_for(std::string_view filename) {
  static const std::array<std::pair<std::string_view, std::string_view>, 26> kTypes = {{
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"},
      {".md", "text/markdown; charset=utf-8"},
      {".xml", "application/xml"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".webp", "image/webp"},
      {".avif", "image/avif"},
      {".ico", "image/x-icon"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".ttf", "font/ttf"},
      {".otf", "font/otf"},
      {".wasm", "application/wasm"},
      {".mp3", "audio/mpeg"},
      {".mp4", "video/mp4"},
      {".webm", "video/webm"},
  }};
  const size_t dot = filename.rfind('.');
  if (dot != std::string_view::npos) {
    std::string extension(filename.substr(dot));
    for (char& c : extension)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const auto& [ext, type] : kTypes) {
      if (extension == ext)
        return std::string(type);
    }
  }
  return "application/octet-stream";
}

std::optional<HttpResponse> serve_static(const std::string& root, const std::string& relative,
                                         const HttpRequest& request) {
  if (request.method != "GET" && request.method != "HEAD")
    return std::nullopt;
  if (!is_safe_relative(relative))
    return not_found();
  std::error_code ec;
  const fs::path real_root = fs::canonical(root, ec);
  if (ec)
    return std::nullopt;  // no public/ folder: everything goes to the handler
  fs::path real = fs::canonical(real_root / relative, ec);
  if (ec)
    return std::nullopt;
  if (!is_within(real, real_root))
    return not_found();  // a symlink out of the folder: it does not exist here
  if (fs::is_directory(real, ec)) {
    if (!relative.empty() && relative.back() != '/') {
      HttpResponse redirect;
      redirect.status = 301;
      redirect.set_header("location",
                          request.path + "/" + (request.query.empty() ? "" : "?" + request.query));
      return redirect;
    }
    real = fs::canonical(real / "index.html", ec);
    if (ec)
      return std::nullopt;
    if (!is_within(real, real_root))
      return not_found();
  }

  const int fd = ::open(real.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return not_found();
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return not_found();  // a device, socket or fifo is never content
  }
  const auto size = static_cast<uint64_t>(info.st_size);
  if (size > kMaxStaticFileBytes) {
    ::close(fd);
    return error_response(500, "internal", "the file is too large to serve");
  }
  const uint64_t mtime_ns =
      static_cast<uint64_t>(info.st_mtim.tv_sec) * 1000000000ull + info.st_mtim.tv_nsec;
  char etag_buffer[64];
  std::snprintf(etag_buffer, sizeof etag_buffer, "\"%llx-%llx\"",
                static_cast<unsigned long long>(size), static_cast<unsigned long long>(mtime_ns));
  const std::string etag = etag_buffer;

  HttpResponse response;
  response.set_header("content-type", mime_type_for(real.filename().string()));
  response.set_header("etag", etag);
  response.set_header("last-modified", http_date(info.st_mtim.tv_sec));
  response.set_header("cache-control", "no-cache");
  response.set_header("accept-ranges", "bytes");
  response.set_header("x-content-type-options", "nosniff");

  bool not_modified = false;
  if (const std::string* match = request.header("if-none-match")) {
    not_modified = etag_listed(*match, etag);
  } else if (const std::string* since = request.header("if-modified-since")) {
    auto when = parse_http_date(*since);
    not_modified = when && info.st_mtim.tv_sec <= *when;
  }
  if (not_modified) {
    ::close(fd);
    response.status = 304;
    return response;
  }

  ByteRange range{0, size == 0 ? 0 : size - 1};
  bool partial = false;
  const std::string* range_header = request.header("range");
  const std::string* if_range = request.header("if-range");
  if (range_header != nullptr && (if_range == nullptr || *if_range == etag)) {
    switch (parse_range(*range_header, size, range)) {
      case RangeResult::kOne:
        partial = true;
        break;
      case RangeResult::kUnsatisfiable:
        ::close(fd);
        response =
            error_response(416, "range_not_satisfiable",
                           "the range is outside the file (" + std::to_string(size) + " bytes)");
        response.set_header("content-range", "bytes */" + std::to_string(size));
        return response;
      case RangeResult::kNone:
        break;
    }
  }
  const uint64_t length = size == 0 ? 0 : range.last - range.first + 1;
  std::string body(length, '\0');
  size_t done = 0;
  while (done < length) {
    const ssize_t n =
        ::pread(fd, body.data() + done, length - done, static_cast<off_t>(range.first + done));
    if (n <= 0) {
      ::close(fd);
      return error_response(500, "internal", "the file could not be read");
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  if (partial) {
    response.status = 206;
    response.set_header("content-range", "bytes " + std::to_string(range.first) + "-" +
                                             std::to_string(range.last) + "/" +
                                             std::to_string(size));
  }
  response.body = std::move(body);
  return response;
}

}  // namespace outlet::http
