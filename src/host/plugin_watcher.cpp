#include "host/plugin_watcher.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <vector>

namespace outlet {
namespace {

constexpr uint32_t kWatchedEvents =
    IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB;

// Editors' scratch files (vim's .swp, backups ending in ~, dotfiles) are not
// the plugin's files; a change to them is not a reason to reload.
bool is_scratch_file(std::string_view name) {
  if (name.empty() || name[0] == '.' || name.back() == '~')
    return true;
  auto ends_with = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  return ends_with(".swp") || ends_with(".swx") || ends_with(".tmp");
}

}  // namespace

Result<std::unique_ptr<PluginWatcher>> PluginWatcher::start(
    Reload reload, std::chrono::milliseconds quiet_period) {
  int inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (inotify_fd < 0) {
    return Error(ErrorCode::kUnavailable,
                 std::string("cannot watch plugin files: inotify_init1: ") + std::strerror(errno));
  }
  int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    ::close(inotify_fd);
    return Error(ErrorCode::kUnavailable,
                 std::string("cannot watch plugin files: eventfd: ") + std::strerror(errno));
  }
  std::unique_ptr<PluginWatcher> watcher(
      new PluginWatcher(std::move(reload), quiet_period, inotify_fd, wake_fd));
  watcher->thread_ = std::thread([raw = watcher.get()] { raw->run(); });
  return watcher;
}

PluginWatcher::PluginWatcher(Reload reload, std::chrono::milliseconds quiet_period, int inotify_fd,
                             int wake_fd)
    : reload_(std::move(reload)),
      quiet_period_(quiet_period),
      inotify_fd_(inotify_fd),
      wake_fd_(wake_fd) {}

PluginWatcher::~PluginWatcher() {
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
  if (thread_.joinable())
    thread_.join();
  ::close(inotify_fd_);
  ::close(wake_fd_);
}

Status PluginWatcher::watch(const std::string& plugin_id, const std::string& directory) {
  int watch = inotify_add_watch(inotify_fd_, directory.c_str(), kWatchedEvents);
  if (watch < 0) {
    return Error(ErrorCode::kUnavailable,
                 "cannot watch \"" + directory + "\" for changes: " + std::strerror(errno));
  }
  std::lock_guard lock(mutex_);
  ids_by_watch_[watch].insert(plugin_id);
  watches_by_id_[plugin_id].insert(watch);
  return {};
}

void PluginWatcher::unwatch(const std::string& plugin_id) {
  std::lock_guard lock(mutex_);
  auto it = watches_by_id_.find(plugin_id);
  if (it == watches_by_id_.end())
    return;
  for (int watch : it->second) {
    std::set<std::string>& ids = ids_by_watch_[watch];
    ids.erase(plugin_id);
    if (ids.empty()) {
      ids_by_watch_.erase(watch);
      inotify_rm_watch(inotify_fd_, watch);
    }
  }
  watches_by_id_.erase(it);
  due_.erase(plugin_id);
}

void PluginWatcher::read_events() {
  alignas(inotify_event) std::array<char, size_t{16} * 1024> buffer;
  while (true) {
    ssize_t length = ::read(inotify_fd_, buffer.data(), buffer.size());
    if (length <= 0)
      return;  // EAGAIN: drained
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    for (ssize_t offset = 0; offset < length;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer.data() + offset);
      offset += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      std::string_view name = event->len > 0 ? std::string_view(event->name) : std::string_view();
      if (event->len > 0 && is_scratch_file(name))
        continue;
      auto ids = ids_by_watch_.find(event->wd);
      if (ids == ids_by_watch_.end())
        continue;
      // Each change pushes the reload back: it happens once the files are quiet.
      for (const std::string& id : ids->second)
        due_[id] = now + quiet_period_;
    }
  }
}

void PluginWatcher::run() {
  while (true) {
    int timeout_ms = -1;
    {
      std::lock_guard lock(mutex_);
      if (!due_.empty()) {
        auto earliest =
            std::min_element(due_.begin(), due_.end(), [](const auto& a, const auto& b) {
              return a.second < b.second;
            })->second;
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
            earliest - std::chrono::steady_clock::now());
        timeout_ms = static_cast<int>(std::max<int64_t>(0, wait.count() + 1));
      }
    }
    std::array<pollfd, 2> fds{{{inotify_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}}};
    int ready = ::poll(fds.data(), fds.size(), timeout_ms);
    if (ready < 0 && errno != EINTR)
      return;
    if (fds[1].revents & POLLIN)
      return;  // stopping
    if (fds[0].revents & POLLIN)
      read_events();
    std::vector<std::string> reload_now;
    {
      std::lock_guard lock(mutex_);
      auto now = std::chrono::steady_clock::now();
      for (auto it = due_.begin(); it != due_.end();) {
        if (it->second <= now) {
          reload_now.push_back(it->first);
          it = due_.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (const std::string& id : reload_now)
      reload_(id);
  }
}

}  // namespace outlet
