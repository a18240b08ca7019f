#include "http/http_message.h"

#include <algorithm>

#include "core/json_text.h"
#include "core/text.h"

namespace outlet::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

const std::string* find_header(const Headers& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name))
      return &value;
  }
  return nullptr;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

}  // namespace

const std::string* HttpRequest::header(std::string_view name) const {
  return find_header(headers, name);
}

const std::string* HttpResponse::header(std::string_view name) const {
  return find_header(headers, name);
}

void HttpResponse::set_header(std::string name, std::string value) {
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (auto& [key, existing] : headers) {
    if (key == name) {
      existing = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

HttpResponse json_response(int status, const Json& body) {
  HttpResponse response;
  response.status = status;
  response.body = dump_json(body);
  response.body += '\n';
  response.set_header("content-type", "application/json");
  return response;
}

int http_status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
      return 409;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kFailedPrecondition:
      return 409;
    case ErrorCode::kResourceExhausted:
      return 429;
    case ErrorCode::kDeadlineExceeded:
      return 504;
    case ErrorCode::kPluginError:
      return 502;
    case ErrorCode::kUnavailable:
      return 503;
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

Json error_body(std::string_view code, std::string_view message,
                const std::vector<ErrorDetail>& details) {
  Json list = Json::array();
  for (const ErrorDetail& detail : details)
    list.push_back({{"path", detail.path}, {"rule", detail.rule}});
  return {{"code", code}, {"message", message}, {"details", std::move(list)}};
}

Json error_body(const Error& error) {
  return error_body(error_code_name(error.code()), error.message(), error.details());
}

HttpResponse error_response(int status, std::string_view code, std::string_view message,
                            const std::vector<ErrorDetail>& details) {
  return json_response(status, {{"error", error_body(code, message, details)}});
}

HttpResponse error_response(const Error& error) {
  return error_response(http_status_for(error.code()), error_code_name(error.code()),
                        error.message(), error.details());
}

Result<Json> json_body(const HttpRequest& request) {
  if (request.body.empty()) {
    return Error(ErrorCode::kInvalidArgument, "the request needs a JSON body",
                 {{"body", "must be a JSON document"}});
  }
  return parse_json_text(request.body, "request body");
}

Result<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const bool complete = i + 2 < text.size();
    const int high = complete ? hex_value(text[i + 1]) : -1;
    const int low = complete ? hex_value(text[i + 2]) : -1;
    if (high < 0 || low < 0) {
      return Error(ErrorCode::kInvalidArgument, "invalid percent-encoding",
                   {{std::string(text), "'%' must be followed by two hex digits"}});
    }
    const char decoded = static_cast<char>(high * 16 + low);
    if (decoded == '\0') {
      return Error(ErrorCode::kInvalidArgument, "invalid percent-encoding",
                   {{std::string(text), "%00 is not allowed"}});
    }
    out += decoded;
    i += 2;
  }
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty())
      continue;
    const size_t eq = part.find('=');
    std::string name(part.substr(0, eq));
    std::string value(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
    std::replace(name.begin(), name.end(), '+', ' ');
    std::replace(value.begin(), value.end(), '+', ' ');
    auto decoded_name = percent_decode(name);
    auto decoded_value = percent_decode(value);
    if (!decoded_name.ok())
      return decoded_name.error();
    if (!decoded_value.ok())
      return decoded_value.error();
    pairs.emplace_back(std::move(*decoded_name), std::move(*decoded_value));
  }
  return pairs;
}

}  // namespace outlet::http
