// Plugin config (seeds/001 "config validated against a schema before it is
// stored"): defaults applied, then validated against the manifest's schema.
#pragma once

#include "outlet/json.h"
#include "outlet/manifest.h"
#include "outlet/result.h"

namespace outlet {

// Returns the config to store: `config` (null = {}) with defaults filled in, or
// an Error whose details name each bad field as `config.<path>`.
Result<Json> validate_config(const Manifest& manifest, const Json& config);

}  // namespace outlet
