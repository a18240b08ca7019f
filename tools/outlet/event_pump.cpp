#include "event_pump.h"

#include <mutex>

#include "core/json_schema.h"
#include "core/text.h"

namespace outlet::cli {

EventPump::EventPump(ChatHost& chat_host, bool json, bool color)
    : chat_host_(chat_host), json_(json), color_(color) {
  chat_host_.domain->on_action([this](const chat::ChatAction& action) {
    std::lock_guard lock(pending_mutex_);
    pending_.push_back(
        {{"plugin", action.plugin_id}, {"call", action.function}, {"arguments", action.arguments}});
  });
  chat_host_.host->on_emit([this](const EmitRecord& record) {
    std::lock_guard lock(pending_mutex_);
    pending_.push_back({{"plugin", record.plugin_id},
                        {"emit", record.event},
                        {"payload", record.payload},
                        {"dropped", record.dropped}});
  });
}

std::string EventPump::paint(const char* code, const std::string& text) const {
  return color_ ? std::string("\033[") + code + "m" + text + "\033[0m" : text;
}

void EventPump::print(const std::string& text) {
  std::printf("%s\n", text.c_str());
}

std::string EventPump::describe(const std::string& event, const Json& payload) const {
  if (event == "chat.message.received" && payload.is_object()) {
    std::string name = payload.value("user", Json::object()).value("displayName", "?");
    return name + ": " + payload.value("body", "");
  }
  if (payload.is_object() && payload.contains("user") && payload["user"].is_object()) {
    return payload["user"].value("displayName", payload["user"].value("id", "?"));
  }
  return dump_short(payload, 80);
}

bool EventPump::process(const Json& line, size_t line_number) {
  Host& host = *chat_host_.host;
  std::string where = "line " + std::to_string(line_number);
  if (!line.is_object() || !line.contains("event") || !line["event"].is_string()) {
    std::fprintf(stderr, "%s: expected {\"event\": \"<name>\", \"payload\": {...}}\n",
                 where.c_str());
    return false;
  }
  std::string event = line["event"].get<std::string>();
  Json payload = line.value("payload", Json::object());
  std::shared_ptr<const EventSpec> found = host.event(event);
  if (found && found->compiled) {
    auto issues = found->compiled->validate(payload);
    if (!issues.empty()) {
      std::fprintf(stderr, "%s: payload of %s is invalid: %s: %s\n", where.c_str(), event.c_str(),
                   issues[0].path.empty() ? "(root)" : issues[0].path.c_str(),
                   issues[0].rule.c_str());
      return false;
    }
  }
  {
    std::lock_guard lock(pending_mutex_);
    pending_ = Json::array();
  }
  Json record = {{"event", event}, {"payload", payload}};
  bool delivered = true;
  if (found && found->kinds.count(HookKind::kFilter)) {
    FilterOutcome outcome = host.filter(event, payload);
    Json steps = Json::array();
    for (const FilterStep& step : outcome.steps) {
      steps.push_back({{"plugin", step.plugin_id},
                       {"action", filter_action_name(step.action)},
                       {"detail", step.detail}});
    }
    record["filters"] = steps;
    record["dropped"] = outcome.dropped;
    if (outcome.dropped) {
      record["reason"] = outcome.reason;
      delivered = false;
    } else {
      payload = std::move(outcome.payload);
      record["payload"] = payload;
    }
  }
  if (delivered && (!found || found->kinds.count(HookKind::kNotify))) {
    record["notified"] = host.notify(event, payload);
  }
  host.wait_idle();
  {
    std::lock_guard lock(pending_mutex_);
    record["actions"] = pending_;
  }
  if (json_) {
    print(dump_json(record));
    return true;
  }
  std::string headline =
      paint("1", event) + "  " + describe(event, line.value("payload", Json::object()));
  print(headline);
  for (const Json& step : record.value("filters", Json::array())) {
    std::string action = step["action"];
    const char* color = action == "drop"     ? "31"
                        : action == "modify" ? "33"
                        : action == "failed" ? "35"
                                             : "32";
    std::string detail = step["detail"].get<std::string>();
    print("    " + paint(color, action) + " by " + step["plugin"].get<std::string>() +
          (detail.empty() ? "" : " (" + detail + ")"));
  }
  if (record.value("dropped", false)) {
    print("    " + paint("31", "✗ dropped") + ": " + record["reason"].get<std::string>());
  } else if (record.contains("filters")) {
    print("    " + paint("32", "✓ delivered") + ": " + describe(event, payload) + "  → " +
          std::to_string(record.value("notified", 0)) + " subscriber(s)");
  } else {
    print("    → " + std::to_string(record.value("notified", 0)) + " subscriber(s)");
  }
  for (const Json& action : record["actions"]) {
    if (action.contains("emit")) {
      print("    " +
            paint("36", action["plugin"].get<std::string>() + " emitted " +
                            action["emit"].get<std::string>()) +
            " " + dump_json(action["payload"]) +
            (action["dropped"].get<bool>() ? " (dropped: depth)" : ""));
    } else {
      const Json& args = action["arguments"];
      print("    " +
            paint("36",
                  action["plugin"].get<std::string>() + " → " + action["call"].get<std::string>()) +
            ": " + (args.is_string() ? args.get<std::string>() : dump_json(args)));
    }
  }
  return true;
}

}  // namespace outlet::cli
