#include "core/config.h"

#include "core/json_schema.h"

namespace outlet {

Result<Json> validate_config(const Manifest& manifest, const Json& config) {
  Json value = config.is_null() ? Json::object() : config;
  if (!manifest.config) {
    if (!value.empty()) {
      return Error(ErrorCode::kInvalidArgument, "plugin \"" + manifest.id + "\" has no settings",
                   {{"config", "the manifest declares no config schema, so config must be empty"}});
    }
    return value;
  }
  if (!value.is_object()) {
    return Error(ErrorCode::kInvalidArgument, "config of \"" + manifest.id + "\" is invalid",
                 {{"config", "must be an object"}});
  }
  Json filled = manifest.config->apply_defaults(value);
  std::vector<SchemaIssue> issues = manifest.config->validate(filled);
  if (issues.empty())
    return filled;
  std::vector<ErrorDetail> details = to_error_details(issues, "config");
  size_t count = details.size();
  return Error(ErrorCode::kInvalidArgument,
               "config of \"" + manifest.id + "\" is invalid: " + std::to_string(count) +
                   (count == 1 ? " error" : " errors"),
               std::move(details));
}

}  // namespace outlet
