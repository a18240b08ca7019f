#include "dispatch/worker_pool.h"

namespace outlet {
namespace {
constexpr int kTasksPerTurn = 16;
}

bool SerialMailbox::post(std::function<void()> task) {
  bool schedule = false;
  {
    std::lock_guard lock(mutex_);
    if (tasks_.size() >= capacity_)
      return false;
    pool_.task_posted();
    tasks_.push_back(std::move(task));
    if (!scheduled_) {
      scheduled_ = true;
      schedule = true;
    }
  }
  if (schedule)
    pool_.schedule(shared_from_this());
  return true;
}

bool SerialMailbox::run_some() {
  for (int i = 0; i < kTasksPerTurn; ++i) {
    std::function<void()> task;
    {
      std::lock_guard lock(mutex_);
      if (tasks_.empty()) {
        scheduled_ = false;
        return false;
      }
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
    pool_.task_finished();
  }
  std::lock_guard lock(mutex_);
  if (tasks_.empty()) {
    scheduled_ = false;
    return false;
  }
  return true;
}

WorkerPool::WorkerPool(size_t threads) {
  if (threads == 0)
    threads = 1;
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] { run(); });
}

WorkerPool::~WorkerPool() {
  wait_idle();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_ready_.notify_all();
  for (std::thread& thread : threads_)
    thread.join();
}

void WorkerPool::task_posted() {
  std::lock_guard lock(mutex_);
  ++pending_tasks_;
}

void WorkerPool::task_finished() {
  std::lock_guard lock(mutex_);
  if (--pending_tasks_ == 0)
    idle_.notify_all();
}

void WorkerPool::schedule(std::shared_ptr<SerialMailbox> mailbox) {
  {
    std::lock_guard lock(mutex_);
    ready_.push_back(std::move(mailbox));
  }
  work_ready_.notify_one();
}

void WorkerPool::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_.wait(lock, [this] { return pending_tasks_ == 0; });
}

void WorkerPool::run() {
  for (;;) {
    std::shared_ptr<SerialMailbox> mailbox;
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, [this] { return stopping_ || !ready_.empty(); });
      if (ready_.empty())
        return;  // stopping and drained
      mailbox = std::move(ready_.front());
      ready_.pop_front();
    }
    if (mailbox->run_some())
      schedule(std::move(mailbox));
  }
}

}  // namespace outlet
