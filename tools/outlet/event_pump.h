// Feeds events through a host the way an application would (filter, then notify
// what survived) and prints what each plugin did. Used by `run` and `demo`.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include "cli_host.h"

namespace outlet::cli {

class EventPump {
 public:
  EventPump(ChatHost& chat_host, bool json, bool color);

  // One event; returns false (after printing why) when the input is invalid.
  bool process(const Json& line, size_t line_number);

 private:
  void print(const std::string& text);
  std::string paint(const char* code, const std::string& text) const;
  std::string describe(const std::string& event, const Json& payload) const;

  ChatHost& chat_host_;
  bool json_;
  bool color_;
  // Observers run on plugin threads while process() waits for them.
  std::mutex pending_mutex_;
  Json pending_ = Json::array();  // guarded by pending_mutex_: actions and emits of this event
};

}  // namespace outlet::cli
