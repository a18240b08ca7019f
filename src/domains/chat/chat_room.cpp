#include "domains/chat/chat_room.h"

#include <algorithm>
#include <chrono>
#include <tuple>

#include "core/json_schema.h"
#include "core/text.h"

namespace outlet::chat {
namespace {

int64_t system_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Error invalid(const std::string& path, const std::string& rule) {
  return Error(ErrorCode::kInvalidArgument, path + " " + rule, {{path, rule}});
}

std::string describe_sanction(const Sanction& sanction, int64_t now) {
  std::string text = "user \"" + sanction.user_id + "\" is ";
  if (sanction.kind == SanctionKind::kBan) {
    text += "banned";
  } else {
    const int64_t left = (sanction.until_ms - now + 999) / 1000;
    text += "timed out for " + std::to_string(left) + " more second" + (left == 1 ? "" : "s");
  }
  if (!sanction.reason.empty())
    text += " (" + sanction.reason + ")";
  return text;
}

}  // namespace

ChatRoom::ChatRoom(Host& host, ChatDomain& domain, ChatRoomOptions options)
    : host_(host),
      domain_(domain),
      options_(std::move(options)),
      link_(std::make_shared<Link>()),
      ids_(std::random_device{}()) {
  link_->room = this;
  if (!options_.now_ms)
    options_.now_ms = system_now_ms;
}

ChatRoom::~ChatRoom() {
  stop();
}

Result<std::unique_ptr<ChatRoom>> ChatRoom::open(Host& host, ChatDomain& domain,
                                                 ChatRoomOptions options) {
  auto store = ChatStore::open(options.store_path, options.tenant, options.history_limit);
  if (!store.ok())
    return store.error();
  std::unique_ptr<ChatRoom> room(new ChatRoom(host, domain, std::move(options)));
  room->store_ = std::move(store).value();
  auto sanctions = room->store_->sanctions();
  if (!sanctions.ok())
    return sanctions.error();
  const int64_t now = room->options_.now_ms();
  for (Sanction& sanction : *sanctions) {
    if (sanction.active_at(now))
      room->sanctions_.emplace(sanction.user_id, std::move(sanction));
    else
      (void)room->store_->remove_sanction(sanction.user_id);
  }
  room->triggers_ = std::make_unique<TriggerExecutor>(host, *room, room->options_.now_ms);
  ChatRoom* self = room.get();
  domain.set_live_handler([self](const ChatAction& action) { return self->perform(action); });
  // Triggers follow the active plugins: enable, disable, failure, reload. A Host
  // keeps its observers for good, so this one reaches the room through a link that
  // stop() cuts.
  host.on_state_change([link = room->link_](const std::string&, const StateChange&) {
    std::lock_guard lock(link->mutex);
    if (link->room != nullptr)
      link->room->triggers_->invalidate();
  });
  return room;
}

void ChatRoom::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_)
      return;
    stopped_ = true;
  }
  {
    std::lock_guard lock(link_->mutex);
    link_->room = nullptr;
  }
  // Waits for host-function calls in flight, so none reaches the room after this.
  domain_.set_live_handler(nullptr);
  triggers_->stop();
  std::lock_guard lock(mutex_);
  listeners_.clear();
}

std::string ChatRoom::new_message_id() {
  std::lock_guard lock(mutex_);
  static constexpr char kDigits[] = "0123456789abcdef";
  uint64_t bits = ids_();
  std::string id(16, '0');
  for (char& c : id) {
    c = kDigits[bits & 15];
    bits >>= 4;
  }
  return id;
}

void ChatRoom::touch(const ChatUser& user, bool present, bool counted) {
  TrackedUser& tracked = users_[user.id];
  tracked.user = user;
  tracked.present = tracked.present || present;
  tracked.last_seen_ms = options_.now_ms();
  if (counted)
    ++tracked.messages;
  if (users_.size() > options_.max_tracked_users)
    forget_users(user.id);
}

void ChatRoom::forget_users(const std::string& keep) {
  // A tenth at a time, so a full map costs one pass per many new users, not per user.
  // Absent users go first, the longest unseen first; a chat that never reports parts
  // (everyone who posts counts as present) must stay bounded too.
  std::vector<std::tuple<bool, int64_t, std::string>> candidates;
  candidates.reserve(users_.size());
  for (const auto& [id, tracked] : users_) {
    if (id != keep)
      candidates.emplace_back(tracked.present, tracked.last_seen_ms, id);
  }
  const size_t drop = std::min(candidates.size(), options_.max_tracked_users / 10 + 1);
  std::nth_element(candidates.begin(), candidates.begin() + static_cast<ptrdiff_t>(drop),
                   candidates.end());
  for (size_t i = 0; i < drop; ++i)
    users_.erase(std::get<2>(candidates[i]));
}

