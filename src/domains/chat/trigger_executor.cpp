#include "domains/chat/trigger_executor.h"

#include <algorithm>
#include <set>

#include "core/text.h"

namespace outlet::chat {
namespace {

// Cooldowns are at most a day (manifest validation), so older entries can go.
constexpr int64_t kLongestCooldownMs = int64_t{86400} * 1000;
constexpr size_t kPruneCooldownsAbove = 50000;

Json trigger_json(const TriggerSpec& spec) {
  Json json = {{"id", spec.id}, {"type", trigger_type_name(spec.type)}};
  if (!spec.handler.empty())
    json["handler"] = spec.handler;
  switch (spec.type) {
    case TriggerType::kCommand:
      json["command"] = spec.command;
      json["prefix"] = spec.prefix;
      if (!spec.aliases.empty())
        json["aliases"] = spec.aliases;
      if (spec.user_cooldown_seconds != 0 || spec.global_cooldown_seconds != 0) {
        json["cooldown"] = {{"user", spec.user_cooldown_seconds},
                            {"global", spec.global_cooldown_seconds}};
      }
      break;
    case TriggerType::kKeyword:
      json["keywords"] = spec.keywords;
      break;
    case TriggerType::kPattern:
      json["pattern"] = spec.pattern;
      break;
    case TriggerType::kEvent:
      json["event"] = spec.event;
      break;
    case TriggerType::kTimer:
      json["interval"] = spec.interval_seconds;
      break;
    case TriggerType::kModerate:
      break;
  }
  return json;
}

Json split_words(std::string_view text) {
  Json words = Json::array();
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) != 0)
      ++i;
    size_t start = i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) == 0)
      ++i;
    if (i > start)
      words.push_back(std::string(text.substr(start, i - start)));
  }
  return words;
}

bool granted(const PluginStatus& status, std::string_view permission) {
  return std::find(status.approved_permissions.begin(), status.approved_permissions.end(),
                   permission) != status.approved_permissions.end();
}

std::string optional_text(const Json& answer, const char* field) {
  auto it = answer.find(field);
  return it != answer.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Deferred actions are counted per plugin under a key no trigger can have: trigger
// keys start with a plugin id, which never starts with '#'.
constexpr std::string_view kDeferredPrefix = "#defer:";

std::string deferred_key(const std::string& plugin_id) {
  return std::string(kDeferredPrefix) + plugin_id;
}

}  // namespace

std::string trigger_key(const TriggerRef& trigger) {
  return trigger.plugin_id() + "/" + trigger.spec->id;
}

TriggerExecutor::TriggerExecutor(Host& host, ChatActions& actions, std::function<int64_t()> now_ms)
    : host_(host), actions_(actions), now_ms_(std::move(now_ms)) {}

TriggerExecutor::~TriggerExecutor() {
  stop();
}

void TriggerExecutor::stop() {
  stopped_ = true;
  queue_.stop();
  std::lock_guard lock(mutex_);
  timers_.clear();
  live_ = false;
}

void TriggerExecutor::invalidate() {
  std::lock_guard lock(mutex_);
  matcher_.reset();
  ++generation_;
  if (live_ && !timers_stale_) {
    // Coalesced: a burst of state changes (start-up) reschedules once.
    timers_stale_ = true;
    queue_.schedule_after(std::chrono::milliseconds(0), [this] {
      {
        std::lock_guard inner(mutex_);
        timers_stale_ = false;
      }
      reschedule_timers();
    });
  }
}

std::shared_ptr<const TriggerMatcher> TriggerExecutor::matcher() {
  uint64_t generation;
  {
    std::lock_guard lock(mutex_);
    if (matcher_)
      return matcher_;
    generation = generation_;
  }
  std::shared_ptr<const TriggerMatcher> built = rebuild();
  std::lock_guard lock(mutex_);
  if (generation_ == generation)
    matcher_ = built;
  return built;
}

