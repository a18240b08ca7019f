#include "runtime/handler_derivation.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "core/suggest.h"
#include "dispatch/event_catalogue.h"

namespace outlet {
namespace {

const char* const kGroups[] = {"on", "notify", "filter", "collect", "dispatch", "request"};

struct Prefixes {
  std::string notify, filter;
};

Prefixes prefixes(HandlerSpelling spelling) {
  return spelling == HandlerSpelling::kSnakeCase ? Prefixes{"on_", "filter_"}
                                                 : Prefixes{"on", "filter"};
}

// "filter_chat_message" → ("chat_message", true); "onChatMessage" → ("ChatMessage", false).
std::optional<std::pair<std::string, bool>> typed_name_parts(const std::string& key,
                                                             HandlerSpelling spelling) {
  Prefixes p = prefixes(spelling);
  for (const auto& [prefix, is_filter] : {std::pair{p.filter, true}, std::pair{p.notify, false}}) {
    if (key.size() <= prefix.size() || key.compare(0, prefix.size(), prefix) != 0)
      continue;
    if (spelling == HandlerSpelling::kCamelCase &&
        !std::isupper(static_cast<unsigned char>(key[prefix.size()])))
      continue;
    return std::pair{key.substr(prefix.size()), is_filter};
  }
  return std::nullopt;
}

class Deriver {
 public:
  Deriver(const std::vector<std::shared_ptr<const EventSpec>>& events, HandlerSpelling spelling,
          WarningLog* warnings)
      : spelling_(spelling), warnings_(warnings) {
    Prefixes p = prefixes(spelling);
    for (const auto& event : events) {
      by_name_[event->name] = event;
      std::string handler = spelled_handler_name(*event, spelling);
      by_handler_[handler] = event;
      for (HookKind kind : event->kinds)
        typed_names_.push_back((kind == HookKind::kFilter ? p.filter : p.notify) + handler);
    }
  }

  void consider(const HandlerCandidate& candidate) {
    const std::string& key = candidate.key;
    if (candidate.event || !candidate.bad_event_key_type.empty()) {
      group_entry(candidate);
    } else if (is_handler_group(key)) {
      if (candidate.value_type != "table" && candidate.value_type != "object") {
        problems_.push_back(
            {key, "must be a table of event name -> handler (got a " + candidate.value_type + ")"});
      }
    } else if (key == "filter_priority" || key == "filterPriority") {
      if (!candidate.integer) {
        problems_.push_back({key, "must be an integer (got a " + candidate.value_type + ")"});
      } else {
        filter_priority_ =
            static_cast<int>(std::clamp<int64_t>(*candidate.integer, -1000000, 1000000));
      }
    } else if (auto parts = typed_name_parts(key, spelling_)) {
      typed_entry(candidate, parts->first, parts->second);
    }
  }

  Result<std::vector<DerivedHandler>> finish() {
    if (!problems_.empty()) {
      return Error(ErrorCode::kInvalidArgument, "the plugin's handlers are invalid",
                   std::move(problems_));
    }
    for (DerivedHandler& handler : handlers_) {
      if (handler.subscription.kind == HookKind::kFilter && filter_priority_)
        handler.subscription.priority = *filter_priority_;
    }
    return std::move(handlers_);
  }

 private:
  void group_entry(const HandlerCandidate& candidate) {
    const std::string& key = candidate.key;
    if (!candidate.event) {
      problems_.push_back(
          {key, "keys must be event names (got a " + candidate.bad_event_key_type + ")"});
      return;
    }
    const std::string& event = *candidate.event;
    std::string label = key + "[\"" + event + "\"]";
    if (candidate.value_type != "function") {
      problems_.push_back({label, "must be a function (got a " + candidate.value_type + ")"});
      return;
    }
    std::optional<HookKind> kind = key == "on" ? untyped_kind(event, label) : parse_hook_kind(key);
    if (kind)
      add(*kind, event, candidate.entry, label);
  }

