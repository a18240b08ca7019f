// Chat ingest throughput of the live chat (issue #5): messages through 3 Lua filters,
// 4 Lua notification handlers and a trigger set of 50 (none answering ordinary chat),
// stored in SQLite and broadcast to one listener. The baseline is the part nothing can
// avoid: the SQLite insert of each message into the same kind of history store.
#include <benchmark/benchmark.h>

#include <string>

#include "bench_support.h"
#include "domains/chat/chat_room.h"

namespace outlet::bench {
namespace {

constexpr int kBatch = 100;  // messages per iteration; notifications drained per batch

Json ingest_message(int i) {
  return {{"body", "hello everyone, how is it going? message " + std::to_string(i)},
          {"user", {{"id", "u-" + std::to_string(i % 50)}, {"display_name", "alice"}}}};
}

struct Chat {
  chat::ChatDomain domain;
  std::unique_ptr<Host> host;
  std::unique_ptr<chat::ChatRoom> room;
};

Chat& live_chat() {
  static Chat* chat = [] {
    auto* c = new Chat();
    HostOptions options;
    options.log_sink = [](const std::string&, std::string_view, const std::string&) {};
    c->host = std::move(Host::create(options)).value();
    (void)c->domain.declare(*c->host);
    c->room = std::move(chat::ChatRoom::open(
                            *c->host, c->domain,
                            {.store_path = (bench_dir() / "ingest-chat.sqlite3").string()}))
                  .value();
    for (int i = 0; i < 3; ++i) {
      const std::string id = "ingest-filter-" + std::to_string(i);
      add_folder(*c->host, id,
                 write_plugin(id, "lua", "plugin.lua",
                              "return { filter_chat_message = function(m) "
                              "if m.body:find('badword', 1, true) then "
                              "return outlet.filter.drop('bad') end end }"));
    }
    for (int i = 0; i < 4; ++i) {
      const std::string id = "ingest-notify-" + std::to_string(i);
      add_folder(
          *c->host, id,
          write_plugin(id, "lua", "plugin.lua",
                       "local n = 0 return { on_chat_message = function(m) n = n + 1 end }"));
    }
    Json triggers = Json::array();
    for (int i = 0; i < 25; ++i)
      triggers.push_back({{"type", "command"}, {"command", "cmd" + std::to_string(i)}});
    for (int i = 0; i < 20; ++i)
      triggers.push_back({{"type", "keyword"}, {"keywords", {"keyword" + std::to_string(i)}}});
    for (int i = 0; i < 5; ++i)
      triggers.push_back({{"type", "pattern"}, {"pattern", "^zz" + std::to_string(i) + "\\d+$"}});
    add_folder(*c->host, "ingest-bot",
               write_plugin("ingest-bot", "lua", "plugin.lua",
                            "return { on_chat_trigger = function() return nil end }",
                            Json::array({"chat.send"}), {{"triggers", triggers}}));
    c->room->subscribe([](const Json& frame) { benchmark::DoNotOptimize(frame.size()); });
    return c;
  }();
  return *chat;
}

void BM_Baseline_ChatStoreAppend(benchmark::State& state) {
  auto store = std::move(chat::ChatStore::open((bench_dir() / "baseline-chat.sqlite3").string(),
                                               "default", 1000))
                   .value();
  static int i = 0;  // ids stay unique across repetitions (the file is shared)
  for (auto _ : state) {
    for (int n = 0; n < kBatch; ++n, ++i) {
      chat::ChatMessage message;
      message.id = "m" + std::to_string(i);
      message.body = ingest_message(i)["body"];
      message.user = {"u-1", "alice", {"viewer"}};
      message.at_ms = 1'800'000'000'000 + i;
      if (!store->append(message).ok())
        state.SkipWithError("append failed");
    }
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void BM_Host_ChatIngest_3Filters_4Notify_50Triggers(benchmark::State& state) {
  Chat& chat = live_chat();
  int i = 0;
  for (auto _ : state) {
    for (int n = 0; n < kBatch; ++n, ++i) {
      auto outcome = chat.room->post(ingest_message(i));
      if (!outcome.ok() || !outcome->accepted)
        state.SkipWithError("post failed");
    }
    chat.host->wait_idle();  // the notifications are part of the work
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

BENCHMARK(BM_Baseline_ChatStoreAppend)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_Host_ChatIngest_3Filters_4Notify_50Triggers)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();  // the plugins run on worker threads

}  // namespace
}  // namespace outlet::bench