std::optional<Sanction> ChatRoom::sanction_of(const std::string& user_id, int64_t now) {
  auto it = sanctions_.find(user_id);
  if (it == sanctions_.end())
    return std::nullopt;
  if (!it->second.active_at(now)) {
    sanctions_.erase(it);
    (void)store_->remove_sanction(user_id);
    return std::nullopt;
  }
  return it->second;
}

Result<PostOutcome> ChatRoom::post(const Json& input) {
  if (!input.is_object())
    return invalid("message", "must be an object {body, user, id?}");
  for (const auto& [name, value] : input.items()) {
    if (name != "body" && name != "user" && name != "id")
      return invalid(name, "is not a message field (expected body, user or id)");
  }
  ChatMessage message;
  auto body = input.find("body");
  if (body == input.end() || !body->is_string())
    return invalid("body", "must be a string");
  message.body = body->get<std::string>();
  if (message.body.empty())
    return invalid("body", "must not be empty");
  if (message.body.size() > kMaxChatText)
    return invalid("body", "must be at most 4096 bytes");
  auto user_field = input.find("user");
  if (user_field == input.end())
    return invalid("user", "is required");
  auto user = parse_api_user(*user_field, "user");
  if (!user.ok())
    return user.error();
  message.user = std::move(user).value();
  if (auto id = input.find("id"); id != input.end() && !id->is_null()) {
    if (!id->is_string() || !is_valid_message_id(id->get<std::string>()))
      return invalid("id", "must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'");
    message.id = id->get<std::string>();
  } else {
    message.id = new_message_id();
  }
  message.at_ms = options_.now_ms();
  {
    std::lock_guard lock(mutex_);
    if (stopped_)
      return Error(ErrorCode::kUnavailable, "the chat is shutting down");
    if (auto sanction = sanction_of(message.user.id, message.at_ms)) {
      return Error(
          ErrorCode::kPermissionDenied, describe_sanction(*sanction, message.at_ms),
          {{"user.id", sanction->kind == SanctionKind::kBan ? "is banned" : "is timed out"}});
    }
    touch(message.user, true, true);
  }

  PostOutcome outcome;
  FilterOutcome filtered = host_.filter("chat.message.received", message.plugin_json());
  if (filtered.dropped) {
    outcome.message = std::move(message);
    outcome.dropped_by = filtered.dropped_by;
    outcome.reason = filtered.reason;
    return outcome;
  }
  // A filter may change the text; who said it and when are the host's to say.
  if (filtered.payload.is_object()) {
    const Json& changed = filtered.payload.value("body", Json());
    if (changed.is_string() && !changed.get<std::string>().empty())
      message.body = truncate_utf8(changed.get<std::string>(), kMaxChatText);
  }
  if (Status stored = store_->append(message); !stored.ok())
    return stored.error();
  outcome.accepted = true;
  outcome.message = message;
  broadcast({{"type", "message"}, {"message", message.api_json()}});
  host_.notify("chat.message.received", message.plugin_json());
  triggers_->on_message(message);
  return outcome;
}

Result<std::vector<ChatMessage>> ChatRoom::history(size_t limit) const {
  return store_->recent(limit);
}

Result<ChatMessage> ChatRoom::send_as_bot(const std::string& plugin_id, MessageKind kind,
                                          const std::string& text) {
  if (text.empty())
    return invalid("text", "must not be empty");
  if (text.size() > kMaxChatText)
    return invalid("text", "must be at most 4096 bytes");
  ChatMessage message;
  message.id = new_message_id();
  message.kind = kind;
  message.body = text;
  message.at_ms = options_.now_ms();
  message.plugin_id = plugin_id;
  if (kind == MessageKind::kSystem) {
    message.user = {"system", "System", {"bot"}};
  } else {
    auto status = host_.status(plugin_id);
    const std::string name = status && status->manifest && !status->manifest->name.empty()
                                 ? status->manifest->name
                                 : plugin_id;
    message.user = {"bot:" + plugin_id, name, {"bot"}};
  }
  if (Status stored = store_->append(message); !stored.ok())
    return stored.error();
  broadcast({{"type", "message"}, {"message", message.api_json()}});
  return message;
}

Result<bool> ChatRoom::delete_message(const std::string& id, const std::string& by) {
  auto removed = store_->remove(id);
  if (!removed.ok() || !*removed)
    return removed;
  broadcast({{"type", "deleted"}, {"id", id}, {"by", by}});
  host_.notify("chat.message.deleted", {{"id", id}});
  return true;
}

