#include "http/metrics.h"

#include <array>
#include <cstdio>

#include "outlet/lifecycle.h"

namespace outlet::http {
namespace {

constexpr std::array<HookKind, 5> kHookKinds = {HookKind::kNotify, HookKind::kFilter,
                                                HookKind::kCollect, HookKind::kDispatch,
                                                HookKind::kRequest};

std::string number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", value);
  return buffer;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

struct Sample {
  std::string& out;
  void operator()(std::string_view name, std::string_view labels, const std::string& value) const {
    out += name;
    if (!labels.empty()) {
      out += '{';
      out += labels;
      out += '}';
    }
    out += ' ';
    out += value;
    out += '\n';
  }
};

std::string plugin_hook(const std::string& plugin, HookKind kind) {
  return "plugin=\"" + prometheus_label(plugin) + "\",hook=\"" + std::string(hook_kind_name(kind)) +
         "\"";
}

}  // namespace

void EventCounters::count(std::string_view event, std::string_view kind, uint64_t n) {
  std::lock_guard lock(mutex_);
  counts_[{std::string(event), std::string(kind)}] += n;
}

std::map<std::pair<std::string, std::string>, uint64_t> EventCounters::snapshot() const {
  std::lock_guard lock(mutex_);
  return {counts_.begin(), counts_.end()};
}

std::string prometheus_label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string render_prometheus(const Host& host, const EventCounters& events) {
  std::string out;
  Sample sample{out};

  family(out, "outlet_events_total", "counter",
         "Events the server dispatched or plugins emitted, by event and hook kind.");
  for (const auto& [key, count] : events.snapshot()) {
    sample("outlet_events_total",
           "event=\"" + prometheus_label(key.first) + "\",kind=\"" + prometheus_label(key.second) +
               "\"",
           std::to_string(count));
  }

  const std::vector<PluginStatus> statuses = host.statuses();
  family(out, "outlet_plugin_state", "gauge", "1 for the state each plugin is in.");
  for (const PluginStatus& status : statuses) {
    sample("outlet_plugin_state",
           "plugin=\"" + prometheus_label(status.id) + "\",state=\"" +
               std::string(plugin_state_name(status.state)) + "\"",
           "1");
  }

  struct Counter {
    const char* name;
    const char* help;
    uint64_t HookStats::*field;
  };
  const std::array<Counter, 3> counters = {{
      {"outlet_plugin_calls_total", "Calls into a plugin, by hook kind.", &HookStats::calls},
      {"outlet_plugin_failures_total",
       "Calls that failed (threw, trapped, timed out, returned garbage).", &HookStats::failures},
      {"outlet_plugin_timeouts_total", "Calls stopped at their deadline.", &HookStats::timeouts},
  }};
  for (const Counter& counter : counters) {
    family(out, counter.name, "counter", counter.help);
    for (const PluginStatus& status : statuses) {
      if (!status.stats)
        continue;
      for (HookKind kind : kHookKinds) {
        const HookStats& hook = status.stats->by_kind[static_cast<size_t>(kind)];
        sample(counter.name, plugin_hook(status.id, kind), std::to_string(hook.*counter.field));
      }
    }
  }

  struct Gauge {
    const char* name;
    const char* help;
    uint64_t PluginCallStats::*field;
  };
  const std::array<Gauge, 3> gauges = {{
      {"outlet_plugin_strikes",
       "Failures since the plugin was loaded or re-enabled; the strike limit disables it.",
       &PluginCallStats::strikes},
      {"outlet_plugin_consecutive_failures",
       "Failures in a row; reaching the strike limit disables the plugin.",
       &PluginCallStats::consecutive_failures},
      {"outlet_plugin_memory_bytes",
       "Memory the plugin's instance holds, as of its last call (0 if unknown).",
       &PluginCallStats::memory_bytes},
  }};
  // Each family's samples form one group, as the exposition format requires.
  for (const Gauge& gauge : gauges) {
    family(out, gauge.name, "gauge", gauge.help);
    for (const PluginStatus& status : statuses) {
      if (status.stats) {
        sample(gauge.name, "plugin=\"" + prometheus_label(status.id) + "\"",
               std::to_string((*status.stats).*gauge.field));
      }
    }
  }

  family(out, "outlet_plugin_call_duration_seconds", "histogram",
         "Time per call into a plugin, by hook kind.");
  for (const PluginStatus& status : statuses) {
    if (!status.stats)
      continue;
    for (HookKind kind : kHookKinds) {
      const HookStats& hook = status.stats->by_kind[static_cast<size_t>(kind)];
      const std::string labels = plugin_hook(status.id, kind);
      for (const auto& [bound, count] : hook.latency_le_seconds) {
        sample("outlet_plugin_call_duration_seconds_bucket",
               labels + ",le=\"" + number(bound) + "\"", std::to_string(count));
      }
      sample("outlet_plugin_call_duration_seconds_bucket", labels + ",le=\"+Inf\"",
             std::to_string(hook.calls));
      sample("outlet_plugin_call_duration_seconds_sum", labels, number(hook.latency_sum_seconds));
      sample("outlet_plugin_call_duration_seconds_count", labels, std::to_string(hook.calls));
    }
  }
  return out;
}

}  // namespace outlet::http