std::shared_ptr<const TriggerMatcher> TriggerExecutor::rebuild() {
  std::vector<std::shared_ptr<const Manifest>> plugins;
  for (const PluginStatus& status : host_.statuses()) {
    if (status.state == PluginState::kLoaded && status.manifest &&
        !status.manifest->triggers.empty())
      plugins.push_back(status.manifest);
  }
  std::map<std::string, std::string> problems;
  auto built = TriggerMatcher::build(plugins);
  if (!built.ok()) {
    // Manifests were validated, so this is rare (RE2::Set out of memory): find the
    // plugins that cannot be compiled, leave them out, and say so.
    std::vector<std::shared_ptr<const Manifest>> good;
    for (const auto& manifest : plugins) {
      auto alone = TriggerMatcher::build({manifest});
      if (alone.ok())
        good.push_back(manifest);
      else
        problems[manifest->id] = alone.error().message();
    }
    built = TriggerMatcher::build(good);
    if (!built.ok()) {
      problems["*"] = built.error().message();
      built = TriggerMatcher::build({});
    }
  }
  std::lock_guard lock(mutex_);
  build_problems_ = std::move(problems);
  return built.ok() ? std::shared_ptr<const TriggerMatcher>(std::move(built).value()) : nullptr;
}

TriggerExecutor::Counters& TriggerExecutor::counters(const std::string& key) {
  return counters_[key];
}

void TriggerExecutor::refuse(const std::string& key, const std::string& problem) {
  std::lock_guard lock(mutex_);
  Counters& c = counters(key);
  ++c.refused;
  c.last_problem = truncate_utf8(problem, 512);
}

bool TriggerExecutor::cooldown_allows(const TriggerRef& trigger, const std::string& user_id) {
  const TriggerSpec& spec = *trigger.spec;
  if (spec.user_cooldown_seconds == 0 && spec.global_cooldown_seconds == 0)
    return true;
  const std::string global_key = trigger_key(trigger);
  const std::string user_key = global_key + '\0' + user_id;
  const int64_t now = now_ms_();
  std::lock_guard lock(mutex_);
  auto cooling = [&](const std::string& key, uint32_t seconds) {
    if (seconds == 0)
      return false;
    auto it = last_fired_.find(key);
    return it != last_fired_.end() && now - it->second < int64_t{seconds} * 1000;
  };
  if (cooling(global_key, spec.global_cooldown_seconds) ||
      cooling(user_key, spec.user_cooldown_seconds)) {
    ++counters(global_key).cooled_down;
    return false;
  }
  if (last_fired_.size() > kPruneCooldownsAbove) {
    std::erase_if(last_fired_,
                  [&](const auto& entry) { return now - entry.second > kLongestCooldownMs; });
  }
  if (spec.global_cooldown_seconds != 0)
    last_fired_[global_key] = now;
  if (spec.user_cooldown_seconds != 0)
    last_fired_[user_key] = now;
  return true;
}

bool TriggerExecutor::fire(const TriggerRef& trigger, Json payload, const Subject& subject) {
  if (stopped_)
    return false;
  const std::string key = trigger_key(trigger);
  std::optional<PluginStatus> status = host_.status(trigger.plugin_id());
  if (!status || status->state != PluginState::kLoaded)
    return false;
  payload["trigger"] = trigger_json(*trigger.spec);
  payload["config"] = status->config;
  {
    std::lock_guard lock(mutex_);
    ++counters(key).matched;
  }
  auto answer = host_.request(trigger.plugin_id(), "chat.trigger", payload);
  if (!answer.ok()) {
    std::lock_guard lock(mutex_);
    Counters& c = counters(key);
    ++c.failed;
    c.last_problem = truncate_utf8(answer.error().message(), 512);
    return false;
  }
  return carry_out(*status, key, *answer, subject);
}

