// One thread that runs tasks at their time: timer triggers, deferred actions. A task
// runs on that thread, one at a time, so a slow one delays the next; the work it
// schedules must be bounded (plugin calls are, by their hook's timeout).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

namespace outlet {

class TimerQueue {
 public:
  using Clock = std::chrono::steady_clock;
  using TaskId = uint64_t;

  TimerQueue();
  ~TimerQueue();  // stop()
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  // 0 once stopped (nothing is scheduled).
  TaskId schedule(Clock::time_point at, std::function<void()> task);
  TaskId schedule_after(Clock::duration delay, std::function<void()> task) {
    return schedule(Clock::now() + delay, std::move(task));
  }
  // False when the task already ran, is running, or never existed.
  bool cancel(TaskId id);
  size_t pending() const;
  // Drops what has not run, waits for a task that is running, joins the thread. Must
  // not be called from a task.
  void stop();

 private:
  void run();

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  // By time, then by id so that tasks due at once run in the order they were scheduled.
  std::map<std::pair<Clock::time_point, TaskId>, std::function<void()>> tasks_;  // guarded
  std::map<TaskId, Clock::time_point> when_;                                     // guarded
  TaskId next_id_ = 1;                                                           // guarded
  bool stopping_ = false;                                                        // guarded
  std::thread thread_;
};

}  // namespace outlet