Result<Sanction> ChatRoom::sanction(const std::string& user_id, SanctionKind kind, int64_t seconds,
                                    const std::string& reason, const std::string& by) {
  if (user_id.empty() || user_id.size() > kMaxUserIdBytes)
    return invalid("user_id", "must be 1 to 128 bytes");
  if (kind == SanctionKind::kTimeout && (seconds < 1 || seconds > kMaxTimeoutSeconds))
    return invalid("duration_seconds", "must be from 1 to 1209600 for a timeout");
  Sanction sanction;
  sanction.user_id = user_id;
  sanction.kind = kind;
  sanction.since_ms = options_.now_ms();
  sanction.until_ms = kind == SanctionKind::kBan ? 0 : sanction.since_ms + seconds * 1000;
  sanction.reason = truncate_utf8(reason, kMaxReasonBytes);
  sanction.by = by;
  {
    std::lock_guard lock(mutex_);
    if (by != "operator") {
      auto it = users_.find(user_id);
      if (it != users_.end() && it->second.user.is_staff()) {
        return Error(ErrorCode::kPermissionDenied,
                     "a plugin cannot time out or ban the broadcaster or a moderator",
                     {{"user_id", "is staff"}});
      }
    }
    if (Status stored = store_->put_sanction(sanction); !stored.ok())
      return stored.error();
    sanctions_[user_id] = sanction;
  }
  broadcast({{"type", "sanction"}, {"sanction", sanction.api_json()}});
  return sanction;
}

Result<bool> ChatRoom::lift(const std::string& user_id, const std::string& by) {
  {
    std::lock_guard lock(mutex_);
    // An expired sanction goes too (sanction_of), but lifting it is not news.
    if (!sanction_of(user_id, options_.now_ms()))
      return false;
    if (auto removed = store_->remove_sanction(user_id); !removed.ok())
      return removed;
    sanctions_.erase(user_id);
  }
  broadcast({{"type", "lifted"}, {"user_id", user_id}, {"by", by}});
  return true;
}

std::vector<Sanction> ChatRoom::sanctions() {
  std::lock_guard lock(mutex_);
  const int64_t now = options_.now_ms();
  std::vector<Sanction> active;
  for (auto it = sanctions_.begin(); it != sanctions_.end();) {
    if (it->second.active_at(now)) {
      active.push_back(it->second);
      ++it;
    } else {
      (void)store_->remove_sanction(it->first);
      it = sanctions_.erase(it);
    }
  }
  return active;
}

Status ChatRoom::join(const Json& user_json) {
  auto user = parse_api_user(user_json, "user");
  if (!user.ok())
    return user.error();
  {
    std::lock_guard lock(mutex_);
    touch(*user, true, false);
  }
  broadcast({{"type", "joined"}, {"user", user->api_json()}});
  const Json payload = {{"user", user->plugin_json()}};
  host_.notify("chat.user.joined", payload);
  triggers_->on_event("chat.user.joined", payload);
  return ok_status();
}

Status ChatRoom::part(const std::string& user_id) {
  ChatUser user;
  {
    std::lock_guard lock(mutex_);
    auto it = users_.find(user_id);
    if (it == users_.end() || !it->second.present) {
      return Error(ErrorCode::kNotFound, "user \"" + user_id + "\" is not in the chat",
                   {{"user_id", "is not present"}});
    }
    it->second.present = false;
    it->second.last_seen_ms = options_.now_ms();
    user = it->second.user;
  }
  broadcast({{"type", "parted"}, {"user", user.api_json()}});
  const Json payload = {{"user", user.plugin_json()}};
  host_.notify("chat.user.parted", payload);
  triggers_->on_event("chat.user.parted", payload);
  return ok_status();
}

Json ChatRoom::users() const {
  std::lock_guard lock(mutex_);
  Json list = Json::array();
  for (const auto& [id, tracked] : users_) {
    Json json = tracked.user.api_json();
    json["present"] = tracked.present;
    json["last_seen"] = iso8601_utc(tracked.last_seen_ms);
    json["messages"] = tracked.messages;
    list.push_back(std::move(json));
  }
  return list;
}

Status ChatRoom::set_live(bool live, const Json& info) {
  if (!info.is_object())
    return invalid("payload", "must be an object");
  {
    std::lock_guard lock(mutex_);
    if (live_ == live) {
      return Error(ErrorCode::kFailedPrecondition,
                   live ? "the stream is already live" : "the stream is not live");
    }
    live_ = live;
  }
  const char* event = live ? "stream.started" : "stream.stopped";
  broadcast({{"type", "stream"}, {"live", live}, {"info", info}});
  host_.notify(event, info);
  triggers_->set_live(live);
  triggers_->on_event(event, info);
  return ok_status();
}

