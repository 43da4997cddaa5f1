#pragma once
// The sim stack shared by the integration tests and the dispatch benchmark: the scheduler engine
// on a real io_context, over the real Partner API client and the daemon's CallPlatform adapter,
// against vocobase-sim in-process on 127.0.0.1:0, with outcomes arriving as signed webhooks
// through the real webhook receiver and durable inbox.

#include "api/vocobase/client.hpp"
#include "api/webhook/outcome_sink.hpp"
#include "api/webhook/server.hpp"
#include "core/time.hpp"
#include "daemon/vocobase_platform.hpp"
#include "scheduler/executor.hpp"
#include "scheduler/scheduler.hpp"
#include "sim/simulator.hpp"
#include "store/contact_repo.hpp"
#include "store/database.hpp"
#include "store/inbox_repo.hpp"
#include "tests/support/temp_dir.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace dialer::it {

using namespace std::chrono_literals;

inline constexpr std::string_view kKey = "rg_live_integration_key";
inline constexpr std::string_view kSecret = "whsec_integration_secret";
inline constexpr std::string_view kAgent = "0f8fad5b-d9cb-469f-a165-70867728950e";

/// A JSON number of the simulator's stats (they are unsigned) as a signed integer.
inline std::int64_t num(const boost::json::value& v) {
  return v.to_number<std::int64_t>();
}

using TempDir = ::dialer::testkit::TempDir;

/// The daemon's wiring of the webhook receiver to the scheduler.
class InboxSink final : public api::OutcomeSink {
 public:
  void on_session_completed(const api::SessionEvent&) override {
    if (scheduler != nullptr) scheduler->inbox_updated();
  }
  scheduler::Scheduler* scheduler = nullptr;
};

