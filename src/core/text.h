// Text from plugins is untrusted: it may be huge or not valid UTF-8. These helpers
// shorten and serialize it without splitting a character or throwing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "outlet/json.h"

namespace outlet {

// At most `max_bytes` of `text`, cut on a UTF-8 character boundary, with "…"
// appended when something was cut.
std::string truncate_utf8(std::string_view text, size_t max_bytes);

// JSON text of a value that may hold invalid UTF-8 (a plugin's bytes): invalid
// sequences become U+FFFD instead of throwing, as nlohmann's strict dump would.
std::string dump_json(const Json& value, int indent = -1);

// A size as an author writes a limit: "64 MiB", "100 KiB", else "1500000 bytes".
std::string describe_bytes(size_t bytes);

// A Unix time in ms as ISO 8601 in UTC: "2026-11-22T10:15:30.123Z", or without the
// fraction ("2026-11-22T10:15:30Z") when `milliseconds` is false.
std::string iso8601_utc(int64_t unix_ms, bool milliseconds = true);

// dump_json, shortened with truncate_utf8, for error messages.
std::string dump_short(const Json& value, size_t max_bytes = 200);

}  // namespace outlet
