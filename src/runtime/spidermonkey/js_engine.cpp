#include "runtime/spidermonkey/js_engine.h"

#include <js/ContextOptions.h>
#include <js/Initialization.h>
#include <js/Interrupt.h>
#include <js/Stack.h>
#include <jsapi.h>
#include <jsfriendapi.h>
#include <pthread.h>

#include <cstdlib>
#include <mutex>

namespace outlet::js {
namespace {

// Task states (EngineThread::Task::state).
constexpr uint32_t kPending = 0, kDone = 1, kSleeping = 2;

// How often a long call is interrupted just to look at its zone's GC heap (the
// budget's malloc side raises its own alarm).
constexpr int64_t kHeapCheckEveryNs = 10'000'000;
// How often the watchdog looks while calls run: the precision of timeouts.
constexpr auto kWatchdogTick = std::chrono::microseconds(1000);
// The C stack kept back from scripts for the engine's own frames and ours.
constexpr size_t kStackMarginBytes = size_t{1} << 20;

int64_t to_ns(SteadyTime time) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
}

// Engines alive in the process. SpiderMonkey's helper threads and static locks
// must be shut down before the library's own static destructors run at exit,
// which is only possible once no context remains.
std::atomic<int> g_live_engines{0};

void shut_down_at_exit() {
  if (g_live_engines.load() == 0)
    JS_ShutDown();
}

}  // namespace

void initialize_spidermonkey() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (!JS_Init())
      abort();
    std::atexit(shut_down_at_exit);
  });
}

namespace {

// SpiderMonkey cannot always fail an allocation cleanly (it aborts the process in
// a few places); the budget lets small blocks through and stops the call here.
bool on_interrupt(JSContext* cx) {
  return interrupt_check(cx);
}

// Plugins run only the code they shipped: no eval, no new Function, and wasm
// compiled only in a wasm plugin's own realm (by the host, from the plugin's file).
bool allow_runtime_code(JSContext* cx, JS::RuntimeCode kind, JS::HandleString) {
  JSObject* global = JS::CurrentGlobalOrNull(cx);
  return kind == JS::RuntimeCode::WASM && global != nullptr &&
         JS::GetClass(global) == &kWasmGlobalClass;
}
const JSSecurityCallbacks kSecurityCallbacks = {allow_runtime_code, nullptr};

std::string scripted_caller(JSContext* cx) {
  JS::AutoFilename file;
  unsigned line = 0;
  if (!JS::DescribeScriptedCaller(cx, &file, &line) || file.get() == nullptr)
    return {};
  return std::string(file.get()) + ":" + std::to_string(line);
}

}  // namespace

namespace {

// The plugin's memory: what its budget counts plus its zone's GC heap.
uint64_t memory_in_use(const CallLimits& limits) {
  uint64_t used = 0;
  if (limits.budget != nullptr)
    used = static_cast<uint64_t>(std::max<int64_t>(0, limits.budget->used_bytes()));
  if (limits.global != nullptr)
    used += ::js::GetGCHeapUsageForObjectZone(limits.global);
  return used;
}

}  // namespace

bool interrupt_check(JSContext* cx) {
  auto* thread = static_cast<EngineThread*>(JS_GetContextPrivate(cx));
  if (thread == nullptr || thread->current_ == nullptr)
    return true;
  CallLimits& limits = *thread->current_;
  if (limits.timed_out || limits.out_of_memory)
    return false;
  if (std::chrono::steady_clock::now() >= limits.deadline) {
    limits.timed_out = true;
    limits.stopped_at = scripted_caller(cx);
    return false;
  }
  if (limits.memory_limit == 0)
    return true;
  bool exceeded = limits.budget != nullptr && limits.budget->exceeded();
  uint64_t used = memory_in_use(limits);
  if (!exceeded && used <= limits.memory_limit)
    return true;
  // Garbage counts until it is collected: collect before calling the plugin out of
  // memory, unless the last collection in this call was recent (measured by growth).
  if (limits.used_after_collection == 0 ||
      used > limits.used_after_collection + limits.memory_limit / 8) {
    JS_GC(cx);
    used = memory_in_use(limits);
    limits.used_after_collection = std::max<uint64_t>(used, 1);
    if (used <= limits.memory_limit) {
      if (limits.budget != nullptr)
        limits.budget->clear_exceeded();
      return true;
    }
  }
  limits.out_of_memory = true;
  return false;
}

// --- WatchdogSignal ---

void WatchdogSignal::nudge() {
  if (!sleeping_.load(std::memory_order_seq_cst))
    return;
  std::lock_guard lock(mutex_);
  nudged_ = true;
  cv_.notify_one();
}

void WatchdogSignal::sleep_until_nudged() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [&] { return nudged_ || stopping_; });
  nudged_ = false;
  sleeping_.store(false, std::memory_order_seq_cst);
}