bool TriggerExecutor::carry_out(const PluginStatus& status, const std::string& key,
                                const Json& answer, const Subject& subject) {
  if (answer.is_null()) {
    std::lock_guard lock(mutex_);
    ++counters(key).executed;
    return false;
  }
  if (!answer.is_object()) {
    refuse(key,
           "the answer must be an object {action, message?, duration?}, got " + dump_short(answer));
    return false;
  }
  const Json& action_value = answer.value("action", Json("none"));
  const std::string action = action_value.is_string() ? action_value.get<std::string>() : "";
  static const std::set<std::string> kActions = {"send_message", "delete", "timeout", "ban",
                                                 "none"};
  if (kActions.count(action) == 0) {
    refuse(key, "answer.action must be send_message, delete, timeout, ban or none; got " +
                    dump_short(action_value));
    return false;
  }
  const std::string& plugin_id = status.id;
  // The text to post: the whole point of send_message, a courtesy with the others.
  const Json& message_value = answer.value("message", Json());
  if (!message_value.is_null() && !message_value.is_string()) {
    refuse(key, "answer.message must be a string, got " + dump_short(message_value));
    return false;
  }
  std::string text = message_value.is_string() ? message_value.get<std::string>() : "";
  if (text.size() > kMaxChatText) {
    refuse(key, "answer.message must be at most 4096 bytes");
    return false;
  }
  if (action == "send_message" && text.empty()) {
    refuse(key, "answer.message must be a non-empty string for send_message");
    return false;
  }
  if (!text.empty() && !granted(status, "chat.send")) {
    refuse(key, "posting answer.message needs permission \"chat.send\", which is not granted");
    return false;
  }
  const bool moderates = action == "delete" || action == "timeout" || action == "ban";
  if (moderates && !granted(status, "chat.moderate")) {
    refuse(key, "answer.action \"" + action +
                    "\" needs permission \"chat.moderate\", which is not granted");
    return false;
  }
  const std::string reason = optional_text(answer, "reason");  // the room cuts it to size
  Status done;
  if (action == "delete") {
    std::string id = subject.message ? subject.message->id : optional_text(answer, "message_id");
    if (id.empty()) {
      refuse(key,
             "answer.action \"delete\" needs a message: none triggered this, and "
             "answer.message_id is not set");
      return false;
    }
    auto removed = actions_.delete_message(id, plugin_id);
    if (!removed.ok())
      done = removed.error();
  } else if (action == "timeout" || action == "ban") {
    std::string user = subject.user ? subject.user->id : optional_text(answer, "user_id");
    if (user.empty()) {
      refuse(key, "answer.action \"" + action +
                      "\" needs a user: none triggered this, and answer.user_id is not set");
      return false;
    }
    int64_t seconds = 0;
    if (action == "timeout") {
      const Json& duration = answer.value("duration", Json());
      if (!duration.is_number_integer() || duration.get<int64_t>() < 1 ||
          duration.get<int64_t>() > kMaxTimeoutSeconds) {
        refuse(key, "answer.duration must be whole seconds from 1 to 1209600 for timeout, got " +
                        dump_short(duration));
        return false;
      }
      seconds = duration.get<int64_t>();
    }
    auto sanctioned =
        actions_.sanction(user, action == "ban" ? SanctionKind::kBan : SanctionKind::kTimeout,
                          seconds, reason, plugin_id);
    if (!sanctioned.ok())
      done = sanctioned.error();
  }
  if (done.ok() && !text.empty()) {
    auto sent = actions_.send_as_bot(plugin_id, MessageKind::kChat, text);
    if (!sent.ok())
      done = sent.error();
  }
  if (!done.ok()) {
    refuse(key, done.error().message());
    return false;
  }
  std::lock_guard lock(mutex_);
  ++counters(key).executed;
  return moderates;
}

void TriggerExecutor::on_message(const ChatMessage& message) {
  auto m = matcher();
  if (!m || m->size() == 0 || stopped_)
    return;
  const TriggerMatch match = m->match_message(message.body);
  const Subject subject{&message, &message.user};
  Json payload = {{"message", message.plugin_json()},
                  {"user", message.user.plugin_json()},
                  {"text", message.body}};
  for (const TriggerRef& gate : match.moderate) {
    if (fire(gate, payload, subject))
      return;
  }
  if (match.first == nullptr)
    return;
  if (match.first->spec->type == TriggerType::kCommand) {
    payload["command"] = match.command_word;
    payload["text"] = match.command_arguments;
    payload["args"] = split_words(match.command_arguments);
  }
  if (!cooldown_allows(*match.first, message.user.id))
    return;
  fire(*match.first, std::move(payload), subject);
}

void TriggerExecutor::on_event(std::string_view event, const Json& payload) {
  auto m = matcher();
  if (!m || stopped_)
    return;
  std::vector<TriggerRef> matched = m->match_event(event);
  if (matched.empty())
    return;
  Json request = {{"event", event}, {"payload", payload}, {"text", ""}};
  ChatUser user;
  Subject subject;
  if (payload.is_object() && payload.contains("user") && payload["user"].is_object()) {
    const Json& u = payload["user"];
    if (u.contains("id") && u["id"].is_string()) {
      user.id = u["id"].get<std::string>();
      request["user"] = u;
      subject.user = &user;
    }
  }
  fire(matched.front(), std::move(request), subject);
}

void TriggerExecutor::set_live(bool live) {
  {
    std::lock_guard lock(mutex_);
    if (live_ == live || stopped_)
      return;
    live_ = live;
  }
  reschedule_timers();
}

