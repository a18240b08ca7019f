// seeds/003's manifest, `plugin.manifest.json` (the Owncast plugin SDK's
// format), read as an Outlet manifest, so that an Owncast plugin project runs
// unmodified: its `src/plugin.js` is the entrypoint, its permissions map onto
// Outlet's, and what Outlet cannot honour yet is reported, not ignored.
// docs/owncast-compat.md lists every field and what becomes of it.
#pragma once

#include <string>
#include <vector>

#include "outlet/json.h"
#include "outlet/result.h"

namespace outlet {

inline constexpr const char* kOwncastManifestFile = "plugin.manifest.json";

// `entrypoint` is the project's script, relative to its folder (found by the
// caller: src/plugin.js, else plugin.js). Problems the plugin can run with
// (a permission Outlet does not have, UI fields that need the server) are
// appended to `notes`; problems it cannot are the Error, each naming its field.
Result<Json> translate_owncast_manifest(const Json& document, const std::string& entrypoint,
                                        std::vector<ErrorDetail>& notes);

}  // namespace outlet
