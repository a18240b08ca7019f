#include "dispatch/timer_queue.h"

namespace outlet {

TimerQueue::TimerQueue() : thread_([this] { run(); }) {}

TimerQueue::~TimerQueue() {
  stop();
}

TimerQueue::TaskId TimerQueue::schedule(Clock::time_point at, std::function<void()> task) {
  std::lock_guard lock(mutex_);
  if (stopping_)
    return 0;
  const TaskId id = next_id_++;
  tasks_.emplace(std::make_pair(at, id), std::move(task));
  when_.emplace(id, at);
  changed_.notify_one();
  return id;
}

bool TimerQueue::cancel(TaskId id) {
  std::lock_guard lock(mutex_);
  auto it = when_.find(id);
  if (it == when_.end())
    return false;
  tasks_.erase({it->second, id});
  when_.erase(it);
  return true;
}

size_t TimerQueue::pending() const {
  std::lock_guard lock(mutex_);
  return tasks_.size();
}

void TimerQueue::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable())
      return;
    stopping_ = true;
    tasks_.clear();
    when_.clear();
    changed_.notify_all();
  }
  if (thread_.joinable())
    thread_.join();
}

void TimerQueue::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (tasks_.empty()) {
      changed_.wait(lock);
      continue;
    }
    auto first = tasks_.begin();
    // A copy: wait_until reads its deadline again after waking, and the task it
    // belongs to may have been cancelled (its node freed) meanwhile.
    const Clock::time_point due = first->first.first;
    if (due > Clock::now()) {
      changed_.wait_until(lock, due);
      continue;
    }
    std::function<void()> task = std::move(first->second);
    when_.erase(first->first.second);
    tasks_.erase(first);
    lock.unlock();
    // A task that throws must not take the thread (and every later timer) with it.
    try {
      task();
    } catch (...) {  // NOLINT(bugprone-empty-catch): reported by the task's owner if at all
    }
    task = nullptr;  // its captures go before the lock is taken again
    lock.lock();
  }
}

}  // namespace outlet
