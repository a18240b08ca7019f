#include "http/sse_hub.h"

#include "core/text.h"
#include "hostapi/args.h"

namespace outlet::http {
namespace {

constexpr size_t kMaxChannelBytes = 128;
constexpr size_t kMaxEventBytes = 128;
constexpr size_t kMaxFrameBytes = 256 << 10;

}  // namespace

std::string sse_frame(const std::string& event, const Json& data) {
  std::string frame;
  if (!event.empty())
    frame += "event: " + event + "\n";
  const std::string text = data.is_string() ? data.get<std::string>() : dump_json(data);
  // Every line of the data is a "data:" line; CR, LF and CRLF all end a line in SSE.
  size_t start = 0;
  while (true) {
    const size_t end = text.find_first_of("\r\n", start);
    frame += "data: ";
    frame.append(text, start, end == std::string::npos ? std::string::npos : end - start);
    frame += '\n';
    if (end == std::string::npos)
      break;
    start = end + (text.compare(end, 2, "\r\n") == 0 ? 2 : 1);
  }
  frame += '\n';
  return frame;
}

SseHub::SseHub(SseOptions options) : options_(options), pinger_([this] { ping_loop(); }) {}

SseHub::~SseHub() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  pinger_.join();
}

void SseHub::set_notifier(Notifier notifier) {
  std::lock_guard lock(mutex_);
  notifier_ = std::move(notifier);
}

void SseHub::ping_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, options_.keep_alive, [this] { return stopping_; });
    if (stopping_)
      break;
    for (auto& [id, connection] : connections_) {
      if (connection.sink)
        connection.sink->push(": keep-alive\n\n");
    }
  }
}

HttpResponse SseHub::open(const std::string& plugin_id, const std::string& channel,
                          const Json& user) {
  std::string id;
  {
    std::lock_guard lock(mutex_);
    size_t& count = counts_[plugin_id];
    if (count >= options_.max_per_plugin) {
      return error_response(503, "unavailable",
                            "plugin \"" + plugin_id + "\" already has " + std::to_string(count) +
                                " event streams open; try again later");
    }
    ++count;
    id = "sse-" + std::to_string(++next_id_);
    connections_[id] = {plugin_id, channel, nullptr};
  }
  HttpResponse response;
  response.set_header("content-type", "text/event-stream");
  response.set_header("cache-control", "no-cache");
  response.set_header("x-accel-buffering", "no");  // proxies must not hold frames back
  response.on_stream_open = [this, id, plugin_id, channel,
                             user](const std::shared_ptr<StreamSink>& sink) {
    Notifier notify;
    {
      std::lock_guard lock(mutex_);
      auto it = connections_.find(id);
      if (it == connections_.end())
        return;
      it->second.sink = sink;
      notify = notifier_;
    }
    sink->push(": connected\n\n");  // lets a client see the stream is live
    if (notify) {
      Json payload = {{"channel", channel}, {"connectionId", id}};
      if (!user.is_null())
        payload["user"] = user;
      notify(plugin_id, "sse.connect", std::move(payload));
    }
  };
  response.on_stream_closed = [this, id, plugin_id, channel] {
    Notifier notify;
    bool opened = false;
    {
      std::lock_guard lock(mutex_);
      auto it = connections_.find(id);
      if (it == connections_.end())
        return;
      opened = it->second.sink != nullptr;
      connections_.erase(it);
      if (--counts_[plugin_id] == 0)
        counts_.erase(plugin_id);
      notify = notifier_;
    }
    if (notify && opened)
      notify(plugin_id, "sse.disconnect", {{"channel", channel}, {"connectionId", id}});
  };
  return response;
}

size_t SseHub::send(const std::string& plugin_id, const std::string& channel,
                    const std::string& event, const Json& data) {
  const std::string frame = sse_frame(event, data);
  size_t delivered = 0;
  std::lock_guard lock(mutex_);
  for (auto& [id, connection] : connections_) {
    if (connection.sink && connection.plugin_id == plugin_id && connection.channel == channel &&
        connection.sink->push(frame)) {
      ++delivered;
    }
  }
  return delivered;
}

size_t SseHub::connections(const std::string& plugin_id) const {
  std::lock_guard lock(mutex_);
  auto it = counts_.find(plugin_id);
  return it == counts_.end() ? 0 : it->second;
}

void SseHub::close_all(const std::string& plugin_id) {
  std::lock_guard lock(mutex_);
  for (auto& [id, connection] : connections_) {
    if (connection.plugin_id == plugin_id && connection.sink)
      connection.sink->close();
  }
}

Status SseHub::declare(Host& host, const std::shared_ptr<SseHub>& hub) {
  std::weak_ptr<SseHub> weak = hub;
  HostFunctionSpec send{
      "sse.send", "http.sse",
      "Pushes an event to every browser on /plugins/<id>/_sse/<channel>: (channel, event, "
      "data); data is sent as is if a string, else as JSON. Never blocks; returns how many "
      "connections took it.",
      [weak](const HostCall& call, const Json& args) -> Result<Json> {
        HostArgs a("sse.send", args);
        if (Status s = a.expect_count(3, 3, {"channel", "event", "data"}); !s.ok())
          return s.error();
        auto channel = a.string_at(0, "channel", kMaxChannelBytes);
        auto event = a.string_at(1, "event", kMaxEventBytes);
        if (!channel.ok())
          return channel.error();
        if (!event.ok())
          return event.error();
        if (event->find_first_of("\r\n") != std::string::npos)
          return a.invalid(1, "event", "must be one line");
        const std::string frame_size_check = sse_frame(*event, a.at(2));
        if (frame_size_check.size() > kMaxFrameBytes) {
          return a.invalid(2, "data",
                           "must serialize to at most " + describe_bytes(kMaxFrameBytes));
        }
        auto hub = weak.lock();
        if (!hub)
          return Json(0);  // no server: nobody is connected
        return Json(hub->send(std::string(call.plugin_id), *channel, *event, a.at(2)));
      }};
  if (Status s = host.declare_host_function(std::move(send)); !s.ok())
    return s;
  const Json connection_schema = {{"type", "object"},
                                  {"required", {"channel", "connectionId"}},
                                  {"properties",
                                   {{"channel", {{"type", "string"}}},
                                    {"connectionId", {{"type", "string"}}},
                                    {"user", {{"type", "object"}}}}}};
  for (const char* name : {"sse.connect", "sse.disconnect"}) {
    EventSpec event;
    event.name = name;
    // A request, not a notification: it goes to the one plugin whose stream it is.
    event.kinds = {HookKind::kRequest};
    event.schema = connection_schema;
    event.description = std::string("A browser ") +
                        (std::string_view(name) == "sse.connect" ? "opened" : "closed") +
                        " one of the plugin's event streams (/plugins/<id>/_sse/<channel>).";
    if (Status s = host.declare_event(std::move(event)); !s.ok())
      return s;
  }
  return ok_status();
}

}  // namespace outlet::http
