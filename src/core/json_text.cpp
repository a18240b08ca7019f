#include "core/json_text.h"

namespace outlet {

Result<Json> parse_json_text(std::string_view text, std::string_view what) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    // nlohmann's message carries the line and column; strip its type prefix.
    std::string message = e.what();
    size_t detail = message.find("parse error");
    return Error(ErrorCode::kInvalidArgument, std::string(what) + " is not valid JSON",
                 {{"", detail == std::string::npos ? message : message.substr(detail)}});
  }
}

}  // namespace outlet
