// The filter-chain benchmark of issue #2: 3 filters + 4 notify subscribers on a
// 100-byte chat message, through the Host, beside the same work done by direct
// C++ function calls (the physical limit for a hook) in the same run.
#include <benchmark/benchmark.h>

#include "domains/chat/chat_domain.h"
#include "outlet/host.h"

namespace outlet {
namespace {

// 100 bytes of JSON text.
Json chat_message() {
  return Json::parse(
      R"({"id":"m1","user":{"id":"u-alice","displayName":"alice"},"body":"hello everyone, how is it going?"})");
}

// The plugins' logic, shared by the baseline and the hosted plugins so both do
// the same work: look at the body, pass; count the message.
Json pass_filter(const Json& message) {
  benchmark::DoNotOptimize(message.find("body"));
  return Json();
}
void count(const Json& message, std::atomic<uint64_t>& counter) {
  benchmark::DoNotOptimize(message.find("user"));
  counter.fetch_add(1, std::memory_order_relaxed);
}

std::atomic<uint64_t> notified{0};

std::unique_ptr<Host> make_host(int filters, int subscribers) {
  HostOptions options;
  options.log_sink = [](const std::string&, std::string_view, const std::string&) {};
  auto host = std::move(Host::create(options)).value();
  chat::ChatDomain domain;
  (void)domain.declare(*host);
  auto add = [&](const std::string& id, bool is_filter) {
    (void)host->register_native_plugin(id, [is_filter] {
      auto plugin = std::make_unique<NativePlugin>();
      if (is_filter) {
        plugin->filter("chat.message.received", [](const Json& m, PluginContext&) -> Result<Json> {
          return pass_filter(m);
        });
      } else {
        plugin->on("chat.message.received", [](const Json& m, PluginContext&) -> Result<Json> {
          count(m, notified);
          return Json();
        });
      }
      return plugin;
    });
    (void)host->add_builtin({{"id", id},
                             {"name", id},
                             {"version", "1.0.0"},
                             {"kind", "bot-module"},
                             {"runtime", "native"},
                             {"entrypoint", "builtin.cpp"}});
    (void)host->enable(id);
  };
  for (int i = 0; i < filters; ++i)
    add("filter-" + std::to_string(i), true);
  for (int i = 0; i < subscribers; ++i)
    add("notify-" + std::to_string(i), false);
  return host;
}

void BM_Baseline_DirectCalls_3Filters(benchmark::State& state) {
  Json message = chat_message();
  for (auto _ : state) {
    for (int i = 0; i < 3; ++i)
      benchmark::DoNotOptimize(pass_filter(message));
  }
}
BENCHMARK(BM_Baseline_DirectCalls_3Filters);

void BM_Host_FilterChain_3Filters(benchmark::State& state) {
  auto host = make_host(3, 0);
  Json message = chat_message();
  for (auto _ : state) {
    // The application hands its payload over and takes it back: no copy.
    FilterOutcome outcome = host->filter("chat.message.received", std::move(message));
    message = std::move(outcome.payload);
  }
}
BENCHMARK(BM_Host_FilterChain_3Filters);

void BM_Baseline_DirectCalls_3Filters_4Notify(benchmark::State& state) {
  Json message = chat_message();
  for (auto _ : state) {
    // The same per-message copy the hosted runs make: the copy is what is measured.
    Json copy(message);  // NOLINT(performance-unnecessary-copy-initialization)
    for (int i = 0; i < 3; ++i)
      benchmark::DoNotOptimize(pass_filter(copy));
    for (int i = 0; i < 4; ++i)
      count(copy, notified);
  }
}
BENCHMARK(BM_Baseline_DirectCalls_3Filters_4Notify);

// End to end: the chain, then the notifications delivered on the worker pool and
// waited for, so the figure includes the thread hand-off.
void BM_Host_3Filters_4Notify_Delivered(benchmark::State& state) {
  auto host = make_host(3, 4);
  Json message = chat_message();
  for (auto _ : state) {
    // Notifications keep their payload, so each message is a fresh copy, as it
    // would be when an application builds one per chat line.
    FilterOutcome outcome = host->filter("chat.message.received", Json(message));
    host->notify("chat.message.received", std::move(outcome.payload));
    host->wait_idle();
  }
}
BENCHMARK(BM_Host_3Filters_4Notify_Delivered);

// Throughput: notifications queued back to back, drained once per batch of 1000.
void BM_Host_3Filters_4Notify_Batched(benchmark::State& state) {
  auto host = make_host(3, 4);
  Json message = chat_message();
  for (auto _ : state) {
    for (int i = 0; i < 1000; ++i) {
      FilterOutcome outcome = host->filter("chat.message.received", Json(message));
      host->notify("chat.message.received", std::move(outcome.payload));
    }
    host->wait_idle();
  }
  state.SetItemsProcessed(state.iterations() * 1000);
}
BENCHMARK(BM_Host_3Filters_4Notify_Batched)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace outlet