bool ChatRoom::live() const {
  std::lock_guard lock(mutex_);
  return live_;
}

Status ChatRoom::post_event(const std::string& event, const Json& payload) {
  if (event == "chat.user.joined")
    return payload.is_object() && payload.contains("user") ? join(payload["user"])
                                                           : invalid("payload.user", "is required");
  if (event == "chat.user.parted") {
    const Json& user = payload.is_object() ? payload.value("user", Json()) : Json();
    if (!user.is_object() || !user.contains("id") || !user["id"].is_string())
      return invalid("payload.user.id", "is required");
    return part(user["id"].get<std::string>());
  }
  if (event == "stream.started" || event == "stream.stopped")
    return set_live(event == "stream.started", payload);
  if (event == "chat.message.received" || event == "chat.message.deleted") {
    return invalid("event", "\"" + event +
                                "\" happens through the messages routes, not as a "
                                "posted event");
  }
  auto spec = host_.event(event);
  if (!spec)
    return invalid("event", "\"" + event + "\" is not an event of the catalogue");
  if (spec->kinds.count(HookKind::kNotify) == 0)
    return invalid("event", "\"" + event + "\" is not delivered as a notification");
  if (spec->compiled) {
    auto issues = spec->compiled->validate(payload);
    if (!issues.empty()) {
      std::vector<ErrorDetail> details;
      details.reserve(issues.size());
      for (const SchemaIssue& issue : issues)
        details.push_back({issue.path.empty() ? "payload" : "payload." + issue.path, issue.rule});
      return Error(ErrorCode::kInvalidArgument,
                   "the payload does not match the schema of \"" + event + "\"", details);
    }
  }
  host_.notify(event, payload);
  triggers_->on_event(event, payload);
  return ok_status();
}

uint64_t ChatRoom::subscribe(ChatListener listener) {
  std::lock_guard lock(mutex_);
  if (stopped_)
    return 0;
  const uint64_t id = next_listener_++;
  listeners_.emplace(id, std::make_shared<const ChatListener>(std::move(listener)));
  return id;
}

void ChatRoom::unsubscribe(uint64_t id) {
  std::lock_guard lock(mutex_);
  listeners_.erase(id);
}

size_t ChatRoom::clients() const {
  std::lock_guard lock(mutex_);
  return listeners_.size();
}

void ChatRoom::broadcast(const Json& frame) {
  std::vector<std::shared_ptr<const ChatListener>> listeners;
  {
    std::lock_guard lock(mutex_);
    listeners.reserve(listeners_.size());
    for (const auto& [id, listener] : listeners_)
      listeners.push_back(listener);
  }
  for (const auto& listener : listeners)
    (*listener)(frame);
}

Result<Json> ChatRoom::perform(const ChatAction& action) {
  const Json& args = action.arguments;
  if (action.function == "chat.send" || action.function == "chat.sendAction" ||
      action.function == "chat.system") {
    const MessageKind kind = action.function == "chat.send"         ? MessageKind::kChat
                             : action.function == "chat.sendAction" ? MessageKind::kAction
                                                                    : MessageKind::kSystem;
    auto sent = send_as_bot(action.plugin_id, kind, args.get<std::string>());
    if (!sent.ok())
      return sent.error();
    return Json{{"id", sent->id}};
  }
  if (action.function == "chat.moderate") {
    const std::string what = args.value("action", "");
    if (what == "delete") {
      auto removed = delete_message(args["messageId"].get<std::string>(), action.plugin_id);
      if (!removed.ok())
        return removed.error();
      return Json(*removed);
    }
    std::string reason;
    if (auto it = args.find("reason"); it != args.end() && it->is_string())
      reason = it->get<std::string>();
    auto sanctioned = sanction(args["userId"].get<std::string>(),
                               what == "ban" ? SanctionKind::kBan : SanctionKind::kTimeout,
                               what == "ban" ? 0 : args["durationSeconds"].get<int64_t>(), reason,
                               action.plugin_id);
    if (!sanctioned.ok())
      return sanctioned.error();
    return Json(true);
  }
  if (action.function == "chat.defer") {
    Status deferred = triggers_->defer(action.plugin_id, args["delaySeconds"].get<int64_t>() * 1000,
                                       args["action"]);
    if (!deferred.ok())
      return deferred.error();
    return Json(true);
  }
  return Error(ErrorCode::kInternal, "the chat room does not know " + action.function);
}

}  // namespace outlet::chat
