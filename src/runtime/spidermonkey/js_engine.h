// SpiderMonkey allows one JSContext per thread. The engine runs a small, fixed
// set of engine threads, each owning a context; every plugin lives in its own
// realm (own global, own zone) pinned to one thread, and calls into it are queued
// to that thread (a call made from the thread itself, e.g. a host function that
// re-enters dispatch, runs in place). A watchdog interrupts calls past their
// deadline or their memory budget.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dispatch/plugin_instance.h"
#include "runtime/spidermonkey/allocation_budget.h"

struct JSContext;
struct JSClass;
class JSObject;

namespace outlet::js {

struct EngineOptions {
  // At least two, so one plugin's long call does not hold up every other JS
  // plugin; more on larger machines (one per two cores: the caller and the
  // engine thread spin briefly on either side of each hand-over).
  size_t threads = std::max(2u, std::thread::hardware_concurrency() / 2);
  // SpiderMonkey's GC heap ceiling per engine thread: a backstop behind the
  // per-plugin budgets, which the interrupt check enforces.
  uint64_t gc_heap_ceiling_bytes = uint64_t{1} << 30;
  // Engine threads get this much C stack; scripts may use all but a margin.
  size_t stack_bytes = size_t{16} << 20;
  // How long a thread handing a call over (and an engine thread waiting for the
  // next) spins before it sleeps: a sleep and wake-up costs tens of microseconds.
  std::chrono::microseconds spin{200};
};

// The limits of the call running on an engine thread, checked by the interrupt
// callback; it records why it stopped the call.
struct CallLimits {
  SteadyTime deadline{};
  const CallContext* context = nullptr;  // null while a plugin loads
  AllocationBudget* budget = nullptr;
  JSObject* global = nullptr;  // whose zone's GC heap counts against the budget
  uint64_t memory_limit = 0;
  // Memory in use right after this call's last collection (0: none yet).
  uint64_t used_after_collection = 0;
  // Outcome
  bool timed_out = false;
  bool out_of_memory = false;
  std::string stopped_at;  // "plugin.js:12" where a timeout stopped the script
};

// Wakes the watchdog when a call starts while it sleeps (it polls only while
// some call runs).
class WatchdogSignal {
 public:
  void nudge();
  // Idle: announce the sleep, look once more for work (a call that started in
  // between either sees the announcement and nudges, or is seen), then sleep.
  void announce_sleep() { sleeping_.store(true, std::memory_order_seq_cst); }
  void sleep_until_nudged();
  // Busy: sleep one tick.
  void tick(std::chrono::microseconds timeout);
  void stop();
  bool stopping() const { return stopping_.load(); }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::atomic<bool> sleeping_{false};
  std::atomic<bool> stopping_{false};
  bool nudged_ = false;
};

class EngineThread {
 public:
  EngineThread(const EngineOptions& options, WatchdogSignal* watchdog);
  ~EngineThread();
  EngineThread(const EngineThread&) = delete;
  EngineThread& operator=(const EngineThread&) = delete;

  // Runs `task` on this thread with its context and returns when it finished.
  void run(const std::function<void(JSContext*)>& task);
  bool is_current() const { return std::this_thread::get_id() == thread_id_; }

  // Plugins pinned here (the engine places a new one on the least loaded thread).
  std::atomic<size_t> pinned{0};

  // While a plugin's code runs: the limits it runs under (nests for re-entry).
  class CallScope {
   public:
    CallScope(EngineThread& thread, CallLimits& limits);
    ~CallScope();
    CallScope(const CallScope&) = delete;
    CallScope& operator=(const CallScope&) = delete;

   private:
    EngineThread& thread_;
    CallLimits* previous_;
    ScopedAllocationBudget budget_;
  };
  CallLimits* current_limits() const { return current_; }

  // The global of the one realm every wasm plugin on this thread lives in. No
  // plugin JS runs there and wasm instances cannot reach each other, so a realm
  // (and zone) per plugin would isolate nothing; creating one, with its
  // WebAssembly namespace, costs more than instantiating the plugin.
  JSObject* wasm_global();

  // --- For the watchdog ---
  void check_from_watchdog(SteadyTime now);
  bool busy() const { return deadline_ns_.load(std::memory_order_seq_cst) != 0; }

 private:
  struct Task {
    const std::function<void(JSContext*)>* work;
    // kPending → kDone; a caller that stops spinning moves kPending → kSleeping
    // first, and only then is a wake-up (a system call) worth making.
    std::atomic<uint32_t> state{0};
    std::exception_ptr error;  // what the work threw, rethrown to the caller
  };
  void main();
  Task* next_task();
  // Spins up to options_.spin for `ready`; false when it never came.
  bool spin_until(const std::function<bool()>& ready) const;

  EngineOptions options_;
  WatchdogSignal* watchdog_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Task*> queue_;
  std::atomic<size_t> queued_{0};
  bool sleeping_ = false;
  bool stopping_ = false;
  unsigned long native_handle_ = 0;  // pthread_t: std::thread cannot set a stack size
  std::thread::id thread_id_;
  JSContext* cx_ = nullptr;
  CallLimits* current_ = nullptr;
  struct WasmGlobal;  // a rooted global; defined where SpiderMonkey's headers are
  std::unique_ptr<WasmGlobal> wasm_global_;
  // Published for the watchdog: the current call's deadline (0 = idle), when it
  // last interrupted the call, and the memory alarm the call's budget raises.
  std::atomic<int64_t> deadline_ns_{0};
  std::atomic<int64_t> last_poke_ns_{0};
  std::atomic<bool> memory_alarm_{false};
  friend class CallScope;
  friend bool interrupt_check(JSContext* cx);
};

class Engine {
 public:
  explicit Engine(EngineOptions options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // The least loaded engine thread, for a new plugin.
  EngineThread& assign();
  void unassign(EngineThread& thread) { thread.pinned.fetch_sub(1); }

 private:
  void watch();

  EngineOptions options_;
  std::vector<std::unique_ptr<EngineThread>> threads_;
  WatchdogSignal signal_;
  std::thread watchdog_;
};

// One engine per host, shared by its JS and wasm runtimes; started by the first
// plugin that needs it, not with the host.
class EngineProvider {
 public:
  explicit EngineProvider(EngineOptions options = {}) : options_(options) {}
  std::shared_ptr<Engine> get();

 private:
  EngineOptions options_;
  std::mutex mutex_;
  std::shared_ptr<Engine> engine_;
};

// The class of a wasm plugin's global: only realms with this global may compile
// wasm. Every engine thread refuses eval, new Function and the like, and wasm
// compilation elsewhere (a JS realm has no WebAssembly object to begin with).
extern const JSClass kWasmGlobalClass;

// A call's deadline counted from when it starts on its engine thread: the time
// it waited there behind another plugin's call is not its own (the dispatcher
// counts from before the hand-over). Runtimes on engine threads use this, and
// say so with PluginInstance::enforces_deadline().
SteadyTime deadline_on_thread(const CallContext& context);

// JS_Init, once per process (and JS_ShutDown at exit when no engine is left);
// for code that uses SpiderMonkey beside the engine, such as benchmarks.
void initialize_spidermonkey();

// The interrupt callback's check, exposed for natives that loop on their own.
bool interrupt_check(JSContext* cx);

}  // namespace outlet::js