void TriggerExecutor::reschedule_timers() {
  auto m = matcher();
  std::lock_guard lock(mutex_);
  std::map<std::string, uint32_t> wanted;
  if (live_ && m && !stopped_) {
    for (const TriggerRef& timer : m->timers())
      wanted.emplace(trigger_key(timer), timer.spec->interval_seconds);
  }
  for (auto it = timers_.begin(); it != timers_.end();) {
    if (wanted.count(it->first) == 0) {
      queue_.cancel(it->second);
      it = timers_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [key, interval] : wanted) {
    if (timers_.count(key) == 0)
      schedule_timer(key, interval);
  }
}

void TriggerExecutor::schedule_timer(const std::string& key, uint32_t interval_seconds) {
  timers_[key] = queue_.schedule_after(std::chrono::seconds(interval_seconds),
                                       [this, key] { fire_timer(key); });
}

void TriggerExecutor::fire_timer(const std::string& key) {
  auto m = matcher();
  const TriggerRef* timer = nullptr;
  if (m) {
    for (const TriggerRef& candidate : m->timers()) {
      if (trigger_key(candidate) == key)
        timer = &candidate;
    }
  }
  {
    std::lock_guard lock(mutex_);
    auto it = timers_.find(key);
    if (it == timers_.end())
      return;
    if (!live_ || timer == nullptr) {
      timers_.erase(it);
      return;
    }
    it->second = 0;  // firing: a reschedule meanwhile leaves it to us
  }
  fire(*timer, {{"text", ""}}, {});
  std::lock_guard lock(mutex_);
  auto it = timers_.find(key);
  if (it != timers_.end() && it->second == 0 && live_ && !stopped_)
    schedule_timer(key, timer->spec->interval_seconds);
}

Status TriggerExecutor::defer(const std::string& plugin_id, int64_t delay_ms, Json action) {
  {
    std::lock_guard lock(mutex_);
    size_t& waiting = deferred_per_plugin_[plugin_id];
    if (waiting >= kMaxDeferredPerPlugin) {
      return Error(ErrorCode::kResourceExhausted,
                   "chat.defer: " + std::to_string(kMaxDeferredPerPlugin) +
                       " deferred actions are already waiting for this plugin");
    }
    ++waiting;
  }
  const auto id = queue_.schedule_after(std::chrono::milliseconds(delay_ms),
                                        [this, plugin_id, action = std::move(action)] {
                                          {
                                            std::lock_guard lock(mutex_);
                                            --deferred_per_plugin_[plugin_id];
                                          }
                                          if (stopped_)
                                            return;
                                          auto status = host_.status(plugin_id);
                                          if (!status || status->state != PluginState::kLoaded)
                                            return;  // a plugin that has stopped does not act
                                          carry_out(*status, deferred_key(plugin_id), action, {});
                                        });
  if (id == 0) {
    std::lock_guard lock(mutex_);
    --deferred_per_plugin_[plugin_id];
    return Error(ErrorCode::kUnavailable, "chat.defer: the chat is shutting down");
  }
  return ok_status();
}

Json TriggerExecutor::describe() {
  auto m = matcher();
  Json triggers = Json::array();
  std::lock_guard lock(mutex_);
  if (m) {
    for (const TriggerRef& trigger : m->all()) {
      Json json = trigger_json(*trigger.spec);
      json["plugin_id"] = trigger.plugin_id();
      auto it = counters_.find(trigger_key(trigger));
      Counters c = it != counters_.end() ? it->second : Counters{};
      json["matched"] = c.matched;
      json["cooled_down"] = c.cooled_down;
      json["failed"] = c.failed;
      json["executed"] = c.executed;
      json["refused"] = c.refused;
      json["last_problem"] = c.last_problem.empty() ? Json(nullptr) : Json(c.last_problem);
      triggers.push_back(std::move(json));
    }
  }
  Json deferred = Json::object();
  for (const auto& [key, c] : counters_) {
    if (key.starts_with(kDeferredPrefix)) {
      deferred[key.substr(kDeferredPrefix.size())] = {
          {"executed", c.executed},
          {"refused", c.refused},
          {"last_problem", c.last_problem.empty() ? Json(nullptr) : Json(c.last_problem)}};
    }
  }
  Json problems = Json::object();
  for (const auto& [plugin, problem] : build_problems_)
    problems[plugin] = problem;
  return {{"live", live_},
          {"triggers", std::move(triggers)},
          {"deferred", std::move(deferred)},
          {"left_out", std::move(problems)}};
}

}  // namespace outlet::chat
