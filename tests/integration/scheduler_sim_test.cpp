// The scheduler engine on a real io_context, over the real Partner API client and the daemon's
// CallPlatform adapter, against vocobase-sim in-process on 127.0.0.1:0, with outcomes arriving
// as signed webhooks through the real webhook receiver and durable inbox.

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

namespace dialer {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kKey = "rg_live_integration_key";
constexpr std::string_view kSecret = "whsec_integration_secret";
constexpr std::string_view kAgent = "0f8fad5b-d9cb-469f-a165-70867728950e";

/// A JSON number of the simulator's stats (they are unsigned) as a signed integer.
std::int64_t num(const boost::json::value& v) {
  return v.to_number<std::int64_t>();
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dialer-sched-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// The daemon's wiring of the webhook receiver to the scheduler.
class InboxSink final : public api::OutcomeSink {
 public:
  void on_session_completed(const api::SessionEvent&) override {
    if (scheduler != nullptr) scheduler->inbox_updated();
  }
  scheduler::Scheduler* scheduler = nullptr;
};

/// Everything but the simulator runs on `io_` on the test's thread.
class SchedulerOverSim : public ::testing::Test {
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

  void add_contacts(std::int64_t campaign_id, int count) {
    store::ContactRepo repo(*db_);
    for (int i = 0; i < count; ++i) {
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

sim::SimOptions fast_sim() {
  sim::SimOptions so;
  so.concurrency_limit = 3;
  so.calls_per_minute = 600;
  so.general_per_minute = 600;
  so.credits = 10'000;
  so.time_scale = 100;  // a 2-minute call lasts about 1.2 s
  so.duration_mean = 120s;
  so.seed = 11;
  so.outcomes = {};
  so.outcomes.set(Disposition::completed, 0.6);
  so.outcomes.set(Disposition::busy, 0.2);
  so.outcomes.set(Disposition::no_answer, 0.2);
  return so;
}

// A campaign runs to completion over HTTP: outcomes arrive as signed webhooks, retries happen,
// the account limit is never exceeded, no number is ever called twice at once, and the calls
// the simulator placed are exactly the attempts the store counted.
TEST_F(SchedulerOverSim, CampaignCompletesWithinTheLimits) {
  scheduler::SchedulerOptions options;
  options.reconcile_after = 20s;
  options.concurrency_poll_interval = 5s;
  start(fast_sim(), options);
  auto id = scheduler_->create(campaign("sim"));
  ASSERT_TRUE(id) << id.error().what();
  add_contacts(*id, 12);
  ASSERT_TRUE(scheduler_->start("sim"));
  ASSERT_TRUE(run_until(
      [&] { return scheduler_->campaign_view("sim")->campaign.state == CampaignState::completed; },
      120s))
      << to_json(*scheduler_->campaign_view("sim"));
  expect_consistent(*id);
  const auto stats = sim_stats();
  EXPECT_LE(num(stats.at("max_concurrent")), 3);
  EXPECT_EQ(num(stats.at("refused").at("concurrency")), 0) << stats;
  EXPECT_EQ(num(stats.at("refused").at("rate_calls")), 0) << stats;
  EXPECT_GT(scheduler_->stats().outcomes_applied, 12U);  // some calls were retried
}

// With faults on (5xx answers, responses lost after the call was created, dropped and
// duplicated webhooks) every contact still ends terminal with no call beyond the attempts the
// store counted: ambiguous starts are reconciled, missing outcomes polled.
TEST_F(SchedulerOverSim, FaultsNeverPlaceACallTwice) {
  auto so = fast_sim();
  so.faults.set(sim::Fault::error_5xx, 0.05);
  so.faults.set(sim::Fault::lost_response, 0.1);
  so.faults.set(sim::Fault::webhook_drop, 0.2);
  so.faults.set(sim::Fault::webhook_duplicate, 0.1);
  scheduler::SchedulerOptions options;
  options.reconcile_after = 3s;
  options.stale_call_timeout = 60s;
  options.absent_grace = 2s;
  options.clock_skew = 5s;
  options.concurrency_poll_interval = 5s;
  options.error_burst_threshold = 1000;
  start(so, options);
  auto id = scheduler_->create(campaign("faults"));
  ASSERT_TRUE(id) << id.error().what();
  add_contacts(*id, 15);
  ASSERT_TRUE(scheduler_->start("faults"));
  ASSERT_TRUE(run_until(
      [&] {
        return scheduler_->campaign_view("faults")->campaign.state == CampaignState::completed;
      },
      180s))
      << to_json(*scheduler_->campaign_view("faults"));
  expect_consistent(*id);
  // What the faults exercised (seeded, but request order follows real timing): for the record.
  const auto& st = scheduler_->stats();
  RecordProperty("ambiguous", static_cast<int>(st.ambiguous));
  RecordProperty("reconciled_found", static_cast<int>(st.reconciled_found));
  RecordProperty("reconciled_void", static_cast<int>(st.reconciled_void));
  RecordProperty("sessions_polled", static_cast<int>(st.sessions_polled));
}

// Issue 5's end-to-end rule check: 500 contacts across 2 campaigns, each number scripted in the
// simulator, end in exactly the state their script implies (done, exhausted by a rule, exhausted
// for want of a rule, skipped as blocked), with zero limit violations, zero 429s and no number
// ever active twice at once.
TEST_F(SchedulerOverSim, ScriptedOutcomesEndInTheStatesTheyImply) {
  constexpr int kPerCampaign = 250;
  auto phone = [](int campaign, int i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "+91987%d%05d", 60 + campaign, i);
    return std::string(buf);
  };
  // i % 5 → the outcomes of its calls, in order, and the end state they imply.
  using D = Disposition;
  const std::vector<std::vector<D>> scripts = {
      {D::completed},                              // done after 1 attempt
      {D::busy, D::completed},                     // busy retried once, then done
      {D::no_answer, D::no_answer, D::no_answer},  // no_answer rule (2 retries) → exhausted
      {D::blocked},                                // skipped, reason blocked, number put on DNC
      {D::voicemail},  // no voicemail rule in this campaign → exhausted
  };
  const ContactState expected_state[] = {ContactState::done, ContactState::done,
                                         ContactState::exhausted, ContactState::skipped,
                                         ContactState::exhausted};
  const int expected_attempts[] = {1, 2, 3, 1, 1};

  auto so = fast_sim();
  so.concurrency_limit = 20;
  so.calls_per_minute = 6000;
  so.general_per_minute = 6000;
  so.time_scale = 600;  // a 2-minute call lasts about 0.2 s
  for (int c = 0; c < 2; ++c) {
    for (int i = 0; i < kPerCampaign; ++i) {
      auto& entries = so.script[phone(c, i)];
      for (auto d : scripts[static_cast<std::size_t>(i % 5)]) entries.push_back({d, std::nullopt});
    }
  }
  scheduler::SchedulerOptions options;
  options.concurrency_poll_interval = 30s;
  start(so, options);

  std::int64_t ids[2] = {};
  for (int c = 0; c < 2; ++c) {
    auto spec = campaign(c == 0 ? "alpha" : "beta");
    spec.weight = c + 1;
    auto id = scheduler_->create(spec);
    ASSERT_TRUE(id) << id.error().what();
    ids[c] = *id;
    store::ContactRepo repo(*db_);
    for (int i = 0; i < kPerCampaign; ++i) {
      store::NewContact contact;
      contact.phone = phone(c, i);
      ASSERT_TRUE(repo.insert(*id, contact, clock_.now()));
    }
  }
  ASSERT_TRUE(scheduler_->start("alpha"));
  ASSERT_TRUE(scheduler_->start("beta"));
  ASSERT_TRUE(run_until(
      [&] {
        return scheduler_->campaign_view("alpha")->campaign.state == CampaignState::completed &&
               scheduler_->campaign_view("beta")->campaign.state == CampaignState::completed;
      },
      600s))
      << to_json(*scheduler_->campaign_view("alpha")) << "\n"
      << to_json(*scheduler_->campaign_view("beta"));

  store::ContactRepo repo(*db_);
  for (int c = 0; c < 2; ++c) {
    expect_consistent(ids[c]);
    for (int i = 0; i < kPerCampaign; ++i) {
      auto row = repo.find(ids[c], phone(c, i));
      ASSERT_TRUE(row && *row) << phone(c, i);
      const auto k = static_cast<std::size_t>(i % 5);
      EXPECT_EQ((*row)->state, expected_state[k]) << phone(c, i);
      EXPECT_EQ((*row)->attempts, expected_attempts[k]) << phone(c, i);
      if (k == 3) {
        EXPECT_EQ((*row)->reason, "blocked") << phone(c, i);
      }
    }
  }
  const auto stats = sim_stats();
  EXPECT_EQ(num(stats.at("calls_started")), 2 * kPerCampaign / 5 * 8) << stats;
  EXPECT_LE(num(stats.at("max_concurrent")), 20);
  for (const char* refusal : {"rate_calls", "rate_general", "concurrency"}) {
    EXPECT_EQ(num(stats.at("refused").at(refusal)), 0) << refusal << " " << stats;
  }
}

}  // namespace
}  // namespace dialer
