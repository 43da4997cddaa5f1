// Crash recovery under faults (STATE-MACHINES.md crash recovery, BENCHMARKS.md `recovery`, in
// short): the real scheduler, Partner API client, CallPlatform adapter and webhook receiver are
// torn down abruptly, without any graceful shutdown, again and again at seeded arbitrary points,
// and rebuilt over the same database file, while vocobase-sim (in-process on 127.0.0.1) injects
// 5xx answers, lost responses and dropped or duplicated webhooks.

#include "api/vocobase/client.hpp"
#include "api/webhook/outcome_sink.hpp"
#include "api/webhook/server.hpp"
#include "core/time.hpp"
#include "daemon/scheduler_json.hpp"
#include "daemon/vocobase_platform.hpp"
#include "scheduler/executor.hpp"
#include "scheduler/scheduler.hpp"
#include "sim/simulator.hpp"
#include "store/attempt_repo.hpp"
#include "store/sql/contacts.hpp"
#include "store/sql/database.hpp"
#include "store/sql/sql_store.hpp"
#include "tests/integration/sim_stack.hpp"
#include "tests/support/recovery_audit.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_to.hpp>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <variant>

namespace dialer {
namespace {

using namespace std::chrono_literals;

using namespace it;
using daemon::to_json;

/// One life of the daemon: its own io_context, database connection, webhook receiver, client,
/// platform adapter and scheduler. Destroying it without shutdown() is the crash: nothing is
/// flushed, no outstanding start is waited for, queued handlers are dropped unrun.
struct Life {
  // Declaration order is the reverse of destruction order: the scheduler goes first, the
  // io_context (with every handler still queued) after the objects that use it, the database
  // connection last.
  std::optional<store::Database> db;
  std::optional<store::SqlStore> store;  ///< the engine's view of db
  std::optional<api::StoreInbox> inbox;
  InboxSink sink;
  std::unique_ptr<boost::asio::io_context> io = std::make_unique<boost::asio::io_context>();
  std::unique_ptr<scheduler::AsioExecutor> executor;
  std::unique_ptr<api::WebhookServer> webhook;
  std::unique_ptr<api::VocobaseClient> client;
  std::unique_ptr<daemon::VocobasePlatform> platform;
  std::unique_ptr<scheduler::Scheduler> scheduler;
};

class RestartUnderFaults : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::err); }

  void TearDown() override {
    if (life_ && life_->scheduler) {
      bool done = false;
      life_->scheduler->shutdown(clock_.now() + 5s, [&] { done = true; });
      run_until([&] { return done; }, 10s);
      life_->webhook->stop();
      life_->client->shutdown();
      run_until([] { return false; }, 200ms);
    }
    life_.reset();
    if (sim_) sim_->stop();
  }

  /// Builds a new life over the database file; the webhook receiver binds `webhook_port_` (0 the
  /// first time, then the port the simulator was configured with), retrying while the previous
  /// life's socket is still being released.
  void build(const scheduler::SchedulerOptions& options) {
    auto life = std::make_unique<Life>();
    auto db = store::Database::open((dir_.path() / "dialer.db").string());
    ASSERT_TRUE(db) << db.error().what();
    life->db.emplace(std::move(*db));
    life->store.emplace(*life->db);
    life->inbox.emplace(life->store->inbox());
    life->executor = std::make_unique<scheduler::AsioExecutor>(life->io->get_executor(), clock_);

    api::WebhookServerOptions wo;
    wo.listen = "127.0.0.1:" + std::to_string(webhook_port_);
    wo.webhook.secrets = {std::string(kSecret)};
    wo.webhook.tolerance = Millis{0};  // the simulator's clock runs time_scale times faster
    auto ws = api::WebhookServer::create(life->io->get_executor(), wo, *life->inbox, life->sink,
                                         clock_, std::make_shared<prometheus::Registry>());
    ASSERT_TRUE(ws) << ws.error().what();
    life->webhook = std::move(*ws);
    life->webhook->start();
    life->webhook->set_ready(true);
    if (webhook_port_ == 0) {
      const auto addr = life->webhook->local_address();
      webhook_port_ = static_cast<std::uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
    } else {
      ASSERT_EQ(life->webhook->local_address(), "127.0.0.1:" + std::to_string(webhook_port_));
    }
    life_ = std::move(life);
    if (!sim_) start_sim();

    api::ClientOptions co;
    co.base_url = sim_->base_url();
    co.api_key = std::string(kKey);
    co.use_system_ca = false;
    co.request_timeout = 5s;
    co.rate.calls_per_minute = sim_options_.calls_per_minute;
    co.rate.general_per_minute = sim_options_.general_per_minute;
    auto client = api::VocobaseClient::create(life_->io->get_executor(), co, clock_);
    ASSERT_TRUE(client) << client.error().what();
    life_->client = std::move(*client);
    life_->platform =
        std::make_unique<daemon::VocobasePlatform>(life_->io->get_executor(), *life_->client);
    auto opts = options;
    opts.rng_seed = 7 + lives_;
    // As the daemon wires them: a start reserved at a crash could have been sent at most this
    // long after its reservation (the client's token and connection waits), so a listing may
    // prove it absent that much later — not after the 310 s default meant for 10 /calls/* a
    // minute.
    opts.request_timeout = co.request_timeout;
    opts.start_wait_limit = co.start_queue_timeout + co.connect_timeout;
    life_->scheduler = std::make_unique<scheduler::Scheduler>(
        scheduler::SchedulerDeps{*life_->executor, *life_->store, *life_->platform,
                                 &daemon::parse_session_outcome, nullptr},
        opts);
    life_->sink.scheduler = life_->scheduler.get();
    auto r = life_->scheduler->recover();
    ASSERT_TRUE(r) << r.error().what();
    ++lives_;
  }

  void start_sim() {
    sim::SimOptions so = sim_options_;
    so.listen_host = "127.0.0.1";
    so.listen_port = 0;
    so.api_keys = {std::string(kKey)};
    so.webhooks = {{"http://127.0.0.1:" + std::to_string(webhook_port_) + "/webhooks/vocobase",
                    std::string(kSecret)}};
    auto st = sim::SimThread::start(so);
    ASSERT_TRUE(st) << st.error().what();
    sim_ = std::move(*st);
  }

  /// The crash: no shutdown(), no stop(), nothing drained.
  void crash() { life_.reset(); }

  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds bound) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    auto& io = *life_->io;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (io.stopped()) io.restart();
      io.run_for(20ms);
    }
    return true;
  }

  /// Runs up to `n` handlers (an arbitrary point in the middle of whatever is in flight).
  void run_handlers(int n) {
    auto& io = *life_->io;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    for (int i = 0; i < n && std::chrono::steady_clock::now() < deadline; ++i) {
      if (io.stopped()) io.restart();
      io.run_one_for(50ms);
    }
  }

  CampaignState state_of(const std::string& name) {
    auto v = life_->scheduler->campaign_view(name);
    return v ? v->campaign.state : CampaignState::draft;
  }

  boost::json::object sim_stats() {
    return sim_->call(
        [](sim::Simulator& s) { return s.engine().stats_json(s.webhooks().stats()); });
  }

  TempDir dir_;
  SystemClock clock_;
  sim::SimOptions sim_options_;
  std::uint16_t webhook_port_ = 0;
  std::uint64_t lives_ = 0;
  std::unique_ptr<sim::SimThread> sim_;
  std::unique_ptr<Life> life_;
};