void WatchdogSignal::tick(std::chrono::microseconds timeout) {
  sleeping_.store(false, std::memory_order_seq_cst);
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, timeout, [&] { return stopping_.load(); });
  nudged_ = false;
}

void WatchdogSignal::stop() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  cv_.notify_all();
}

// --- EngineThread ---

struct EngineThread::WasmGlobal {
  WasmGlobal(JSContext* cx, JSObject* global) : root(cx, global) {}
  JS::PersistentRootedObject root;
};

EngineThread::EngineThread(const EngineOptions& options, WatchdogSignal* watchdog)
    : options_(options), watchdog_(watchdog) {
  initialize_spidermonkey();
  // std::thread cannot choose its stack size; scripts need a deep one.
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, options_.stack_bytes);
  std::mutex started_mutex;
  std::condition_variable started;
  bool ready = false;
  struct Start {
    EngineThread* self;
    std::mutex* mutex;
    std::condition_variable* cv;
    bool* ready;
  } start{this, &started_mutex, &started, &ready};
  pthread_t handle;
  int failed = pthread_create(
      &handle, &attributes,
      [](void* argument) -> void* {
        auto* s = static_cast<Start*>(argument);
        EngineThread* self = s->self;
        self->thread_id_ = std::this_thread::get_id();
        self->cx_ = JS_NewContext(self->options_.gc_heap_ceiling_bytes);
        if (self->cx_ != nullptr) {
          JS_SetContextPrivate(self->cx_, self);
          JS_SetNativeStackQuota(self->cx_, self->options_.stack_bytes - kStackMarginBytes);
          ::js::UseInternalJobQueues(self->cx_);
          if (!JS::InitSelfHostedCode(self->cx_)) {
            JS_DestroyContext(self->cx_);
            self->cx_ = nullptr;
          } else {
            JS_AddInterruptCallback(self->cx_, on_interrupt);
            JS_SetSecurityCallbacks(self->cx_, &kSecurityCallbacks);
            // Wasm straight to the optimizing tier: modules are compiled once and
            // cached, and the baseline tier's code runs plugins several times slower.
            JS::ContextOptionsRef(self->cx_).setWasmBaseline(false).setWasmIon(true);
          }
        }
        {
          std::lock_guard lock(*s->mutex);
          *s->ready = true;
          s->cv->notify_one();
        }
        self->main();
        return nullptr;
      },
      &start);
  pthread_attr_destroy(&attributes);
  if (failed != 0)
    abort();
  std::unique_lock lock(started_mutex);
  started.wait(lock, [&] { return ready; });
  // Joined through std::thread's interface would need ownership; keep the handle.
  native_handle_ = handle;
  if (cx_ == nullptr)
    abort();
}

EngineThread::~EngineThread() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (is_current())
    pthread_detach(native_handle_);
  else
    pthread_join(native_handle_, nullptr);
}

void EngineThread::run(const std::function<void(JSContext*)>& work) {
  if (is_current()) {
    work(cx_);
    return;
  }
  Task task{&work};
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(&task);
    queued_.fetch_add(1, std::memory_order_release);
    wake = sleeping_;
  }
  if (wake)
    wake_.notify_one();
  if (!spin_until([&] { return task.state.load(std::memory_order_acquire) == kDone; })) {
    uint32_t expected = kPending;
    if (task.state.compare_exchange_strong(expected, kSleeping)) {
      while (task.state.load(std::memory_order_acquire) == kSleeping)
        task.state.wait(kSleeping, std::memory_order_acquire);
    }
  }
  if (task.error)
    std::rethrow_exception(task.error);
}

bool EngineThread::spin_until(const std::function<bool()>& ready) const {
  if (ready())
    return true;
  auto until = std::chrono::steady_clock::now() + options_.spin;
  for (uint32_t round = 1;; ++round) {
    __builtin_ia32_pause();
    if (ready())
      return true;
    // Reading the clock costs more than a pause; look at it now and then.
    if (round % 64 == 0) {
      if (std::chrono::steady_clock::now() >= until)
        return false;
      std::this_thread::yield();  // the other side may be waiting for this CPU
    }
  }
}

EngineThread::Task* EngineThread::next_task() {
  spin_until([&] { return queued_.load(std::memory_order_acquire) != 0; });
  std::unique_lock lock(mutex_);
  sleeping_ = true;
  wake_.wait(lock, [&] { return !queue_.empty() || stopping_; });
  sleeping_ = false;
  if (queue_.empty())
    return nullptr;
  Task* task = queue_.front();
  queue_.pop_front();
  queued_.fetch_sub(1, std::memory_order_release);
  return task;
}

