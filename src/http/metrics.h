// What the server counts beyond the host's per-plugin call statistics, and the
// Prometheus text exposition of both (GET /v1/metrics).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "outlet/hook.h"
#include "outlet/host.h"

namespace outlet::http {

// Events the server dispatched (or plugins emitted), by name and hook kind.
class EventCounters {
 public:
  void count(std::string_view event, std::string_view kind, uint64_t n = 1);
  std::map<std::pair<std::string, std::string>, uint64_t> snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, uint64_t, std::less<>> counts_;  // guarded
};

// Prometheus text format 0.0.4.
std::string render_prometheus(const Host& host, const EventCounters& events);

// A label value with '\\', '"' and newlines escaped.
std::string prometheus_label(std::string_view value);

}  // namespace outlet::http
