// Server-Sent Events owned by the host (seeds/003): a browser opens
// /plugins/<id>/_sse/<channel>; the plugin pushes with sse.send(channel, event,
// data) and never holds a connection itself. At most `max_per_plugin` connections
// per plugin (503 beyond), a ": keep-alive" comment every `keep_alive`, and a slow
// client loses frames instead of holding up the plugin. The plugin hears of each
// connection opening and closing through the sse.connect / sse.disconnect requests.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "http/http_message.h"
#include "outlet/host.h"

namespace outlet::http {

struct SseOptions {
  size_t max_per_plugin = 64;
  std::chrono::milliseconds keep_alive{15000};
};

class SseHub {
 public:
  // `tell_plugin(plugin, event, payload)` delivers sse.connect / sse.disconnect; it
  // must not block (the server queues the call for the plugin).
  using Notifier =
      std::function<void(const std::string& plugin_id, const std::string& event, Json payload)>;
  explicit SseHub(SseOptions options = {});
  ~SseHub();
  SseHub(const SseHub&) = delete;
  SseHub& operator=(const SseHub&) = delete;

  void set_notifier(Notifier notifier);
  // The streamed response for a new connection, or 503 when the plugin has its maximum.
  HttpResponse open(const std::string& plugin_id, const std::string& channel, const Json& user);
  // Sends one event to every connection on the channel; returns how many took it
  // (a slow client that dropped it does not count).
  size_t send(const std::string& plugin_id, const std::string& channel, const std::string& event,
              const Json& data);
  size_t connections(const std::string& plugin_id) const;
  // Closes every connection of a plugin (it was disabled or unloaded).
  void close_all(const std::string& plugin_id);

  // The sse.send host function (capability http.sse) and the sse.connect and
  // sse.disconnect events, declared on a host before its plugins load.
  static Status declare(Host& host, const std::shared_ptr<SseHub>& hub);

 private:
  struct Connection {
    std::string plugin_id;
    std::string channel;
    std::shared_ptr<StreamSink> sink;  // null until the head is sent
  };
  void ping_loop();

  SseOptions options_;
  mutable std::mutex mutex_;
  std::map<std::string, Connection> connections_;  // by connection id; guarded by mutex_
  std::map<std::string, size_t> counts_;           // per plugin, incl. opening; guarded
  Notifier notifier_;                              // guarded by mutex_
  uint64_t next_id_ = 0;                           // guarded by mutex_
  bool stopping_ = false;                          // guarded by mutex_
  std::condition_variable wake_;
  std::thread pinger_;
};

// One SSE frame: "event: <event>\n" (unless empty), a "data: " line per line of
// data (strings as they are, other JSON serialized), then a blank line.
std::string sse_frame(const std::string& event, const Json& data);

}  // namespace outlet::http
