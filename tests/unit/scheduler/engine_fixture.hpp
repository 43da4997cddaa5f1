#pragma once
// Shared fixture of the engine tests: a migrated SQLite file in a fresh temp directory, a
// SimulatedExecutor, a FakePlatform and a Scheduler over them; webhooks go through the durable
// inbox exactly as the daemon wires them.

#include "scheduler/scheduler.hpp"
#include "scheduler/simulated_platform.hpp"
#include "store/audit_repo.hpp"
#include "store/campaign_repo.hpp"
#include "store/dnc_repo.hpp"
#include "store/sql/attempts.hpp"
#include "store/sql/contacts.hpp"
#include "store/sql/database.hpp"
#include "store/sql/inbox.hpp"
#include "store/sql/sql_store.hpp"
#include "tests/support/campaigns.hpp"
#include "tests/support/temp_dir.hpp"

#include <date/date.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace dialer::scheduler::testing {

/// The engine tests' name for the simulated Partner API.
using FakePlatform = SimulatedPlatform;
using FakeCall = SimulatedCall;

inline constexpr std::string_view kAgent = "0f8fad5b-d9cb-469f-a165-70867728950e";
inline constexpr std::string_view kAgent2 = "7c9e6679-7425-40de-944b-e07fc1f90ae7";

/// A UTC instant from a civil date and time.
inline TimePoint utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0) {
  const auto day = date::sys_days{date::year{y} / m / d};
  return std::chrono::time_point_cast<Millis>(day + std::chrono::hours{hh} +
                                              std::chrono::minutes{mm});
}

/// "+91987650NNNN"-style distinct numbers.
inline std::string phone(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "+9198765%05d", i);
  return buf;
}

using TempDir = ::dialer::testkit::TempDir;

class EngineTest : public ::testing::Test {
 protected:
  /// Monday 2026-03-09 10:00 UTC.
  static TimePoint default_start() { return utc(2026, 3, 9, 10, 0); }

  explicit EngineTest(TimePoint start = default_start()) : ex_(start), platform_(ex_) {}

  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    path_ = (dir_.path() / "dialer.db").string();
    open_db();
    options_.rng_seed = 42;
    options_.concurrency_poll_interval = 60s;
    options_.credit_poll_interval = 60s;
    options_.reconcile_after = 10min;
    options_.stale_call_timeout = 75min;
    options_.clock_skew = 2min;
    options_.absent_grace = 10s;
    platform_.webhook = [this](const SessionOutcome& o) { deliver(o); };
    // Polls answer at the same instant, so GET /config is known before the first command.
    platform_.poll_latency = Millis{0};
  }

  void TearDown() override {
    scheduler_.reset();
    store_.reset();
    db_.reset();
  }

  void open_db() {
    store_.reset();
    db_.reset();
    // A simulated crash keeps the file, so `normal` loses nothing here and spares the fsyncs.
    store::OpenOptions options;
    options.synchronous = store::Synchronous::normal;
    options.busy_timeout = busy_timeout_;
    auto db = store::Database::open(path_, options);
    ASSERT_TRUE(db) << db.error().what();
    db_.emplace(std::move(*db));
    store_.emplace(*db_);
  }

  /// Builds the scheduler and runs recovery (the daemon's startup order).
  void start_scheduler() {
    scheduler_ = std::make_unique<Scheduler>(
        SchedulerDeps{ex_, *store_, platform_, parse_body, nullptr}, options_);
    auto r = scheduler_->recover();
    ASSERT_TRUE(r) << r.error().what();
    ex_.run_until(ex_.now());
  }

  /// A crash: the scheduler disappears without shutdown; the database file stays. Then a fresh
  /// connection and a fresh scheduler recover from it.
  void crash_and_restart() {
    scheduler_.reset();
    open_db();
    start_scheduler();
  }

  /// A campaign every test can dial at any hour (UTC, every day, 00:00-24:00, no margin).
  CampaignSpec spec(std::string name) {
    return testkit::any_hour_campaign(std::move(name), kAgent, 5);
  }

  std::int64_t create(const CampaignSpec& s) {
    auto id = scheduler_->create(s);
    EXPECT_TRUE(id) << id.error().what();
    return id ? *id : 0;
  }

  void add_contacts(std::int64_t campaign_id, int first, int count, std::string zones = "") {
    store::SqlContacts repo(*db_);
    for (int i = first; i < first + count; ++i) {
      store::NewContact c;
      c.phone = phone(i);
      c.zones = zones;
      auto r = repo.insert(campaign_id, c, ex_.now());
      ASSERT_TRUE(r) << r.error().what();
    }
  }

  void add_contact(std::int64_t campaign_id, const std::string& number, std::string zones = "") {
    store::SqlContacts repo(*db_);
    store::NewContact c;
    c.phone = number;
    c.zones = std::move(zones);
    auto r = repo.insert(campaign_id, c, ex_.now());
    ASSERT_TRUE(r) << r.error().what();
  }

  void start(std::string_view name) {
    auto r = scheduler_->start(name);
    ASSERT_TRUE(r) << r.error().what();
  }

  /// What the webhook server does: store the body durably, then tell the scheduler.
  void deliver(const SessionOutcome& o) {
    if (!deliver_webhooks_) return;
    store::SqlInbox inbox(*db_);
    auto r = inbox.insert({o.session_id, o.call_id, to_body(o), ex_.now()});
    ASSERT_TRUE(r) << r.error().what();
    if (scheduler_) scheduler_->inbox_updated();
  }

  store::ContactRow contact(std::int64_t campaign_id, const std::string& number) {
    store::SqlContacts repo(*db_);
    auto r = repo.find(campaign_id, number);
    EXPECT_TRUE(r && *r) << "no contact " << number;
    return r && *r ? **r : store::ContactRow{};
  }

  std::vector<store::AttemptRow> attempts_of(std::int64_t campaign_id) {
    store::SqlAttempts repo(*db_);
    auto r = repo.list(campaign_id, false, 100000);
    EXPECT_TRUE(r);
    auto v = r ? *r : std::vector<store::AttemptRow>{};
    std::reverse(v.begin(), v.end());  // oldest first
    return v;
  }

  CampaignView view(std::string_view name) {
    auto v = scheduler_->campaign_view(name);
    EXPECT_TRUE(v) << v.error().what();
    return v ? *v : CampaignView{};
  }

  CampaignState state(std::string_view name) { return view(name).campaign.state; }

  void run_for(Millis d) { ex_.run_for(d); }
  void run_until(TimePoint t) { ex_.run_until(t); }

  TempDir dir_;
  std::string path_;
  std::optional<store::Database> db_;
  std::optional<store::SqlStore> store_;  ///< the engine's view of db_
  SimulatedExecutor ex_;
  FakePlatform platform_;
  SchedulerOptions options_;
  std::unique_ptr<Scheduler> scheduler_;
  bool deliver_webhooks_ = true;
  Millis busy_timeout_{5000};  ///< of the scheduler's connection (real time)
};

}  // namespace dialer::scheduler::testing