  void typed_entry(const HandlerCandidate& candidate, const std::string& handler, bool is_filter) {
    const std::string& key = candidate.key;
    auto spec = by_handler_.find(handler);
    if (spec == by_handler_.end()) {
      if (candidate.value_type == "function" && warnings_ != nullptr) {
        warnings_->add("load", key + " is not a handler: no event of this host is named \"" +
                                   handler + "\"" + did_you_mean(key, typed_names_));
      }
      return;
    }
    if (candidate.value_type != "function") {
      problems_.push_back({key, "must be a function (got a " + candidate.value_type + ")"});
      return;
    }
    const std::string& event = spec->second->name;
    std::optional<HookKind> kind =
        is_filter ? std::optional<HookKind>(HookKind::kFilter) : untyped_kind(event, key);
    if (kind)
      add(*kind, event, candidate.entry, key);
  }

  // The kind a handler that names no kind (`on_x`, `on = {...}`) subscribes with.
  std::optional<HookKind> untyped_kind(const std::string& event, const std::string& label) {
    auto spec = by_name_.find(event);
    if (spec == by_name_.end())
      return HookKind::kNotify;
    std::optional<HookKind> kind = primary_handler_kind(*spec->second);
    if (!kind && spec->second->kinds == std::set<HookKind>{HookKind::kFilter}) {
      std::string typed =
          prefixes(spelling_).filter + spelled_handler_name(*spec->second, spelling_);
      problems_.push_back({label, "\"" + event +
                                      "\" is delivered only to filters; name the handler " + typed +
                                      " or put it in the " + group_syntax("filter") + " table"});
    } else if (!kind) {
      problems_.push_back(
          {label, "\"" + event + "\" is delivered in more than one way; name the kind with a " +
                      group_syntax("collect") + ", " + group_syntax("dispatch") + " or " +
                      group_syntax("request") + " table"});
    }
    return kind;
  }

  std::string group_syntax(const char* group) const {
    return std::string(group) + (spelling_ == HandlerSpelling::kSnakeCase ? " = {...}" : ": {...}");
  }

  void add(HookKind kind, const std::string& event, size_t entry, std::string label) {
    for (const DerivedHandler& existing : handlers_) {
      if (existing.subscription.kind == kind && existing.subscription.event == event) {
        problems_.push_back({label, "a second " + std::string(hook_kind_name(kind)) +
                                        " handler for \"" + event + "\" (the first is " +
                                        existing.label + ")"});
        return;
      }
    }
    DerivedHandler handler;
    handler.subscription = {kind, event, 100};
    handler.entry = entry;
    handler.label = std::move(label);
    if (auto spec = by_name_.find(event); spec != by_name_.end())
      handler.arguments = spec->second->handler_arguments;
    handlers_.push_back(std::move(handler));
  }

  HandlerSpelling spelling_;
  WarningLog* warnings_;
  std::map<std::string, std::shared_ptr<const EventSpec>, std::less<>> by_name_, by_handler_;
  std::vector<std::string> typed_names_;
  std::vector<ErrorDetail> problems_;
  std::optional<int> filter_priority_;
  std::vector<DerivedHandler> handlers_;
};

}  // namespace

bool is_handler_group(std::string_view key) {
  return std::find(std::begin(kGroups), std::end(kGroups), key) != std::end(kGroups);
}

std::string spelled_handler_name(const EventSpec& event, HandlerSpelling spelling) {
  std::string snake = typed_handler_name(event);
  if (spelling == HandlerSpelling::kSnakeCase)
    return snake;
  std::string camel;
  bool upper = true;
  for (char c : snake) {
    if (c == '_') {
      upper = true;
      continue;
    }
    camel += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return camel;
}

const DerivedHandler* find_handler(const std::vector<DerivedHandler>& handlers, HookKind kind,
                                   std::string_view event) {
  for (const DerivedHandler& handler : handlers) {
    if (handler.subscription.kind == kind && handler.subscription.event == event)
      return &handler;
  }
  return nullptr;
}

std::vector<Subscription> subscriptions_of(const std::vector<DerivedHandler>& handlers) {
  std::vector<Subscription> list;
  list.reserve(handlers.size());
  for (const DerivedHandler& handler : handlers)
    list.push_back(handler.subscription);
  return list;
}

Result<std::vector<DerivedHandler>> derive_handlers(
    const std::vector<HandlerCandidate>& candidates,
    const std::vector<std::shared_ptr<const EventSpec>>& events, HandlerSpelling spelling,
    WarningLog* warnings) {
  Deriver deriver(events, spelling, warnings);
  for (const HandlerCandidate& candidate : candidates)
    deriver.consider(candidate);
  return deriver.finish();
}

}  // namespace outlet