void EngineThread::main() {
  while (Task* task = next_task()) {
    try {
      (*task->work)(cx_);
    } catch (...) {
      // An escaping exception would end the thread and the process; the caller gets it.
      task->error = std::current_exception();
    }
    // Once kDone is visible the caller may return and free the task; the
    // wake-up only names the address (a futex), it reads nothing there.
    if (task->state.exchange(kDone, std::memory_order_acq_rel) == kSleeping)
      task->state.notify_one();
  }
  wasm_global_.reset();
  JS_DestroyContext(cx_);
  cx_ = nullptr;
}

JSObject* EngineThread::wasm_global() {
  if (!wasm_global_) {
    JS::RealmOptions options;
    options.creationOptions().setNewCompartmentAndZone();
    JSObject* global =
        JS_NewGlobalObject(cx_, &kWasmGlobalClass, nullptr, JS::DontFireOnNewGlobalHook, options);
    if (global == nullptr)
      return nullptr;
    wasm_global_ = std::make_unique<WasmGlobal>(cx_, global);
  }
  return wasm_global_->root.get();
}

EngineThread::CallScope::CallScope(EngineThread& thread, CallLimits& limits)
    : thread_(thread), previous_(thread.current_), budget_(limits.budget) {
  thread.current_ = &limits;
  if (limits.budget != nullptr) {
    limits.budget->clear_exceeded();
    limits.budget->set_alarm(&thread.memory_alarm_);
  }
  thread.memory_alarm_.store(false, std::memory_order_relaxed);
  int64_t now = to_ns(std::chrono::steady_clock::now());
  thread.last_poke_ns_.store(now, std::memory_order_relaxed);
  thread.deadline_ns_.store(std::max<int64_t>(1, to_ns(limits.deadline)),
                            std::memory_order_seq_cst);
  thread.watchdog_->nudge();
}

EngineThread::CallScope::~CallScope() {
  thread_.current_ = previous_;
  thread_.deadline_ns_.store(previous_ == nullptr ? 0 : to_ns(previous_->deadline),
                             std::memory_order_release);
}

void EngineThread::check_from_watchdog(SteadyTime now_time) {
  int64_t deadline = deadline_ns_.load(std::memory_order_acquire);
  if (deadline == 0)
    return;
  int64_t now = to_ns(now_time);
  bool poke = now >= deadline || memory_alarm_.load(std::memory_order_acquire);
  if (!poke && now - last_poke_ns_.load(std::memory_order_relaxed) >= kHeapCheckEveryNs)
    poke = true;
  if (poke) {
    last_poke_ns_.store(now, std::memory_order_relaxed);
    JS_RequestInterruptCallback(cx_);
  }
}

SteadyTime deadline_on_thread(const CallContext& context) {
  if (context.timeout_ms == 0)
    return context.deadline;
  return std::max(context.deadline,
                  std::chrono::steady_clock::now() + std::chrono::milliseconds(context.timeout_ms));
}

// --- Engine ---

const JSClass kWasmGlobalClass = {"OutletWasmGlobal", JSCLASS_GLOBAL_FLAGS,
                                  &JS::DefaultGlobalClassOps};

std::shared_ptr<Engine> EngineProvider::get() {
  std::lock_guard lock(mutex_);
  if (!engine_)
    engine_ = std::make_shared<Engine>(options_);
  return engine_;
}

Engine::Engine(EngineOptions options) : options_(options) {
  g_live_engines.fetch_add(1);
  size_t count = std::max<size_t>(1, options_.threads);
  for (size_t i = 0; i < count; ++i)
    threads_.push_back(std::make_unique<EngineThread>(options_, &signal_));
  watchdog_ = std::thread([this] { watch(); });
}

Engine::~Engine() {
  signal_.stop();
  watchdog_.join();
  threads_.clear();
  g_live_engines.fetch_sub(1);
}

EngineThread& Engine::assign() {
  EngineThread* best = threads_.front().get();
  for (const auto& thread : threads_) {
    if (thread->pinned.load() < best->pinned.load())
      best = thread.get();
  }
  best->pinned.fetch_add(1);
  return *best;
}

void Engine::watch() {
  // After a call the watchdog keeps ticking for a while: going to sleep would
  // make the next call pay for waking it (a system call and a context switch).
  constexpr auto kStayAwake = std::chrono::milliseconds(200);
  auto last_busy = std::chrono::steady_clock::now();
  while (!signal_.stopping()) {
    bool any_busy = false;
    auto now = std::chrono::steady_clock::now();
    for (const auto& thread : threads_) {
      if (thread->busy()) {
        any_busy = true;
        thread->check_from_watchdog(now);
      }
    }
    if (any_busy)
      last_busy = now;
    if (any_busy || now - last_busy < kStayAwake) {
      signal_.tick(kWatchdogTick);
      continue;
    }
    signal_.announce_sleep();
    bool started = false;
    for (const auto& thread : threads_)
      started = started || thread->busy();
    if (started)
      signal_.tick(std::chrono::microseconds(0));
    else
      signal_.sleep_until_nudged();
  }
}

}  // namespace outlet::js
