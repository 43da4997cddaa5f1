// Credits running out mid-campaign (STATE-MACHINES.md "Credits"): the real scheduler over the
// real Partner API client, the daemon's CallPlatform adapter and the webhook receiver, against
// vocobase-sim in-process on 127.0.0.1:0 whose balance is spent by answered calls.

#include "api/vocobase/client.hpp"
#include "api/webhook/outcome_sink.hpp"
#include "api/webhook/server.hpp"
#include "core/time.hpp"
#include "daemon/scheduler_json.hpp"
#include "daemon/vocobase_platform.hpp"
#include "scheduler/executor.hpp"
#include "scheduler/scheduler.hpp"
#include "sim/simulator.hpp"
#include "store/inbox_repo.hpp"
#include "store/sql/attempts.hpp"
#include "store/sql/contacts.hpp"
#include "store/sql/database.hpp"
#include "tests/integration/sim_stack.hpp"
#include "tests/sim/sim_test_support.hpp"

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
#include <map>
#include <memory>
#include <string>

namespace dialer {
namespace {

using namespace std::chrono_literals;

using namespace it;
using daemon::to_json;

class CreditExhaustion : public SimStackTest {
 protected:
  CampaignState state_of(const std::string& name) {
    auto v = scheduler_->campaign_view(name);
    return v ? v->campaign.state : CampaignState::draft;
  }

  /// Each contact's counted attempts are exactly its attempts the platform started (a call id),
  /// and the simulator placed exactly that many calls to its number.
  void expect_only_started_counted(std::int64_t campaign_id, const boost::json::object& stats,
                                   bool expect_terminal) {
    const auto& numbers = stats.at("numbers").as_object();
    store::SqlContacts contacts(*db_);
    store::SqlAttempts attempts(*db_);
    auto all = attempts.list(campaign_id, false, 100000);
    ASSERT_TRUE(all);
    std::map<std::int64_t, int> started;  // contact id → attempts with a call id
    std::map<std::int64_t, int> counted;
    for (const auto& a : *all) {
      if (a.call_id.has_value()) ++started[a.contact_id];
      if (a.counted) ++counted[a.contact_id];
      if (a.counted) {
        EXPECT_TRUE(a.call_id.has_value())
            << "a counted attempt never started: " << a.id << " " << to_string(a.state);
      }
    }
    auto rows = contacts.list(campaign_id, std::nullopt, 10000);
    ASSERT_TRUE(rows);
    for (const auto& c : *rows) {
      if (expect_terminal) {
        EXPECT_TRUE(is_terminal(c.state)) << c.phone << " " << to_string(c.state);
      }
      EXPECT_EQ(c.attempts, started[c.id]) << c.phone << ": counted vs started attempts";
      EXPECT_EQ(c.attempts, counted[c.id]) << c.phone;
      const auto* n = numbers.if_contains(c.phone);
      const std::int64_t calls = n == nullptr ? 0 : num(n->at("calls"));
      EXPECT_EQ(calls, c.attempts) << c.phone << ": calls placed vs attempts counted";
      if (n != nullptr) {
        EXPECT_LE(num(n->at("max_concurrent")), 1) << c.phone;
      }
    }
  }
};

// Two running campaigns both go credit_exhausted when answered calls spend the balance; no
// start the API refused for credits is counted as an attempt; once the balance is restored
// both come back by themselves (auto_resume) and finish every contact, with the account limit
// never exceeded and no number ever called twice at once.
TEST_F(CreditExhaustion, CampaignsPauseOnEmptyBalanceAndResumeWhenRestored) {
  sim::SimOptions so;
  so.concurrency_limit = 4;
  so.calls_per_minute = 600;
  so.general_per_minute = 600;
  so.credits = 12;  // a handful of 2-minute answered calls out of 40 contacts
  so.time_scale = 100;
  so.duration_mean = 120s;
  so.seed = 23;
  so.outcomes = {};
  so.outcomes.set(Disposition::completed, 0.7);
  so.outcomes.set(Disposition::busy, 0.15);
  so.outcomes.set(Disposition::no_answer, 0.15);

  scheduler::SchedulerOptions options;
  options.credit_poll_interval = 500ms;
  options.concurrency_poll_interval = 5s;
  options.reconcile_after = 20s;
  options.min_credit_balance = 0.3;
  options.resume_credit_balance = 1.0;
  options.error_burst_threshold = 1000;
  start(so, options);

  auto a = scheduler_->create(campaign("credit-a"));
  ASSERT_TRUE(a) << a.error().what();
  auto b = scheduler_->create(campaign("credit-b"));
  ASSERT_TRUE(b) << b.error().what();
  add_contacts(*a, 0, 20);
  add_contacts(*b, 100, 20);
  ASSERT_TRUE(scheduler_->start("credit-a"));
  ASSERT_TRUE(scheduler_->start("credit-b"));

  ASSERT_TRUE(run_until(
      [&] {
        return state_of("credit-a") == CampaignState::credit_exhausted &&
               state_of("credit-b") == CampaignState::credit_exhausted;
      },
      120s))
      << to_json(*scheduler_->campaign_view("credit-a")) << "\n"
      << to_json(*scheduler_->campaign_view("credit-b"));
  EXPECT_EQ(scheduler_->status().credits.state, scheduler::CreditState::exhausted);
  // Calls already placed finish and their outcomes land; none were refused-and-counted.
  ASSERT_TRUE(run_until([&] { return scheduler_->status().slots.in_flight == 0; }, 60s));
  {
    const auto stats = sim_stats();
    expect_only_started_counted(*a, stats, false);
    expect_only_started_counted(*b, stats, false);
  }
  EXPECT_NE(state_of("credit-a"), CampaignState::completed);
  EXPECT_NE(state_of("credit-b"), CampaignState::completed);

  // The operator tops the account up: POST /_sim/credits over HTTP, as a test outside would.
  sim::test::TestClient control(sim_->port());
  const auto topped = control.post("/_sim/credits", R"({"balance": 100000})");
  ASSERT_EQ(topped.status, 200) << topped;
  ASSERT_TRUE(run_until(
      [&] {
        return state_of("credit-a") == CampaignState::completed &&
               state_of("credit-b") == CampaignState::completed;
      },
      240s))
      << to_json(*scheduler_->campaign_view("credit-a")) << "\n"
      << to_json(*scheduler_->campaign_view("credit-b"));
  EXPECT_EQ(scheduler_->status().credits.state, scheduler::CreditState::ok);

  const auto stats = sim_stats();
  EXPECT_EQ(num(stats.at("limit_violations")), 0) << stats;
  EXPECT_LE(num(stats.at("max_concurrent")), 4) << stats;
  expect_only_started_counted(*a, stats, true);
  expect_only_started_counted(*b, stats, true);
  EXPECT_EQ(store_->inbox().count_unapplied().value(), 0);
  RecordProperty("refused_credits", static_cast<int>(num(stats.at("refused").at("credits"))));
}

}  // namespace
}  // namespace dialer
