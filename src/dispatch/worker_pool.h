// A fixed pool of threads and serial mailboxes on top of it: work posted to one
// mailbox runs one item at a time, in order; different mailboxes run in parallel.
// (seeds/003: calls into one plugin are serialized, different plugins concurrent;
// the issue: a fixed thread pool, no thread per call.)
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace outlet {

class WorkerPool;

class SerialMailbox : public std::enable_shared_from_this<SerialMailbox> {
 public:
  SerialMailbox(WorkerPool& pool, size_t capacity) : pool_(pool), capacity_(capacity) {}
  // Queues `task`; false (and nothing queued) when `capacity` tasks are waiting:
  // a plugin that cannot keep up loses work rather than growing without bound.
  bool post(std::function<void()> task);

 private:
  friend class WorkerPool;
  // Runs queued tasks; returns true when more remain (so the pool requeues us
  // rather than letting one busy plugin starve the others).
  bool run_some();

  WorkerPool& pool_;
  size_t capacity_;
  std::mutex mutex_;
  std::deque<std::function<void()>> tasks_;  // guarded by mutex_
  bool scheduled_ = false;                   // guarded by mutex_
};

class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  ~WorkerPool();  // finishes queued work, then joins
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  std::shared_ptr<SerialMailbox> make_mailbox(size_t capacity = SIZE_MAX) {
    return std::make_shared<SerialMailbox>(*this, capacity);
  }
  // Blocks until every posted task, including tasks posted by tasks, has run.
  void wait_idle();
  size_t thread_count() const { return threads_.size(); }

 private:
  friend class SerialMailbox;
  void schedule(std::shared_ptr<SerialMailbox> mailbox);
  void task_posted();
  void task_finished();
  void run();

  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable idle_;
  std::deque<std::shared_ptr<SerialMailbox>> ready_;  // guarded by mutex_
  size_t pending_tasks_ = 0;                          // guarded by mutex_
  bool stopping_ = false;                             // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace outlet
