#include "dispatch/timer_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

namespace outlet {
namespace {

using namespace std::chrono_literals;

// Polls instead of sleeping a fixed time: the machine may be slow, never fast.
template <typename Predicate>
bool eventually(Predicate done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(TimerQueueTest, TasksDueAtOnceRunInTheOrderTheyWereScheduled) {
  TimerQueue queue;
  std::mutex mutex;
  std::vector<int> order;
  const auto at = TimerQueue::Clock::now() + 20ms;
  for (int i = 0; i < 5; ++i) {
    queue.schedule(at, [&, i] {
      std::lock_guard lock(mutex);
      order.push_back(i);
    });
  }
  queue.schedule(at - 10ms, [&] {
    std::lock_guard lock(mutex);
    order.push_back(-1);
  });
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return order.size() == 6;
  }));
  EXPECT_EQ(order, (std::vector<int>{-1, 0, 1, 2, 3, 4}));
}

TEST(TimerQueueTest, ACancelledTaskNeverRunsEvenWhileTheQueueWaitsForIt) {
  TimerQueue queue;
  std::atomic<bool> ran{false};
  // The queue thread is waiting for exactly this task's time when it is cancelled.
  const auto id = queue.schedule_after(50ms, [&] { ran = true; });
  std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(queue.cancel(id));
  EXPECT_FALSE(queue.cancel(id));
  std::atomic<bool> later{false};
  queue.schedule_after(80ms, [&] { later = true; });
  ASSERT_TRUE(eventually([&] { return later.load(); }));
  EXPECT_FALSE(ran);
  EXPECT_EQ(queue.pending(), 0u);
}

TEST(TimerQueueTest, AThrowingTaskDoesNotStopLaterOnes) {
  TimerQueue queue;
  std::atomic<bool> ran{false};
  queue.schedule_after(0ms, [] { throw std::runtime_error("boom"); });
  queue.schedule_after(5ms, [&] { ran = true; });
  EXPECT_TRUE(eventually([&] { return ran.load(); }));
}

TEST(TimerQueueTest, StopDropsWhatHasNotRunAndRefusesNewTasks) {
  TimerQueue queue;
  std::atomic<bool> ran{false};
  queue.schedule_after(1h, [&] { ran = true; });
  queue.stop();
  EXPECT_EQ(queue.pending(), 0u);
  EXPECT_EQ(queue.schedule_after(0ms, [&] { ran = true; }), 0u);
  queue.stop();  // idempotent
  EXPECT_FALSE(ran);
}

}  // namespace
}  // namespace outlet
