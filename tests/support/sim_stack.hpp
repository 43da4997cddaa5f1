#pragma once
// The sim stack: the scheduler engine on a real io_context, over the real Partner API client and
// the daemon's CallPlatform adapter, against vocobase-sim in-process on 127.0.0.1:0, with
// outcomes arriving as signed webhooks through the real webhook receiver and durable inbox, over
// a temp-file SQLite store. No test framework here: the integration tests' fixture
// (tests/integration/sim_stack.hpp) and the dispatch benchmark both build on it.

#include "api/vocobase/client.hpp"
#include "api/webhook/outcome_sink.hpp"
#include "api/webhook/server.hpp"
#include "core/time.hpp"
#include "daemon/vocobase_platform.hpp"
#include "scheduler/executor.hpp"
#include "scheduler/scheduler.hpp"
#include "sim/simulator.hpp"
#include "store/sql/database.hpp"
#include "store/sql/sql_store.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <prometheus/registry.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace dialer::testkit {

inline constexpr std::string_view kStackKey = "rg_live_integration_key";
inline constexpr std::string_view kStackSecret = "whsec_integration_secret";

/// BENCHMARKS.md's `recovery` faults: 5 % 5xx, 2 % responses lost after the call was created,
/// 20 % webhooks dropped, 10 % duplicated.
inline void set_recovery_faults(sim::SimOptions& o) {
  o.faults.set(sim::Fault::error_5xx, 0.05);
  o.faults.set(sim::Fault::lost_response, 0.02);
  o.faults.set(sim::Fault::webhook_drop, 0.20);
  o.faults.set(sim::Fault::webhook_duplicate, 0.10);
}

/// The daemon's wiring of the webhook receiver to the scheduler.
class InboxSink final : public api::OutcomeSink {
 public:
  void on_session_completed(const api::SessionEvent&) override {
    if (scheduler != nullptr) scheduler->inbox_updated();
  }
  scheduler::Scheduler* scheduler = nullptr;
};

/// Everything but the simulator runs on `io_`, on the thread that calls run_until().
class SimStack {
 public:
  SimStack() = default;
  ~SimStack() { shut_down(); }
  SimStack(const SimStack&) = delete;
  SimStack& operator=(const SimStack&) = delete;

  /// Opens the store, starts the webhook receiver, the simulator (delivering to it), the client
  /// and the scheduler (recovered), and waits for the first GET /config. An error message when
  /// a part did not start.
  std::optional<std::string> launch(const sim::SimOptions& base,
                                    scheduler::SchedulerOptions options,
                                    store::OpenOptions open = {},
                                    prometheus::Registry* registry = nullptr) {
    auto db = store::Database::open((dir_.path() / "dialer.db").string(), open);
    if (!db) return db.error().what();
    db_.emplace(std::move(*db));
    store_.emplace(*db_);
    inbox_.emplace(store_->inbox());

    api::WebhookServerOptions wo;
    wo.listen = "127.0.0.1:0";
    wo.webhook.secrets = {std::string(kStackSecret)};
    wo.webhook.tolerance = Millis{0};  // the simulator's clock runs time_scale times faster
    auto ws = api::WebhookServer::create(io_.get_executor(), wo, *inbox_, sink_, clock_,
                                         std::make_shared<prometheus::Registry>());
    if (!ws) return ws.error().what();
    webhook_ = std::move(*ws);
    webhook_->start();
    webhook_->set_ready(true);

    sim::SimOptions so = base;
    so.listen_host = "127.0.0.1";
    so.listen_port = 0;
    so.api_keys = {std::string(kStackKey)};
    so.webhooks = {
        {"http://" + webhook_->local_address() + "/webhooks/vocobase", std::string(kStackSecret)}};
    auto st = sim::SimThread::start(so);
    if (!st) return st.error().what();
    sim_ = std::move(*st);

    api::ClientOptions co;
    co.base_url = sim_->base_url();
    co.api_key = std::string(kStackKey);
    co.use_system_ca = false;
    co.request_timeout = std::chrono::seconds{5};
    co.rate.calls_per_minute = so.calls_per_minute;
    co.rate.general_per_minute = so.general_per_minute;
    if (so.scale_rate_window && so.time_scale > 0) {
      // The simulator's windows run time_scale times faster: so do the client's.
      co.rate.window = Millis{static_cast<std::int64_t>(60'000 / so.time_scale)};
      co.rate.guard = Millis{static_cast<std::int64_t>(1'000 / so.time_scale)};
    }
    auto client = api::VocobaseClient::create(io_.get_executor(), co, clock_);
    if (!client) return client.error().what();
    client_ = std::move(*client);
    platform_ = std::make_unique<daemon::VocobasePlatform>(io_.get_executor(), *client_);

    options.rng_seed = 7;
    // As the daemon wires them: absence is judged from the client's own deadlines.
    options.request_timeout = co.request_timeout;
    options.start_wait_limit = co.start_queue_timeout + co.connect_timeout;
    scheduler_ = std::make_unique<scheduler::Scheduler>(
        scheduler::SchedulerDeps{executor_, *store_, *platform_, &daemon::parse_session_outcome,
                                 registry},
        options);
    sink_.scheduler = scheduler_.get();
    if (auto r = scheduler_->recover(); !r) return r.error().what();
    if (!run_until([&] { return scheduler_->status().credits.polled_at.has_value(); },
                   std::chrono::seconds{20})) {
      return std::string("GET /config never answered");
    }
    return std::nullopt;
  }

  /// Graceful: the scheduler settles what is in flight, then everything stops (idempotent).
  void shut_down() {
    if (scheduler_) {
      bool done = false;
      scheduler_->shutdown(clock_.now() + std::chrono::seconds{5}, [&] { done = true; });
      run_until([&] { return done; }, std::chrono::seconds{10});
    }
    if (webhook_) webhook_->stop();
    if (client_) client_->shutdown();
    run_until([] { return false; }, std::chrono::milliseconds{200});  // cancelled ops complete
    scheduler_.reset();
    platform_.reset();
    client_.reset();
    webhook_.reset();
    if (sim_) sim_->stop();
  }

  /// Runs the loop until `pred` holds or `bound` passes (real time; waits on events, never
  /// sleeps), `slice` at a time.
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds bound,
                 std::chrono::milliseconds slice = std::chrono::milliseconds{20}) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (io_.stopped()) io_.restart();
      io_.run_for(slice);
    }
    return true;
  }

  /// GET /_sim/stats, read on the simulator's thread.
  boost::json::object sim_stats() {
    return sim_->call(
        [](sim::Simulator& s) { return s.engine().stats_json(s.webhooks().stats()); });
  }

 protected:
  TempDir dir_{"dialer-simstack"};
  boost::asio::io_context io_;
  SystemClock clock_;
  scheduler::AsioExecutor executor_{io_.get_executor(), clock_};
  std::optional<store::Database> db_;
  std::optional<store::SqlStore> store_;  ///< the engine's view of db_
  std::optional<api::StoreInbox> inbox_;
  InboxSink sink_;
  std::unique_ptr<api::WebhookServer> webhook_;
  std::unique_ptr<sim::SimThread> sim_;
  std::unique_ptr<api::VocobaseClient> client_;
  std::unique_ptr<daemon::VocobasePlatform> platform_;
  std::unique_ptr<scheduler::Scheduler> scheduler_;
};

}  // namespace dialer::testkit
