// The fixed worker pool and its serial mailboxes: the machinery behind "calls into
// one plugin are serialized, different plugins run concurrently".
#include "dispatch/worker_pool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/test_support.h"

namespace outlet {
namespace {

using namespace std::chrono_literals;

using outlet::testing::Gate;
using outlet::testing::kHangTimeout;

TEST(WorkerPoolTest, TasksInOneMailboxRunInPostedOrderOneAtATime) {
  WorkerPool pool(2);
  auto mailbox = pool.make_mailbox();
  std::mutex mutex;
  std::vector<int> order;
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  constexpr int kTasks = 200;  // more than one turn's worth, so the mailbox is requeued
  for (int i = 0; i < kTasks; ++i) {
    mailbox->post([&, i] {
      if (inside.fetch_add(1) != 0)
        overlapped = true;
      {
        std::lock_guard lock(mutex);
        order.push_back(i);
      }
      inside.fetch_sub(1);
    });
  }
  pool.wait_idle();

  EXPECT_FALSE(overlapped);
  ASSERT_EQ(order.size(), static_cast<size_t>(kTasks));
  for (int i = 0; i < kTasks; ++i)
    EXPECT_EQ(order[i], i);
}

TEST(WorkerPoolTest, DifferentMailboxesRunInParallel) {
  WorkerPool pool(2);
  auto left = pool.make_mailbox();
  auto right = pool.make_mailbox();
  std::mutex mutex;
  std::condition_variable cv;
  int inside = 0;
  std::atomic<int> met{0};
  // Each task waits until the other is running too: only possible in parallel.
  auto rendezvous = [&] {
    std::unique_lock lock(mutex);
    ++inside;
    cv.notify_all();
    if (cv.wait_for(lock, kHangTimeout, [&] { return inside >= 2; }))
      met.fetch_add(1);
  };
  left->post(rendezvous);
  right->post(rendezvous);
  pool.wait_idle();

  EXPECT_EQ(met.load(), 2) << "the two mailboxes never ran at the same time";
}

TEST(WorkerPoolTest, BusyMailboxDoesNotStarveAnotherOnASingleThread) {
  WorkerPool pool(1);
  auto busy = pool.make_mailbox();
  auto other = pool.make_mailbox();
  Gate start;
  std::mutex mutex;
  std::vector<std::string> order;
  auto record = [&](std::string name) {
    std::lock_guard lock(mutex);
    order.push_back(std::move(name));
  };
  busy->post([&] { EXPECT_TRUE(start.wait()); });
  for (int i = 0; i < 100; ++i)
    busy->post([&] { record("busy"); });
  other->post([&] { record("other"); });
  start.open();
  pool.wait_idle();

  ASSERT_EQ(order.size(), 101u);
  EXPECT_NE(order.back(), "other") << "the other mailbox waited for all 100 busy tasks";
}

TEST(WorkerPoolTest, WaitIdleWaitsForTasksPostedByTasks) {
  WorkerPool pool(2);
  auto first = pool.make_mailbox();
  auto second = pool.make_mailbox();
  std::atomic<bool> grandchild_ran{false};
  first->post([&] {
    std::this_thread::sleep_for(20ms);
    second->post([&] {
      std::this_thread::sleep_for(20ms);
      first->post([&] {
        std::this_thread::sleep_for(20ms);
        grandchild_ran = true;
      });
    });
  });
  pool.wait_idle();
  EXPECT_TRUE(grandchild_ran);
}

TEST(WorkerPoolTest, DestructorRunsEveryQueuedTaskBeforeJoining) {
  std::atomic<int> ran{0};
  constexpr int kTasks = 50;
  {
    WorkerPool pool(2);
    auto a = pool.make_mailbox();
    auto b = pool.make_mailbox();
    for (int i = 0; i < kTasks; ++i) {
      (i % 2 ? a : b)->post([&] {
        std::this_thread::sleep_for(1ms);
        ran.fetch_add(1);
      });
    }
  }
  EXPECT_EQ(ran.load(), kTasks);
}

TEST(WorkerPoolTest, ZeroThreadsStillGetsOneWorker) {
  WorkerPool pool(0);
  EXPECT_EQ(pool.thread_count(), 1u);
  std::atomic<bool> ran{false};
  pool.make_mailbox()->post([&] { ran = true; });
  pool.wait_idle();
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace outlet