// Crashing the daemon again and again at seeded arbitrary points while faults are injected
// never places a call beyond a contact's attempts, never calls a number twice at once, never
// exceeds the account limit, loses no outcome (every call the simulator placed ends as a
// finished or lost attempt with its call id) and leaves every contact terminal.
TEST_F(RestartUnderFaults, RepeatedCrashesLoseNothingAndNeverDoubleCall) {
  constexpr int kContacts = 120;
  constexpr int kMaxAttempts = 3;
  sim_options_.concurrency_limit = 5;
  sim_options_.calls_per_minute = 600;
  sim_options_.general_per_minute = 1200;
  sim_options_.credits = 1'000'000;
  sim_options_.time_scale = 200;  // a 1-minute call lasts about 0.3 s
  sim_options_.duration_mean = 60s;
  sim_options_.seed = 31;
  sim_options_.outcomes = {};
  sim_options_.outcomes.set(Disposition::completed, 0.6);
  sim_options_.outcomes.set(Disposition::busy, 0.2);
  sim_options_.outcomes.set(Disposition::no_answer, 0.2);
  testkit::set_recovery_faults(sim_options_);

  auto options = fast_recovery_options();
  options.credit_poll_interval = 5s;

  build(options);
  ASSERT_FALSE(HasFatalFailure());
  std::int64_t campaign_id = 0;
  {
    auto id = life_->scheduler->create(sim_campaign("restart"));
    ASSERT_TRUE(id) << id.error().what();
    campaign_id = *id;
    store::SqlContacts repo(*life_->db);
    for (int i = 0; i < kContacts; ++i) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "+9198766%05d", i);
      store::NewContact c;
      c.phone = buf;
      ASSERT_TRUE(repo.insert(campaign_id, c, clock_.now()));
    }
    ASSERT_TRUE(
        run_until([&] { return life_->scheduler->status().credits.polled_at.has_value(); }, 30s))
        << "GET /config never answered";
    auto started = life_->scheduler->start("restart");
    ASSERT_TRUE(started) << started.error().what();
  }

  std::mt19937 rng(2026);
  std::uniform_int_distribution<int> outcomes_per_life(4, 25);
  std::uniform_int_distribution<int> extra_handlers(0, 40);
  const auto overall = std::chrono::steady_clock::now() + 400s;
  int crashes = 0;
  while (state_of("restart") != CampaignState::completed) {
    ASSERT_LT(std::chrono::steady_clock::now(), overall)
        << "campaign never completed after " << crashes
        << " crashes: " << to_json(*life_->scheduler->campaign_view("restart"));
    const auto target = static_cast<std::uint64_t>(outcomes_per_life(rng));
    const bool completed = run_until(
        [&] {
          return life_->scheduler->stats().outcomes_applied >= target ||
                 state_of("restart") == CampaignState::completed;
        },
        30s);
    if (completed && state_of("restart") == CampaignState::completed) break;
    run_handlers(extra_handlers(rng));
    if (state_of("restart") == CampaignState::completed) break;
    crash();
    ++crashes;
    build(options);
    ASSERT_FALSE(HasFatalFailure());
  }
  // The last life settles: outcomes of calls still reported late are applied.
  ASSERT_TRUE(run_until([&] { return life_->store->inbox().count_unapplied().value() == 0; }, 30s));
  EXPECT_GE(crashes, 3) << "the schedule should crash the daemon several times";

  const auto stats = sim_stats();
  EXPECT_EQ(num(stats.at("limit_violations")), 0) << stats;
  EXPECT_LE(num(stats.at("max_concurrent")), sim_options_.concurrency_limit) << stats;

  // The shared referee (tests/support/recovery_audit.hpp), also bench_recovery's.
  const auto audit = testkit::audit_recovery(*sim_, *life_->db, kMaxAttempts);
  ASSERT_TRUE(audit.error.empty()) << audit.error;
  std::string findings;  // what the audit saw, shown with any failing count
  for (const auto& f : audit.findings) findings += "\n  " + f;
  EXPECT_EQ(audit.contacts_non_terminal, 0) << findings;
  EXPECT_EQ(audit.calls_beyond_attempts, 0) << findings;
  EXPECT_EQ(audit.contacts_over_max, 0) << findings;
  EXPECT_EQ(audit.numbers_active_twice, 0) << findings;
  // Every call the simulator placed ends as a finished or lost attempt holding its id.
  EXPECT_EQ(audit.calls_without_attempt + audit.attempts_unsettled, 0) << findings;
  EXPECT_EQ(audit.numbers_mismatched, 0) << findings;
  EXPECT_EQ(audit.unknown_call_ids, 0) << findings;
  EXPECT_EQ(life_->db->query_int64("SELECT count(*) FROM contacts").value(), kContacts);
  RecordProperty("crashes", crashes);
  RecordProperty("calls", static_cast<int>(audit.calls));
}

}  // namespace
}  // namespace dialer