/// Everything but the simulator runs on `io_` on the test's thread.
class SimStackTest : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::warn); }

  void TearDown() override {
    if (scheduler_) {
      bool done = false;
      scheduler_->shutdown(clock_.now() + 5s, [&] { done = true; });
      run_until([&] { return done; }, 10s);
    }
    if (webhook_) webhook_->stop();
    if (client_) client_->shutdown();
    run_until([] { return false; }, 200ms);  // let cancelled operations complete
    scheduler_.reset();
    platform_.reset();
    client_.reset();
    webhook_.reset();
    if (sim_) sim_->stop();
  }

  void start(const sim::SimOptions& base, scheduler::SchedulerOptions options) {
    auto db = store::Database::open((dir_.path() / "dialer.db").string());
    ASSERT_TRUE(db) << db.error().what();
    db_.emplace(std::move(*db));
    inbox_repo_.emplace(*db_);
    inbox_.emplace(*inbox_repo_);

    api::WebhookServerOptions wo;
    wo.listen = "127.0.0.1:0";
    wo.webhook.secrets = {std::string(kSecret)};
    wo.webhook.tolerance = Millis{0};  // the simulator's clock runs time_scale times faster
    auto ws = api::WebhookServer::create(io_.get_executor(), wo, *inbox_, sink_, clock_,
                                         std::make_shared<prometheus::Registry>());
    ASSERT_TRUE(ws) << ws.error().what();
    webhook_ = std::move(*ws);
    webhook_->start();
    webhook_->set_ready(true);

    sim::SimOptions so = base;
    so.listen_host = "127.0.0.1";
    so.listen_port = 0;
    so.api_keys = {std::string(kKey)};
    so.webhooks = {
        {"http://" + webhook_->local_address() + "/webhooks/vocobase", std::string(kSecret)}};
    auto st = sim::SimThread::start(so);
    ASSERT_TRUE(st) << st.error().what();
    sim_ = std::move(*st);

    api::ClientOptions co;
    co.base_url = sim_->base_url();
    co.api_key = std::string(kKey);
    co.use_system_ca = false;
    co.request_timeout = 5s;
    co.rate.calls_per_minute = so.calls_per_minute;
    co.rate.general_per_minute = so.general_per_minute;
    auto client = api::VocobaseClient::create(io_.get_executor(), co, clock_);
    ASSERT_TRUE(client) << client.error().what();
    client_ = std::move(*client);
    platform_ = std::make_unique<daemon::VocobasePlatform>(io_.get_executor(), *client_);

    options.rng_seed = 7;
    scheduler_ = std::make_unique<scheduler::Scheduler>(
        scheduler::SchedulerDeps{executor_, *db_, *platform_, &daemon::parse_session_outcome,
                                 nullptr},
        options);
    sink_.scheduler = scheduler_.get();
    auto r = scheduler_->recover();
    ASSERT_TRUE(r) << r.error().what();
    ASSERT_TRUE(run_until([&] { return scheduler_->status().credits.polled_at.has_value(); }, 20s))
        << "GET /config never answered";
  }

  /// Runs the loop until `pred` holds or `bound` passes (real time; waits on events, never
  /// sleeps).
  bool run_until(const std::function<bool()>& pred, std::chrono::milliseconds bound) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!pred()) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      if (io_.stopped()) io_.restart();
      io_.run_for(20ms);
    }
    return true;
  }

  CampaignSpec campaign(std::string name) {
    CampaignSpec s;
    s.name = std::move(name);
    s.agent_id = std::string(kAgent);
    s.providers = {Provider::twilio};
    s.timezone = "UTC";
    s.window.days = {true, true, true, true, true, true, true};
    s.window.start = std::chrono::minutes{0};
    s.window.end = std::chrono::minutes{24 * 60};
    s.window.end_margin = Millis{0};
    s.max_concurrency = 10;
    s.max_attempts = 3;
    s.retry.clear();
    s.retry[Outcome::busy] = RetryRule{1s, 2};
    s.retry[Outcome::no_answer] = RetryRule{1s, 2};
    s.retry[Outcome::failed] = RetryRule{1s, 2};
    s.retry[Outcome::lost] = RetryRule{1s, 2};
    return s;
  }

  void add_contacts(std::int64_t campaign_id, int count) { add_contacts(campaign_id, 0, count); }

  /// Contacts +9198765<first> … +9198765<first + count − 1> (5-digit suffix).
  void add_contacts(std::int64_t campaign_id, int first, int count) {
    store::ContactRepo repo(*db_);
    for (int i = first; i < first + count; ++i) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "+9198765%05d", i);
      store::NewContact c;
      c.phone = buf;
      ASSERT_TRUE(repo.insert(campaign_id, c, clock_.now()));
    }
  }

  boost::json::object sim_stats() {
    return sim_->call(
        [](sim::Simulator& s) { return s.engine().stats_json(s.webhooks().stats()); });
  }

  /// Every contact terminal, and the simulator placed exactly the calls the store counts.
  void expect_consistent(std::int64_t campaign_id) {
    const auto stats = sim_stats();
    EXPECT_EQ(num(stats.at("limit_violations")), 0) << stats;
    const auto& numbers = stats.at("numbers").as_object();
    store::ContactRepo repo(*db_);
    auto rows = repo.list(campaign_id, std::nullopt, 10000);
    ASSERT_TRUE(rows);
    for (const auto& c : *rows) {
      EXPECT_TRUE(is_terminal(c.state)) << c.phone << " " << to_string(c.state);
      const auto* n = numbers.if_contains(c.phone);
      const std::int64_t calls = n == nullptr ? 0 : num(n->at("calls"));
      EXPECT_EQ(calls, c.attempts) << c.phone << ": calls placed vs attempts counted";
      if (n != nullptr) {
        EXPECT_LE(num(n->at("max_concurrent")), 1) << c.phone;
      }
    }
    EXPECT_EQ(inbox_repo_->count_unapplied().value(), 0);
  }

  TempDir dir_;
  boost::asio::io_context io_;
  SystemClock clock_;
  scheduler::AsioExecutor executor_{io_.get_executor(), clock_};
  std::optional<store::Database> db_;
  std::optional<store::InboxRepo> inbox_repo_;
  std::optional<api::StoreInbox> inbox_;
  InboxSink sink_;
  std::unique_ptr<api::WebhookServer> webhook_;
  std::unique_ptr<sim::SimThread> sim_;
  std::unique_ptr<api::VocobaseClient> client_;
  std::unique_ptr<daemon::VocobasePlatform> platform_;
  std::unique_ptr<scheduler::Scheduler> scheduler_;
};

}  // namespace dialer::it
